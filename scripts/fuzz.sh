#!/usr/bin/env bash
# Runs every Go fuzz target in the root module for a fixed time each.
# Usage: scripts/fuzz.sh DURATION
set -euo pipefail
fuzztime=${1:?usage: fuzz.sh DURATION}
cd "$(dirname "$0")/.."
total=0
for pkg in $(GOWORK=off go list ./...); do
  for target in $(GOWORK=off go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "fuzz $pkg $target ($fuzztime)"
    GOWORK=off go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tail -n 3
    total=$((total + 1))
  done
done
echo "fuzz: ran $total targets for $fuzztime each"
if [ "$total" -eq 0 ]; then echo "fuzz: no targets found" >&2; exit 1; fi
