#!/usr/bin/env bash
# npm run test:image: boots a copy of the built image under qemu-system-aarch64 (-M virt, TCG) with
# the image's own kernel, initrd and cmdline.txt, and checks the appliance from this machine:
#   - before boot, like a person would, it writes sysconf.txt (hostname, SSH key, root password) and a
#     changed evertorrent.toml (test ports, announce host 127.0.0.1, a library folder) to the copy's
#     FAT partition, makes the copy 1 GiB larger, and plugs in a USB stick (vfat, with one file);
#   - the guest's network is user-mode with restrict=on: it reaches nothing but the ports forwarded
#     to it from 127.0.0.1 (SSH, HTTP, tracker TCP and UDP, peer);
#   - it waits for SSH, then for systemd to report evertorrent.service active (Type=notify-reload:
#     after READY=1), and checks the first boot (root grown, hostname, avahi's name, secrets removed
#     from the FAT, SSH host keys, config installed), the USB mount (read-only, nosuid,nodev,noexec),
#     failed units, `systemd-analyze verify` of the image's units and `systemd-analyze security`;
#   - it copies a file into the library folder over SSH, then from the host fetches the status page
#     and both .torrent files, announces to the tracker (expecting the everseed), shakes hands with
#     the everseed, downloads both files with aria2c (tracker + web seed) and compares their bytes;
#   - it powers the guest off and waits for qemu to end.
# Exits non-zero on the first failure, showing the guest's console and journal.
#   image/test-boot.sh [IMAGE.img|IMAGE.img.xz]   (default: the last build's image)
# EVERTORRENT_TEST_KEEP=1 keeps the work folder (console log, disk copy) for a look afterwards.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
export PATH=$PATH:/usr/sbin:/sbin MTOOLS_SKIP_CHECK=1

image=${1:-$out_dir/$image_name.img}
need qemu-system-aarch64 qemu-system-arm
need mcopy mtools
need mkfs.vfat dosfstools
need sfdisk fdisk
need ssh openssh-client
need aria2c aria2
need curl curl
[ -f "$image" ] || die "$image does not exist: build it first (npm run image)"
probe=$repo_dir/dist/test/image/image-probe.js
cli=$repo_dir/dist/appliance/cli.js
{ [ -f "$probe" ] && [ -f "$cli" ]; } || die "compile the project first: npx tsc -p ."

started=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/evertorrent-boot-test.XXXXXX")
qemu_pid=
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid"
    wait "$qemu_pid" 2>/dev/null || true
  fi
  if [ "${EVERTORRENT_TEST_KEEP:-}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
elapsed() { echo "$((SECONDS - started)) s"; }
step() { log "[$(elapsed)] $*"; }
guest() {
  ssh -i "$work/key" -p "$ssh_port" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=20 -o LogLevel=ERROR root@127.0.0.1 "$@"
}
fail() {
  echo "FAIL: $*" >&2
  echo "--- guest console, last 60 lines" >&2
  tail -n 60 "$work/console.log" >&2 || true
  if [ -n "$qemu_pid" ] && guest true 2>/dev/null; then
    echo "--- guest: failed units and evertorrent's journal" >&2
    guest 'systemctl --no-pager --failed; journalctl --no-pager -b -u evertorrent.service -u "evertorrent-*" | tail -n 60' >&2 || true
  fi
  exit 1
}
# wait_for SECONDS DESCRIPTION COMMAND...: retries COMMAND every 5 s.
wait_for() {
  local limit=$1 description=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ -z "$qemu_pid" ] || kill -0 "$qemu_pid" 2>/dev/null || fail "qemu ended while waiting for $description"
    [ "$SECONDS" -lt "$deadline" ] || fail "no $description after $limit s"
    sleep 5
  done
}

step "copying $image"
disk=$work/disk.img
if [[ $image == *.xz ]]; then xz -dc "$image" >"$disk"; else cp --sparse=always "$image" "$disk"; fi
original_size=$(stat -c %s "$disk")
truncate -s +1G "$disk"
boot_sector=$(sfdisk --dump "$disk" | sed -n 's/.*1 : start= *\([0-9]*\),.*/\1/p')
boot="$disk@@$((boot_sector * 512))"

step "preparing the boot partition as a person would: sysconf.txt and evertorrent.toml"
read -r ssh_port http_port tracker_port peer_port <<<"$(node "$probe" free-ports 4)"
ssh-keygen -q -t ed25519 -N '' -C evertorrent-boot-test -f "$work/key"
mcopy -n -i "$boot" ::sysconf.txt "$work/sysconf.txt"
{
  echo "hostname=evertorrent-smoke"
  echo "root_authorized_key=$(cat "$work/key.pub")"
  echo "root_pw=$(head -c 12 /dev/urandom | base64)"
} >>"$work/sysconf.txt"
mcopy -o -i "$boot" "$work/sysconf.txt" ::sysconf.txt
library=/var/lib/evertorrent/library
mcopy -n -i "$boot" ::evertorrent.toml "$work/shipped.toml"
admin_token=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
node "$probe" test-config "$work/shipped.toml" "$work/evertorrent.toml" "web.admin_token=\"$admin_token\"" \
  "network.announce_host=\"127.0.0.1\"" "http.port=$http_port" "tracker.port=$tracker_port" "seeder.port=$peer_port" \
  "library.folders=[\"$library\"]" "library.media_root=\"/media/evertorrent\""
