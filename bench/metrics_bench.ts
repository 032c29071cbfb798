/**
 * What metrics cost on the cycle's path: the same graphs cycled with no metrics, with a
 * `Metrics` that only counts (`nodeTime: false, notifyLatency: false`), with the default
 * `Metrics` (node time: two clock reads per run, from `performance.now()` or from the native
 * backend's clock, as `serveMetrics` uses), and on a realtime runtime with and without
 * the endpoint (`serveMetrics`: the instrument plus a listening socket in the epoll set, no
 * client). Then bytes allocated per cycle with the default `Metrics` attached. Then data age
 * (per-hop latency): 64 records per cycle through a ring channel (one `trySendColumns`) or a
 * local channel (64 `trySend`) into a node and a chain of 3 children, with no metrics, with
 * `Metrics` on the native clock (as `serveMetrics` makes it, data age off), and with data age
 * on (`dataAge: true`: the channel stamps, every run reads the ingest clock once more).
 *
 *     deno run -A --v8-flags=--expose-gc bench/metrics_bench.ts
 *     bun run bench/metrics_bench.ts
 *
 * One iteration is one cycle: a source that yields itself and broadcasts, and its graph (a chain
 * of 10, or a fan-out to 100): 11 or 101 node runs. Prints mitata's table, then a markdown
 * section between METRICS_MD_BEGIN and METRICS_MD_END (`scripts/bench.sh --metrics` keeps it in
 * bench/METRICS.md).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { bench, group, run } from "mitata";
import {
  Control,
  ExecutionMode,
  type Executor,
  type Node,
  NodeBuilder,
  RealtimeRuntime,
  TestRuntime,
} from "../mod.ts";
import { TcpListener, tcpListenerNode } from "../net.ts";
import { Metrics } from "../src/metrics/metrics.ts";
import { serveMetrics } from "../src/metrics/server.ts";
import { defaultBackend } from "../src/runtime/backend.ts";
import { defineRecord, localChannel, recordColumns, ringChannel } from "../channel.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isBun = typeof g.Bun !== "undefined";
const runtime = isBun ? `bun ${g.Bun.version}` : `deno ${g.Deno.version.deno}`;
const bunJscSpecifier = "bun:jsc";
const jsc = isBun ? await import(bunJscSpecifier) : undefined;
const gc: (() => void) | undefined = isBun
  ? () => g.Bun.gc(true)
  : typeof g.gc === "function"
  ? () => g.gc()
  : undefined;
/** Grows with every allocation until a collection (see bench/propagation_bench.ts). */
function allocMeter(): number {
  if (jsc !== undefined) return jsc.memoryUsage().current;
  return g.Deno.memoryUsage().heapUsed;
}

const MASK = 0x3fffffff;

/** /proc/loadavg's three averages, or "n/a". */
function loadavg(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "n/a";
  }
}

/** Builds a source (yields itself every cycle) and `shape`'s nodes under it. */
function build(ex: Executor, shape: "chain" | "fanout"): void {
  const src = new NodeBuilder(0).named("src").onInit((e, s) => e.yieldNow(s))
    .build(ex, (self, ctx) => {
      self.value = (self.value + 1) & MASK;
      ctx.yieldNow();
      return Control.Broadcast;
    });
  let parent = src;
  const n = shape === "chain" ? 10 : 100;
  for (let i = 0; i < n; i++) {
    const p = parent;
    const node = new NodeBuilder(0).named(`n${i % 10}`).triggeredBy(p)
      .build(ex, (self) => {
        self.value = (p.value + 1) & MASK;
        return Control.Broadcast;
      });
    if (shape === "chain") parent = node;
  }
}

type Variant = "none" | "counts" | "metrics" | "native";
const variants: Variant[] = ["none", "counts", "metrics", "native"];
const backend = defaultBackend();

function testRuntime(shape: "chain" | "fanout", v: Variant): () => void {
  const rt = new TestRuntime();
  build(rt.executor, shape);
  if (v === "counts") new Metrics(rt.executor, { nodeTime: false, notifyLatency: false });
  if (v === "metrics") new Metrics(rt.executor);
  if (v === "native") new Metrics(rt.executor, { clock: backend });
  return () => void rt.runOneCycle();
}

