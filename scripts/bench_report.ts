/**
 * Writes `bench/RESULTS.md`, the single benchmark report, and its SVG charts, from the raw
 * outputs that `scripts/bench.sh` keeps in `bench/out/`: the JSON blocks of
 * `bench/propagation_bench.ts`, `bench/reactivity_bench.ts`, `bench/latency_bench.ts` (with the C
 * baselines of `scripts/bench_latency.sh`), `bench/net_bench.ts` and `bench/replay_bench.ts`
 * under Deno and Bun, the machine description and the load average at the start of each part.
 * Every line of the performance budget (the `BUDGET` thresholds below) gets a PASS or MISS. A part whose output is missing
 * is reported as not run.
 *
 * Usage (normally through `bash scripts/bench.sh`):
 * `deno run --allow-read --allow-write --allow-run scripts/bench_report.ts bench/out bench/RESULTS.md bench/charts`
 *
 * @module
 */

import { barChart, type Row } from "./bench_charts.ts";

/** One budget line: which section, which runtime, what was measured, and the verdict. */
interface BudgetRow {
  section: string;
  runtime: string;
  what: string;
  measured: string;
  /** null: not judged (not measured). */
  ok: boolean | null;
}

const budget: BudgetRow[] = [];

interface Cell {
  p50: number;
  avg: number;
  p99: number;
  heapAvg: number | null;
}

type Contender = "wavelet" | "alien" | "preact" | "hand";

interface ShapeResult {
  key: string;
  label: string;
  nodes: number;
  runsPerIteration: number;
  results: Partial<Record<Contender, Cell>>;
}

interface AllocResult {
  shape: string;
  contender: Contender;
  iterations: number;
  bytesPerIter: number;
  bytesPerIterMax: number;
  retainedPerIter: number;
}

interface BuildResult {
  shape: string;
  nodes: number;
  ms: number;
  totalBytesPerNode: number;
  jsHeapBytesPerNode: number;
  typedBytesPerNode: number;
  externalBytesPerNode: number;
  typedBytes: Record<string, number>;
}

interface BenchJson {
  runtime: string;
  version: string;
  engine: string;
  gcExposed: boolean;
  cpu: string | null;
  shapes: ShapeResult[];
  emptyCycle: Cell | null;
  allocation: AllocResult[];
  build: BuildResult[];
}

/** The performance budget lines this benchmark covers. */
const BUDGET = {
  /** wavelet/alien and wavelet/preact at most this on graphs of 100+ nodes (2x faster). */
  bigGraphRatio: 0.5,
  /** Graphs with at least this many nodes count as big. */
  bigGraphNodes: 100,
  /** wavelet/alien and wavelet/preact at most this on the diamond (never slower). */
  diamondRatio: 1,
  /** wavelet/hand at most this on the chain. */
  chainHandRatio: 2.5,
  /** Bytes per steady-state cycle, below which a measurement counts as zero (meter noise). */
  zeroBytes: 1,
  /** Empty cycle p50, ns. */
  emptyCycleNs: 50,
  /** 1M node build, ms. */
  buildMs: 1000,
  /** Runtime metadata per node, bytes. */
  bytesPerNode: 150,
};

const CONTENDER_LABEL: Record<Contender, string> = {
  wavelet: "wavelet",
  alien: "alien-signals",
  preact: "@preact/signals-core",
  hand: "hand loop",
};

/** The last JSON block between `TAG_BEGIN` and `TAG_END` in a raw output, or null. */
function block<T>(path: string, tag: string): T | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return null;
  }
  const begin = text.lastIndexOf(`${tag}_BEGIN`);
  const end = text.lastIndexOf(`${tag}_END`);
  if (begin < 0 || end < begin) return null;
  return JSON.parse(text.slice(begin + tag.length + "_BEGIN".length, end)) as T;
}

function ns(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "n/a";
  if (v < 1) return `${v.toFixed(2)} ns`;
  if (v < 100) return `${v.toFixed(1)} ns`;
  if (v < 1000) return `${v.toFixed(0)} ns`;
  if (v < 1e6) return `${(v / 1e3).toFixed(2)} µs`;
  return `${(v / 1e6).toFixed(2)} ms`;
}

function ratio(a: number | undefined, b: number | undefined): number {
  return a === undefined || b === undefined ? NaN : a / b;
}

function fmtRatio(r: number, digits = 2): string {
  return Number.isFinite(r) ? `${r.toFixed(digits)}x` : "n/a";
}

/** Fixed-point bytes; measurement noise below zero prints as 0.00. */
function bytes(v: number): string {
  return Math.max(0, v).toFixed(2);
}

function verdict(ok: boolean | null): string {
  return ok === null ? "n/a" : ok ? "PASS" : "**MISS**";
}

function lscpuField(text: string, field: string): string | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${field}:`));
  return line?.slice(field.length + 1).trim();
}

function git(args: string[]): string {
  try {
    const out = new Deno.Command("git", { args, stdout: "piped", stderr: "null" }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : "";
  } catch {
    return "";
  }
}

function runtimeTables(r: BenchJson, lines: string[]): void {
  lines.push(`### ${r.runtime} ${r.version} (${r.engine})`, "");
  lines.push(
    "| shape | nodes | node runs / iter | wavelet | alien-signals | @preact/signals-core | hand loop | wavelet/alien | wavelet/preact | wavelet/hand |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const s of r.shapes) {
    const c = s.results;
    lines.push(
      `| ${s.label} | ${s.nodes} | ${s.runsPerIteration} | ${ns(c.wavelet?.p50)} | ${
        ns(c.alien?.p50)
      } | ${ns(c.preact?.p50)} | ${ns(c.hand?.p50)} | ${
        fmtRatio(ratio(c.wavelet?.p50, c.alien?.p50))
      } | ${fmtRatio(ratio(c.wavelet?.p50, c.preact?.p50))} | ${
        fmtRatio(ratio(c.wavelet?.p50, c.hand?.p50))
      } |`,
    );
  }
  lines.push("");
  if (r.emptyCycle !== null) {
    lines.push(
      `Empty cycle (no stimuli): p50 ${ns(r.emptyCycle.p50)} (avg ${ns(r.emptyCycle.avg)}, p99 ${
        ns(r.emptyCycle.p99)
      }).`,
      "",
    );
  }
}

