/**
 * Propagation benchmark: wavelet against alien-signals, @preact/signals-core and a hand-written
 * loop, all doing the same work per iteration (one source update propagated through a graph).
 *
 * Run with `deno run -A --v8-flags=--expose-gc bench/propagation_bench.ts` or
 * `bun run bench/propagation_bench.ts` (`scripts/bench.sh` runs both and writes
 * `bench/RESULTS.md`). Without an exposed gc the timings still run; the allocation checks then
 * say so.
 *
 * The work, identical in every contender:
 * - node 0 is the source; each iteration adds 1 to it;
 * - every other node computes `(sum of its parents' values + 1) & MASK` (the mask keeps values
 *   in small-integer range on both engines, so no number boxing muddies the allocation check);
 * - a "cut" node (the sparse shape) reads its parent and computes a constant (`p >= 0 ? 1 : 0`),
 *   so after the first iteration it does not change and its child must not run: wavelet returns
 *   `Control.Unchanged`, the signal libraries stop at their computed's equality check, the hand
 *   loop checks a changed flag;
 * - every node compares its new value with its old one and reports a change only if it differs
 *   (the signal libraries do this inside `computed`);
 * - leaves are consumed: in the signal libraries a leaf is an `effect` that computes its value and
 *   stores it in a box (the lightest eager consumer they offer); in wavelet and the hand loop
 *   the leaf's node stores its value.
 * Before timing, every contender runs three iterations and the leaf values are compared: all four
 * must agree exactly, so none can skip work.
 *
 * One wavelet iteration is one `executor.cycle(clock)` on a TestRuntime's executor: the source
 * yields itself from its cycle function (`ctx.yieldNow(self)`) and broadcasts.
 *
 * After the timings: an allocation check per shape (bytes per steady-state iteration), and a
 * 1 million node build (time, and bytes per node). At the end a machine-readable JSON block
 * between `BENCH_JSON_BEGIN` and `BENCH_JSON_END`, which `scripts/bench_report.ts` reads.
 *
 * @module
 */

import { bench, group, run, summary } from "mitata";
import {
  computed as alienComputed,
  effect as alienEffect,
  signal as alienSignal,
} from "alien-signals";
import {
  computed as preactComputed,
  effect as preactEffect,
  type ReadonlySignal,
  signal as preactSignal,
} from "@preact/signals-core";
import {
  Control,
  type CycleFn,
  type Executor,
  type Node,
  NodeBuilder,
  TestRuntime,
} from "../mod.ts";
import { runtimePort } from "../src/core/executor.ts";
import { engineVersion, isBun, median, runtimeName, runtimeVersion } from "./_common.ts";

// ------------------------------------------------------------------ runtime detection

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** Forces a full collection, or undefined when the runtime does not expose one. */
const gc: (() => void) | undefined = isBun
  ? () => g.Bun.gc(true)
  : typeof g.gc === "function"
  ? () => g.gc()
  : undefined;

// A computed specifier keeps Deno's type checker from resolving the Bun-only module.
const bunJscSpecifier = "bun:jsc";
const jsc = isBun ? await import(bunJscSpecifier) : undefined;

/** Live JS heap, excluding ArrayBuffer backing stores (valid after a gc). */
function jsHeap(): number {
  if (jsc !== undefined) {
    const s = jsc.heapStats();
    return s.heapSize - s.extraMemorySize;
  }
  return g.Deno.memoryUsage().heapUsed;
}

/** ArrayBuffer backing stores and other external memory (valid after a gc). */
function externalMem(): number {
  if (jsc !== undefined) return jsc.heapStats().extraMemorySize;
  return g.Deno.memoryUsage().external;
}

/**
 * A meter that grows with every allocation until the engine collects: V8's used heap (new
 * space fills up until a scavenge), or Bun's allocator (mimalloc) current bytes. Read it
 * right after a gc, over a window short enough that no collection runs.
 */
