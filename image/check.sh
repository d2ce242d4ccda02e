#!/usr/bin/env bash
# npm run check:image: checks the structure of a built image without booting or mounting it (no root
# needed): the partition table, the boot partition (firmware, config.txt, cmdline.txt naming the root
# partition, kernel, initrd, the dtbs of the supported models) and the root filesystem (the app, its
# units enabled, nothing that must differ between boxes). Prints one line per check; exits non-zero
# if any fails.
#   image/check.sh [IMAGE.img|IMAGE.img.xz]   (default: the last build's image)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
export PATH=$PATH:/usr/sbin:/sbin MTOOLS_SKIP_CHECK=1

image=${1:-$out_dir/$image_name.img}
need sfdisk fdisk
need mtype mtools
need debugfs e2fsprogs
need fdtoverlay device-tree-compiler
[ -f "$image" ] || die "$image does not exist: build it first (npm run image)"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/evertorrent-check.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
if [[ $image == *.xz ]]; then
  need xz xz-utils
  xz -dc "$image" >"$scratch/image.img"
  image=$scratch/image.img
fi

failures=0
pass() { echo "ok - $*"; }
fail() { echo "not ok - $*"; failures=$((failures + 1)); }
check() { # check DESCRIPTION COMMAND...
  local description=$1
  shift
  if "$@" >/dev/null 2>&1; then pass "$description"; else fail "$description"; fi
}

# --- partition table
table=$(sfdisk --dump "$image")
label=$(sed -n 's/^label: //p' <<<"$table")
disk_id=$(sed -n 's/^label-id: 0x//p' <<<"$table")
count=$(grep -c ' : start=' <<<"$table")
part() { # part INDEX FIELD: a field (start, size, type) of the INDEX-th partition, from 0
  grep ' : start=' <<<"$table" | sed -n "$(($1 + 1))p" | tr -d ' ' | tr ',:' '\n' | sed -n "s/^$2=//p"
}
check "partition table is MBR (dos), as the Pi 3 and Zero 2 W firmware needs" test "$label" = dos
check "two partitions" test "$count" = 2
check "partition 1 is FAT32 (type c), 4 MiB aligned" test "$(part 0 type)/$(( $(part 0 start) % 8192 ))" = c/0
check "partition 2 is Linux (type 83), 1 MiB aligned, after partition 1" \
  test "$(part 1 type)/$(( $(part 1 start) % 2048 ))/$(( $(part 1 start) >= $(part 0 start) + $(part 0 size) ))" = 83/0/1
boot_at=$(( $(part 0 start) * 512 ))
root_at=$(( $(part 1 start) * 512 ))

# --- boot partition
boot_cat() { mtype -i "$image@@$boot_at" "::$1" 2>/dev/null | tr -d '\r'; }
boot_has() { mdir -b -i "$image@@$boot_at" "::$1" >/dev/null 2>&1; }
check "boot partition is labelled RASPIFIRM" sh -c "mlabel -s -i '$image@@$boot_at' :: | grep -q RASPIFIRM"
for file in bootcode.bin start.elf fixup.dat start_cd.elf fixup_cd.dat start4.elf fixup4.dat start4cd.elf fixup4cd.dat; do
  check "boot: firmware $file" boot_has "$file"
done
config_txt=$(boot_cat config.txt)
kernel=$(sed -n 's/^kernel=//p' <<<"$config_txt")
initrd=$(sed -n 's/^initramfs \([^ ]*\).*/\1/p' <<<"$config_txt")
check "config.txt: arm_64bit=1" grep -qx 'arm_64bit=1' <<<"$config_txt"
check "config.txt: upstream_kernel=1 (the firmware picks the mainline dtb names)" grep -qx 'upstream_kernel=1' <<<"$config_txt"
check "config.txt: gpu_mem=16 (headless)" grep -qx 'gpu_mem=16' <<<"$config_txt"
check "config.txt: kernel=$kernel is on the boot partition" boot_has "${kernel:-missing}"
check "config.txt: initramfs $initrd is on the boot partition" boot_has "${initrd:-missing}"
check "kernel and initrd are of the same version" test "${kernel#vmlinuz-}" = "${initrd#initrd.img-}"
cmdline=$(boot_cat cmdline.txt)
check "cmdline.txt: one line" test "$(wc -l <<<"$cmdline")" = 1
check "cmdline.txt: root=PARTUUID=$disk_id-02 (this image's root partition)" grep -q "root=PARTUUID=$disk_id-02 " <<<"$cmdline "
for word in rootwait net.ifnames=0 console=ttyS1,115200; do
  check "cmdline.txt: $word" grep -qw -- "$word" <<<"$cmdline"
