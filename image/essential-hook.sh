#!/usr/bin/env bash
# mmdebstrap essential hook: puts update-initramfs aside while the packages are installed. Under
# qemu-user one initrd takes minutes, and the kernel's postinst and the initramfs trigger would each
# make one; image/customize.sh puts it back and makes the initrd once, with everything installed.
set -euo pipefail
root=$1
chroot "$root" dpkg-divert --quiet --local --rename --divert /usr/sbin/update-initramfs.deferred --add /usr/sbin/update-initramfs
printf '#!/bin/sh\n# image/essential-hook.sh: the initrd is made at the end of the build.\nexit 0\n' >"$root/usr/sbin/update-initramfs"
chmod 0755 "$root/usr/sbin/update-initramfs"
