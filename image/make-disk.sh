#!/usr/bin/env bash
# Writes a partitioned disk image from a root filesystem tree and a boot partition tree, without
# mounting anything (no loop devices, no root needed):
#   MBR, disk identifier DISK-ID
#   partition 1  FAT32 "RASPIFIRM", 512 MiB from 4 MiB   -> /boot/firmware (the Pi firmware reads it)
#   partition 2  ext4  "RASPIROOT", the tree plus room   -> /   (grown to fill the card at first boot)
#
#   image/make-disk.sh ROOTFS-DIR BOOTFS-DIR DISK-ID OUTPUT.img
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

[ $# -eq 4 ] || die "usage: make-disk.sh ROOTFS-DIR BOOTFS-DIR DISK-ID OUTPUT.img"
rootfs=$1 bootfs=$2 disk_id=$3 image=$4
[[ $disk_id =~ ^[0-9a-f]{8}$ ]] || die "the disk identifier must be 8 lowercase hex digits, not '$disk_id'"
need sfdisk fdisk
need mkfs.vfat dosfstools
need mcopy mtools
need mkfs.ext4 e2fsprogs
export PATH=$PATH:/usr/sbin:/sbin

mib=$((1024 * 1024))
boot_start_mib=4
boot_mib=512
root_start_mib=$((boot_start_mib + boot_mib))
# The tree, a quarter more for ext4's own metadata and updates, and 128 MiB for the first boot.
used_mib=$(( $(du -s --block-size=1M "$rootfs" | cut -f1) ))
root_mib=$(( (used_mib * 5 / 4 + 128 + 3) / 4 * 4 ))
total_mib=$((root_start_mib + root_mib))
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(date +%s)}

work=$(mktemp -d "${image%/*}/make-disk.XXXXXX")
trap 'rm -rf "$work"' EXIT

log "boot partition: FAT32, $boot_mib MiB, from $bootfs"
mkfs.vfat -F 32 -n RASPIFIRM -i "$disk_id" -C "$work/boot.vfat" $((boot_mib * 1024)) >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -i "$work/boot.vfat" -s -p -m -Q "$bootfs"/* ::

log "root partition: ext4, $root_mib MiB for $used_mib MiB of files"
# A fixed UUID and hash seed, file times from the tree: the same tree gives the same filesystem.
root_uuid=$(printf '%s' "evertorrent-root-$disk_id" | sha256sum | sed -E 's/^(.{8})(.{4}).(.{3}).(.{3})(.{12}).*/\1-\2-4\3-8\4-\5/')
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mkfs.ext4 -q -L RASPIROOT -U "$root_uuid" -E "root_owner=0:0,hash_seed=$root_uuid" \
  -d "$rootfs" "$work/root.ext4" "${root_mib}M" >/dev/null

log "disk image: $total_mib MiB, MBR disk identifier $disk_id"
rm -f "$image"
truncate -s "${total_mib}M" "$image"
sfdisk --quiet "$image" <<TABLE
label: dos
label-id: 0x$disk_id
unit: sectors

start=$((boot_start_mib * mib / 512)), size=$((boot_mib * mib / 512)), type=c, bootable
start=$((root_start_mib * mib / 512)), size=$((root_mib * mib / 512)), type=83
TABLE
dd if="$work/boot.vfat" of="$image" bs=1M seek="$boot_start_mib" conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$image" bs=1M seek="$root_start_mib" conv=notrunc,sparse status=none
log "wrote $image"