/** The propagation budget lines of one runtime. */
function propagationBudget(r: BenchJson): void {
  const row = (what: string, measured: string, ok: boolean) =>
    budget.push({ section: "propagation", runtime: r.runtime, what, measured, ok });
  for (const s of r.shapes) {
    const c = s.results;
    const w = c.wavelet?.p50;
    if (s.nodes >= BUDGET.bigGraphNodes) {
      for (const other of ["alien", "preact"] as const) {
        const q = ratio(w, c[other]?.p50);
        row(
          `${s.label}: at least 2x faster than ${
            CONTENDER_LABEL[other]
          } (wavelet/${other} <= ${BUDGET.bigGraphRatio})`,
          `${ns(w)} vs ${ns(c[other]?.p50)} = ${fmtRatio(q, 3)}`,
          q <= BUDGET.bigGraphRatio,
        );
      }
    } else {
      for (const other of ["alien", "preact"] as const) {
        const q = ratio(w, c[other]?.p50);
        row(
          `${s.label}: never slower than ${
            CONTENDER_LABEL[other]
          } (wavelet/${other} <= ${BUDGET.diamondRatio})`,
          `${ns(w)} vs ${ns(c[other]?.p50)} = ${fmtRatio(q, 3)}`,
          q <= BUDGET.diamondRatio,
        );
      }
    }
    if (s.key === "chain") {
      const q = ratio(w, c.hand?.p50);
      row(
        `${s.label}: within ${BUDGET.chainHandRatio}x of the hand loop`,
        `${ns(w)} vs ${ns(c.hand?.p50)} = ${fmtRatio(q, 3)}`,
        q <= BUDGET.chainHandRatio,
      );
    }
  }
  const wAlloc = r.allocation.filter((a) => a.contender === "wavelet");
  if (wAlloc.length > 0) {
    const worst = Math.max(...wAlloc.map((a) => a.bytesPerIter));
    const worstRetained = Math.max(...wAlloc.map((a) => a.retainedPerIter));
    row(
      `zero bytes per steady-state cycle, every shape and the empty cycle (< ${BUDGET.zeroBytes} B measured)`,
      `worst shape: ${bytes(worst)} B/cycle allocated, ${bytes(worstRetained)} B/cycle retained`,
      worst < BUDGET.zeroBytes && worstRetained < BUDGET.zeroBytes,
    );
  } else {
    budget.push({
      section: "propagation",
      runtime: r.runtime,
      what: "zero bytes per steady-state cycle",
      measured: "not measured (no gc exposed)",
      ok: null,
    });
  }
  if (r.emptyCycle !== null) {
    row(
      `empty cycle under ${BUDGET.emptyCycleNs} ns`,
      `p50 ${ns(r.emptyCycle.p50)}`,
      r.emptyCycle.p50 < BUDGET.emptyCycleNs,
    );
  }
  for (const b of r.build) {
    row(
      `1M-node ${b.shape} build under ${BUDGET.buildMs} ms`,
      `${b.ms.toFixed(0)} ms`,
      b.ms < BUDGET.buildMs,
    );
    row(
      `1M-node ${b.shape}: executor metadata (typed arrays) under ${BUDGET.bytesPerNode} B/node`,
      `${b.typedBytesPerNode.toFixed(1)} B/node`,
      b.typedBytesPerNode < BUDGET.bytesPerNode,
    );
    row(
      `1M-node ${b.shape}: all runtime memory (typed arrays + JS heap: handles, per-slot arrays) under ${BUDGET.bytesPerNode} B/node`,
      `${b.totalBytesPerNode.toFixed(1)} B/node`,
      b.totalBytesPerNode < BUDGET.bytesPerNode,
    );
  }
}

function allocTable(runs: BenchJson[], lines: string[]): void {
  const withAlloc = runs.filter((r) => r.allocation.length > 0);
  if (withAlloc.length === 0) return;
  lines.push(
    "### Allocation per steady-state iteration",
    "",
    "Bytes allocated per iteration: median of 7 windows, each started right after a full gc and " +
      "short enough that no collection runs inside it (meter: V8 used heap on Deno, the " +
      "allocator's committed bytes on Bun, which moves in 64 KiB steps, so a lone step shows up " +
      "as a few bytes per iteration in the max column). Retained: heap growth across 5x as many " +
      "iterations with a full gc before and after.",
    "",
  );
  const header = ["shape", "contender"];
  const sep = ["---", "---"];
  for (const r of withAlloc) {
    header.push(`${r.runtime} B/iter (max window)`, `${r.runtime} retained B/iter`);
    sep.push("--:", "--:");
  }
  lines.push(`| ${header.join(" | ")} |`, `|${sep.join("|")}|`);
  for (const a of withAlloc[0].allocation) {
    const cells = [a.shape, CONTENDER_LABEL[a.contender]];
    for (const r of withAlloc) {
      const m = r.allocation.find((x) => x.shape === a.shape && x.contender === a.contender);
      cells.push(
        m ? `${bytes(m.bytesPerIter)} (${bytes(m.bytesPerIterMax)})` : "n/a",
        m ? bytes(m.retainedPerIter) : "n/a",
      );
    }
    lines.push(`| ${cells.join(" | ")} |`);
  }
  lines.push("");
}

function buildTable(runs: BenchJson[], lines: string[]): void {
  lines.push(
    "### 1 million nodes",
    "",
    "Build time with `NodeBuilder` (default initial capacity, so the node table grows by " +
      "doubling; one shared cycle function so the memory is the runtime's own). Memory: full gc " +
      "before and after; JS heap is the engine's used heap without ArrayBuffer backing stores " +
      "(handles, per-slot arrays), typed arrays are the executor's node table, edge pool and " +
      "scheduler queues (`byteLength` growth).",
    "",
    "| runtime | shape | build | total B/node | JS heap B/node | typed arrays B/node | external growth B/node | typed arrays (bytes) |",
    "|---|---|--:|--:|--:|--:|--:|---|",
  );
  for (const r of runs) {
    for (const b of r.build) {
      lines.push(
        `| ${r.runtime} | ${b.shape} | ${b.ms.toFixed(0)} ms | ${
          b.totalBytesPerNode.toFixed(1)
        } | ${b.jsHeapBytesPerNode.toFixed(1)} | ${b.typedBytesPerNode.toFixed(1)} | ${
          b.externalBytesPerNode.toFixed(1)
        } | ${Object.entries(b.typedBytes).map(([k, v]) => `${k} ${v}`).join(", ")} |`,
      );
    }
  }
  lines.push("");
}