done
for dtb in bcm2837-rpi-3-b bcm2837-rpi-3-b-plus bcm2837-rpi-3-a-plus bcm2837-rpi-zero-2-w bcm2711-rpi-4-b bcm2711-rpi-400 bcm2711-rpi-cm4-io; do
  check "boot: device tree $dtb.dtb" boot_has "$dtb.dtb"
done
dtbs=$scratch
for overlay in gpio-led gpio-key; do
  check "boot: overlays/$overlay.dtbo" boot_has "overlays/$overlay.dtbo"
  mcopy -n -i "$image@@$boot_at" "::overlays/$overlay.dtbo" "$dtbs/" 2>/dev/null || true
done
for dtb in bcm2837-rpi-3-b bcm2837-rpi-zero-2-w bcm2711-rpi-4-b; do
  mcopy -n -i "$image@@$boot_at" "::$dtb.dtb" "$dtbs/" 2>/dev/null || true
  check "the gpio-led and gpio-key overlays apply to $dtb.dtb" \
    fdtoverlay -i "$dtbs/$dtb.dtb" -o "$dtbs/applied.dtb" "$dtbs/gpio-led.dtbo" "$dtbs/gpio-key.dtbo"
done
if boot_has bcm2712-rpi-5-b.dtb; then echo "# the Pi 5 device tree is present (see docs/image.md for the Pi 5's state)"; fi
check "boot: sysconf.txt template, with nothing set" sh -c "! mtype -i '$image@@$boot_at' ::sysconf.txt | grep -q '^[a-z]'"
check "boot: evertorrent.toml" boot_has evertorrent.toml

# --- root filesystem
root_fs="$image?offset=$root_at"
root_cat() { debugfs -R "cat $1" "$root_fs" 2>/dev/null; }
root_has() { debugfs -R "stat $1" "$root_fs" 2>/dev/null | grep -q '^Inode:'; }
root_link() { debugfs -R "stat $1" "$root_fs" 2>/dev/null | sed -n 's/^Fast link dest: "\(.*\)"$/\1/p'; }
root_mode() { debugfs -R "stat $1" "$root_fs" 2>/dev/null | sed -n 's/.*Mode: *\(0[0-7]*\).*/\1/p'; }
check "root filesystem is ext4 labelled RASPIROOT" sh -c "dumpe2fs -h '$root_fs' 2>/dev/null | grep -q 'volume name: *RASPIROOT'"
fstab=$(root_cat /etc/fstab)
check "fstab: / is PARTUUID=$disk_id-02" grep -Eq "^PARTUUID=$disk_id-02[[:space:]]+/[[:space:]]+ext4" <<<"$fstab"
check "fstab: /boot/firmware is PARTUUID=$disk_id-01" grep -Eq "^PARTUUID=$disk_id-01[[:space:]]+/boot/firmware[[:space:]]+vfat" <<<"$fstab"
check "kernel modules for ${kernel#vmlinuz-}" root_has "/usr/lib/modules/${kernel#vmlinuz-}/modules.dep"
check "raspi-firmware settings name the same root partition (kernel updates rewrite cmdline.txt)" \
  grep -q "^ROOTPART=\"PARTUUID=$disk_id-02\"" <<<"$(root_cat /etc/default/raspi-firmware)"

status=$(root_cat /var/lib/dpkg/status)
installed() { # installed PACKAGE: its version if dpkg has it installed
  awk -v p="$1" '/^Package: /{on=($2==p)} on&&/^Status: install ok installed/{ok=1} on&&/^Version: /{v=$2} /^$/{if(on&&ok){print v; exit} on=0; ok=0}' <<<"$status"
}
check "package evertorrent $version installed" test "$(installed evertorrent)" = "${version//-/\~}"
node_version=$(installed nodejs)
check "package nodejs $node_version installed (>= 20.19)" dpkg --compare-versions "${node_version:-0}" ge 20.19
for package in linux-image-arm64 raspi-firmware systemd avahi-daemon openssh-server firmware-brcm80211 exfatprogs ntfs-3g dosfstools e2fsprogs; do
  check "package $package installed" test -n "$(installed "$package")"
