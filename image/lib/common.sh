# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this
# Shared by the image scripts: paths, messages and checks. Sourced, not run.

image_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo_dir=$(cd "$image_dir/.." && pwd)
# Build outputs (rootfs, .deb, .img): git-ignored /image-build/ unless set.
out_dir=${EVERTORRENT_IMAGE_OUT:-$repo_dir/image-build}
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$repo_dir/package.json")
image_name=evertorrent-$version-arm64

log() { printf '%s %s: %s\n' "$(date -u +%H:%M:%S)" "${0##*/}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# need COMMAND DEBIAN-PACKAGE...: fail early, saying what to install.
need() {
  local command=$1
  shift
  command -v "$command" >/dev/null || PATH=$PATH:/usr/sbin:/sbin command -v "$command" >/dev/null ||
    die "$command is missing: apt-get install $*"
}

need_root() {
  [ "$(id -u)" -eq 0 ] || die "run as root (mmdebstrap, chroot and binfmt_misc need it): sudo npm run ${1:-image}"
}

[ -n "$version" ] || die "cannot read the version from $repo_dir/package.json"