// ------------------------------------------------------------------ reactivity (kairo shapes)

type Peer = "wavelet" | "alien" | "preact";

interface ReactivityJson {
  runtime: string;
  version: string;
  engine: string;
  shapes: {
    key: string;
    label: string;
    nodes: number;
    updatesPerRun: number;
    results: Partial<Record<Peer, { p50: number; avg: number; p99: number }>>;
  }[];
}

function reactivityTables(r: ReactivityJson, lines: string[]): void {
  lines.push(
    `### ${r.runtime} ${r.version} (${r.engine})`,
    "",
    "| shape | wavelet nodes | updates / run | wavelet | alien-signals | @preact/signals-core | wavelet per update | wavelet/alien | wavelet/preact |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const s of r.shapes) {
    const c = s.results;
    lines.push(
      `| ${s.label} | ${s.nodes} | ${s.updatesPerRun} | ${ns(c.wavelet?.p50)} | ${
        ns(c.alien?.p50)
      } | ${ns(c.preact?.p50)} | ${ns((c.wavelet?.p50 ?? NaN) / s.updatesPerRun)} | ${
        fmtRatio(ratio(c.wavelet?.p50, c.alien?.p50))
      } | ${fmtRatio(ratio(c.wavelet?.p50, c.preact?.p50))} |`,
    );
  }
  lines.push("");
}

function reactivityBudget(r: ReactivityJson): void {
  for (const s of r.shapes) {
    const w = s.results.wavelet?.p50;
    const big = s.nodes >= BUDGET.bigGraphNodes;
    for (const other of ["alien", "preact"] as const) {
      const q = ratio(w, s.results[other]?.p50);
      const limit = big ? BUDGET.bigGraphRatio : BUDGET.diamondRatio;
      budget.push({
        section: "reactivity",
        runtime: r.runtime,
        what: `kairo ${s.label} (${s.nodes} nodes): ${
          big ? "at least 2x faster than" : "never slower than"
        } ${CONTENDER_LABEL[other]} (wavelet/${other} <= ${limit})`,
        measured: `${ns(w)} vs ${ns(s.results[other]?.p50)} = ${fmtRatio(q, 3)}`,
        ok: Number.isFinite(q) ? q <= limit : null,
      });
    }
  }
}

// ------------------------------------------------------------------ latency

interface Dist {
  n: number;
  p50_ns: number;
  p99_ns: number;
  p999_ns: number;
}

interface LatencyJson {
  runtime: string;
  version: string;
  samples: { notify: number; warmup: number; timer_100us: number; timer_1ms: number };
  notify: Record<string, Dist>;
  timers: Record<"100us" | "1ms", Record<string, Dist>>;
  spin_cycle_ns: { empty: number; self_yield: number };
}

/** The C baselines around one runtime: per name, the lower-p50 run (the stricter baseline). */
function cBaselines(path: string): Record<string, Dist> {
  const out: Record<string, Dist> = {};
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    if (!line.trim().startsWith("{")) continue;
    const o = JSON.parse(line);
    if (out[o.name] === undefined || o.p50_ns < out[o.name].p50_ns) out[o.name] = o;
  }
  return out;
}

function us(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "n/a";
  const u = v / 1e3;
  return u < 10 ? u.toFixed(2) : u < 100 ? u.toFixed(1) : u.toFixed(0);
}

const NOTIFY_ROWS: [string, string, string][] = [
  // [label, key in notify or C name, C baseline to compare with]
  ["wavelet notify, Park (epoll)", "wavelet_park", "c_eventfd_park"],
  ["wavelet notify, Park + spinBeforeParkNs 200 us", "wavelet_park_spin200", "c_eventfd_park"],
  ["wavelet notify, Spin", "wavelet_spin", "c_eventfd_spin"],
  ["raw FFI epollWait (no runtime)", "raw_ffi_epoll_js", "c_eventfd_park"],
  ["Atomics.wait on the main thread", "atomics_wait", "c_eventfd_park"],
  ["postMessage -> onmessage", "post_message", "c_eventfd_park"],
  ["C eventfd + epoll_wait (baseline)", "c:c_eventfd_park", "c_eventfd_park"],
  ["C eventfd, spinning read (baseline)", "c:c_eventfd_spin", "c_eventfd_spin"],
];

function notifyDist(r: LatencyJson, c: Record<string, Dist>, key: string): Dist | undefined {
  return key.startsWith("c:") ? c[key.slice(2)] : r.notify[key];
}

const TIMER_ROWS: Record<"100us" | "1ms", [string, string][]> = {
  "100us": [
    ["wavelet Park timer", "wavelet_park"],
    ["setTimeout(fn, 0.1)", "set_timeout"],
    ["C timerfd + epoll_wait (baseline)", "c:c_timerfd_100us"],
    ["C epoll_pwait2 timeout", "c:c_pwait2_100us"],
  ],
  "1ms": [
    ["wavelet Park timer", "wavelet_park"],
    ["setTimeout(fn, 1)", "set_timeout"],
    ["C timerfd + epoll_wait (baseline)", "c:c_timerfd_1000us"],
    ["C epoll_pwait2 timeout", "c:c_pwait2_1000us"],
  ],
};

function timerDist(
  r: LatencyJson,
  c: Record<string, Dist>,
  period: "100us" | "1ms",
  key: string,
): Dist | undefined {
  return key.startsWith("c:") ? c[key.slice(2)] : r.timers[period][key];
}

