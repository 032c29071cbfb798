/**
 * Property tests of the executor's cycle (fast-check): random DAGs with Trigger and Observe
 * edges, random per-node behaviour scripts (broadcast, unchanged, sweep, throw, terminate,
 * yields, timers, `scheduleNode`, removals, spawned subgraphs, timer cancellation) and random
 * operations and clock advances between cycles, run on a `TestRuntime`.
 *
 * Every property runs the generated program on the real executor through a recording harness.
 * Most checks are model-free (they only use what the harness recorded); the others compare with
 * the reference model in `properties_model.ts`.
 *
 * @module
 */

import fc from "fast-check";
import {
  Control,
  type ExecutionContext,
  type Node,
  NodeBuilder,
  Relationship,
  TestRuntime,
  type TimerHandle,
} from "../mod.ts";
import { assert, assertEquals, test } from "./_harness.ts";
import {
  type Action,
  type CycleInput,
  emptyTrace,
  type ExtOp,
  mergeParents,
  type Program,
  type Ret,
  simulate,
  type Spec,
  type Step,
  type Trace,
} from "./properties_model.ts";

const NUM_RUNS = 500;

// ------------------------------------------------------------------ generators

interface GenCfg {
  /** Percentage of parent edges that are Observe edges. */
  obsPct: number;
  /** How many parents a node names (picked among the live nodes, with repeats). */
  parents: { min: number; max: number };
  /** Parent picks index the live nodes (by id) modulo their number; this bounds the index. */
  parentPickMax: number;
  /** Weights of the return values. */
  rets: Record<Ret, number>;
  /** Weights of the actions. */
  acts: {
    yieldSelf: number;
    yield: number;
    timerSelf: number;
    timer: number;
    sched: number;
    /** `scheduleNode` on a node of the runner's own depth. */
    schedSame: number;
    remove: number;
    spawn: number;
    cancel: number;
  };
  initYieldPct: number;
  initTimerPct: number;
  initThrowPct: number;
  extOps: { yield: number; timer: number; remove: number; build: number };
}

const BASE: GenCfg = {
  obsPct: 35,
  parents: { min: 0, max: 3 },
  parentPickMax: 999,
  rets: { B: 55, U: 25, S: 6, X: 4, T: 3 },
  acts: {
    yieldSelf: 8,
    yield: 3,
    timerSelf: 3,
    timer: 2,
    sched: 2,
    schedSame: 2,
    remove: 1,
    spawn: 2,
    cancel: 1,
  },
  initYieldPct: 70,
  initTimerPct: 30,
  initThrowPct: 3,
  extOps: { yield: 3, timer: 2, remove: 1, build: 2 },
};

/** Mostly Observe edges. */
const OBSERVE_HEAVY: GenCfg = { ...BASE, obsPct: 75 };

/** Lots of removal: sweeps, throws, removes, init failures. */
const REMOVAL_HEAVY: GenCfg = {
  ...BASE,
  rets: { B: 50, U: 20, S: 12, X: 8, T: 2 },
  acts: { ...BASE.acts, remove: 3, spawn: 3 },
  initThrowPct: 8,
  extOps: { yield: 3, timer: 2, remove: 3, build: 3 },
};

/**
 * Slot reuse with stale stimuli: nodes yield and arm timers (for themselves and others), then
 * sweep or throw, while spawns refill the freed slots in the same cycle.
 */
const REUSE_HEAVY: GenCfg = {
  ...BASE,
  rets: { B: 40, U: 20, S: 20, X: 10, T: 2 },
  acts: {
    yieldSelf: 8,
    yield: 5,
    timerSelf: 4,
    timer: 3,
    sched: 1,
    schedSame: 1,
    remove: 3,
    spawn: 6,
    cancel: 1,
  },
  initYieldPct: 80,
  initThrowPct: 10,
  extOps: { yield: 4, timer: 3, remove: 3, build: 4 },
};

/**
 * Wide, shallow graphs: every node hangs under one of the oldest live nodes, so broadcasts fan
 * out to many same-depth Trigger children, which schedule same-depth peers and sometimes throw.
 */
const FAN_OUT: GenCfg = {
  ...BASE,
  obsPct: 25,
  parents: { min: 1, max: 1 },
  parentPickMax: 3,
  rets: { B: 55, U: 20, S: 3, X: 12, T: 2 },
  acts: { ...BASE.acts, yieldSelf: 3, yield: 1, sched: 1, schedSame: 8 },
};

