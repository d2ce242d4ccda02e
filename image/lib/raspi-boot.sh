# shellcheck shell=bash
# The settings that tie the boot partition to the root partition: raspi-firmware's defaults (from
# which its hook writes cmdline.txt) and /etc/fstab, both naming partitions by the MBR disk
# identifier. Sourced, not run; the tests call these on a fake root.

# write_raspi_firmware_settings ROOT DISK-ID
write_raspi_firmware_settings() {
  local root=$1 disk_id=$2
  cat >>"$root/etc/default/raspi-firmware" <<SETTINGS

# Set by the evertorrent image (image/lib/raspi-boot.sh):
# the root partition by its MBR identifier, so a USB drive can never be taken for it;
ROOTPART="PARTUUID=$disk_id-02"
# boot messages on the HDMI screen and the serial console of GPIO 14/15 (ttyS1 on the Pi 3, 4 and Zero 2 W);
CONSOLES="tty0 ttyS1,115200"
# no cma= on the command line: the image is headless, and one image serves the Pi 3 and the Pi 4,
# where raspi-firmware's usual cma=64M can keep the Pi 4 from booting.
CMA=0
SETTINGS
}

# write_fstab ROOT DISK-ID
write_fstab() {
  local root=$1 disk_id=$2
  cat >"$root/etc/fstab" <<FSTAB
# <file system>          <mount point>   <type>  <options>                          <dump> <pass>
PARTUUID=$disk_id-02   /               ext4    rw,noatime,errors=remount-ro       0      1
PARTUUID=$disk_id-01   /boot/firmware  vfat    rw,noatime,umask=0077,shortname=mixed  0   2
FSTAB
}
