/**
 * Reactivity benchmark: the propagation shapes of the js-reactivity-benchmark's "kairo" suite
 * (deep, broad, diamond, triangle, mux, repeated observers, unstable, avoidable propagation),
 * re-implemented for wavelet, alien-signals and @preact/signals-core.
 *
 * Run with `deno run -A bench/reactivity_bench.ts` or `bun run bench/reactivity_bench.ts`
 * (`scripts/bench.sh` runs both and folds the results into `bench/RESULTS.md`).
 *
 * One timed iteration is one "run" of a shape as the kairo suite defines it: a fixed sequence of
 * source updates (for example 50 updates of the head of a 50-deep chain), each followed by the
 * effects it triggers. In wavelet every source update is one executor cycle on a TestRuntime's
 * executor, as in `bench/propagation_bench.ts`: the source's `write` stores the new value, yields
 * the source node and runs `executor.cycle(clock)`; the source broadcasts only if its value changed
 * (a signal's own equality check), every derived node reports a change only if its value changed
 * (a `computed`'s equality check), and a leaf node is the effect.
 *
 * Every contender runs the same node functions, written once against a small adapter
 * (`signal` with `read`/`write`, `computed(parents, fn)`, `effect(parents, fn)`): a computation reads its parents
 * through getters (`() => node.value` in wavelet, `() => s.value` in preact, the signal's own
 * getter in alien-signals, so alien-signals pays no extra call). wavelet's graph is static, so
 * `computed` names its parents; the signal libraries track what the function reads. Each leaf
 * effect stores the value it saw and counts its runs. Before timing, every contender does two
 * runs; the leaf values and the effect run counts must agree exactly across contenders, and the
 * kairo assertions (for example "the tail of the deep chain is the head + 50") must hold.
 *
 * The shapes (sizes as in the kairo suite):
 * - deep: a chain of 50 `+1` nodes on one head; 50 updates per run.
 * - broad: 50 branches `head + i` -> `+1` -> effect; 50 updates per run.
 * - diamond: head -> 5 `+1` nodes -> their sum -> effect; 500 updates per run.
 * - triangle: a chain of 9 `+1` nodes; the sum of the head and all 9 -> effect; 100 updates.
 * - mux: 100 heads -> one node that collects them into a new array -> 100 nodes picking their
 *   element -> 100 `+1` nodes -> 100 effects; 20 updates per run (10 heads set twice).
 * - repeated observers: one node reads the head 30 times and sums; 100 updates.
 * - unstable: `head * 2` and `-head`; a node adds 20 times `head % 2 ? double : inverse`;
 *   100 updates. The signal libraries re-track the branch they read (dynamic dependencies);
 *   wavelet's graph is static, so both branches run on every update.
 * - avoidable: head -> copy -> constant 0 -> (busy loop) +1 -> +2 -> +3 -> effect (busy loop);
 *   the constant stops the propagation, so the busy nodes never run again; 100 updates.
 *
 * At the end a JSON block between `REACTIVITY_JSON_BEGIN` and `REACTIVITY_JSON_END`, which
 * `scripts/bench_report.ts` reads.
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
  signal as preactSignal,
} from "@preact/signals-core";
import { Control, type Node, NodeBuilder, TestRuntime } from "../mod.ts";
import { engineVersion, isBun, runtimeName, runtimeVersion } from "./_common.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

// ------------------------------------------------------------------ the adapter

/** A readable cell: its getter. */
type Read<T> = () => T;

/** A writable source: `write` is one source update, with all the propagation it causes. */
interface Source<T> {
  read: Read<T>;
  write: (value: T) => void;
}

/** What a shape needs from a contender. */
interface Framework {
  signal<T>(initial: T): Source<T>;
  computed<T>(parents: Read<unknown>[], fn: () => T): Read<T>;
  /** A leaf: runs `fn` now and whenever a parent changes. */
  effect(parents: Read<unknown>[], fn: () => void): void;
  /** Graph nodes built (wavelet only; 0 elsewhere). */
  nodeCount(): number;
}

// ---- wavelet: one update = one executor cycle