const pct = (n: number): fc.Arbitrary<boolean> => fc.integer({ min: 0, max: 99 }).map((x) => x < n);
const pickR = fc.nat({ max: 999 });
const offset = fc.integer({ min: 0, max: 25 });

function weighted<T>(opts: [number, fc.Arbitrary<T>][]): fc.Arbitrary<T> {
  return fc.oneof(
    ...opts.filter(([w]) => w > 0).map(([weight, arbitrary]) => ({ weight, arbitrary })),
  );
}

function actionArb(cfg: GenCfg): fc.Arbitrary<Action> {
  const w = cfg.acts;
  return weighted<Action>([
    [w.yieldSelf, fc.constant<Action>({ k: "yield", self: true, r: 0 })],
    [w.yield, pickR.map((r): Action => ({ k: "yield", self: false, r }))],
    [w.timerSelf, offset.map((off): Action => ({ k: "timer", self: true, r: 0, off }))],
    [
      w.timer,
      fc.tuple(pickR, offset).map(([r, off]): Action => ({ k: "timer", self: false, r, off })),
    ],
    [w.sched, pickR.map((r): Action => ({ k: "sched", r, same: false }))],
    [w.schedSame, pickR.map((r): Action => ({ k: "sched", r, same: true }))],
    [w.remove, pickR.map((r): Action => ({ k: "remove", r }))],
    [w.spawn, fc.integer({ min: 1, max: 3 }).map((n): Action => ({ k: "spawn", n }))],
    [w.cancel, fc.constant<Action>({ k: "cancel" })],
  ]);
}

function stepArb(cfg: GenCfg): fc.Arbitrary<Step> {
  const r = cfg.rets;
  const ret = weighted<Ret>([
    [r.B, fc.constant<Ret>("B")],
    [r.U, fc.constant<Ret>("U")],
    [r.S, fc.constant<Ret>("S")],
    [r.X, fc.constant<Ret>("X")],
    [r.T, fc.constant<Ret>("T")],
  ]);
  return fc.record({ acts: fc.array(actionArb(cfg), { maxLength: 3 }), ret });
}

function specArb(cfg: GenCfg): fc.Arbitrary<Spec> {
  return fc.record({
    parents: fc.array(
      fc.record({ r: fc.nat({ max: cfg.parentPickMax }), obs: pct(cfg.obsPct) }),
      { minLength: cfg.parents.min, maxLength: cfg.parents.max },
    ),
    initYield: pct(cfg.initYieldPct),
    initTimer: fc.tuple(pct(cfg.initTimerPct), offset).map(([b, o]) => (b ? o : null)),
    initThrow: pct(cfg.initThrowPct),
    script: fc.array(stepArb(cfg), { minLength: 1, maxLength: 4 }),
  });
}

function cycleArb(cfg: GenCfg): fc.Arbitrary<CycleInput> {
  const e = cfg.extOps;
  const op = weighted<ExtOp>([
    [e.yield, pickR.map((r): ExtOp => ({ k: "yield", r }))],
    [e.timer, fc.tuple(pickR, offset).map(([r, off]): ExtOp => ({ k: "timer", r, off }))],
    [e.remove, pickR.map((r): ExtOp => ({ k: "remove", r }))],
    [e.build, fc.integer({ min: 1, max: 3 }).map((n): ExtOp => ({ k: "build", n }))],
  ]);
  return fc.record({
    dt: fc.constantFrom(0, 0, 1, 2, 3, 5, 10, 20),
    ops: fc.array(op, { maxLength: 3 }),
  });
}

function programArb(cfg: GenCfg): fc.Arbitrary<Program> {
  return fc.record({
    specs: fc.array(specArb(cfg), { minLength: 8, maxLength: 30 }),
    initial: fc.integer({ min: 5, max: 15 }),
    cycles: fc.array(cycleArb(cfg), { minLength: 5, maxLength: 20 }),
    maxLive: fc.constant(30),
  });
}

/**
 * Fan-out programs: one root that yields itself and broadcasts every cycle (the only stimulus),
 * under it several same-depth Trigger children and Observe "peers" at the same depth (plus a
 * few grandchildren). The children schedule same-depth peers, throw, sweep and terminate. This
 * shape exercises the drain loop's direct run of same-depth Trigger siblings.
 */