function latencyTables(r: LatencyJson, c: Record<string, Dist>, lines: string[]): void {
  const post = r.notify.post_message;
  lines.push(
    `### ${r.version}`,
    "",
    `Samples: notify ${r.samples.notify} per contender after ${r.samples.warmup} warm-up; ` +
      `timers ${r.samples.timer_100us} x 100 us and ${r.samples.timer_1ms} x 1 ms. Times in ` +
      "microseconds. Spin cycle cost: empty " +
      `${r.spin_cycle_ns.empty} ns, one self-yielding node ${r.spin_cycle_ns.self_yield} ns.`,
    "",
    "Worker notify -> node run (the producer stamps CLOCK_MONOTONIC, the consumer reads it " +
      "first thing):",
    "",
    "| contender | p50 | p99 | p99.9 | p50 vs C | p99 vs C | postMessage / x (p50) | postMessage / x (p99) |",
    "|---|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const [label, key, base] of NOTIFY_ROWS) {
    const d = notifyDist(r, c, key), b = c[base];
    if (d === undefined) continue;
    lines.push(
      `| ${label} | ${us(d.p50_ns)} | ${us(d.p99_ns)} | ${us(d.p999_ns)} | ${
        fmtRatio(ratio(d.p50_ns, b?.p50_ns))
      } | ${fmtRatio(ratio(d.p99_ns, b?.p99_ns))} | ${fmtRatio(ratio(post.p50_ns, d.p50_ns))} | ${
        fmtRatio(ratio(post.p99_ns, d.p99_ns))
      } |`,
    );
  }
  lines.push(
    "",
    "Park-mode timer lateness (run time minus deadline):",
    "",
    "| period | contender | p50 | p99 | p99.9 | p50 vs C timerfd | p99 vs C timerfd | setTimeout / x (p50) | setTimeout / x (p99) |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const period of ["100us", "1ms"] as const) {
    const st = r.timers[period].set_timeout;
    const base = c[period === "100us" ? "c_timerfd_100us" : "c_timerfd_1000us"];
    for (const [label, key] of TIMER_ROWS[period]) {
      const d = timerDist(r, c, period, key);
      if (d === undefined) continue;
      lines.push(
        `| ${period.replace("us", " us").replace("ms", " ms")} | ${label} | ${us(d.p50_ns)} | ${
          us(d.p99_ns)
        } | ${us(d.p999_ns)} | ${fmtRatio(ratio(d.p50_ns, base?.p50_ns))} | ${
          fmtRatio(ratio(d.p99_ns, base?.p99_ns))
        } | ${fmtRatio(ratio(st.p50_ns, d.p50_ns))} | ${fmtRatio(ratio(st.p99_ns, d.p99_ns))} |`,
      );
    }
  }
  lines.push("");
}

function latencyBudget(r: LatencyJson, c: Record<string, Dist>): void {
  const push = (what: string, measured: string, ok: boolean | null) =>
    budget.push({ section: "latency", runtime: r.runtime, what, measured, ok });
  const within = (name: string, d: Dist, base: Dist | undefined, limit: number, what: string) => {
    for (const p of ["p50_ns", "p99_ns"] as const) {
      if (base === undefined) {
        push(`${name} ${p.slice(0, 3)} within ${limit}x of ${what}`, "no C baseline", null);
        continue;
      }
      const q = d[p] / base[p];
      push(
        `${name} ${p.slice(0, 3)} within ${limit}x of ${what}`,
        `${us(d[p])} us vs ${us(base[p])} us = ${q.toFixed(2)}x`,
        q <= limit,
      );
    }
  };
  const better = (name: string, d: Dist, peer: Dist, factor: number, what: string) => {
    for (const p of ["p50_ns", "p99_ns"] as const) {
      const q = peer[p] / d[p];
      push(
        `${name} ${p.slice(0, 3)} at least ${factor}x better than ${what}`,
        `${us(d[p])} us vs ${us(peer[p])} us = ${q.toFixed(2)}x better`,
        q >= factor,
      );
    }
  };
  const nt = r.notify;
  within("notify Park", nt.wavelet_park, c.c_eventfd_park, 1.2, "C eventfd (epoll)");
  if (nt.wavelet_park_spin200) {
    within(
      "notify Park + spin 200 us",
      nt.wavelet_park_spin200,
      c.c_eventfd_park,
      1.2,
      "C eventfd (epoll)",
    );
    better("notify Park + spin 200 us", nt.wavelet_park_spin200, nt.post_message, 2, "postMessage");
  }
  within("notify Spin", nt.wavelet_spin, c.c_eventfd_spin, 1.2, "C eventfd (spin)");
  better("notify Park", nt.wavelet_park, nt.post_message, 2, "postMessage");
  better("notify Spin", nt.wavelet_spin, nt.post_message, 2, "postMessage");
  for (const [key, cKey] of [["100us", "c_timerfd_100us"], ["1ms", "c_timerfd_1000us"]] as const) {
    const t = r.timers[key];
    const label = `timer ${key.replace("us", " us").replace("ms", " ms")}`;
    within(label, t.wavelet_park, c[cKey], 1.2, "C timerfd");
    better(label, t.wavelet_park, t.set_timeout, 10, "setTimeout");
  }
}

// ------------------------------------------------------------------ network

interface NetJson {
  runtime: string;
  version: string;
  machine: string;
  rounds: number;
  warmup: number;
  messageBytes: number;
  streams: number;
  host: string;
  rows: { name: string; rps: number; p50: number; p99: number; mbps: number }[];
  ratioWall: number;
  ratioMedian: number;
}

function netTables(r: NetJson, lines: string[]): void {
  lines.push(
    `### ${r.version}`,
    "",
    `${r.rounds} round trips of ${r.messageBytes} bytes after ${r.warmup} warm-up; ` +
      `${r.streams} streams of 1 MB. Machine: ${r.machine}.`,
    "",
    "| sockets | round trips/s (wall) | round trips/s (1/p50) | p50 RTT (us) | p99 RTT (us) | 1 MB stream (MB/s, median) | round trips vs host (wall) |",
    "|---|--:|--:|--:|--:|--:|--:|",
  );
  const host = r.rows.find((x) => x.name === r.host);
  for (const x of r.rows) {
    lines.push(
      `| ${x.name} | ${x.rps.toFixed(0)} | ${(1e6 / x.p50).toFixed(0)} | ${x.p50.toFixed(1)} | ${
        x.p99.toFixed(1)
      } | ${x.mbps.toFixed(0)} | ${fmtRatio(ratio(x.rps, host?.rps))} |`,
    );
  }
  lines.push("");
}

function netBudget(r: NetJson): void {
  budget.push({
    section: "network",
    runtime: r.runtime,
    what: `TCP echo round trips/s (wall) at least 1.3x ${r.host}`,
    measured: `${fmtRatio(r.ratioWall)}`,
    ok: r.ratioWall >= 1.3,
  });
  budget.push({
    section: "network",
    runtime: r.runtime,
    what: `TCP echo round trips/s at the median RTT at least 1.3x ${r.host}`,
    measured: `${fmtRatio(r.ratioMedian)}`,
    ok: r.ratioMedian >= 1.3,
  });
}

