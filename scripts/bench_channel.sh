#!/usr/bin/env bash
# Channel benchmarks: runs bench/channel_bench.ts under Deno and under Bun, keeps the raw
# outputs in bench/out/ (not committed) and writes bench/CHANNEL.md.
#
# Usage: BASE=<commit> bash scripts/bench_channel.sh   (about 5 minutes on a busy 2-core machine)
# BASE (optional) names a commit to compare with: it is exported (git archive) to a temporary
# folder, and the benchmark runs its ring channel beside this one's, in the same invocation. DENO=/path/to/deno BUN=/path/to/bun override the tools.
# WAVELET_CHANNEL_RECORDS (default 1000000 per throughput run), WAVELET_CHANNEL_REPS (3),
# WAVELET_CHANNEL_SAMPLES (20000 latency samples), WAVELET_CHANNEL_CPU_ROUNDS (20) scale the
# runs.
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
export NO_COLOR=1

OUT=bench/out
mkdir -p "$OUT"
if [[ -n "${BASE:-}" ]]; then
  # Outside the tree, so that lint and fmt never walk it.
  BASE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/wavelet_channel_base.XXXXXX")
  trap 'rm -rf "$BASE_DIR"' EXIT
  git archive "$BASE" | tar -x -C "$BASE_DIR"
  export WAVELET_BASE="$BASE_DIR"
fi

# Machine and versions, before anything runs (the load average is the one at start).
{
  echo "cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
  echo "cores=$(nproc)"
  echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "kernel=$(uname -sr)"
  echo "deno=$("$DENO" --version | head -1)"
  echo "bun=bun $("$BUN" --version)"
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [[ -n "${BASE:-}" ]]; then echo "base=$(git rev-parse --short "$BASE")"; fi
  if [[ -n "$(git status --porcelain -- src ffi mod.ts 2>/dev/null)" ]]; then
    echo "dirty=uncommitted changes in src/, ffi/ or mod.ts"
  fi
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} > "$OUT/channel_env.txt"
cat "$OUT/channel_env.txt"

echo "== $DENO run -A bench/channel_bench.ts"
timeout 900 "$DENO" run -A bench/channel_bench.ts 2>&1 | tee "$OUT/channel_deno.txt" || true
echo "== $BUN run bench/channel_bench.ts"
timeout 900 "$BUN" run bench/channel_bench.ts 2>&1 | tee "$OUT/channel_bun.txt" || true

echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/channel_env.txt"
"$DENO" run -A bench/channel_bench.ts --report "$OUT" bench/CHANNEL.md
echo "== wrote bench/CHANNEL.md"