mcopy -o -i "$boot" "$work/evertorrent.toml" ::evertorrent.toml
for file in cmdline.txt config.txt; do mcopy -n -i "$boot" "::$file" "$work/$file"; done
kernel=$(sed -n 's/^kernel=//p' "$work/config.txt")
initrd=$(sed -n 's/^initramfs \([^ ]*\).*/\1/p' "$work/config.txt")
mcopy -n -i "$boot" "::$kernel" "$work/vmlinuz"
mcopy -n -i "$boot" "::$initrd" "$work/initrd.img"

step "a USB stick (vfat, label SMOKE) with one file, and a file for the library folder"
truncate -s 64M "$work/stick.img"
mkfs.vfat -n SMOKE "$work/stick.img" >/dev/null
head -c 3000000 /dev/urandom >"$work/usb-file.bin"
head -c 1500000 /dev/urandom >"$work/folder-file.bin"
mcopy -i "$work/stick.img" "$work/usb-file.bin" ::usb-file.bin
infohash_of() { node "$cli" create "$1" -o "$work/$(basename "$1").torrent" -q | grep -Eo '\b[0-9a-f]{40}\b' | head -n 1; }
usb_hash=$(infohash_of "$work/usb-file.bin")
folder_hash=$(infohash_of "$work/folder-file.bin")

step "booting qemu-system-aarch64 -M virt ($kernel; ports on 127.0.0.1: ssh $ssh_port, http $http_port, tracker $tracker_port, peer $peer_port)"
forwards="hostfwd=tcp:127.0.0.1:$ssh_port-:22,hostfwd=tcp:127.0.0.1:$http_port-:$http_port"
forwards+=",hostfwd=tcp:127.0.0.1:$tracker_port-:$tracker_port,hostfwd=udp:127.0.0.1:$tracker_port-:$tracker_port"
forwards+=",hostfwd=tcp:127.0.0.1:$peer_port-:$peer_port"
qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 512 \
  -kernel "$work/vmlinuz" -initrd "$work/initrd.img" -append "$(cat "$work/cmdline.txt") console=ttyAMA0" \
  -drive "if=none,id=disk,format=raw,file=$disk" -device virtio-blk-pci,drive=disk \
  -device qemu-xhci,id=xhci -drive "if=none,id=stick,format=raw,readonly=on,file=$work/stick.img" \
  -device usb-storage,bus=xhci.0,drive=stick \
  -netdev "user,id=net,restrict=on,$forwards" -device virtio-net-pci,netdev=net,romfile= \
  -display none -monitor none -serial "file:$work/console.log" -no-reboot &
qemu_pid=$!
boot_started=$SECONDS

wait_for 1200 "SSH login (key from sysconf.txt)" guest true
ssh_up=$((SECONDS - boot_started))
step "SSH answers, $ssh_up s after qemu started"
service_active() { [ "$(guest systemctl is-active evertorrent.service)" = active ]; }
deadline=$((SECONDS + 600))
until service_active; do
  state=$(guest systemctl is-active evertorrent.service || true)
  [ "$state" != failed ] || fail "evertorrent.service failed"
  [ "$SECONDS" -lt "$deadline" ] || fail "evertorrent.service is still '$state' after 600 s"
  sleep 5
done
service_up=$((SECONDS - boot_started))
step "evertorrent.service is active (READY=1 through systemd), $service_up s after qemu started"
guest systemd-analyze time || true

step "first boot"
[ "$(guest hostname)" = evertorrent-smoke ] || fail "hostname is '$(guest hostname)', not evertorrent-smoke from sysconf.txt"
fqdn=$(guest busctl call org.freedesktop.Avahi / org.freedesktop.Avahi.Server GetHostNameFqdn)
[ "$fqdn" = 's "evertorrent-smoke.local"' ] || fail "avahi-daemon advertises $fqdn, not evertorrent-smoke.local"
root_bytes=$(guest findmnt -bno SIZE /)
[ "$root_bytes" -gt "$original_size" ] || fail "the root filesystem ($root_bytes bytes) did not grow past the image size ($original_size bytes)"
echo "root filesystem: $((root_bytes / 1048576)) MiB on a $(( $(stat -c %s "$disk") / 1048576 )) MiB disk"
guest grep -q '^root_pw=' /boot/firmware/sysconf.txt && fail "root_pw is still in sysconf.txt after boot"
guest test -s /etc/ssh/ssh_host_ed25519_key || fail "no SSH host key was made"
[ "$(guest sha256sum /etc/evertorrent/config.toml | cut -d' ' -f1)" = "$(sha256sum <"$work/evertorrent.toml" | cut -d' ' -f1)" ] ||
  fail "/etc/evertorrent/config.toml is not the evertorrent.toml left on the boot partition"
