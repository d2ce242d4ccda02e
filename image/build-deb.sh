#!/usr/bin/env bash
# Builds evertorrent_<version>_arm64.deb: the compiled app (dist/, architecture-independent), its
# production node_modules resolved for linux/arm64/glibc from the lockfile, and the system files from
# config/. Runs on any host; needs npm ≥ 10 (--cpu/--os/--libc) and dpkg-deb.
#   image/build-deb.sh [OUTPUT-DIR]   (default: the image build folder)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

config_dir=$repo_dir/config
deb_out=${1:-$out_dir}
need npm npm
need dpkg-deb dpkg
for file in evertorrent.service evertorrent.toml evertorrent-mount@.service evertorrent-mount 99-evertorrent-usb.rules \
  99-evertorrent-leds.rules 50-evertorrent.rules; do
  [ -f "$config_dir/$file" ] || die "$config_dir/$file is missing"
done
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo_dir" log -1 --format=%ct 2>/dev/null || date +%s)}

staging=$out_dir/deb-staging
compiled=$out_dir/tsc
rm -rf "$staging" "$compiled"
app=$staging/usr/lib/evertorrent
mkdir -p "$app/dist" "$staging/DEBIAN"

# A fresh compile of the app alone (npm run build's tsc, into the build folder): no tests, no source
# maps, nothing stale from the work tree's dist/. The output is architecture-independent.
log "compiling the app (tsc)"
(cd "$repo_dir" && npx --no-install tsc -p image/tsconfig.app.json --outDir "$compiled")
[ -f "$compiled/appliance/cli.js" ] || die "tsc did not produce appliance/cli.js"
cp -R "$compiled/appliance" "$app/dist/"
cp "$repo_dir/package.json" "$repo_dir/package-lock.json" "$app/"

log "installing production node_modules for linux/arm64 (npm ci --omit=dev --cpu=arm64)"
# --ignore-scripts: no dependency may run code at install time (none needs to: node-datachannel 0.33
# ships its binary as the per-platform package @node-datachannel/linux-arm64-gnu), and the root
# package's `prepare` (tsc) is not wanted here.
(cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --cpu=arm64 --os=linux --libc=glibc --loglevel=warn)
[ -f "$app/node_modules/@node-datachannel/linux-arm64-gnu/package.json" ] ||
  die "npm did not install @node-datachannel/linux-arm64-gnu: npm 10 or newer is needed for --cpu/--os"
[ ! -e "$app/node_modules/@node-datachannel/linux-x64-gnu" ] || die "npm installed the x64 binary of node-datachannel"
rm -f "$app/package-lock.json" "$app/node_modules/.package-lock.json"
chmod 0755 "$app/dist/appliance/cli.js"

install -D -m 0755 "$config_dir/evertorrent-mount" "$app/evertorrent-mount"
install -D -m 0644 "$config_dir/evertorrent.service" "$staging/usr/lib/systemd/system/evertorrent.service"
install -D -m 0644 "$config_dir/evertorrent-mount@.service" "$staging/usr/lib/systemd/system/evertorrent-mount@.service"
install -D -m 0644 -t "$staging/usr/lib/udev/rules.d" "$config_dir/99-evertorrent-usb.rules" "$config_dir/99-evertorrent-leds.rules"
install -D -m 0644 "$config_dir/50-evertorrent.rules" "$staging/usr/share/polkit-1/rules.d/50-evertorrent.rules"
install -D -m 0644 "$config_dir/evertorrent.toml" "$staging/etc/evertorrent/config.toml"
install -D -m 0644 "$image_dir/deb/sysusers.conf" "$staging/usr/lib/sysusers.d/evertorrent.conf"
install -D -m 0644 "$image_dir/deb/copyright" "$staging/usr/share/doc/evertorrent/copyright"
mkdir -p "$staging/usr/bin"
ln -s ../lib/evertorrent/dist/appliance/cli.js "$staging/usr/bin/evertorrent"

install -m 0755 "$image_dir/deb/postinst" "$image_dir/deb/prerm" "$image_dir/deb/postrm" "$staging/DEBIAN/"
echo /etc/evertorrent/config.toml >"$staging/DEBIAN/conffiles"
installed_size=$(du -sk --exclude=DEBIAN "$staging" | cut -f1)
sed -e "s/@VERSION@/${version//-/\~}/" -e "s/@INSTALLED_SIZE@/$installed_size/" "$image_dir/deb/control.in" >"$staging/DEBIAN/control"
(cd "$staging" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's| \./| |' >DEBIAN/md5sums)

# Same input, same bytes: fixed owner, modes from the tree, mtimes clamped to SOURCE_DATE_EPOCH.
find "$staging" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
mkdir -p "$deb_out"
deb=$deb_out/evertorrent_${version//-/\~}_arm64.deb
dpkg-deb --root-owner-group -Zxz --build "$staging" "$deb" >/dev/null
log "built $deb ($(du -h "$deb" | cut -f1))"
echo "$deb"
