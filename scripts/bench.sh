#!/usr/bin/env bash
# Runs every benchmark under Deno and Bun, keeps the raw outputs in bench/out/ (not committed),
# and writes the single report bench/RESULTS.md with its SVG charts in bench/charts/.
#
# Usage: bash scripts/bench.sh [PART...] [--report-only]   (npm run bench -- PART...)
#   PART: --propagation --reactivity --latency --net --replay --metrics --scale; none given = all of them
#   (about 9-11 minutes on a busy 2-core machine). A part that is not run keeps its previous
#   raw output in bench/out/, so the report always shows every section; --report-only runs
#   nothing and regenerates the report from bench/out/.
# DENO=/path/to/deno BUN=/path/to/bun override the binaries (default: node_modules/.bin, then PATH).
# WAVELET_BENCH_MAX_LOAD=3 (default): before the first part, wait up to 60 s for the 1-minute
# load average to drop below it; the load at the start of every part is recorded either way.
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
export DENO BUN

PARTS=()
REPORT_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --propagation | --reactivity | --latency | --net | --replay | --metrics | --scale) PARTS+=("${arg#--}") ;;
    --report-only) REPORT_ONLY=1 ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done
if [[ ${#PARTS[@]} -eq 0 && $REPORT_ONLY -eq 0 ]]; then
  PARTS=(propagation reactivity latency net replay metrics scale)
fi

OUT=bench/out
mkdir -p "$OUT" bench/charts
export NO_COLOR=1
unset WAVELET_BENCH_FILTER WAVELET_LATENCY_SCALE WAVELET_REPLAY_SCALE

load1() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "? ? ?"; }

# Machine and versions (rewritten on every run that runs something).
if [[ ${#PARTS[@]} -gt 0 ]]; then
  lscpu > "$OUT/lscpu.txt" 2>/dev/null || true
  {
    echo "kernel=$(uname -sr)"
    echo "cores=$(nproc)"
    echo "deno=$("$DENO" --version | tr '\n' ' ' | sed 's/ *$//')"
    echo "bun=bun $("$BUN" --version)"
    echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    if [[ -n "$(git status --porcelain -- src ffi mod.ts 2>/dev/null)" ]]; then
      echo "dirty=uncommitted changes in src/, ffi/ or mod.ts"
    fi
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } > "$OUT/env.txt"
  max=${WAVELET_BENCH_MAX_LOAD:-3}
  for _ in $(seq 12); do
    awk -v l="$(load1)" -v m="$max" 'BEGIN { exit !(l >= m) }' || break
    echo "== load average $(loadavg) >= $max: waiting 5 s"
    sleep 5
  done
fi

# Every part appends "part runtime load1 load5 load15 seconds" lines; a rerun of a part
# replaces its own lines.
touch "$OUT/load.txt"
if [[ $# -eq 0 ]]; then : > "$OUT/load.txt"; fi
record() { # part runtime load-at-start start-seconds
  local part=$1 rt=$2 load=$3 t0=$4
  grep -v "^$part $rt " "$OUT/load.txt" > "$OUT/load.tmp" || true
  echo "$part $rt $load $((SECONDS - t0))" >> "$OUT/load.tmp"
  mv "$OUT/load.tmp" "$OUT/load.txt"
}
# Runs one command for a part and runtime, tees its output into bench/out/PART_RT.txt.
step() { # part runtime command...
  local part=$1 rt=$2 load t0
  shift 2
  load=$(loadavg)
  t0=$SECONDS
  echo "== $part ($rt, load $load): $*"
  "$@" 2>&1 | tee "$OUT/${part}_$rt.txt" || echo "== $part ($rt) failed; the report says so"
  record "$part" "$rt" "$load" "$t0"
}

for part in "${PARTS[@]}"; do
  case "$part" in
    propagation)
      step propagation deno "$DENO" run -A --v8-flags=--expose-gc bench/propagation_bench.ts
      step propagation bun "$BUN" run bench/propagation_bench.ts
      ;;
    reactivity)
      step reactivity deno "$DENO" run -A bench/reactivity_bench.ts
      step reactivity bun "$BUN" run bench/reactivity_bench.ts
      ;;
    latency)
      # One script runs both runtimes between C baselines; it writes bench/LATENCY.md too.
      load=$(loadavg)
      t0=$SECONDS
      echo "== latency (deno and bun, load $load): bash scripts/bench_latency.sh"
      bash scripts/bench_latency.sh
      record latency both "$load" "$t0"
      ;;
    net)
      step net deno "$DENO" run -A bench/net_bench.ts
      step net bun "$BUN" run bench/net_bench.ts
      # The detail file: both runtimes' sections as net_bench.ts printed them.
      {
        echo "# Network: loopback TCP (bench/net_bench.ts)"
        echo
        echo "Written by \`bash scripts/bench.sh --net\` from \`bench/out/net-*.md\`; the same figures, with"
        echo "the budget verdicts, are in bench/RESULTS.md. Reproduce: \`deno run -A bench/net_bench.ts\` and"
        echo "\`bun run bench/net_bench.ts\`."
        echo
        cat "$OUT/net-deno.md" "$OUT/net-bun.md" 2>/dev/null || true
      } > bench/NET.md
      ;;
    replay)
      step replay deno "$DENO" run -A bench/replay_bench.ts
      step replay bun "$BUN" run bench/replay_bench.ts
      ;;
    metrics)
      step metrics deno "$DENO" run -A --v8-flags=--expose-gc bench/metrics_bench.ts
      step metrics bun "$BUN" run bench/metrics_bench.ts
      step scrape deno "$DENO" run -A bench/scrape_bench.ts
      step scrape bun "$BUN" run bench/scrape_bench.ts
      # The detail file the report includes: the markdown each run printed.
      {
        echo "# Metrics: hot-path and scrape cost"
        echo
        echo "Written by \`bash scripts/bench.sh --metrics\` (machine: see bench/RESULTS.md)."
        echo
        echo "### Hot path (bench/metrics_bench.ts)"
        echo
        for f in metrics_deno metrics_bun; do
          sed -n '/^METRICS_MD_BEGIN$/,/^METRICS_MD_END$/p' "$OUT/$f.txt" | sed '1d;$d'
        done
        echo "### Scraping the demo 100 times a second (bench/scrape_bench.ts)"
        echo
        for f in scrape_deno scrape_bun; do
          sed -n '/^SCRAPE_MD_BEGIN$/,/^SCRAPE_MD_END$/p' "$OUT/$f.txt" | sed '1d;$d'
        done
      } > bench/METRICS.md
      ;;
    scale)
      # Shards and JetStream (needs nats-server); bench/SCALE.md is written from the outputs.
      for rt in deno bun; do
        if [[ $rt == deno ]]; then cmd=("$DENO" run -A); else cmd=("$BUN" run); fi
        { echo "load $(loadavg)"; "${cmd[@]}" bench/shard_bench.ts 2>&1; } > "$OUT/scale_shard_$rt.txt" || true
        { echo "load $(loadavg)"; "${cmd[@]}" bench/jetstream_bench.ts 2>&1; } > "$OUT/scale_js_$rt.txt" || true
      done
      "$DENO" run --allow-read --allow-write scripts/bench_scale_report.ts "$OUT" bench/SCALE.md
      ;;
  esac
done

"$DENO" run --allow-read --allow-write --allow-run scripts/bench_report.ts \
  "$OUT" bench/RESULTS.md bench/charts
"$DENO" fmt -q bench/charts/ # deno fmt also checks SVG: keep the committed charts formatted
echo "== wrote bench/RESULTS.md and bench/charts/*.svg"