function allocMeter(): number {
  if (jsc !== undefined) return jsc.memoryUsage().current;
  return g.Deno.memoryUsage().heapUsed;
}

// ------------------------------------------------------------------ shapes

const MASK = 0x3fffffff;
const SUM = 0;
const CUT = 1;

interface Shape {
  /** Short key used in names and JSON. */
  key: string;
  /** Human label. */
  label: string;
  /** parents[i]: the parents of node i (node 0 is the source, no parents). */
  parents: number[][];
  /** kind[i]: SUM or CUT. */
  kind: number[];
  /** Iterations for the allocation check. */
  allocIters: number;
}

function chain(n: number): Shape {
  const parents: number[][] = [[]];
  for (let i = 1; i <= n; i++) parents.push([i - 1]);
  return {
    key: "chain",
    label: `chain ${n}`,
    parents,
    kind: parents.map(() => SUM),
    allocIters: 2000,
  };
}

function fanOut(n: number): Shape {
  const parents: number[][] = [[]];
  for (let i = 1; i <= n; i++) parents.push([0]);
  return {
    key: "fanout",
    label: `fan-out 1->${n}`,
    parents,
    kind: parents.map(() => SUM),
    allocIters: 2000,
  };
}

function diamond(width: number): Shape {
  const parents: number[][] = [[]];
  const mids: number[] = [];
  for (let i = 0; i < width; i++) {
    mids.push(parents.length);
    parents.push([0]);
  }
  parents.push(mids);
  return {
    key: "diamond",
    label: `diamond 1->${width}->1`,
    parents,
    kind: parents.map(() => SUM),
    allocIters: 50000,
  };
}

/** `layers` layers of `width`; node j of a layer reads j, j+1 and (for even j) j+3 of the last. */
function mesh(layers: number, width: number): Shape {
  const parents: number[][] = [[]];
  let prev: number[] = [0];
  for (let l = 0; l < layers; l++) {
    const cur: number[] = [];
    for (let j = 0; j < width; j++) {
      cur.push(parents.length);
      if (l === 0) {
        parents.push([0]);
      } else {
        const ps = [prev[j], prev[(j + 1) % width]];
        if (j % 2 === 0) ps.push(prev[(j + 3) % width]);
        parents.push(ps);
      }
    }
    prev = cur;
  }
  return {
    key: "mesh",
    label: `mesh ${layers}x${width}`,
    parents,
    kind: parents.map(() => SUM),
    allocIters: 10000,
  };
}

/**
 * The source fans out to `n` children; each child has one child of its own. Only every
 * `every`-th child changes (and so broadcasts to its child); the others are cut.
 */
function sparse(n: number, every: number): Shape {
  const parents: number[][] = [[]];
  const kind: number[] = [SUM];
  const mids: number[] = [];
  for (let i = 0; i < n; i++) {
    mids.push(parents.length);
    parents.push([0]);
    kind.push(i % every === 0 ? SUM : CUT);
  }
  for (let i = 0; i < n; i++) {
    parents.push([mids[i]]);
    kind.push(SUM);
  }
  return {
    key: "sparse",
    label: `sparse 1->${n}->1 each, ${100 / every}% active`,
    parents,
    kind,
    allocIters: 2000,
  };
}

function childCounts(shape: Shape): number[] {
  const c = shape.parents.map(() => 0);
  for (const ps of shape.parents) for (const p of ps) c[p]++;
  return c;
}

/** Node runs per steady-state iteration (nodes whose parents changed, plus the source). */
function runsPerIteration(shape: Shape): number {
  const changed = shape.parents.map(() => false);
  let runs = 1;
  changed[0] = true;
  for (let i = 1; i < shape.parents.length; i++) {
    if (shape.parents[i].some((p) => changed[p])) {
      runs++;
      changed[i] = shape.kind[i] === SUM;
    }
  }
  return runs;
}

// ------------------------------------------------------------------ contenders

