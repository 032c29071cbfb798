/**
 * The generated programs of the property tests, and a deliberately simple reference model of
 * the executor's cycle that predicts what a program does. The model uses plain arrays, node
 * ids instead of slots (so a stale stimulus can never reach a new node by construction), and
 * picks the next node to run by sorting the queue by (depth, scheduling order).
 *
 * @module
 */

/** What a step returns: Broadcast, Unchanged, Sweep, throw, Terminate. */
export type Ret = "B" | "U" | "S" | "X" | "T";

/** One action a node performs while it runs (before returning). */
export type Action =
  /** Yield `self` (or the node picked by `r`) to the next cycle. */
  | { k: "yield"; self: boolean; r: number }
  /** Register a timer for `self` (or the node picked by `r`) at now + `off`. */
  | { k: "timer"; self: boolean; r: number; off: number }
  /**
   * `ctx.scheduleNode` on the node picked by `r` (among all nodes, or with `same` among the
   * nodes ever built at the runner's depth), if it is live and not shallower.
   */
  | { k: "sched"; r: number; same: boolean }
  /** Remove the node picked by `r`. */
  | { k: "remove"; r: number }
  /** Queue a spawn closure that builds `n` nodes. */
  | { k: "spawn"; n: number }
  /** Cancel the last timer this node registered. */
  | { k: "cancel" };

/** What a node does in one run. */
export interface Step {
  acts: Action[];
  ret: Ret;
}

/** A node to build: parents are picked among the live nodes when it is built. */
export interface Spec {
  parents: { r: number; obs: boolean }[];
  initYield: boolean;
  initTimer: number | null;
  initThrow: boolean;
  /** Run k of the node performs `script[k % script.length]`. */
  script: Step[];
}

/** An operation between cycles. */
export type ExtOp =
  | { k: "yield"; r: number }
  | { k: "timer"; r: number; off: number }
  | { k: "remove"; r: number }
  | { k: "build"; n: number };

/** Before each cycle: advance the clock by `dt`, then apply `ops`. */
export interface CycleInput {
  dt: number;
  ops: ExtOp[];
}

/** A whole generated program. */
export interface Program {
  specs: Spec[];
  /** Specs built before the first cycle. */
  initial: number;
  cycles: CycleInput[];
  /** Builds stop while this many nodes are live. */
  maxLive: number;
}

/** The observable outcome of a program, produced identically by the model and the harness. */
export interface Trace {
  /** Every run, in execution order, as "cycle:id". */
  runs: string[];
  /** `ExecutorState` returned by each cycle (0 Running, 1 Terminated). */
  states: number[];
  /** Per cycle end: the live ids. */
  alive: string[];
  /** Per cycle end: `executor.nodeCount`. */
  nodeCount: number[];
  /** Per cycle end: pending timers. */
  timers: number[];
  /** Per cycle end: ids for which `hasMutated` is true. */
  mutated: string[];
  /** Results of every cancel action, in order. */
  cancels: boolean[];
  /** Errors reported to `onError`, as "phase:id". */
  errors: string[];
  /** Final onDrop count per id. */
  drops: number[];
  /** Per id: depth. */
  depths: number[];
  /** Per id: its merged parents, "T3" / "O5". */
  parents: string[];
}

/** An empty trace. */
export function emptyTrace(): Trace {
  return {
    runs: [],
    states: [],
    alive: [],
    nodeCount: [],
    timers: [],
    mutated: [],
    cancels: [],
    errors: [],
    drops: [],
    depths: [],
    parents: [],
  };
}

/** Merges parent picks the way `NodeBuilder` documents it: one edge per parent, Trigger wins. */
export function mergeParents(
  picks: { id: number; obs: boolean }[],
): { id: number; obs: boolean }[] {
  const out: { id: number; obs: boolean }[] = [];
  for (const p of picks) {
    const seen = out.find((q) => q.id === p.id);
    if (seen === undefined) out.push({ id: p.id, obs: p.obs });
    else if (!p.obs) seen.obs = false;
  }
  return out;
}

interface MNode {
  id: number;
  depth: number;
  parents: { id: number; obs: boolean }[];
  /** Trigger children in creation order (removed ones are taken out). */
  tkids: number[];
  /** Observe children in creation order (removed ones are taken out). */
  okids: number[];
  removed: boolean;
  doomed: boolean;
  runs: number;
  drops: number;
  spec: Spec;
  /** Sequence number of the last timer this node registered. */
  lastTimer: number | undefined;
}

interface MTimer {
  seq: number;
  id: number;
  deadline: number;
}