guest test ! -e /boot/firmware/evertorrent-config-error.txt || fail "evertorrent-config-error.txt: $(guest cat /boot/firmware/evertorrent-config-error.txt)"

step "the USB stick"
wait_for 120 "mount of the USB stick under /media/evertorrent" guest findmnt /media/evertorrent/SMOKE
options=$(guest findmnt -no OPTIONS /media/evertorrent/SMOKE)
for option in ro nosuid nodev noexec; do
  grep -qw "$option" <<<"${options//,/ }" || fail "the USB stick is mounted with '$options', without $option"
done
echo "/media/evertorrent/SMOKE: $options"

step "units"
failed=$(guest systemctl --no-legend --plain --failed | cut -d' ' -f1)
[ -z "$failed" ] || fail "failed units: $failed"
# --man=no: the image has no manual pages for Documentation=man:... to point at.
guest systemd-analyze verify --man=no evertorrent.service evertorrent-mount@sda1.service evertorrent-boot-settings.service \
  evertorrent-grow-root.service wpa_supplicant@wlan0.service systemd-networkd-wait-online.service ||
  fail "systemd-analyze verify found problems in the image's units"
echo "systemd-analyze verify: no problems"
guest systemd-analyze security --no-pager evertorrent.service | tail -n 1

step "publishing: a file copied into $library over SSH"
guest "cat >$library/folder-file.bin" <"$work/folder-file.bin"
torrent_url() { echo "http://127.0.0.1:$http_port/torrents/$1.torrent"; }
wait_for 600 ".torrent of usb-file.bin ($usb_hash)" curl -fsS -o "$work/usb.torrent" "$(torrent_url "$usb_hash")"
wait_for 600 ".torrent of folder-file.bin ($folder_hash)" curl -fsS -o "$work/folder.torrent" "$(torrent_url "$folder_hash")"
echo "both files are published: $usb_hash $folder_hash"

step "from the host: status page, tracker, everseed, aria2c"
status=$(curl -fsS "http://127.0.0.1:$http_port/") || fail "GET / (the status page) failed"
grep -qi '<html' <<<"$status" || fail "GET / did not return an HTML page"
echo "status page: $(wc -c <<<"$status") bytes of HTML"
api=$(curl -fsS "http://127.0.0.1:$http_port/api/status") || fail "GET /api/status failed"
grep -q "$usb_hash" <<<"$api" || fail "/api/status does not list usb-file.bin ($usb_hash)"
peers=$(node "$probe" announce "http://127.0.0.1:$tracker_port/announce" "$usb_hash") || fail "the announce failed"
grep -q ":$peer_port\$" <<<"$peers" || fail "the tracker did not return the everseed (port $peer_port): $peers"
echo "tracker returned: $(tr '\n' ' ' <<<"$peers")"
node "$probe" handshake 127.0.0.1 "$peer_port" "$usb_hash" || fail "the everseed did not answer a handshake"
for name in usb folder; do
  aria2c --dir="$work/download" --seed-time=0 --enable-dht=false --enable-dht6=false --bt-enable-lpd=false \
    --enable-peer-exchange=false --bt-stop-timeout=300 --summary-interval=0 --console-log-level=warn \
    --log="$work/aria2-$name.log" --log-level=info "$work/$name.torrent" || fail "aria2c could not download $name.torrent"
  cmp "$work/download/$name-file.bin" "$work/$name-file.bin" || fail "$name-file.bin: the downloaded bytes differ"
  grep -q "127.0.0.1:$tracker_port" "$work/aria2-$name.log" || fail "aria2c never contacted the tracker for $name-file.bin"
  echo "aria2c: $name-file.bin downloaded, bytes identical"
done

step "eject from the status page's API: the service user stops the mount unit through polkit"
curl -fsS -X POST -H "Authorization: Bearer $admin_token" "http://127.0.0.1:$http_port/api/actions/eject" >/dev/null ||
  fail "POST /api/actions/eject failed"
stick_gone() { ! guest findmnt /media/evertorrent/SMOKE && [ "$(guest systemctl is-active evertorrent-mount@sda.service)" != active ]; }
wait_for 120 "unmount of the USB stick after eject" stick_gone
echo "the USB stick is unmounted and evertorrent-mount@sda.service stopped"

step "power off"
guest systemctl poweroff || true
deadline=$((SECONDS + 180))
while kill -0 "$qemu_pid" 2>/dev/null; do
  [ "$SECONDS" -lt "$deadline" ] || fail "the guest did not power off within 180 s"
  sleep 2
done
wait "$qemu_pid" || true
qemu_pid=
step "passed: SSH after $ssh_up s, evertorrent.service active after $service_up s, whole test $(elapsed)"