// ------------------------------------------------------------------ replay

interface ReplayRow {
  perCycle: number;
  records: number;
  cycles: number;
  ms: number;
  recordsPerSec: number;
  samples: number[];
  logBytes?: number;
  logBytesPerRecord?: number;
  liveRecordsPerSec?: number;
  /** The live run without recording, records/s (median of the repeats). */
  liveUnrecordedRecordsPerSec?: number;
  /** The same live run recorded, records/s (median of the repeats). */
  liveRecordedMedianPerSec?: number;
}

interface ReplayJson {
  runtime: string;
  version: string;
  repeats: number;
  historical: ReplayRow[];
  replay: ReplayRow[];
}

function mrps(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? "n/a" : `${(v / 1e6).toFixed(2)} M`;
}

function replayTable(runs: ReplayJson[], lines: string[]): void {
  lines.push(
    "| runtime | path | records / cycle | records | cycles | median time | records/s (median) | records/s (min - max of repeats) | log B/record | recorded live run, records/s |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const r of runs) {
    for (
      const [path, rows] of [["historicalSource", r.historical], ["replayLog", r.replay]] as const
    ) {
      for (const x of rows) {
        lines.push(
          `| ${r.runtime} ${r.version} | ${path} | ${x.perCycle} | ${x.records} | ${x.cycles} | ${
            x.ms.toFixed(1)
          } ms | ${mrps(x.recordsPerSec)} | ${mrps(Math.min(...x.samples))} - ${
            mrps(Math.max(...x.samples))
          } | ${x.logBytesPerRecord?.toFixed(1) ?? "-"} | ${mrps(x.liveRecordsPerSec)} |`,
        );
      }
    }
  }
  lines.push("");
  recordingCostTable(runs, lines);
}

/** The cost of recording: the same live run with and without it, and the figures before the hook. */
function recordingCostTable(runs: ReplayJson[], lines: string[]): void {
  lines.push(
    "### The cost of recording",
    "",
    "The live run above (Spin mode, a same-thread sender, a ring channel) timed with and without " +
      "`startRecording()` (an in-memory log), alternated, median of the repeats; the cost is " +
      "1 - recorded / unrecorded. Recording and replay attach to the executor and to each " +
      "channel receiver as the core's stimulus hook (`src/core/hooks.ts`), so the live path " +
      "pays one null check; the recorder writes each cycle in place in its log, fields through " +
      "a DataView, a record a word at a time, and keeps an in-memory log in 1 MiB chunks. " +
      "The log is format 3: a receiver's consecutive items are one entry (a count and the " +
      "items' bytes), empty reads and decisions 5-byte entries; a ring receiver's record is " +
      "copied into the log from the ring, where the read then reads it in place. " +
      "Before the hook (issue 12, item 5), on this machine (load average about 1), recording " +
      "cost 42.9% (1 record/cycle) and 77.6% (16 records/cycle) on Deno 2.9.5, 49.8% and 73.2% " +
      "on Bun 1.4.5; with the hook and format 2, up to 25% and 25-37% on Deno, 20-31% and " +
      "40-48% on Bun.",
    "",
    "| runtime | records / cycle | live run, unrecorded | live run, recorded | recording costs |",
    "|---|--:|--:|--:|--:|",
  );
  for (const r of runs) {
    for (const x of r.replay) {
      const off = x.liveUnrecordedRecordsPerSec, on = x.liveRecordedMedianPerSec;
      const cost = off === undefined || on === undefined
        ? "n/a"
        : `${((1 - on / off) * 100).toFixed(1)}%`;
      lines.push(
        `| ${r.runtime} ${r.version} | ${x.perCycle} | ${mrps(off)} | ${mrps(on)} | ${cost} |`,
      );
    }
  }
  lines.push("");
}

// ------------------------------------------------------------------ charts

const COLORS = {
  denoAlien: "#1f77b4",
  denoPreact: "#9ecae1",
  bunAlien: "#d62728",
  bunPreact: "#ff9896",
};

/** Peer time / wavelet time per shape: above 1 means wavelet is faster. */
function ratioChart(
  title: string,
  groups: {
    group: string;
    shapes: { label: string; get: (rt: number, peer: string) => number }[];
  }[],
  runtimes: string[],
): string {
  const rows: Row[] = [];
  for (const g of groups) {
    g.shapes.forEach((s, i) => {
      rows.push({
        label: s.label,
        group: i === 0 ? g.group : undefined,
        values: [0, 1].flatMap((rt) => ["alien", "preact"].map((p) => s.get(rt, p))),
      });
    });
  }
  return barChart({
    title,
    subtitle:
      "Speed-up of wavelet = peer median / wavelet median (log scale; right of 1x: wavelet is faster; the budget asks for 2x on graphs of 100+ nodes)",
    axis: "peer time / wavelet time",
    series: [
      { name: `${runtimes[0]}: vs alien-signals`, color: COLORS.denoAlien },
      { name: `${runtimes[0]}: vs preact-signals`, color: COLORS.denoPreact },
      { name: `${runtimes[1]}: vs alien-signals`, color: COLORS.bunAlien },
      { name: `${runtimes[1]}: vs preact-signals`, color: COLORS.bunPreact },
    ],
    rows,
    format: (v) => `${v >= 10 ? v.toFixed(0) : v.toFixed(2)}x`,
    refLines: [{ value: 1, label: "1x", color: "#333" }, { value: 2, label: "2x budget" }],
  });
}

const PCT_SERIES = [
  { name: "p50", color: "#2b8cbe" },
  { name: "p99", color: "#fdae6b" },
  { name: "p99.9", color: "#e6550d" },
];

function distValues(d: Dist | undefined): (number | undefined)[] {
  return d === undefined ? [undefined, undefined, undefined] : [
    d.p50_ns / 1e3,
    d.p99_ns / 1e3,
    d.p999_ns / 1e3,
  ];
}

function fmtUs(v: number): string {
  return v >= 100 ? `${v.toFixed(0)} us` : v >= 10 ? `${v.toFixed(1)} us` : `${v.toFixed(2)} us`;
}