/** A built graph: `step` is one iteration; `leaves` reads the leaf values. */
interface Built {
  step: () => void;
  leaves: () => number[];
}

// ---- wavelet

function waveletFn(kind: number, ps: Node<number>[]): CycleFn<number> {
  if (kind === CUT) {
    const a = ps[0];
    return (self) => {
      const v = a.value >= 0 ? 1 : 0;
      if (v === self.value) return Control.Unchanged;
      self.value = v;
      return Control.Broadcast;
    };
  }
  switch (ps.length) {
    case 1: {
      const a = ps[0];
      return (self) => {
        const v = (a.value + 1) & MASK;
        if (v === self.value) return Control.Unchanged;
        self.value = v;
        return Control.Broadcast;
      };
    }
    case 2: {
      const a = ps[0], b = ps[1];
      return (self) => {
        const v = (a.value + b.value + 1) & MASK;
        if (v === self.value) return Control.Unchanged;
        self.value = v;
        return Control.Broadcast;
      };
    }
    case 3: {
      const a = ps[0], b = ps[1], c = ps[2];
      return (self) => {
        const v = (a.value + b.value + c.value + 1) & MASK;
        if (v === self.value) return Control.Unchanged;
        self.value = v;
        return Control.Broadcast;
      };
    }
    default:
      return (self) => {
        let s = 1;
        for (let i = 0; i < ps.length; i++) s += ps[i].value;
        const v = s & MASK;
        if (v === self.value) return Control.Unchanged;
        self.value = v;
        return Control.Broadcast;
      };
  }
}

/** The self-yielding source: one yield per cycle keeps it running every cycle. */
const waveletSource: CycleFn<number> = (self, ctx) => {
  self.value = (self.value + 1) & MASK;
  ctx.yieldNow(self);
  return Control.Broadcast;
};

interface WaveletBuilt extends Built {
  rt: TestRuntime;
  ex: Executor;
}

function buildWavelet(shape: Shape): WaveletBuilt {
  const rt = new TestRuntime();
  const ex = rt.executor, clock = rt.clock;
  const nodes: Node<number>[] = [
    new NodeBuilder(0)
      .named("src")
      .onInit((e, self) => e.yieldNow(self))
      .build(ex, waveletSource),
  ];
  const kids = childCounts(shape);
  for (let i = 1; i < shape.parents.length; i++) {
    const ps = shape.parents[i].map((p) => nodes[p]);
    nodes.push(new NodeBuilder(0).triggeredBy(...ps).build(ex, waveletFn(shape.kind[i], ps)));
  }
  const leaves = nodes.filter((_, i) => kids[i] === 0);
  return {
    rt,
    ex,
    step: () => {
      ex.cycle(clock);
    },
    leaves: () => leaves.map((n) => n.value),
  };
}

// ---- alien-signals

type Getter = () => number;
interface Box {
  value: number;
}

function alienFn(kind: number, ps: Getter[]): Getter {
  if (kind === CUT) {
    const a = ps[0];
    return () => a() >= 0 ? 1 : 0;
  }
  switch (ps.length) {
    case 1: {
      const a = ps[0];
      return () => (a() + 1) & MASK;
    }
    case 2: {
      const a = ps[0], b = ps[1];
      return () => (a() + b() + 1) & MASK;
    }
    case 3: {
      const a = ps[0], b = ps[1], c = ps[2];
      return () => (a() + b() + c() + 1) & MASK;
    }
    default:
      return () => {
        let s = 1;
        for (let i = 0; i < ps.length; i++) s += ps[i]();
        return s & MASK;
      };
  }
}

function buildAlien(shape: Shape): Built {
  const src = alienSignal(0);
  const getters: Getter[] = [src];
  const boxes: Box[] = [];
  const kids = childCounts(shape);
  for (let i = 1; i < shape.parents.length; i++) {
    const fn = alienFn(shape.kind[i], shape.parents[i].map((p) => getters[p]));
    if (kids[i] === 0) {
      const box: Box = { value: 0 };
      boxes.push(box);
      alienEffect(() => {
        box.value = fn();
      });
      getters.push(() => box.value);
    } else {
      getters.push(alienComputed(fn));
    }
  }
  let c = 0;
  return {
    step: () => {
      c = (c + 1) & MASK;
      src(c);
    },
    leaves: () => boxes.map((b) => b.value),
  };
}