function fanOutArb(): fc.Arbitrary<Program> {
  const root: Spec = {
    parents: [],
    initYield: true,
    initTimer: null,
    initThrow: false,
    script: [{ acts: [{ k: "yield", self: true, r: 0 }], ret: "B" }],
  };
  const act = weighted<Action>([
    [8, pickR.map((r): Action => ({ k: "sched", r, same: true }))],
    [1, pickR.map((r): Action => ({ k: "sched", r, same: false }))],
    [1, fc.tuple(pickR, offset).map(([r, off]): Action => ({ k: "timer", self: false, r, off }))],
    [1, pickR.map((r): Action => ({ k: "remove", r }))],
  ]);
  const ret = weighted<Ret>([
    [50, fc.constant<Ret>("B")],
    [25, fc.constant<Ret>("U")],
    [12, fc.constant<Ret>("X")],
    [3, fc.constant<Ret>("S")],
    [2, fc.constant<Ret>("T")],
  ]);
  const child: fc.Arbitrary<Spec> = fc.record({
    parents: fc.tuple(weighted([[7, fc.constant(0)], [3, fc.nat({ max: 5 })]]), pct(30))
      .map(([r, obs]) => [{ r, obs }]),
    initYield: fc.constant(false),
    initTimer: fc.constant(null),
    initThrow: fc.constant(false),
    script: fc.array(fc.record({ acts: fc.array(act, { maxLength: 2 }), ret }), {
      minLength: 1,
      maxLength: 4,
    }),
  });
  return fc.tuple(
    fc.array(child, { minLength: 3, maxLength: 12 }),
    fc.array(
      fc.record<CycleInput>({ dt: fc.constantFrom(0, 1, 5), ops: fc.constant<ExtOp[]>([]) }),
      {
        minLength: 5,
        maxLength: 15,
      },
    ),
  ).map(([children, cycles]) => ({
    specs: [root, ...children],
    initial: children.length + 1,
    cycles,
    maxLive: 30,
  }));
}

// ------------------------------------------------------------ recording harness

interface RealRun {
  cycle: number;
  id: number;
  ret: Ret;
  depth: number;
  /** The handle received is the node's own live handle, ctx.current is it, ctx.epoch is right. */
  ok: boolean;
}

interface TimerRec {
  id: number;
  deadline: number;
  /** `executor.epoch` at registration: the timer can fire from cycle epoch + 1 on. */
  epoch: number;
  cancelled: boolean;
}

/** What the harness recorded while running a program on the real executor. */
interface Real {
  trace: Trace;
  runs: RealRun[];
  parents: { id: number; obs: boolean }[][];
  /** `executor.epoch` when the node was built. */
  createdEpoch: number[];
  slots: number[];
  /** Yields as "id:cycle" (the cycle they are for). */
  yields: Set<string>;
  yieldLog: { id: number; forCycle: number }[];
  timerRecs: TimerRec[];
  /** Clock time of each cycle (index = cycle). */
  nowAt: number[];
  scheds: { id: number; cycle: number; pos: number }[];
  /** remove() calls on live nodes made while nodes ran. */
  removes: { id: number; cycle: number; pos: number }[];
  terminatedAt: Map<number, number>;
  /**
   * Windows: 2c-1 is "before cycle c" (operations between cycles), 2c is cycle c. Roots are the
   * nodes whose own removal (sweep, throw, remove, init failure) was requested in the window;
   * `snaps[w]` is `isAlive` per id at the end of window w.
   */
  roots: Map<number, number[]>;
  snaps: boolean[][];
  dropsEnd: number[][];
  /** Every onDrop saw `isAlive === false`. */
  dropSawDead: boolean;
  /** Every external remove() left the node and its descendants dead at once. */
  extRemoveOk: boolean;
  /** Every onError report named the failing node's own handle. */
  errorNodeOk: boolean;
  nodeRuns: number;
  slotReuse: number;
  /** Builds into a slot whose previous occupant had a yield pending for the next cycle. */
  staleYieldReuse: number;
}

function childrenOf(R: Real, id: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < R.parents.length; c++) {
    if (R.parents[c].some((p) => p.id === id)) out.push(c);
  }
  return out;
}

/** `id` and all its descendants (over every edge ever built). */
function closure(R: Real, ids: number[]): Set<number> {
  const out = new Set<number>();
  const stack = [...ids];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (out.has(x)) continue;
    out.add(x);
    stack.push(...childrenOf(R, x));
  }
  return out;
}

