# shellcheck shell=bash
# Sets up binfmt_misc so that arm64 programs run under qemu-user on this machine: mmdebstrap runs the
# packages' maintainer scripts inside the arm64 chroot. Sourced, not run; needs root.

# The registration systemd-binfmt would make from qemu-user-static's own file. Flag F opens the
# interpreter now, so it works inside the chroot without a copy of qemu there.
binfmt_conf=/usr/lib/binfmt.d/qemu-aarch64.conf
binfmt_root=/proc/sys/fs/binfmt_misc

ensure_binfmt_aarch64() {
  [ -r "$binfmt_conf" ] || die "$binfmt_conf is missing: apt-get install qemu-user-static"
  if ! mountpoint -q "$binfmt_root"; then
    log "mounting binfmt_misc at $binfmt_root"
    mount -t binfmt_misc binfmt_misc "$binfmt_root"
  fi
  [ "$(cat "$binfmt_root/status")" = enabled ] || echo 1 >"$binfmt_root/status"
  if [ ! -e "$binfmt_root/qemu-aarch64" ]; then
    log "registering qemu-aarch64 with binfmt_misc"
    grep -v '^#' "$binfmt_conf" >"$binfmt_root/register"
  fi
  grep -qx enabled "$binfmt_root/qemu-aarch64" || die "binfmt_misc entry qemu-aarch64 is disabled: echo 1 > $binfmt_root/qemu-aarch64"
  grep -q '^flags: .*F' "$binfmt_root/qemu-aarch64" ||
    die "binfmt_misc entry qemu-aarch64 lacks the F flag, so it cannot run inside a chroot: echo -1 > $binfmt_root/qemu-aarch64 and run again"
}
