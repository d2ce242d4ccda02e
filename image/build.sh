#!/usr/bin/env bash
# npm run image: builds evertorrent-<version>-arm64.img.xz for the Raspberry Pi 3, 4 and Zero 2 W from
# Debian trixie's archive and this work tree, on any Debian amd64 (or arm64) machine, as root.
#   1. the app as a .deb (image/build-deb.sh)
#   2. the arm64 root filesystem with mmdebstrap, running the packages' scripts under qemu-user
#      through binfmt_misc, set up here; then image/customize.sh
#   3. the partitioned disk image (image/make-disk.sh), compressed with xz, then checked (image/check.sh)
# Outputs go to $EVERTORRENT_IMAGE_OUT (default: image-build/ in the work tree, git-ignored).
# Debian's archive is $EVERTORRENT_IMAGE_MIRROR (default http://deb.debian.org/debian) and
# $EVERTORRENT_IMAGE_SECURITY_MIRROR (default http://deb.debian.org/debian-security).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$image_dir/lib/binfmt.sh"

need_root image
need mmdebstrap mmdebstrap
need qemu-aarch64-static qemu-user-static
need arch-test arch-test
need xz xz-utils
need sfdisk fdisk
need mkfs.vfat dosfstools
need mcopy mtools
need mkfs.ext4 e2fsprogs
need debugfs e2fsprogs
need dtc device-tree-compiler

mirror=${EVERTORRENT_IMAGE_MIRROR:-http://deb.debian.org/debian}
security_mirror=${EVERTORRENT_IMAGE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
export EVERTORRENT_IMAGE_OUT=$out_dir
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo_dir" log -1 --format=%ct 2>/dev/null || date +%s)}
# The disk identifier names the partitions (root=PARTUUID=<id>-02); the same version and commit give
# the same one.
EVERTORRENT_DISK_ID=$(printf 'evertorrent %s %s' "$version" "$SOURCE_DATE_EPOCH" | sha256sum | cut -c1-8)
export EVERTORRENT_DISK_ID

mkdir -p "$out_dir"
rootfs=$out_dir/rootfs
bootfs=$out_dir/bootfs
image=$out_dir/$image_name.img
started=$SECONDS

ensure_binfmt_aarch64
arch-test arm64 >/dev/null || die "arm64 programs do not run here (arch-test arm64 failed) although binfmt_misc is set up"

log "1/3 the app as a Debian package"
deb=$("$image_dir/build-deb.sh" "$out_dir" | tail -n 1)

log "2/3 the arm64 root filesystem (mmdebstrap; slow: every maintainer script runs under qemu-user)"
packages=$(sed 's/#.*//' "$image_dir/packages" | xargs | tr ' ' ,)
rm -rf "$rootfs" "$bootfs"
mmdebstrap --mode=root --architectures=arm64 --variant=minbase \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --include="$packages" --include="$deb" \
  --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
  --essential-hook="\"$image_dir/essential-hook.sh\" \"\$1\"" \
  --customize-hook="\"$image_dir/customize.sh\" \"\$1\"" \
  trixie "$rootfs" \
  "deb $mirror trixie main non-free-firmware" \
  "deb $mirror trixie-updates main non-free-firmware" \
  "deb $security_mirror trixie-security main non-free-firmware"
rootfs_done=$SECONDS

log "3/3 the disk image"
# The boot partition's files leave the tree: /boot/firmware is only its mount point there.
mkdir -p "$bootfs"
find "$rootfs/boot/firmware" -mindepth 1 -maxdepth 1 -exec mv -t "$bootfs" {} +
"$image_dir/make-disk.sh" "$rootfs" "$bootfs" "$EVERTORRENT_DISK_ID" "$image"
rm -f "$image.xz"
xz --keep --threads=0 -6 "$image"
(cd "$out_dir" && sha256sum "$image_name.img.xz" >"$image_name.img.xz.sha256")

"$image_dir/check.sh" "$image"
log "done in $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s (root filesystem: $(( (rootfs_done - started) / 60 )) min)"
log "$image.xz: $(du -h --apparent-size "$image.xz" | cut -f1) compressed, $(du -h --apparent-size "$image" | cut -f1) written to the card"