function runReal(p: Program): Real {
  const rt = new TestRuntime();
  const ex = rt.executor;
  const R: Real = {
    trace: emptyTrace(),
    runs: [],
    parents: [],
    createdEpoch: [],
    slots: [],
    yields: new Set(),
    yieldLog: [],
    timerRecs: [],
    nowAt: [0],
    scheds: [],
    removes: [],
    terminatedAt: new Map(),
    roots: new Map(),
    snaps: [[]],
    dropsEnd: [[]],
    dropSawDead: true,
    extRemoveOk: true,
    errorNodeOk: true,
    nodeRuns: 0,
    slotReuse: 0,
    staleYieldReuse: 0,
  };
  const handles: Node<number>[] = [];
  const runCount: number[] = [];
  const drops: number[] = [];
  const lastHandle: (TimerHandle | undefined)[] = [];
  const timerByHandle = new Map<TimerHandle, TimerRec>();
  const freedSlots = new Set<number>();
  let specCursor = 0;
  let cycle = 0;
  let window = 1;

  ex.onError = (err, report) => {
    // Never throws: a broken report is recorded, not raised.
    const node = report.node;
    const id = node instanceof Object && typeof node.id === "number" ? node.id : -1;
    if (id < 0 || handles[id] !== node) R.errorNodeOk = false;
    if (!(err instanceof Error) || !err.message.endsWith(` ${id}`)) R.errorNodeOk = false;
    R.trace.errors.push(`${report.phase}:${id}`);
  };

  const root = (id: number) => {
    let list = R.roots.get(window);
    if (list === undefined) R.roots.set(window, list = []);
    list.push(id);
  };
  const logYield = (id: number) => {
    const forCycle = ex.epoch + 1;
    R.yields.add(`${id}:${forCycle}`);
    R.yieldLog.push({ id, forCycle });
  };
  const logTimer = (owner: number | null, id: number, handle: TimerHandle, deadline: number) => {
    const rec: TimerRec = { id, deadline, epoch: ex.epoch, cancelled: false };
    R.timerRecs.push(rec);
    timerByHandle.set(handle, rec);
    if (owner !== null) lastHandle[owner] = handle;
  };
  const pick = (r: number) => handles[r % handles.length];
  const pickAtDepth = (r: number, depth: number) => {
    const same = handles.filter((h) => h.depth === depth);
    return same[r % same.length];
  };

  const makeFn = (id: number, spec: Spec) => (self: Node<number>, ctx: ExecutionContext) => {
    const k = runCount[id]++;
    const step = spec.script[k % spec.script.length];
    const pos = R.runs.length;
    R.runs.push({
      cycle,
      id,
      ret: step.ret,
      depth: self.depth,
      ok: self === handles[id] && self.isAlive && ctx.current === self && ctx.epoch === cycle,
    });
    R.trace.runs.push(`${cycle}:${id}`);
    self.value++;
    for (const a of step.acts) {
      if (a.k === "yield") {
        const t = a.self ? self : pick(a.r);
        if (t.isAlive) {
          if (a.self) ctx.yieldNow();
          else ctx.yieldNow(t);
          logYield(t.id);
        }
      } else if (a.k === "timer") {
        const t = a.self ? self : pick(a.r);
        if (t.isAlive) {
          const deadline = ctx.time.monotonicNs + a.off;
          logTimer(id, t.id, ctx.registerTimer(t, deadline), deadline);
        }
      } else if (a.k === "sched") {
        const t = a.same ? pickAtDepth(a.r, self.depth) : pick(a.r);
        if (t.isAlive && t.depth >= self.depth) {
          ctx.scheduleNode(t);
          R.scheds.push({ id: t.id, cycle, pos });
        }
      } else if (a.k === "remove") {
        const t = pick(a.r);
        if (t.isAlive) {
          R.removes.push({ id: t.id, cycle, pos });
          root(t.id);
        }
        if (a.r % 2 === 0) t.remove();
        else ctx.executor.remove(t);
      } else if (a.k === "spawn") {
        ctx.spawnSubgraph((e) => {
          for (let i = 0; i < a.n; i++) if (e.nodeCount < p.maxLive) build();
        });
      } else {
        const h = lastHandle[id];
        if (h !== undefined) {
          const ok = ctx.cancelTimer(h);
          R.trace.cancels.push(ok);
          if (ok) timerByHandle.get(h)!.cancelled = true;
        }
      }
    }
    switch (step.ret) {
      case "B":
        return k % 2 === 0 ? Control.Broadcast : true;
      case "U":
        return k % 2 === 0 ? Control.Unchanged : false;
      case "S":
        root(id);
        return Control.Sweep;
      case "X":
        root(id);
        throw new Error(`boom ${id}`);
      case "T":
        R.terminatedAt.set(cycle, pos);
        return Control.Terminate;
    }
  };

  const build = () => {
    const spec = p.specs[specCursor++ % p.specs.length];
    const live = handles.filter((h) => h.isAlive);
    const id = handles.length;
    const b = new NodeBuilder<number>(0).named(`n${id}`);
    const picks: { id: number; obs: boolean }[] = [];
    if (live.length > 0) {
      for (const pp of spec.parents) {
        const h = live[pp.r % live.length];
        picks.push({ id: h.id, obs: pp.obs });
        b.addRelationship(h, pp.obs ? Relationship.Observe : Relationship.Trigger);
      }
    }
    R.parents[id] = mergeParents(picks);
    R.createdEpoch[id] = ex.epoch;
    runCount[id] = 0;
    drops[id] = 0;
    b.onInit((e, self) => {
      handles[id] = self;
      if (spec.initYield) {
        e.yieldNow(self);
        logYield(id);
      }
      if (spec.initTimer !== null) {
        const deadline = rt.clock.nowNs() + spec.initTimer;
        logTimer(id, id, e.registerTimer(self, deadline), deadline);
      }
      if (spec.initThrow) {
        root(id);
        throw new Error(`init ${id}`);
      }
    });
    b.onDrop((self) => {
      drops[id]++;
      if (self.isAlive) R.dropSawDead = false;
      freedSlots.add(self._slot);
    });
    const node = b.build(ex, makeFn(id, spec));
    assert(node.id === id && handles[id] === node, `node ${id}: unexpected id ${node.id}`);
    const slot = node._slot;
    R.slots[id] = slot;
    if (freedSlots.has(slot)) {
      R.slotReuse++;
      const forCycle = ex.epoch + 1;
      if (
        R.yieldLog.some((y) => y.forCycle === forCycle && y.id !== id && R.slots[y.id] === slot)
      ) {
        R.staleYieldReuse++;
      }
    }
    R.trace.depths.push(node.depth);
    R.trace.parents.push(
      node.isAlive
        ? ex.parentsOf(node).map((q) =>
          (q.relationship === Relationship.Observe ? "O" : "T") + q.node.id
        ).join(",")
        : R.parents[id].map((q) => (q.obs ? "O" : "T") + q.id).join(","),
    );
  };

  for (let i = 0; i < p.initial; i++) build();

  for (let ci = 0; ci < p.cycles.length; ci++) {
    const input = p.cycles[ci];
    const c = ci + 1;
    window = 2 * c - 1;
    rt.advanceClock(input.dt);
    for (const op of input.ops) {
      if (op.k === "build") {
        for (let i = 0; i < op.n; i++) if (ex.nodeCount < p.maxLive) build();
        continue;
      }
      if (handles.length === 0) continue;
      const t = pick(op.r);
      if (op.k === "yield") {
        if (t.isAlive) {
          ex.yieldNow(t);
          logYield(t.id);
        }
      } else if (op.k === "timer") {
        if (t.isAlive) {
          const deadline = rt.clock.nowNs() + op.off;
          logTimer(null, t.id, ex.registerTimer(t, deadline), deadline);
        }
      } else {
        if (t.isAlive) root(t.id);
        t.remove();
        for (const d of closure(R, [t.id])) {
          if (handles[d].isAlive) R.extRemoveOk = false;
        }
      }
    }
    R.snaps[window] = handles.map((h) => h.isAlive);
    R.dropsEnd[window] = drops.slice();

    window = 2 * c;
    cycle = c;
    R.nowAt[c] = rt.clock.nowNs();
    R.trace.states.push(rt.runOneCycle());
    const live = handles.filter((h) => h.isAlive).map((h) => h.id);
    R.trace.alive.push(live.join(","));
    R.trace.nodeCount.push(ex.nodeCount);
    R.trace.timers.push(ex.stats().pendingTimers);
    R.trace.mutated.push(handles.filter((h) => ex.hasMutated(h)).map((h) => h.id).join(","));
    R.snaps[window] = handles.map((h) => h.isAlive);
    R.dropsEnd[window] = drops.slice();
  }
  R.trace.drops = drops.slice();
  R.nodeRuns = ex.stats().nodeRuns;
  return R;
}