function notifyChart(lat: { r: LatencyJson; c: Record<string, Dist> }[]): string {
  const rows: Row[] = [];
  for (const { r, c } of lat) {
    NOTIFY_ROWS.forEach(([label, key], i) => {
      rows.push({
        label,
        group: i === 0 ? r.version : undefined,
        values: distValues(notifyDist(r, c, key)),
      });
    });
  }
  return barChart({
    title: "Cross-thread notify -> node run latency",
    subtitle:
      "Worker stamps the clock and wakes the consumer; p50 / p99 / p99.9 in microseconds (log scale; shorter is better)",
    axis: "microseconds",
    series: PCT_SERIES,
    rows,
    format: fmtUs,
    tickFormat: (v) => `${v}`,
  });
}

function timerChart(lat: { r: LatencyJson; c: Record<string, Dist> }[]): string {
  const rows: Row[] = [];
  for (const { r, c } of lat) {
    for (const period of ["100us", "1ms"] as const) {
      TIMER_ROWS[period].forEach(([label, key], i) => {
        rows.push({
          label,
          group: i === 0
            ? `${r.version}: ${period.replace("us", " us").replace("ms", " ms")} timer`
            : undefined,
          values: distValues(timerDist(r, c, period, key)),
        });
      });
    }
  }
  return barChart({
    title: "Park-mode timer lateness",
    subtitle:
      "Time the node (or callback) runs minus its deadline; p50 / p99 / p99.9 in microseconds (log scale; shorter is better)",
    axis: "microseconds",
    series: PCT_SERIES,
    rows,
    format: fmtUs,
    tickFormat: (v) => `${v}`,
  });
}

// ------------------------------------------------------------------ main

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

function envFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readText(path).split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

function present<T>(xs: (T | null)[]): T[] {
  return xs.filter((x): x is T => x !== null);
}

function notRun(lines: string[], what: string): void {
  lines.push(`Not run: no output in bench/out/ (${what}).`, "");
}