done
for package in gcc cpp make build-essential xserver-xorg-core xwayland npm; do
  check "no $package (no compilers, no desktop, no npm)" test -z "$(installed "$package")"
done

app=/usr/lib/evertorrent
check "/usr/bin/evertorrent -> $app/dist/appliance/cli.js" test "$(root_link /usr/bin/evertorrent)" = ../lib/evertorrent/dist/appliance/cli.js
check "the app's cli.js is executable" test "$(root_mode $app/dist/appliance/cli.js)" = 0755
check "the app's package.json is version $version" grep -q "\"version\": \"$version\"" <<<"$(root_cat $app/package.json)"
check "node-datachannel's arm64 binary" root_has "$app/node_modules/@node-datachannel/linux-arm64-gnu/node_datachannel.node"
check "no x64 binary of node-datachannel" sh -c "! debugfs -R 'stat $app/node_modules/@node-datachannel/linux-x64-gnu' '$root_fs' 2>/dev/null | grep -q '^Inode:'"
check "mount helper $app/evertorrent-mount is executable" test "$(root_mode $app/evertorrent-mount)" = 0755
check "udev rule for USB drives" root_has /usr/lib/udev/rules.d/99-evertorrent-usb.rules
check "polkit rule" root_has /usr/share/polkit-1/rules.d/50-evertorrent.rules
check "default config /etc/evertorrent/config.toml, the same as evertorrent.toml on the boot partition" \
  test "$(root_cat /etc/evertorrent/config.toml | sha256sum)" = "$(boot_cat evertorrent.toml | sha256sum)"
# Every absolute path on the unit's command line (the interpreter, the script) must exist.
exec_start=$(root_cat /usr/lib/systemd/system/evertorrent.service | sed -n 's/^ExecStart=[-@:+!]*//p' | head -n 1)
while read -r path; do
  check "evertorrent.service's ExecStart names $path, which is in the image" root_has "$path"
done < <(grep -o '/[^ ]*' <<<"$exec_start")

enabled() { # enabled TARGET UNIT: the unit's symlink in TARGET.wants
  root_has "/etc/systemd/system/$1.wants/$2"
}
check "evertorrent.service enabled" enabled multi-user.target evertorrent.service
check "evertorrent-boot-settings.service enabled" enabled sysinit.target evertorrent-boot-settings.service
check "evertorrent-grow-root.service enabled" enabled local-fs.target evertorrent-grow-root.service
for wanted in multi-user.target:ssh.service multi-user.target:avahi-daemon.service multi-user.target:systemd-networkd.service \
  sysinit.target:systemd-resolved.service sysinit.target:systemd-timesyncd.service; do
  check "${wanted#*:} enabled" enabled "${wanted%%:*}" "${wanted#*:}"
done
check "wpa_supplicant@wlan0 starts when wlan0 appears" enabled sys-subsystem-net-devices-wlan0.device wpa_supplicant@wlan0.service
check "/etc/resolv.conf is systemd-resolved's stub" test "$(root_link /etc/resolv.conf)" = ../run/systemd/resolve/stub-resolv.conf

check "default target multi-user.target (headless)" test "$(root_link /etc/systemd/system/default.target)" = /usr/lib/systemd/system/multi-user.target
check "update-initramfs is Debian's again (the build's placeholder is gone)" \
  sh -c "debugfs -R 'cat /usr/sbin/update-initramfs' '$root_fs' 2>/dev/null | grep -q mkinitramfs"
check "hostname evertorrent" test "$(root_cat /etc/hostname)" = evertorrent
check "no SSH host keys (each box makes its own)" sh -c "! debugfs -R 'ls -l /etc/ssh' '$root_fs' 2>/dev/null | grep -q ssh_host_"
check "empty machine-id (each box makes its own)" test -z "$(root_cat /etc/machine-id)"
check "root has no password" grep -q '^root:\*:' <<<"$(root_cat /etc/shadow)"

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed: $image" >&2
  exit 1
fi
echo "all checks passed: $image ($(du -h --apparent-size "$image" | cut -f1))"
