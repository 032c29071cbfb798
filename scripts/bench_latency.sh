#!/usr/bin/env bash
# Latency benchmarks: builds the C baselines of bench/native/ (into a cache directory, never
# committed), runs them around bench/latency_bench.ts under Deno and under Bun, keeps the raw
# outputs in bench/out/ (not committed) and writes bench/LATENCY.md.
#
# Usage: bash scripts/bench_latency.sh   (about 4-5 minutes on a busy 2-core machine)
# DENO=/path/to/deno BUN=/path/to/bun CC=/path/to/cc override the tools.
# WAVELET_LATENCY_SCALE=0.1 scales every sample count (a quick smoke run).
#
# The C baselines run before Deno, between Deno and Bun, and after Bun; each runtime is compared
# with the two C batches around it (per baseline, the lower-p50 run of the two: the stricter
# one), so every ratio compares figures taken a minute or two apart, in one invocation.
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
CC=${CC:-cc}
SCALE=${WAVELET_LATENCY_SCALE:-1}
export NO_COLOR=1

OUT=bench/out
mkdir -p "$OUT"
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/wavelet/bench
mkdir -p "$CACHE"

# Machine and versions, before anything runs (the load average is the one at start).
{
  echo "cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
  echo "cores=$(nproc)"
  echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "kernel=$(uname -sr)"
  echo "cc=$("$CC" --version | head -1)"
  echo "deno=$("$DENO" --version | head -1)"
  echo "bun=bun $("$BUN" --version)"
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [[ -n "$(git status --porcelain -- src ffi mod.ts 2>/dev/null)" ]]; then
    echo "dirty=uncommitted changes in src/, ffi/ or mod.ts"
  fi
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "scale=$SCALE"
} > "$OUT/latency_env.txt"
lscpu > "$OUT/lscpu.txt" 2>/dev/null || true
cat "$OUT/latency_env.txt"

echo "== building the C baselines into $CACHE"
"$CC" -O2 -pthread -o "$CACHE/eventfd_baseline" bench/native/eventfd_baseline.c
"$CC" -O2 -pthread -o "$CACHE/timerfd_baseline" bench/native/timerfd_baseline.c

n() { awk -v s="$SCALE" -v x="$1" -v lo="$2" 'BEGIN { v = int(x * s + 0.5); print (v < lo ? lo : v) }'; }
N=$(n 20000 200); W=$(n 2000 50); T100=$(n 5000 200); T1M=$(n 1000 100)

c_baselines() {
  "$CACHE/eventfd_baseline" park "$N" "$W"
  "$CACHE/eventfd_baseline" spin "$N" "$W"
  "$CACHE/timerfd_baseline" 100000 "$T100" 200
  "$CACHE/timerfd_baseline" 1000000 "$T1M" 20
  "$CACHE/timerfd_baseline" 100000 "$T100" 200 pwait2
  "$CACHE/timerfd_baseline" 1000000 "$T1M" 20 pwait2
}

echo "== C baselines (1: before deno)"
c_baselines | tee "$OUT/latency_c_1.jsonl"
echo "== $DENO run -A bench/latency_bench.ts"
timeout 170 "$DENO" run -A bench/latency_bench.ts 2>&1 | tee "$OUT/latency_deno.txt" || true
echo "== C baselines (2: between deno and bun)"
c_baselines | tee "$OUT/latency_c_2.jsonl"
echo "== $BUN run bench/latency_bench.ts"
timeout 170 "$BUN" run bench/latency_bench.ts 2>&1 | tee "$OUT/latency_bun.txt" || true
echo "== C baselines (3: after bun)"
c_baselines | tee "$OUT/latency_c_3.jsonl"
# Each runtime is compared with the two C batches around it.
cat "$OUT/latency_c_1.jsonl" "$OUT/latency_c_2.jsonl" > "$OUT/latency_c_deno.jsonl"
cat "$OUT/latency_c_2.jsonl" "$OUT/latency_c_3.jsonl" > "$OUT/latency_c_bun.jsonl"

"$DENO" run -A bench/latency_bench.ts --report "$OUT" bench/LATENCY.md
echo "== wrote bench/LATENCY.md"