// ---- @preact/signals-core

type Sig = ReadonlySignal<number>;

function preactFn(kind: number, ps: Sig[]): Getter {
  if (kind === CUT) {
    const a = ps[0];
    return () => a.value >= 0 ? 1 : 0;
  }
  switch (ps.length) {
    case 1: {
      const a = ps[0];
      return () => (a.value + 1) & MASK;
    }
    case 2: {
      const a = ps[0], b = ps[1];
      return () => (a.value + b.value + 1) & MASK;
    }
    case 3: {
      const a = ps[0], b = ps[1], c = ps[2];
      return () => (a.value + b.value + c.value + 1) & MASK;
    }
    default:
      return () => {
        let s = 1;
        for (let i = 0; i < ps.length; i++) s += ps[i].value;
        return s & MASK;
      };
  }
}

function buildPreact(shape: Shape): Built {
  const src = preactSignal(0);
  const sigs: Sig[] = [src];
  const boxes: Box[] = [];
  const kids = childCounts(shape);
  for (let i = 1; i < shape.parents.length; i++) {
    const fn = preactFn(shape.kind[i], shape.parents[i].map((p) => sigs[p]));
    if (kids[i] === 0) {
      const box: Box = { value: 0 };
      boxes.push(box);
      preactEffect(() => {
        box.value = fn();
      });
      sigs.push(src); // placeholder: leaves have no readers
    } else {
      sigs.push(preactComputed(fn));
    }
  }
  let c = 0;
  return {
    step: () => {
      c = (c + 1) & MASK;
      src.value = c;
    },
    leaves: () => boxes.map((b) => b.value),
  };
}

// ---- hand-written loop: the same node functions, called in topological order

type HandFn = () => boolean;

function handFn(kind: number, ps: Box[], self: Box): HandFn {
  if (kind === CUT) {
    const a = ps[0];
    return () => {
      const v = a.value >= 0 ? 1 : 0;
      if (v === self.value) return false;
      self.value = v;
      return true;
    };
  }
  switch (ps.length) {
    case 1: {
      const a = ps[0];
      return () => {
        const v = (a.value + 1) & MASK;
        if (v === self.value) return false;
        self.value = v;
        return true;
      };
    }
    case 2: {
      const a = ps[0], b = ps[1];
      return () => {
        const v = (a.value + b.value + 1) & MASK;
        if (v === self.value) return false;
        self.value = v;
        return true;
      };
    }
    case 3: {
      const a = ps[0], b = ps[1], c = ps[2];
      return () => {
        const v = (a.value + b.value + c.value + 1) & MASK;
        if (v === self.value) return false;
        self.value = v;
        return true;
      };
    }
    default:
      return () => {
        let s = 1;
        for (let i = 0; i < ps.length; i++) s += ps[i].value;
        const v = s & MASK;
        if (v === self.value) return false;
        self.value = v;
        return true;
      };
  }
}