// ------------------------------------------------------------------ checks

function runKey(cycle: number, id: number): string {
  return `${cycle}:${id}`;
}

/** Position of each (cycle, id) run (the last one if a node ran twice). */
function positions(R: Real): Map<string, number> {
  const m = new Map<string, number>();
  R.runs.forEach((r, i) => m.set(runKey(r.cycle, r.id), i));
  return m;
}

/**
 * The cycle in which each timer is due: the first cycle after its registration whose clock time
 * is at or after its deadline. Cancelled timers are left out unless `withCancelled`.
 */
function timerDue(R: Real, withCancelled: boolean): { id: number; cycle: number }[] {
  const out: { id: number; cycle: number }[] = [];
  for (const t of R.timerRecs) {
    if (t.cancelled && !withCancelled) continue;
    for (let c = t.epoch + 1; c < R.nowAt.length; c++) {
      if (R.nowAt[c] >= t.deadline) {
        out.push({ id: t.id, cycle: c });
        break;
      }
    }
  }
  return out;
}

/**
 * Runs that no recorded cause explains. A run of node n in cycle c at position q is explained
 * by a yield of n for cycle c, a timer of n whose first due cycle is c (and that was not
 * cancelled), a `scheduleNode(n)` earlier in cycle c, or a *Trigger* parent of n that
 * broadcast earlier in cycle c. Every stimulus is recorded by node id, so a stimulus meant for
 * an earlier occupant of n's slot explains nothing.
 */
