#!/usr/bin/env bash
# Builds the native library into the cache directory that ffi/load.ts looks in, and prints its
# path. ffi/load.ts does the same on first use, so running this is optional (CI runs it to fail
# early on a compiler error). Usage: scripts/build_native.sh [output-path]
set -euo pipefail
cd "$(dirname "$0")/.."
src=ffi/native/wavelet.c
if [[ $# -ge 1 ]]; then
  out=$1
else
  # The cache key must match ffi/load.ts: ask it, so there is one definition of the key.
  out=$(node_modules/.bin/deno run --quiet --allow-read --allow-env ffi/load.ts --print-cache-path)
fi
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
cc -O2 -fPIC -shared -fvisibility=hidden -std=gnu11 -Wall -Wextra -o "$tmp" "$src"
mv -f "$tmp" "$out"
echo "$out"