function buildHand(shape: Shape): Built {
  const n = shape.parents.length;
  const objs: Box[] = [];
  for (let i = 0; i < n; i++) objs.push({ value: 0 });
  const fns: HandFn[] = [() => true];
  for (let i = 1; i < n; i++) {
    fns.push(handFn(shape.kind[i], shape.parents[i].map((p) => objs[p]), objs[i]));
  }
  const kids = childCounts(shape);
  const leafObjs = objs.filter((_, i) => kids[i] === 0);
  const src = objs[0];
  const leaves = () => leafObjs.map((o) => o.value);
  if (!shape.kind.includes(CUT)) {
    // Every node changes every iteration: call them all, in order.
    return {
      step: () => {
        src.value = (src.value + 1) & MASK;
        for (let i = 1; i < n; i++) fns[i]();
      },
      leaves,
    };
  }
  // Some nodes may not change: a node runs only if one of its parents changed.
  const changed = new Uint8Array(n);
  const pStart = new Int32Array(n + 1);
  const pList: number[] = [];
  for (let i = 0; i < n; i++) {
    pStart[i] = pList.length;
    pList.push(...shape.parents[i]);
  }
  pStart[n] = pList.length;
  const plist = Int32Array.from(pList);
  return {
    step: () => {
      src.value = (src.value + 1) & MASK;
      changed[0] = 1;
      for (let i = 1; i < n; i++) {
        let dirty = 0;
        for (let e = pStart[i], end = pStart[i + 1]; e < end; e++) dirty |= changed[plist[e]];
        changed[i] = dirty !== 0 && fns[i]() ? 1 : 0;
      }
    },
    leaves,
  };
}

// ------------------------------------------------------------------ verification

const CONTENDERS = ["wavelet", "alien", "preact", "hand"] as const;
type Contender = typeof CONTENDERS[number];
const CONTENDER_LABEL: Record<Contender, string> = {
  wavelet: "wavelet",
  alien: "alien-signals",
  preact: "preact-signals",
  hand: "hand loop",
};

interface Prepared {
  shape: Shape;
  built: Record<Contender, Built> & { wavelet: WaveletBuilt };
}

function prepare(shape: Shape): Prepared {
  const built = {
    wavelet: buildWavelet(shape),
    alien: buildAlien(shape),
    preact: buildPreact(shape),
    hand: buildHand(shape),
  };
  for (const c of CONTENDERS) for (let i = 0; i < 3; i++) built[c].step();
  const ref = JSON.stringify(built.wavelet.leaves());
  for (const c of CONTENDERS) {
    const got = JSON.stringify(built[c].leaves());
    if (got !== ref) {
      throw new Error(
        `Contenders disagree on ${shape.label}: wavelet ${ref.slice(0, 80)} vs ${c} ${
          got.slice(0, 80)
        }`,
      );
    }
  }
  return { shape, built };
}

// ------------------------------------------------------------------ allocation check

interface AllocResult {
  shape: string;
  contender: Contender;
  iterations: number;
  /** Median over windows of allocated bytes per iteration (no gc inside a window). */
  bytesPerIter: number;
  /** Largest window. */
  bytesPerIterMax: number;
  /** Heap growth per iteration with a full gc before and after (retained bytes). */
  retainedPerIter: number;
}

function allocCheck(
  shape: string,
  contender: Contender,
  step: () => void,
  iters: number,
): AllocResult {
  for (let i = 0; i < 1000; i++) step();
  const windows: number[] = [];
  for (let r = 0; r < 7; r++) {
    gc!();
    const a = allocMeter();
    const b = allocMeter();
    const c = allocMeter();
    for (let i = 0; i < iters; i++) step();
    const d = allocMeter();
    windows.push(Math.max(0, d - c - (b - a)) / iters);
  }
  gc!();
  const h0 = jsHeap() + externalMem();
  const total = iters * 5;
  for (let i = 0; i < total; i++) step();
  gc!();
  const h1 = jsHeap() + externalMem();
  return {
    shape,
    contender,
    iterations: iters,
    bytesPerIter: median(windows),
    bytesPerIterMax: Math.max(...windows),
    retainedPerIter: (h1 - h0) / total,
  };
}

// ------------------------------------------------------------------ 1M node build

interface BuildResult {
  shape: string;
  nodes: number;
  ms: number;
  /** (JS heap growth + the executor's typed-array bytes) / nodes. */
  totalBytesPerNode: number;
  /** JS heap growth / nodes (handles, per-slot arrays). */
  jsHeapBytesPerNode: number;
  /** The executor's typed arrays (node table, edge pool, scheduler) / nodes. */
  typedBytesPerNode: number;
  /** External memory growth / nodes (cross-check for the typed arrays). */
  externalBytesPerNode: number;
  typedBytes: Record<string, number>;
}