function unexplainedRuns(R: Real): string[] {
  const timerFires = new Set(timerDue(R, false).map((t) => runKey(t.cycle, t.id)));
  const pos = positions(R);
  const bad: string[] = [];
  R.runs.forEach((r, q) => {
    const key = runKey(r.cycle, r.id);
    if (R.yields.has(`${r.id}:${r.cycle}`) || timerFires.has(key)) return;
    if (R.scheds.some((s) => s.id === r.id && s.cycle === r.cycle && s.pos < q)) return;
    for (const par of R.parents[r.id]) {
      if (par.obs) continue;
      const pq = pos.get(runKey(r.cycle, par.id));
      if (pq !== undefined && pq < q && R.runs[pq].ret === "B") return;
    }
    bad.push(`${key}@${q}`);
  });
  return bad;
}

function checkAtMostOnce(R: Real): void {
  const seen = new Set<string>();
  for (const r of R.runs) {
    const key = runKey(r.cycle, r.id);
    assert(!seen.has(key), `node ${r.id} ran twice in cycle ${r.cycle}`);
    seen.add(key);
  }
  assertEquals(R.nodeRuns, R.runs.length, "stats().nodeRuns vs runs observed");
}

function checkOrder(R: Real): void {
  const pos = positions(R);
  // Terminate: the cycle returns Terminated exactly when a node returned Terminate, and that
  // node is the last one to run in the cycle.
  R.trace.states.forEach((state, i) => {
    const c = i + 1;
    const t = R.terminatedAt.get(c);
    assertEquals(state, t === undefined ? 0 : 1, `state of cycle ${c}`);
    if (t !== undefined) {
      assert(
        t + 1 >= R.runs.length || R.runs[t + 1].cycle !== c,
        `cycle ${c}: node ${R.runs[t + 1]?.id} ran after Terminate`,
      );
    }
  });
  R.runs.forEach((r, q) => {
    assert(
      R.createdEpoch[r.id] < r.cycle,
      `node ${r.id} built in cycle ${R.createdEpoch[r.id]} ran in cycle ${r.cycle}`,
    );
    if (q > 0 && R.runs[q - 1].cycle === r.cycle) {
      assert(
        R.runs[q - 1].depth <= r.depth,
        `cycle ${r.cycle}: depth ${r.depth} (node ${r.id}) ran after depth ${R.runs[q - 1].depth}`,
      );
    }
    for (const par of R.parents[r.id]) {
      const pq = pos.get(runKey(r.cycle, par.id));
      assert(
        pq === undefined || pq < q,
        `cycle ${r.cycle}: parent ${par.id} ran after its child ${r.id}`,
      );
    }
  });
}

function checkExplained(R: Real): void {
  const bad = unexplainedRuns(R);
  assert(bad.length === 0, `runs with no cause (cycle:id@pos): ${bad.join(" ")}`);
}

