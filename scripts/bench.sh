#!/usr/bin/env bash
# Runs the propagation benchmark under Deno and Bun, keeps the raw outputs in bench/out/
# (not committed), and writes bench/RESULTS.md from their JSON blocks.
#
# Usage: bash scripts/bench.sh   (about 1.5 minutes on a 2-core machine)
# DENO=/path/to/deno BUN=/path/to/bun override the binaries (default: node_modules/.bin, then PATH).
set -euo pipefail
cd "$(dirname "$0")/.."

pick() {
  local override=$1 name=$2
  if [[ -n "$override" ]]; then echo "$override"
  elif [[ -x "node_modules/.bin/$name" ]]; then echo "node_modules/.bin/$name"
  else command -v "$name"
  fi
}
DENO=$(pick "${DENO:-}" deno)
BUN=$(pick "${BUN:-}" bun)

mkdir -p bench/out
export NO_COLOR=1
unset WAVELET_BENCH_FILTER

lscpu > bench/out/lscpu.txt 2>/dev/null || true
: > bench/out/load.txt

echo "deno $(cat /proc/loadavg 2>/dev/null)" >> bench/out/load.txt
echo "== deno: $DENO run -A --v8-flags=--expose-gc bench/propagation_bench.ts"
"$DENO" run -A --v8-flags=--expose-gc bench/propagation_bench.ts 2>&1 | tee bench/out/deno.txt

echo "bun $(cat /proc/loadavg 2>/dev/null)" >> bench/out/load.txt
echo "== bun: $BUN run bench/propagation_bench.ts"
"$BUN" run bench/propagation_bench.ts 2>&1 | tee bench/out/bun.txt

"$DENO" run --allow-read --allow-write --allow-run scripts/bench_report.ts \
  bench/out/deno.txt bench/out/bun.txt bench/out/lscpu.txt bench/RESULTS.md bench/out/load.txt
"$DENO" fmt -q bench/RESULTS.md
echo "== wrote bench/RESULTS.md"