function typedArrayBytes(ex: Executor): Record<string, number> {
  return runtimePort(ex).typedArrayBytes();
}

/** One shared cycle function, so the measurement holds only what the runtime keeps per node. */
const buildFn: CycleFn<number> = (self) => {
  self.value = (self.value + 1) & MASK;
  return Control.Broadcast;
};

function buildMillion(kind: "chain" | "fanout", n: number): BuildResult {
  // Warm the builder path so the timing is of steady code, not of the first JIT tier.
  {
    const w = new TestRuntime().executor;
    let p = new NodeBuilder(0).build(w, buildFn);
    for (let i = 0; i < 20000; i++) {
      const c = new NodeBuilder(0).triggeredBy(p).build(w, buildFn);
      if (kind === "chain") p = c;
    }
  }
  gc?.();
  const rt = new TestRuntime();
  const ex = rt.executor;
  gc?.();
  const heap0 = jsHeap(), ext0 = externalMem(), typed0 = typedArrayBytes(ex);
  const t0 = performance.now();
  const src = new NodeBuilder(0).build(ex, buildFn);
  let p = src;
  for (let i = 1; i < n; i++) {
    const c = new NodeBuilder(0).triggeredBy(p).build(ex, buildFn);
    if (kind === "chain") p = c;
  }
  const ms = performance.now() - t0;
  gc?.();
  const heap1 = jsHeap(), ext1 = externalMem(), typed1 = typedArrayBytes(ex);
  if (ex.nodeCount !== n) throw new Error(`Built ${ex.nodeCount} nodes, expected ${n}`);
  // One cycle through the whole graph proves it is usable.
  ex.yieldNow(src);
  ex.cycle(rt.clock);
  if (ex.runCount(src) !== 1) throw new Error("The 1M graph did not run");
  let typedDelta = 0;
  const typedBytes: Record<string, number> = {};
  for (const k of Object.keys(typed1)) {
    typedBytes[k] = typed1[k];
    typedDelta += typed1[k] - typed0[k];
  }
  const jsDelta = heap1 - heap0;
  return {
    shape: kind,
    nodes: n,
    ms,
    totalBytesPerNode: (jsDelta + typedDelta) / n,
    jsHeapBytesPerNode: jsDelta / n,
    typedBytesPerNode: typedDelta / n,
    externalBytesPerNode: (ext1 - ext0) / n,
    typedBytes,
  };
}

// ------------------------------------------------------------------ main

const shapes: Shape[] = [chain(1000), fanOut(1000), diamond(5), mesh(10, 10), sparse(1000, 100)];
const prepared = shapes.map(prepare);

// Empty cycle: a graph exists, nothing is scheduled.
const emptyRt = new TestRuntime();
{
  const a = new NodeBuilder(0).build(emptyRt.executor, buildFn);
  new NodeBuilder(0).triggeredBy(a).build(emptyRt.executor, buildFn);
}
const emptyEx = emptyRt.executor, emptyClock = emptyRt.clock;
const emptyStep = () => {
  emptyEx.cycle(emptyClock);
};

console.log(`wavelet propagation benchmark on ${runtimeName} ${runtimeVersion} (${engineVersion})`);
console.log(`gc exposed: ${gc !== undefined}`);
for (const { shape } of prepared) {
  console.log(
    `  ${shape.label}: ${shape.parents.length} nodes, ${
      runsPerIteration(shape)
    } node runs per iteration`,
  );
}
console.log();

/** Bench name -> (shape, contender). */
const names = new Map<string, { shape: string; contender: Contender | "empty" }>();