function waveletFramework(): Framework {
  const rt = new TestRuntime();
  const ex = rt.executor, clock = rt.clock;
  /** The node behind each getter, so `computed` can name its parents. */
  const nodeOf = new Map<Read<unknown>, Node<unknown>>();
  const parentNodes = (ps: Read<unknown>[]) =>
    ps.map((p) => {
      const n = nodeOf.get(p);
      if (n === undefined) throw new Error("A parent is not a wavelet cell");
      return n;
    });
  return {
    signal<T>(initial: T): Source<T> {
      /** The pending value, stored by `write` before the cycle. */
      let pending = initial;
      const node = new NodeBuilder<T>(initial).build(ex, (self) => {
        if (pending === self.value) return Control.Unchanged;
        self.value = pending;
        return Control.Broadcast;
      });
      const read = () => node.value;
      nodeOf.set(read, node as Node<unknown>);
      return {
        read,
        write: (v: T) => {
          pending = v;
          ex.yieldNow(node);
          ex.cycle(clock);
        },
      };
    },
    computed<T>(parents: Read<unknown>[], fn: () => T): Read<T> {
      const node = new NodeBuilder<T>(fn())
        .triggeredBy(...parentNodes(parents))
        .build(ex, (self) => {
          const v = fn();
          if (v === self.value) return Control.Unchanged;
          self.value = v;
          return Control.Broadcast;
        });
      const read = () => node.value;
      nodeOf.set(read, node as Node<unknown>);
      return read;
    },
    effect(parents: Read<unknown>[], fn: () => void): void {
      fn();
      new NodeBuilder(0).triggeredBy(...parentNodes(parents)).build(ex, () => {
        fn();
        return Control.Unchanged;
      });
    },
    nodeCount: () => ex.nodeCount,
  };
}

// ---- alien-signals

function alienFramework(): Framework {
  return {
    signal<T>(initial: T): Source<T> {
      const s = alienSignal(initial);
      return { read: s as () => T, write: s as (v: T) => void };
    },
    computed<T>(_parents: Read<unknown>[], fn: () => T): Read<T> {
      return alienComputed(fn);
    },
    effect(_parents: Read<unknown>[], fn: () => void): void {
      alienEffect(fn);
    },
    nodeCount: () => 0,
  };
}

// ---- @preact/signals-core

function preactFramework(): Framework {
  return {
    signal<T>(initial: T): Source<T> {
      const s = preactSignal(initial);
      return {
        read: () => s.value,
        write: (v: T) => {
          s.value = v;
        },
      };
    },
    computed<T>(_parents: Read<unknown>[], fn: () => T): Read<T> {
      const c = preactComputed(fn);
      return () => c.value;
    },
    effect(_parents: Read<unknown>[], fn: () => void): void {
      preactEffect(fn);
    },
    nodeCount: () => 0,
  };
}

// ------------------------------------------------------------------ the shapes

/** A leaf's record: the last value its effect saw and how many times it ran. */
interface Leaf {
  value: unknown;
  runs: number;
}

/** A built shape: `run` is one timed iteration; `check` throws if a kairo assertion fails. */
interface Built {
  run: () => void;
  leaves: Leaf[];
  check: () => void;
  nodes: number;
}

interface ShapeDef {
  key: string;
  label: string;
  /** Source updates per run. */
  updates: number;
  build: (fw: Framework) => Built;
}

function leafEffect(fw: Framework, parent: Read<unknown>, leaves: Leaf[]): Leaf {
  const leaf: Leaf = { value: undefined, runs: 0 };
  leaves.push(leaf);
  fw.effect([parent], () => {
    leaf.value = parent();
    leaf.runs++;
  });
  return leaf;
}

function assert(ok: boolean, what: string): void {
  if (!ok) throw new Error(`Check failed: ${what}`);
}