type RtVariant = "realtime" | "realtime + listener" | "realtime + endpoint";
const rtVariants: RtVariant[] = ["realtime", "realtime + listener", "realtime + endpoint"];
const realtimes: RealtimeRuntime[] = [];

function realtime(v: RtVariant): () => void {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Spin });
  realtimes.push(rt);
  build(rt.executor, "chain");
  if (v === "realtime + listener") {
    // A socket in the epoll set (what any graph with I/O has): each busy cycle polls it.
    tcpListenerNode(rt.executor, TcpListener.bind(rt, "127.0.0.1", 0), (_e, s) => s.close());
  }
  if (v === "realtime + endpoint") serveMetrics(rt);
  return () => void rt.runOneCycle(0);
}

const loadAtStart = loadavg();
const DATA_AGE_NOTE =
  "Data age off (the first two columns) leaves a producer one plain read of the channel's " +
  "stamp flag per send; on, a ring publish reads the ingest clock once (here one " +
  "`trySendColumns` of 64) and writes 64 stamps, local sends read it once per group between " +
  "two takes, and each of the 4 node runs reads it once more.";
const Tick = defineRecord({ seq: "i32", px: "f64" });
/** Records per cycle in the data-age case. */
const BATCH = 64;
type AgeVariant = "off" | "metrics" | "metrics + data age";
const ageVariants: AgeVariant[] = ["off", "metrics", "metrics + data age"];

/** A channel node reading `BATCH` records a cycle, with a chain of 3 children under it. */
function ageGraph(kind: "ring" | "local", v: AgeVariant): () => void {
  const rt = new TestRuntime();
  const ex = rt.executor;
  let head: Node<number>;
  let step: () => void;
  if (kind === "ring") {
    const cols = recordColumns(Tick, BATCH);
    for (let i = 0; i < BATCH; i++) cols.seq[i] = i;
    const [n, tx] = new NodeBuilder(0).named("feed").buildWith(
      ex,
      ringChannel(Tick, { capacity: 1024 }),
      (self, _ctx, rx) => {
        const r = rx.record;
        let sum = self.value;
        while (rx.next()) sum = (sum + r.seq) & MASK;
        self.value = sum;
        return true;
      },
    );
    head = n;
    step = () => {
      tx.trySendColumns(cols);
      rt.runOneCycle();
    };
  } else {
    const [n, tx] = new NodeBuilder(0).named("feed").buildWith(
      ex,
      localChannel<number>({ capacity: 1024 }),
      (self, _ctx, rx) => {
        let sum = self.value;
        for (let x = rx.tryRecv(); x !== undefined; x = rx.tryRecv()) sum = (sum + x) & MASK;
        self.value = sum;
        return true;
      },
    );
    head = n;
    step = () => {
      for (let i = 0; i < BATCH; i++) tx.trySend(i);
      rt.runOneCycle();
    };
  }
  for (let i = 0; i < 3; i++) {
    const p = head;
    head = new NodeBuilder(0).named(`hop${i}`).triggeredBy(p)
      .build(ex, (self) => {
        self.value = (p.value + 1) & MASK;
        return Control.Broadcast;
      });
  }
  if (v === "metrics") new Metrics(ex, { clock: backend });
  if (v === "metrics + data age") new Metrics(ex, { clock: backend, dataAge: true });
  return step;
}

const steps = new Map<string, () => void>();
for (const shape of ["chain", "fanout"] as const) {
  group(`${shape === "chain" ? "chain 10" : "fan-out 1->100"} (test runtime)`, () => {
    for (const v of variants) {
      const step = testRuntime(shape, v);
      steps.set(`${shape} ${v}`, step);
      bench(`${shape} ${v}`, step);
    }
  });
}
group("chain 10 (realtime runtime, Spin, native backend)", () => {
  for (const v of rtVariants) {
    const step = realtime(v);
    steps.set(v, step);
    bench(v, step);
  }
});

for (const kind of ["ring", "local"] as const) {
  group(`${kind} channel -> 3 hops, ${BATCH} records per cycle (test runtime)`, () => {
    for (const v of ageVariants) {
      const step = ageGraph(kind, v);
      steps.set(`${kind} ${v}`, step);
      bench(`${kind} ${v}`, step);
    }
  });
}