function main(): void {
  const [outDir, resultsPath, chartsDir] = Deno.args;
  if (chartsDir === undefined) {
    throw new Error("Usage: bench_report.ts <bench/out> <RESULTS.md> <charts dir>");
  }
  const rts = ["deno", "bun"];
  const prop = present(
    rts.map((rt) => block<BenchJson>(`${outDir}/propagation_${rt}.txt`, "BENCH_JSON")),
  );
  const react = present(
    rts.map((rt) => block<ReactivityJson>(`${outDir}/reactivity_${rt}.txt`, "REACTIVITY_JSON")),
  );
  const lat = present(rts.map((rt) => {
    const r = block<LatencyJson>(`${outDir}/latency_${rt}.txt`, "LATENCY_JSON");
    return r === null ? null : { r, c: cBaselines(`${outDir}/latency_c_${rt}.jsonl`) };
  }));
  const net = present(rts.map((rt) => block<NetJson>(`${outDir}/net_${rt}.txt`, "NET_JSON")));
  const replay = present(
    rts.map((rt) => block<ReplayJson>(`${outDir}/replay_${rt}.txt`, "REPLAY_JSON")),
  );

  const lscpu = readText(`${outDir}/lscpu.txt`);
  const env = envFile(`${outDir}/env.txt`);
  const latEnv = envFile(`${outDir}/latency_env.txt`);
  const model = lscpuField(lscpu, "Model name") ?? prop[0]?.cpu ?? "unknown";
  const cpus = lscpuField(lscpu, "CPU(s)") ?? env.cores ?? "unknown";
  const cores = lscpuField(lscpu, "Core(s) per socket");
  const threads = lscpuField(lscpu, "Thread(s) per core");
  const loads = readText(`${outDir}/load.txt`).trim().split("\n").filter((l) => l !== "").map(
    (l) => {
      const [part, rt, l1, l5, l15, secs] = l.split(" ");
      return { part, rt, l1: Number(l1), l5, l15, secs };
    },
  );
  const commit = env.commit ?? (git(["rev-parse", "--short", "HEAD"]) || "unknown");

  for (const r of prop) propagationBudget(r);
  for (const r of react) reactivityBudget(r);
  for (const { r, c } of lat) latencyBudget(r, c);
  for (const r of net) netBudget(r);

  // ---- charts
  Deno.mkdirSync(chartsDir, { recursive: true });
  const charts: { file: string; alt: string }[] = [];
  const writeChart = (file: string, alt: string, svg: string) => {
    Deno.writeTextFileSync(`${chartsDir}/${file}`, svg);
    charts.push({ file, alt });
  };
  if (prop.length === 2 || react.length === 2) {
    const groups = [];
    if (prop.length === 2) {
      groups.push({
        group: "Propagation shapes (bench/propagation_bench.ts)",
        shapes: prop[0].shapes.map((s) => ({
          label: s.label,
          get: (rt: number, peer: string) => {
            const x = prop[rt].shapes.find((y) => y.key === s.key)?.results;
            return ratio(x?.[peer as Contender]?.p50, x?.wavelet?.p50);
          },
        })),
      });
    }
    if (react.length === 2) {
      groups.push({
        group: "js-reactivity-benchmark kairo shapes (bench/reactivity_bench.ts)",
        shapes: react[0].shapes.map((s) => ({
          label: s.label,
          get: (rt: number, peer: string) => {
            const x = react[rt].shapes.find((y) => y.key === s.key)?.results;
            return ratio(x?.[peer as Peer]?.p50, x?.wavelet?.p50);
          },
        })),
      });
    }
    writeChart(
      "ratios.svg",
      "wavelet's speed-up over alien-signals and preact signals per shape, Deno and Bun",
      ratioChart("wavelet vs signal libraries, per shape", groups, [
        prop[0]?.runtime ?? react[0].runtime,
        prop[1]?.runtime ?? react[1].runtime,
      ]),
    );
  }
  if (lat.length > 0) {
    writeChart("latency_notify.svg", "notify latency p50/p99/p99.9", notifyChart(lat));
    writeChart("latency_timers.svg", "timer lateness p50/p99/p99.9", timerChart(lat));
  }

  // ---- the document
  const lines: string[] = [];
  const versions = [
    ...new Map(
      [...prop, ...react].map((r) => [r.runtime, `${r.runtime} ${r.version} (${r.engine})`]),
    ).values(),
  ];
  lines.push(
    "# Benchmark results",
    "",
    "Generated by `scripts/bench_report.ts` from the raw outputs of `npm run bench` " +
      "(`bash scripts/bench.sh`), which runs every benchmark under Deno and under Bun. Times " +
      "are **medians** unless a column says otherwise; every ratio compares contenders measured " +
      "in the same process run. The machine is a shared, noisy 2-core VM: absolute times move " +
      "between runs, tails (p99, p99.9) mostly measure preemption by other work, and the load " +
      "average at the start of each part is recorded below so a reader can judge.",
    "",
    "## Machine and software",
    "",
    `- CPU: ${model}, ${cpus} CPU(s)${cores ? `, ${cores} core(s) per socket` : ""}${
      threads ? `, ${threads} thread(s) per core` : ""
    }; ${env.kernel ?? latEnv.kernel ?? "unknown kernel"}`,
    ...(versions.length > 0 ? versions.map((v) => `- ${v}`) : [
      `- ${env.deno ?? "deno ?"}; ${env.bun ?? "bun ?"}`,
    ]),
    "- Peers: alien-signals 3.2.1, @preact/signals-core 1.14.5; harness: mitata 1.0.34" +
      (latEnv.cc ? `; C baselines: ${latEnv.cc}, \`-O2 -pthread\`` : ""),
    `- Source: commit ${commit}${env.dirty ? ` (${env.dirty})` : ""}; run ${env.date ?? "?"}`,
    "",
    "Load average (1, 5, 15 min) at the start of each part, and how long the part took:",
    "",
    "| part | runtime | load 1 min | 5 min | 15 min | seconds | |",
    "|---|---|--:|--:|--:|--:|---|",
    ...loads.map((l) =>
      `| ${l.part} | ${l.rt} | ${l.l1.toFixed(2)} | ${l.l5} | ${l.l15} | ${l.secs ?? "?"} | ${
        l.l1 > 3 ? "busy (load > 3): figures less reliable" : ""
      } |`
    ),
    "",
  );

  // ---- summary
  const sections = ["propagation", "reactivity", "latency", "network"];
  lines.push(
    "## Summary",
    "",
    "| section | " + rts.map((rt) => `${rt} PASS / MISS`).join(" | ") + " |",
    "|---|" + rts.map(() => "--:").join("|") + "|",
  );
  for (const s of sections) {
    const cells = rts.map((rt) => {
      const b = budget.filter((x) => x.section === s && x.runtime === rt);
      if (b.length === 0) return "not run";
      return `${b.filter((x) => x.ok === true).length} / ${b.filter((x) => x.ok === false).length}`;
    });
    lines.push(`| ${s} | ${cells.join(" | ")} |`);
  }
  lines.push("");
  for (const c of charts) lines.push(`![${c.alt}](charts/${c.file})`, "");

  // ---- propagation
  lines.push(
    "## Propagation (the budget's shapes)",
    "",
    "Reproduce: `bash scripts/bench.sh --propagation`, which runs",
    "",
    "```sh",
    "deno run -A --v8-flags=--expose-gc bench/propagation_bench.ts   # > bench/out/propagation_deno.txt",
    "bun run bench/propagation_bench.ts                             # > bench/out/propagation_bun.txt",
    "```",
    "",
    "One iteration = one update of the source propagated through the whole graph (one executor " +
      "cycle in wavelet). Every node computes `(sum of its parents' values + 1) & 0x3fffffff` " +
      "and reports a change only if its value changed; all four contenders run the same node " +
      "functions and their leaf values are checked to agree exactly before timing. Times are " +
      "mitata p50 per iteration; ratios are wavelet / other (below 1: wavelet is faster).",
    "",
  );
  if (prop.length === 0) notRun(lines, "propagation_*.txt");
  for (const r of prop) runtimeTables(r, lines);
  allocTable(prop, lines);
  buildTable(prop, lines);

  // ---- reactivity
  lines.push(
    "## js-reactivity-benchmark shapes (kairo suite)",
    "",
    "Reproduce: `bash scripts/bench.sh --reactivity`, which runs",
    "",
    "```sh",
    "deno run -A bench/reactivity_bench.ts   # > bench/out/reactivity_deno.txt",
    "bun run bench/reactivity_bench.ts       # > bench/out/reactivity_bun.txt",
    "```",
    "",
    "The kairo shapes of the js-reactivity-benchmark, re-implemented (sizes as in the suite). " +
      "One timed iteration is one kairo run: a fixed sequence of source updates (the column " +
      '"updates / run"), each one executor cycle in wavelet and one signal write (with its ' +
      "synchronous effects) in the signal libraries. All contenders run the same node " +
      "functions; leaf values and effect run counts are checked equal across contenders (and " +
      "against the kairo assertions) before timing. In `mux` every contender builds a new array " +
      "per change, as the suite builds a new object. In `unstable` the signal libraries track " +
      "only the branch they read, while wavelet's static graph runs both branches every update. " +
      "Times are mitata p50 per run.",
    "",
  );
  if (react.length === 0) notRun(lines, "reactivity_*.txt");
  for (const r of react) reactivityTables(r, lines);

  // ---- latency
  lines.push(
    "## Latency: cross-thread notify and Park-mode timers",
    "",
    "Reproduce: `bash scripts/bench.sh --latency`, which runs `bash scripts/bench_latency.sh`:",
    "",
    "```sh",
    "cc -O2 -pthread -o $CACHE/eventfd_baseline bench/native/eventfd_baseline.c",
    "cc -O2 -pthread -o $CACHE/timerfd_baseline bench/native/timerfd_baseline.c",
    "# C baselines before Deno, between Deno and Bun, and after Bun; each batch:",
    "$CACHE/eventfd_baseline park 20000 2000; $CACHE/eventfd_baseline spin 20000 2000",
    "$CACHE/timerfd_baseline 100000 5000 200; $CACHE/timerfd_baseline 1000000 1000 20",
    "$CACHE/timerfd_baseline 100000 5000 200 pwait2; $CACHE/timerfd_baseline 1000000 1000 20 pwait2",
    "deno run -A bench/latency_bench.ts   # > bench/out/latency_deno.txt",
    "bun run bench/latency_bench.ts       # > bench/out/latency_bun.txt",
    "```",
    "",
    "Each runtime is compared with the lower-p50 run of the two C batches around it (the " +
      "stricter baseline). Budget verdicts use p50 and p99; p99.9 is shown, never judged. With " +
      "2 cores a spinning consumer and the producer Worker take both cores, so Spin tails are " +
      "preemption. The timer lateness floor (tens of microseconds) is the same for the C " +
      "timerfd baseline: it comes from the VM's timer interrupts, not from the runtime. More " +
      "detail (wake-path decomposition, FFI calls per cycle): `bench/LATENCY.md`.",
    "",
  );
  if (lat.length === 0) notRun(lines, "latency_*.txt");
  for (const { r, c } of lat) latencyTables(r, c, lines);

  // ---- network
  lines.push(
    "## Network: loopback TCP",
    "",
    "Reproduce: `bash scripts/bench.sh --net`, which runs",
    "",
    "```sh",
    "deno run -A bench/net_bench.ts   # > bench/out/net_deno.txt",
    "bun run bench/net_bench.ts       # > bench/out/net_bun.txt",
    "```",
    "",
    "Echo ping-pong (64-byte messages) and a 1 MB stream acknowledged by the receiver, both " +
      "ends in one process: wavelet's own sockets (server and client as connection nodes on " +
      "one `RealtimeRuntime` in Spin mode, epoll via FFI) against the host's sockets and " +
      "`node:net`, in the same run. The wall rate includes scheduler stalls of 10-40 ms that " +
      "hit every contender on a shared 2-core VM; the 1/p50 rate leaves them out.",
    "",
  );
  if (net.length === 0) notRun(lines, "net_*.txt");
  for (const r of net) netTables(r, lines);

  // ---- replay
  lines.push(
    "## Replay throughput",
    "",
    "Reproduce: `bash scripts/bench.sh --replay`, which runs",
    "",
    "```sh",
    "deno run -A bench/replay_bench.ts   # > bench/out/replay_deno.txt",
    "bun run bench/replay_bench.ts       # > bench/out/replay_bun.txt",
    "```",
    "",
    "Records per second through a 5-node graph (source -> vwap -> ema -> signal -> sink) on " +
      "the `HistoricalRuntime`. `historicalSource`: N in-memory records, " +
      "`runUntilCompletion()` jumping from record time to record time. `replayLog`: a " +
      "`RealtimeRuntime` in Spin mode, fed from the same thread through a ring channel and " +
      "recorded with `startRecording()`, replayed from `recordedBytes()`; only the replay is " +
      "timed. One record per cycle makes every record its own instant (the per-cycle cost " +
      "dominates); 16 per cycle are bursts. Median of the repeats after one warm-up; every " +
      "run's record count and checksum are checked against a plain loop (and the replay's " +
      "against the recorded live run). Not covered: logs streamed from a file (`fileSink`), " +
      "Worker or I/O stimuli in the log (each is one more entry per cycle), and the graph " +
      "build, which is not timed.",
    "",
  );
  if (replay.length === 0) notRun(lines, "replay_*.txt");
  else replayTable(replay, lines);

  // ---- metrics: bench/METRICS.md, which `bash scripts/bench.sh --metrics` assembles
  lines.push(
    "## Metrics: hot-path and scrape cost",
    "",
    "Reproduce: `bash scripts/bench.sh --metrics` (bench/metrics_bench.ts and " +
      "bench/scrape_bench.ts under both runtimes; the sections below are bench/METRICS.md).",
    "",
  );
  let metricsMd: string | null = null;
  try {
    metricsMd = Deno.readTextFileSync(new URL("../bench/METRICS.md", import.meta.url));
  } catch {
    // not run yet
  }
  if (metricsMd === null) notRun(lines, "bench/METRICS.md");
  else lines.push(...metricsMd.split("\n").filter((l) => !l.startsWith("# ")), "");

  // ---- scaling out (written by scripts/bench_scale_report.ts, which `--scale` runs)
  const scale = resultsPath.replace(/[^/]*$/, "SCALE.md");
  try {
    lines.push(...Deno.readTextFileSync(scale).trimEnd().split("\n"), "");
  } catch {
    lines.push("## Scaling out: shards and JetStream", "");
    notRun(lines, "bench/SCALE.md; run bash scripts/bench.sh --scale");
  }

  // ---- budget
  lines.push(
    "## Budget",
    "",
    "Propagation ratios are wavelet p50 / other p50: 0.50x or less means at least 2x faster; " +
      '"graphs of 100 nodes or more" are every propagation shape but the diamond. The kairo ' +
      "lines apply the same rule to the kairo shapes (2x on the 100+ node ones, broad and mux; " +
      "never slower on the small ones): the design names only the propagation shapes, so they " +
      "are shown as the same yardstick, not as separate commitments.",
    "",
    "| section | runtime | budget line | measured | verdict |",
    "|---|---|---|---|---|",
  );
  for (const s of sections) {
    for (const rt of rts) {
      for (const b of budget.filter((x) => x.section === s && x.runtime === rt)) {
        lines.push(`| ${s} | ${rt} | ${b.what} | ${b.measured} | ${verdict(b.ok)} |`);
      }
    }
  }
  lines.push("");
  const tally = rts.map((rt) => {
    const b = budget.filter((x) => x.runtime === rt);
    return `- ${rt}: ${b.filter((x) => x.ok === true).length} PASS, ${
      b.filter((x) => x.ok === false).length
    } MISS`;
  });
  lines.push(...tally, "");

  // ---- heap column
  if (prop.length > 0) {
    lines.push(
      "## Propagation: mitata heap column",
      "",
      "mitata's own per-iteration heap estimate (avg bytes per iteration over its batches; " +
        "noisy, includes the meter's own allocations):",
      "",
      "| shape | " +
        prop.flatMap((r) =>
          (["wavelet", "alien", "preact", "hand"] as const).map((c) => `${r.runtime} ${c}`)
        ).join(" | ") + " |",
      "|---|" + prop.flatMap(() => ["--:", "--:", "--:", "--:"]).join("|") + "|",
    );
    for (const s of prop[0].shapes) {
      const cells: string[] = [s.label];
      for (const r of prop) {
        const rs = r.shapes.find((x) => x.key === s.key);
        for (const c of ["wavelet", "alien", "preact", "hand"] as const) {
          const h = rs?.results[c]?.heapAvg;
          cells.push(h === null || h === undefined ? "n/a" : `${h.toFixed(1)} B`);
        }
      }
      lines.push(`| ${cells.join(" | ")} |`);
    }
    lines.push("");
  }

  Deno.writeTextFileSync(resultsPath, lines.join("\n"));
}

main();
