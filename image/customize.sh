#!/usr/bin/env bash
# mmdebstrap customize hook: turns the installed arm64 system at $1 into the appliance. Runs on the
# build host after every package is installed; commands inside the rootfs run under qemu-user.
#   EVERTORRENT_DISK_ID  the image's MBR disk identifier (8 hex digits): root=PARTUUID=<id>-02
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$image_dir/lib/raspi-boot.sh"

root=$1
disk_id=${EVERTORRENT_DISK_ID:?}
in_root() { chroot "$root" "$@"; }

log "adding the image's files (image/rootfs)"
tar -C "$image_dir/rootfs" --owner=0 --group=0 -cf - . | tar -C "$root" --no-overwrite-dir -xf -
# mmdebstrap's one-line sources.list gives way to debian.sources (trixie, updates, security).
rm -f "$root/etc/apt/sources.list"

log "boot partition: initrd, config.txt and cmdline.txt for root=PARTUUID=$disk_id-02"
write_raspi_firmware_settings "$root" "$disk_id"
# update-initramfs back in place (image/essential-hook.sh put it aside), and the one initrd made.
# Its post-update hook is raspi-firmware's, which copies kernel, initrd and dtbs to /boot/firmware
# and writes config.txt and cmdline.txt from the settings above: kernel updates on the box do the same.
rm "$root/usr/sbin/update-initramfs"
in_root dpkg-divert --quiet --local --rename --divert /usr/sbin/update-initramfs.deferred --remove /usr/sbin/update-initramfs
in_root update-initramfs -c -k all
[ -f "$root/boot/firmware/config.txt" ] || die "raspi-firmware wrote no /boot/firmware/config.txt"
# The LED and button overlays named in raspi-firmware-custom (raspi-firmware ships neither).
mkdir -p "$root/boot/firmware/overlays"
for source in "$image_dir"/overlays/*.dts; do
  name=${source##*/}
  dtc -@ -q -I dts -O dtb -o "$root/boot/firmware/overlays/${name%.dts}.dtbo" "$source"
done
install -m 0644 "$image_dir/boot/sysconf.txt" "$root/boot/firmware/sysconf.txt"
install -m 0644 "$repo_dir/config/evertorrent.toml" "$root/boot/firmware/evertorrent.toml"
write_fstab "$root" "$disk_id"

log "enabling the services"
in_root systemctl set-default multi-user.target
in_root systemctl enable systemd-networkd.service systemd-resolved.service systemd-timesyncd.service \
  avahi-daemon.service ssh.service evertorrent.service \
  evertorrent-grow-root.service evertorrent-boot-settings.service
# wpa_supplicant@wlan0 joins the network of sysconf.txt; the D-Bus-driven instance is not used.
in_root systemctl disable wpa_supplicant.service
mkdir -p "$root/etc/systemd/system/sys-subsystem-net-devices-wlan0.device.wants"
ln -sfn /usr/lib/systemd/system/wpa_supplicant@.service \
  "$root/etc/systemd/system/sys-subsystem-net-devices-wlan0.device.wants/wpa_supplicant@wlan0.service"
ln -sfn ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"

log "removing what must differ between boxes"
# No password: root logs in with the key or password set in sysconf.txt.
in_root usermod --password '*' root
# Made by evertorrent-boot-settings at first boot.
rm -f "$root"/etc/ssh/ssh_host_*
# Empty machine-id: systemd makes one at first boot (and does not treat the boot as a first boot
# that resets the enabled units to the presets, as "uninitialized" would).
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id" "$root/var/lib/systemd/random-seed" "$root/var/lib/systemd/credential.secret"

# shellcheck disable=SC2016  # dpkg-query fields, not shell variables
in_root dpkg-query -W -f '${Package}\t${Version}\t${Installed-Size}\n' >"$out_dir/$image_name.packages"