const result = await run();
const p50 = new Map<string, number>();
for (const trial of result.benchmarks) {
  const r = trial.runs[0];
  if (r.stats !== undefined) p50.set(trial.alias, r.stats.p50);
}

/** Bytes allocated per iteration: the median over windows without a gc inside. */
function allocPerCycle(step: () => void, iters: number): number | null {
  if (gc === undefined) return null;
  for (let i = 0; i < 1000; i++) step();
  const windows: number[] = [];
  for (let r = 0; r < 7; r++) {
    gc();
    const a = allocMeter(), b = allocMeter(), c = allocMeter();
    for (let i = 0; i < iters; i++) step();
    const d = allocMeter();
    windows.push(Math.max(0, d - c - (b - a)) / iters);
  }
  windows.sort((x, y) => x - y);
  return windows[3];
}

const fmt = (ns: number | undefined) =>
  ns === undefined ? "n/a" : ns < 1000 ? `${ns.toFixed(0)} ns` : `${(ns / 1000).toFixed(2)} µs`;
const lines: string[] = [];
lines.push(`#### ${runtime} (load average ${loadAtStart} at start, ${loadavg()} at the end)`, "");
lines.push(
  "| graph (node runs per cycle) | no metrics | counts only | `Metrics`, performance.now() | `Metrics`, native clock | + per run: counts | performance.now() | native |",
  "|---|--:|--:|--:|--:|--:|--:|--:|",
);
for (
  const [shape, runs, label] of [["chain", 11, "chain 10"], [
    "fanout",
    101,
    "fan-out 1->100",
  ]] as const
) {
  const none = p50.get(`${shape} none`)!, counts = p50.get(`${shape} counts`)!;
  const full = p50.get(`${shape} metrics`)!, native = p50.get(`${shape} native`)!;
  lines.push(
    `| ${label} (${runs}) | ${fmt(none)} | ${fmt(counts)} | ${fmt(full)} | ${fmt(native)} | ${
      fmt((counts - none) / runs)
    } | ${fmt((full - none) / runs)} | ${fmt((native - none) / runs)} |`,
  );
}
lines.push("");
lines.push(
  "| chain 10 on a realtime runtime (Spin, `runOneCycle(0)`) | p50 per cycle | vs no I/O |",
  "|---|--:|--:|",
);
const base = p50.get("realtime")!;
for (const v of rtVariants) {
  const t = p50.get(v)!;
  lines.push(`| ${v} | ${fmt(t)} | ${v === "realtime" ? "" : `+${fmt(t - base)}`} |`);
}
lines.push("");
const allocs = [
  ["chain 10, `Metrics` (default)", steps.get("chain metrics")!, 20_000],
  ["fan-out 1->100, `Metrics` (default)", steps.get("fanout metrics")!, 2_000],
  ["chain 10, realtime + endpoint", steps.get("realtime + endpoint")!, 20_000],
] as const;
lines.push("| allocation per cycle (median of 7 windows, no gc inside) | bytes |", "|---|--:|");
for (const [label, step, iters] of allocs) {
  const b = allocPerCycle(step, iters);
  lines.push(
    `| ${label} | ${b === null ? "n/a (run Deno with --v8-flags=--expose-gc)" : b.toFixed(1)} |`,
  );
}
lines.push("");
lines.push(
  `| data age: ${BATCH} records per cycle into a channel node and 3 hops (4 runs) | no metrics | \`Metrics\`, native clock | + \`dataAge\` | data age per cycle | per record | records/s, data age on |`,
  "|---|--:|--:|--:|--:|--:|--:|",
);
for (const kind of ["ring", "local"] as const) {
  const off = p50.get(`${kind} off`)!, on = p50.get(`${kind} metrics`)!;
  const age = p50.get(`${kind} metrics + data age`)!;
  lines.push(
    `| ${kind} channel (${kind === "ring" ? "one trySendColumns" : `${BATCH} trySend`}) | ${
      fmt(off)
    } | ${fmt(on)} | ${fmt(age)} | +${fmt(age - on)} | +${fmt((age - on) / BATCH)} | ${
      (BATCH / age * 1e3).toFixed(1)
    } M |`,
  );
}
lines.push("", DATA_AGE_NOTE, "");
for (const rt of realtimes) rt.shutdown();
console.log("METRICS_MD_BEGIN");
console.log(lines.join("\n"));
console.log("METRICS_MD_END");