for (const { shape, built } of prepared) {
  group(shape.label, () => {
    summary(() => {
      for (const c of CONTENDERS) {
        const name = `${CONTENDER_LABEL[c]} [${shape.key}]`;
        names.set(name, { shape: shape.key, contender: c });
        const b = bench(name, built[c].step);
        if (c === "wavelet") b.baseline(true);
      }
    });
  });
}
group("empty cycle (no stimuli)", () => {
  names.set("wavelet [empty]", { shape: "empty", contender: "empty" });
  bench("wavelet [empty]", emptyStep);
});

// WAVELET_BENCH_FILTER=<regex> times only the matching benchmarks (for quick experiments).
const filterSource: string | undefined = isBun
  ? g.process.env.WAVELET_BENCH_FILTER
  : g.Deno.env.get("WAVELET_BENCH_FILTER");
const result = await run(filterSource ? { filter: new RegExp(filterSource) } : {});

interface Cell {
  p50: number;
  avg: number;
  p99: number;
  heapAvg: number | null;
}
const timings: Record<string, Record<string, Cell>> = {};
for (const trial of result.benchmarks) {
  const r = trial.runs[0];
  const id = names.get(trial.alias);
  if (id === undefined || r.stats === undefined) {
    throw new Error(`Benchmark ${trial.alias} failed: ${String(r.error)}`);
  }
  (timings[id.shape] ??= {})[id.contender] = {
    p50: r.stats.p50,
    avg: r.stats.avg,
    p99: r.stats.p99,
    heapAvg: r.stats.heap?.avg ?? null,
  };
}

// ---- allocation check
console.log("\nAllocation per steady-state iteration (median of 7 windows, gc before each):");
const allocs: AllocResult[] = [];
if (filterSource) {
  console.log("  skipped: WAVELET_BENCH_FILTER is set");
} else if (gc === undefined) {
  console.log("  skipped: no gc exposed (run deno with --v8-flags=--expose-gc)");
} else {
  for (const { shape, built } of prepared) {
    for (const c of CONTENDERS) {
      allocs.push(allocCheck(shape.key, c, built[c].step, shape.allocIters));
    }
  }
  allocs.push(allocCheck("empty", "wavelet", emptyStep, 100000));
  for (const a of allocs) {
    console.log(
      `  ${a.shape.padEnd(8)} ${CONTENDER_LABEL[a.contender].padEnd(15)} ${
        a.bytesPerIter.toFixed(2).padStart(9)
      } B/iter (max window ${a.bytesPerIterMax.toFixed(2)}), retained ${
        a.retainedPerIter.toFixed(2)
      } B/iter over ${a.iterations * 5} iterations`,
    );
  }
}

// ---- 1M node build
console.log("\n1M node build (one shared cycle function, default initial capacity):");
const builds: BuildResult[] = [];
for (const kind of filterSource ? [] : ["chain", "fanout"] as const) {
  const b = buildMillion(kind, 1_000_000);
  builds.push(b);
  console.log(
    `  ${kind.padEnd(7)} ${b.ms.toFixed(0)} ms, ${b.totalBytesPerNode.toFixed(1)} B/node total ` +
      `(JS heap ${b.jsHeapBytesPerNode.toFixed(1)} + typed arrays ${
        b.typedBytesPerNode.toFixed(1)
      }; external growth ${b.externalBytesPerNode.toFixed(1)}) ` +
      JSON.stringify(b.typedBytes),
  );
  gc?.();
}

const json = {
  runtime: runtimeName,
  version: runtimeVersion,
  engine: engineVersion,
  gcExposed: gc !== undefined,
  cpu: result.context.cpu.name,
  shapes: prepared.map(({ shape }) => ({
    key: shape.key,
    label: shape.label,
    nodes: shape.parents.length,
    runsPerIteration: runsPerIteration(shape),
    results: timings[shape.key] ?? {},
  })),
  emptyCycle: timings.empty?.empty ?? null,
  allocation: allocs,
  build: builds,
};
console.log("\nBENCH_JSON_BEGIN");
console.log(JSON.stringify(json, null, 2));
console.log("BENCH_JSON_END");