function checkObserveOnly(R: Real): void {
  checkExplained(R);
  // Explicitly: a node whose parents are all Observe parents never runs in a cycle in which it
  // had no yield, timer or scheduleNode, whatever its parents did (cancelled timers included,
  // to be lenient).
  const timerCycles = new Set(timerDue(R, true).map((t) => runKey(t.cycle, t.id)));
  for (const r of R.runs) {
    const ps = R.parents[r.id];
    if (ps.length === 0 || ps.some((q) => !q.obs)) continue;
    assert(
      R.yields.has(`${r.id}:${r.cycle}`) || timerCycles.has(runKey(r.cycle, r.id)) ||
        R.scheds.some((s) => s.id === r.id && s.cycle === r.cycle),
      `observer-only node ${r.id} ran in cycle ${r.cycle} without a stimulus`,
    );
  }
}

function checkBroadcast(R: Real): void {
  const pos = positions(R);
  R.runs.forEach((r, q) => {
    if (r.ret !== "B") return;
    const term = R.terminatedAt.get(r.cycle);
    if (term !== undefined && term > q) return;
    const end = R.snaps[2 * r.cycle];
    for (let ch = 0; ch < R.parents.length; ch++) {
      if (!R.parents[ch].some((par) => par.id === r.id && !par.obs)) continue;
      if (R.createdEpoch[ch] >= r.cycle || !end[ch]) continue;
      const cq = pos.get(runKey(r.cycle, ch));
      assert(
        cq !== undefined && cq > q,
        `cycle ${r.cycle}: node ${r.id} broadcast but its live Trigger child ${ch} did not run`,
      );
    }
  });
  checkExplained(R);
  // hasMutated after the cycle: exactly the live nodes that broadcast in it.
  for (let c = 1; c < R.nowAt.length; c++) {
    const end = R.snaps[2 * c];
    const expected = R.runs
      .filter((r) => r.cycle === c && r.ret === "B" && end[r.id])
      .map((r) => r.id)
      .sort((a, b) => a - b)
      .join(",");
    assertEquals(R.trace.mutated[c - 1], expected, `hasMutated after cycle ${c}`);
  }
}

function checkRemoval(R: Real, model: Trace): void {
  const pos = positions(R);
  const runsAfter = (ids: Set<number>, cycle: number, q: number) =>
    [...ids].filter((d) => {
      const dq = pos.get(runKey(cycle, d));
      return dq !== undefined && dq > q;
    });
  // Sweep / throw / remove() while running: the subgraph is gone at the end of the cycle and
  // none of it runs after that point.
  const doomings: { id: number; cycle: number; pos: number }[] = [...R.removes];
  R.runs.forEach((r, q) => {
    if (r.ret === "S" || r.ret === "X") doomings.push({ id: r.id, cycle: r.cycle, pos: q });
  });
  for (const d of doomings) {
    const sub = closure(R, [d.id]);
    const end = R.snaps[2 * d.cycle];
    for (const x of sub) {
      assert(!end[x], `cycle ${d.cycle}: node ${x} (under ${d.id}) still alive after the sweep`);
    }
    const late = runsAfter(sub, d.cycle, d.pos);
    assert(late.length === 0, `cycle ${d.cycle}: removed nodes ${late} ran after removal`);
  }
  assert(R.extRemoveOk, "remove() between cycles left part of the subgraph alive");
  assert(R.dropSawDead, "onDrop saw isAlive === true");
  assert(R.errorNodeOk, "onError named the wrong node");
  // Every death has a cause, deaths are final, onDrop ran exactly once per dead node.
  for (let w = 1; w < R.snaps.length; w++) {
    const snap = R.snaps[w], prev = R.snaps[w - 1];
    const cause = closure(R, R.roots.get(w) ?? []);
    for (let id = 0; id < snap.length; id++) {
      if (id < prev.length && !prev[id]) assert(!snap[id], `node ${id} came back to life`);
      if (!snap[id] && (id >= prev.length || prev[id])) {
        assert(cause.has(id), `node ${id} died in window ${w} without a cause`);
      }
      assertEquals(R.dropsEnd[w][id], snap[id] ? 0 : 1, `onDrop count of node ${id} (window ${w})`);
    }
  }
  // Errors: one report per throwing run and per failing onInit.
  const throws = R.runs.filter((r) => r.ret === "X").length;
  const inits = R.trace.errors.filter((e) => e.startsWith("init:")).length;
  assertEquals(R.trace.errors.length - inits, throws, "errors reported for throwing runs");
  // Against the model: live sets, nodeCount, pending timers, errors, final onDrop counts.
  assertEquals(R.trace.alive, model.alive, "live nodes after each cycle");
  assertEquals(R.trace.nodeCount, model.nodeCount, "executor.nodeCount after each cycle");
  R.trace.nodeCount.forEach((n, i) => {
    assertEquals(n, R.snaps[2 * (i + 1)].filter((a) => a).length, `nodeCount, cycle ${i + 1}`);
  });
  assertEquals(R.trace.timers, model.timers, "pending timers after each cycle");
  assertEquals(R.trace.errors, model.errors, "errors reported");
  assertEquals(R.trace.drops, model.drops, "onDrop counts");
}

