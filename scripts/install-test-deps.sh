#!/usr/bin/env bash
# Installs the Debian packages the test suite drives: the real BitTorrent tools our output is checked
# against. Idempotent; uses sudo only when not already root.
set -euo pipefail
packages=(
  mktorrent            # reference .torrent maker (infohash comparison, benchmark)
  transmission-cli     # transmission-show (parse check), transmission-create
  transmission-daemon  # a real downloader/seeder, driven by transmission-remote
  python3-libtorrent   # libtorrent's Python binding: parse, verify pieces, download
  aria2                # aria2c downloader
  qbittorrent-nox      # qBittorrent headless client
  openssl              # `openssl speed sha1` in the benchmark
  e2fsprogs            # mkfs.ext4 for the drive tests' filesystem images
  exfatprogs           # mkfs.exfat
  exfat-fuse           # exFAT where the kernel has no exfat driver (the test machines' kernels)
  ntfs-3g              # NTFS likewise
  util-linux           # losetup, mount, findmnt, mountpoint
  systemd              # systemd-analyze verify of the unit files
  chromium             # the status page's end-to-end test (driven by playwright-core)
  zbar-tools           # decodes the page's QR code in that test
  python3-prometheus-client  # the Prometheus project's parser for /metrics
  mtools               # the image recipe test: FAT boot partition written without root
  dosfstools           # mkfs.vfat
  fdisk                # sfdisk: the image's partition table
  xz-utils             # the compressed image
  device-tree-compiler # dtc: the LED/button overlays compile
  iproute2             # ip netns/veth: the reach tests' router, LAN and internet namespaces
  nftables             # the test router's NAT
  miniupnpd-nftables   # a real UPnP-IGD / NAT-PMP gateway in the test router
  miniupnpc            # upnpc: reads the gateway's mappings back
  natpmpc              # NAT-PMP client, to cross-check the gateway
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
