#!/usr/bin/env bash
# Fetches Debian's libfaketime once per pinned version into the user cache,
# without installing it system-wide, and prints the path of libfaketime.so.1.
# The RedDB tests preload it into `red` to run that RedDB on a skewed clock:
#   LD_PRELOAD=<path> FAKETIME=+30s FAKETIME_DONT_FAKE_MONOTONIC=1 red ...
# (the `faketime` wrapper also fakes the monotonic clock, which hangs `red`).
# apt-get checks the package against the signed archive index.
set -euo pipefail

FAKETIME_DEB_VERSION=${FAKETIME_DEB_VERSION:-0.9.10-2.1}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/redlease
root=$cache/libfaketime-$FAKETIME_DEB_VERSION
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo "$(uname -m)-linux-gnu")
lib=$root/usr/lib/$multiarch/faketime/libfaketime.so.1

if [[ -f $lib ]]; then
  echo "$lib"
  exit 0
fi

tmp=$(mktemp -d "$cache/libfaketime.XXXXXX" 2>/dev/null || { mkdir -p "$cache" && mktemp -d "$cache/libfaketime.XXXXXX"; })
trap 'rm -rf "$tmp"' EXIT

download() { (cd "$tmp" && apt-get download -q "libfaketime:$arch=$FAKETIME_DEB_VERSION") >&2; }
if ! download; then
  # A fresh machine may have no package lists yet.
  echo "apt-get download failed; refreshing the package lists once" >&2
  apt-get update -q >&2
  download
fi

deb=$(ls "$tmp"/libfaketime_*.deb)
mkdir "$tmp/root"
dpkg-deb -x "$deb" "$tmp/root"
[[ -f $tmp/root/usr/lib/$multiarch/faketime/libfaketime.so.1 ]] || {
  echo "libfaketime.so.1 not found in $deb" >&2
  exit 1
}
# Publish atomically: a concurrent run either sees nothing or the whole tree.
rm -rf "$root"
mv "$tmp/root" "$root"
echo "$lib"