/** Runs a program through the reference model. */
export function simulate(p: Program): Trace {
  const t = emptyTrace();
  const nodes: MNode[] = [];
  let yields: number[] = [];
  let timers: MTimer[] = [];
  let timerSeq = 0;
  let now = 0;
  let specCursor = 0;

  const liveIds = () => nodes.filter((n) => !n.removed).map((n) => n.id);
  const pick = (r: number) => nodes[r % nodes.length];
  const pickAtDepth = (r: number, depth: number) => {
    const same = nodes.filter((n) => n.depth === depth);
    return same[r % same.length];
  };

  const doom = (id: number) => {
    const n = nodes[id];
    if (n.removed || n.doomed) return;
    n.doomed = true;
    for (const c of n.tkids) doom(c);
    for (const c of n.okids) doom(c);
  };

  const sweep = () => {
    for (const n of nodes) {
      if (!n.doomed || n.removed) continue;
      n.removed = true;
      n.drops++;
      for (const par of n.parents) {
        const pn = nodes[par.id];
        pn.tkids = pn.tkids.filter((c) => c !== n.id);
        pn.okids = pn.okids.filter((c) => c !== n.id);
      }
      timers = timers.filter((x) => x.id !== n.id);
    }
  };

  const addTimer = (owner: MNode | null, id: number, deadline: number) => {
    const seq = timerSeq++;
    timers.push({ seq, id, deadline });
    if (owner !== null) owner.lastTimer = seq;
  };

  const build = () => {
    const spec = p.specs[specCursor++ % p.specs.length];
    const live = liveIds();
    const picks = live.length === 0 ? [] : spec.parents.map((pp) => ({
      id: live[pp.r % live.length],
      obs: pp.obs,
    }));
    const parents = mergeParents(picks);
    let depth = 0;
    for (const par of parents) depth = Math.max(depth, nodes[par.id].depth + 1);
    const n: MNode = {
      id: nodes.length,
      depth,
      parents,
      tkids: [],
      okids: [],
      removed: false,
      doomed: false,
      runs: 0,
      drops: 0,
      spec,
      lastTimer: undefined,
    };
    nodes.push(n);
    t.depths.push(depth);
    t.parents.push(parents.map((q) => (q.obs ? "O" : "T") + q.id).join(","));
    for (const par of parents) {
      if (par.obs) nodes[par.id].okids.push(n.id);
      else nodes[par.id].tkids.push(n.id);
    }
    if (spec.initYield) yields.push(n.id);
    if (spec.initTimer !== null) addTimer(n, n.id, now + spec.initTimer);
    if (spec.initThrow) {
      t.errors.push(`init:${n.id}`);
      doom(n.id);
      sweep();
    }
  };

  const buildSome = (count: number) => {
    for (let i = 0; i < count; i++) {
      if (liveIds().length < p.maxLive) build();
    }
  };

  for (let i = 0; i < p.initial; i++) build();

  for (let ci = 0; ci < p.cycles.length; ci++) {
    const input = p.cycles[ci];
    const cycle = ci + 1;
    now += input.dt;
    for (const op of input.ops) {
      if (op.k === "build") {
        buildSome(op.n);
        continue;
      }
      if (nodes.length === 0) continue;
      const target = pick(op.r);
      if (op.k === "yield") {
        if (!target.removed) yields.push(target.id);
      } else if (op.k === "timer") {
        if (!target.removed) addTimer(null, target.id, now + op.off);
      } else {
        doom(target.id);
        sweep();
      }
    }

    // ---- the cycle
    const scheduled = new Set<number>();
    let queue: { id: number; depth: number; seq: number }[] = [];
    let qseq = 0;
    const enqueue = (id: number) => {
      if (scheduled.has(id)) return;
      scheduled.add(id);
      queue.push({ id, depth: nodes[id].depth, seq: qseq++ });
    };
    const pending = yields;
    yields = [];
    for (const id of pending) if (!nodes[id].removed) enqueue(id);
    const due = timers.filter((x) => x.deadline <= now);
    timers = timers.filter((x) => x.deadline > now);
    due.sort((a, b) => a.deadline - b.deadline || a.seq - b.seq);
    for (const x of due) if (!nodes[x.id].removed) enqueue(x.id);

    const mutated = new Set<number>();
    const spawns: number[] = [];
    let state = 0;
    while (queue.length > 0) {
      queue.sort((a, b) => a.depth - b.depth || a.seq - b.seq);
      const e = queue.shift()!;
      const n = nodes[e.id];
      if (n.doomed) continue;
      t.runs.push(`${cycle}:${n.id}`);
      const step = n.spec.script[n.runs % n.spec.script.length];
      n.runs++;
      for (const a of step.acts) {
        if (a.k === "yield") {
          const target = a.self ? n : pick(a.r);
          if (!target.removed) yields.push(target.id);
        } else if (a.k === "timer") {
          const target = a.self ? n : pick(a.r);
          if (!target.removed) addTimer(n, target.id, now + a.off);
        } else if (a.k === "sched") {
          const target = a.same ? pickAtDepth(a.r, n.depth) : pick(a.r);
          if (!target.removed && target.depth >= n.depth && !target.doomed) enqueue(target.id);
        } else if (a.k === "remove") {
          doom(pick(a.r).id);
        } else if (a.k === "spawn") {
          spawns.push(a.n);
        } else if (n.lastTimer !== undefined) {
          const seq = n.lastTimer;
          const ok = timers.some((x) => x.seq === seq);
          timers = timers.filter((x) => x.seq !== seq);
          t.cancels.push(ok);
        }
      }
      if (step.ret === "B") {
        mutated.add(n.id);
        for (const c of n.tkids) enqueue(c);
      } else if (step.ret === "S") {
        doom(n.id);
      } else if (step.ret === "X") {
        t.errors.push(`cycle:${n.id}`);
        doom(n.id);
      } else if (step.ret === "T") {
        queue = [];
        state = 1;
      }
    }
    sweep();
    for (const count of spawns) buildSome(count);

    const live = liveIds();
    t.states.push(state);
    t.alive.push(live.join(","));
    t.nodeCount.push(live.length);
    t.timers.push(timers.length);
    t.mutated.push(live.filter((id) => mutated.has(id)).join(","));
  }
  t.drops = nodes.map((n) => n.drops);
  return t;
}