function checkNoStale(R: Real, model: Trace): void {
  R.runs.forEach((r) => {
    assert(r.ok, `cycle ${r.cycle}: node ${r.id} got a wrong or dead handle / context`);
    assert(
      R.snaps[2 * r.cycle - 1][r.id] === true,
      `node ${r.id} ran in cycle ${r.cycle} although it was not live when the cycle began`,
    );
  });
  checkExplained(R);
  // Conversely, every yield and due timer reaches its node: if the node was live when the cycle
  // began and survived it, and the cycle was not terminated, the node ran in that cycle.
  const ran = new Set(R.runs.map((r) => runKey(r.cycle, r.id)));
  const due = [
    ...R.yieldLog.map((y) => ({ id: y.id, cycle: y.forCycle, what: "yield" })),
    ...timerDue(R, false).map((t) => ({ ...t, what: "timer" })),
  ];
  for (const d of due) {
    if (d.cycle >= R.nowAt.length || R.terminatedAt.has(d.cycle)) continue;
    if (!R.snaps[2 * d.cycle - 1][d.id] || !R.snaps[2 * d.cycle][d.id]) continue;
    assert(ran.has(runKey(d.cycle, d.id)), `${d.what} of node ${d.id} lost in cycle ${d.cycle}`);
  }
  assertEquals(R.trace.runs, model.runs, "execution trace vs model");
}

function checkDeterminism(p: Program, R: Real, model: Trace): void {
  assertEquals(R.trace.depths, model.depths, "depths vs model");
  assertEquals(R.trace.parents, model.parents, "parents vs model");
  assertEquals(R.trace.runs, model.runs, "execution trace vs model");
  assertEquals(R.trace, model, "full trace vs model");
  const again = runReal(p);
  assertEquals(again.trace, R.trace, "second run of the same program");
}

// ------------------------------------------------------------------ properties

const params = { numRuns: NUM_RUNS };
const baseOrFanOut = fc.oneof(programArb(BASE), programArb(FAN_OUT), fanOutArb());

test("property 1: a node runs at most once per cycle", () => {
  fc.assert(fc.property(baseOrFanOut, (p) => checkAtMostOnce(runReal(p))), params);
});

test("property 2: parents run before their children; depths never decrease in a cycle", () => {
  fc.assert(fc.property(programArb(BASE), (p) => checkOrder(runReal(p))), params);
});

test("property 3: Observe edges never schedule", () => {
  fc.assert(fc.property(programArb(OBSERVE_HEAVY), (p) => checkObserveOnly(runReal(p))), params);
});

test("property 4: a Broadcast schedules exactly the live Trigger children", () => {
  fc.assert(fc.property(baseOrFanOut, (p) => checkBroadcast(runReal(p))), params);
});

test("property 5: swept, thrown, removed and poisoned subgraphs are gone, onDrop once", () => {
  fc.assert(
    fc.property(programArb(REMOVAL_HEAVY), (p) => checkRemoval(runReal(p), simulate(p))),
    params,
  );
});

test("property 6: no stimulus reaches a node of another generation", () => {
  let reuse = 0, staleYieldReuse = 0;
  fc.assert(
    fc.property(programArb(REUSE_HEAVY), (p) => {
      const R = runReal(p);
      reuse += R.slotReuse;
      staleYieldReuse += R.staleYieldReuse;
      checkNoStale(R, simulate(p));
    }),
    params,
  );
  // The generator must actually exercise slot reuse with stale yields pending.
  assert(reuse > 0, "no slot was ever reused");
  assert(staleYieldReuse > 0, "no slot was reused while a stale yield was pending");
});

test("property 7: determinism: the trace equals the model's and repeats exactly", () => {
  fc.assert(
    fc.property(programArb(BASE), (p) => checkDeterminism(p, runReal(p), simulate(p))),
    params,
  );
});

test("property 7 (fan-out): same-depth Trigger siblings run in scheduling order", () => {
  fc.assert(
    fc.property(fanOutArb(), (p) => checkDeterminism(p, runReal(p), simulate(p))),
    params,
  );
});