const SHAPES: ShapeDef[] = [
  {
    key: "deep",
    label: "deep propagation (chain of 50)",
    updates: 50,
    build(fw) {
      const len = 50;
      const head = fw.signal(0);
      let cur: Read<number> = head.read;
      for (let i = 0; i < len; i++) {
        const prev = cur;
        cur = fw.computed([prev], () => prev() + 1);
      }
      const leaves: Leaf[] = [];
      const tail = leafEffect(fw, cur, leaves);
      return {
        run: () => {
          for (let i = 0; i < 50; i++) head.write(i);
        },
        leaves,
        check: () => assert(tail.value === 49 + len, `deep tail ${tail.value}`),
        nodes: fw.nodeCount(),
      };
    },
  },
  {
    key: "broad",
    label: "broad propagation (50 branches)",
    updates: 50,
    build(fw) {
      const head = fw.signal(0);
      const leaves: Leaf[] = [];
      for (let i = 0; i < 50; i++) {
        const a = fw.computed([head.read], () => head.read() + i);
        const b = fw.computed([a], () => a() + 1);
        leafEffect(fw, b, leaves);
      }
      return {
        run: () => {
          for (let i = 0; i < 50; i++) head.write(i);
        },
        leaves,
        check: () => assert(leaves[49].value === 49 + 49 + 1, `broad last ${leaves[49].value}`),
        nodes: fw.nodeCount(),
      };
    },
  },
  {
    key: "diamond",
    label: "diamond (width 5)",
    updates: 500,
    build(fw) {
      const width = 5;
      const head = fw.signal(0);
      const mids: Read<number>[] = [];
      for (let i = 0; i < width; i++) mids.push(fw.computed([head.read], () => head.read() + 1));
      const sum = fw.computed(mids, () => {
        let s = 0;
        for (let i = 0; i < mids.length; i++) s += mids[i]();
        return s;
      });
      const leaves: Leaf[] = [];
      const out = leafEffect(fw, sum, leaves);
      return {
        run: () => {
          for (let i = 0; i < 500; i++) head.write(i);
        },
        leaves,
        check: () => assert(out.value === (499 + 1) * width, `diamond sum ${out.value}`),
        nodes: fw.nodeCount(),
      };
    },
  },
  {
    key: "triangle",
    label: "triangle (width 10)",
    updates: 100,
    build(fw) {
      const width = 10;
      const head = fw.signal(0);
      const list: Read<number>[] = [head.read];
      let cur: Read<number> = head.read;
      for (let i = 1; i < width; i++) {
        const prev = cur;
        cur = fw.computed([prev], () => prev() + 1);
        list.push(cur);
      }
      const sum = fw.computed(list, () => {
        let s = 0;
        for (let i = 0; i < list.length; i++) s += list[i]();
        return s;
      });
      const leaves: Leaf[] = [];
      const out = leafEffect(fw, sum, leaves);
      return {
        run: () => {
          for (let i = 0; i < 100; i++) head.write(i);
        },
        leaves,
        check: () =>
          assert(out.value === 99 * width + (width * (width - 1)) / 2, `triangle ${out.value}`),
        nodes: fw.nodeCount(),
      };
    },
  },
  {
    key: "mux",
    label: "mux (100 heads)",
    updates: 20,
    build(fw) {
      const heads: Source<number>[] = [];
      for (let i = 0; i < 100; i++) heads.push(fw.signal(0));
      const reads = heads.map((h) => h.read);
      // A new array on every change, as the kairo mux builds a new object.
      const mux = fw.computed(reads, () => reads.map((r) => r()));
      const leaves: Leaf[] = [];
      const outs: Read<number>[] = [];
      for (let i = 0; i < heads.length; i++) {
        const pick = fw.computed([mux], () => mux()[i]);
        const out = fw.computed([pick], () => pick() + 1);
        outs.push(out);
        leafEffect(fw, out, leaves);
      }
      return {
        run: () => {
          for (let i = 0; i < 10; i++) heads[i].write(i);
          for (let i = 0; i < 10; i++) heads[i].write(i * 2);
        },
        leaves,
        check: () => {
          for (let i = 0; i < 10; i++) assert(outs[i]() === i * 2 + 1, `mux out ${i}`);
        },
        nodes: fw.nodeCount(),
      };
    },
  },
  {
    key: "repeated",
    label: "repeated observers (30 reads)",
    updates: 100,
    build(fw) {
      const size = 30;
      const head = fw.signal(0);
      const cur = fw.computed([head.read], () => {
        let r = 0;
        for (let i = 0; i < size; i++) r += head.read();
        return r;
      });
      const leaves: Leaf[] = [];
      const out = leafEffect(fw, cur, leaves);
      return {
        run: () => {
          for (let i = 0; i < 100; i++) head.write(i);
        },
        leaves,
        check: () => assert(out.value === 99 * size, `repeated ${out.value}`),
        nodes: fw.nodeCount(),
      };
    },
  },
  {
    key: "unstable",
    label: "unstable (dynamic branch)",
    updates: 100,
    build(fw) {
      const head = fw.signal(0);
      const double = fw.computed([head.read], () => head.read() * 2);
      const inverse = fw.computed([head.read], () => -head.read());
      const cur = fw.computed([head.read, double, inverse], () => {
        let r = 0;
        for (let i = 0; i < 20; i++) r += head.read() % 2 ? double() : inverse();
        return r;
      });
      const leaves: Leaf[] = [];
      const out = leafEffect(fw, cur, leaves);
      return {
        run: () => {
          for (let i = 0; i < 100; i++) head.write(i);
        },
        leaves,
        check: () => assert(out.value === 20 * 99 * 2, `unstable ${out.value}`),
        nodes: fw.nodeCount(),
      };
    },
  },
  {
    key: "avoidable",
    label: "avoidable propagation",
    updates: 100,
    build(fw) {
      const busy = () => {
        let a = 0;
        for (let i = 0; i < 100; i++) a = (a + i) | 0;
        return a;
      };
      const head = fw.signal(0);
      const c1 = fw.computed([head.read], () => head.read());
      const c2 = fw.computed([c1], () => (c1(), 0));
      const c3 = fw.computed([c2], () => (busy(), c2() + 1));
      const c4 = fw.computed([c3], () => c3() + 2);
      const c5 = fw.computed([c4], () => c4() + 3);
      const leaves: Leaf[] = [];
      const leaf: Leaf = { value: undefined, runs: 0 };
      leaves.push(leaf);
      fw.effect([c5], () => {
        leaf.value = c5() + busy();
        leaf.runs++;
      });
      return {
        run: () => {
          for (let i = 0; i < 100; i++) head.write(i);
        },
        leaves,
        check: () => {
          assert(c1() === 99, `avoidable c1 ${c1()}`);
          assert(leaf.value === 6 + busy(), `avoidable leaf ${leaf.value}`);
          assert(leaf.runs === 1, `avoidable effect ran ${leaf.runs} times`);
        },
        nodes: fw.nodeCount(),
      };
    },
  },
];

// ------------------------------------------------------------------ verification

const CONTENDERS = ["wavelet", "alien", "preact"] as const;
type Contender = typeof CONTENDERS[number];
const LABEL: Record<Contender, string> = {
  wavelet: "wavelet",
  alien: "alien-signals",
  preact: "preact-signals",
};
const FRAMEWORK: Record<Contender, () => Framework> = {
  wavelet: waveletFramework,
  alien: alienFramework,
  preact: preactFramework,
};

interface Prepared {
  shape: ShapeDef;
  built: Record<Contender, Built>;
}

function snapshot(b: Built): string {
  return JSON.stringify(b.leaves.map((l) => [l.value, l.runs]));
}

function prepare(shape: ShapeDef): Prepared {
  const built = {} as Record<Contender, Built>;
  for (const c of CONTENDERS) built[c] = shape.build(FRAMEWORK[c]());
  const initial = snapshot(built.wavelet);
  for (const c of CONTENDERS) {
    if (snapshot(built[c]) !== initial) {
      throw new Error(`${shape.label}: ${c} starts with different leaves than wavelet`);
    }
  }
  for (let r = 0; r < 2; r++) {
    for (const c of CONTENDERS) {
      built[c].run();
      built[c].check();
    }
    const ref = snapshot(built.wavelet);
    for (const c of CONTENDERS) {
      const got = snapshot(built[c]);
      if (got !== ref) {
        throw new Error(
          `${shape.label}: contenders disagree after run ${r + 1}: wavelet ${
            ref.slice(0, 120)
          } vs ${c} ${got.slice(0, 120)}`,
        );
      }
    }
  }
  return { shape, built };
}

// ------------------------------------------------------------------ main

const prepared = SHAPES.map(prepare);

console.log(
  `wavelet reactivity benchmark (kairo shapes) on ${runtimeName} ${runtimeVersion} (${engineVersion})`,
);
for (const { shape, built } of prepared) {
  const runs = built.wavelet.leaves.reduce((a, l) => a + l.runs, 0);
  console.log(
    `  ${shape.label}: ${built.wavelet.nodes} wavelet nodes, ${shape.updates} updates per run, ` +
      `leaves agree (${built.wavelet.leaves.length} leaves, ${runs} effect runs so far)`,
  );
}
console.log();

const names = new Map<string, { shape: string; contender: Contender }>();
for (const { shape, built } of prepared) {
  group(shape.label, () => {
    summary(() => {
      for (const c of CONTENDERS) {
        const name = `${LABEL[c]} [${shape.key}]`;
        names.set(name, { shape: shape.key, contender: c });
        const b = bench(name, built[c].run);
        if (c === "wavelet") b.baseline(true);
      }
    });
  });
}

const filterSource: string | undefined = isBun
  ? g.process.env.WAVELET_BENCH_FILTER
  : g.Deno.env.get("WAVELET_BENCH_FILTER");
const result = await run(filterSource ? { filter: new RegExp(filterSource) } : {});

interface Cell {
  p50: number;
  avg: number;
  p99: number;
}
const timings: Record<string, Partial<Record<Contender, Cell>>> = {};
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
  };
}

// A last agreement check after all the timed runs (every contender ran many more runs).
for (const { built } of prepared) {
  for (const c of CONTENDERS) built[c].check();
}

const json = {
  runtime: runtimeName,
  version: runtimeVersion,
  engine: engineVersion,
  cpu: result.context.cpu.name,
  shapes: prepared.map(({ shape, built }) => ({
    key: shape.key,
    label: shape.label,
    nodes: built.wavelet.nodes,
    updatesPerRun: shape.updates,
    results: timings[shape.key] ?? {},
  })),
};
console.log("\nREACTIVITY_JSON_BEGIN");
console.log(JSON.stringify(json, null, 2));
console.log("REACTIVITY_JSON_END");
