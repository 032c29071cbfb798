/**
 * Behavior of the executor: the Rust crate's executor tests (reference §10.2-10.4 and Appendix
 * A, A1-A6, in shared/reference/wavelet-rs-behavior.md) rewritten to this API, plus this
 * runtime's own rules: explicit node lifetime, slot+generation ids, every scheduling path
 * de-duplicated, creation-order children, errors isolated and reported.
 */

import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import {
  CapacityError,
  Control,
  type ErrorPhase,
  ExecutionContext,
  Executor,
  ExecutorState,
  ms,
  type Node,
  NodeBuilder,
  Relationship,
  SchedulerError,
  TestClock,
  TestRuntime,
} from "../mod.ts";
import { RealtimeRuntime } from "../mod.ts";

interface Reported {
  error: unknown;
  node: Node<unknown> | undefined;
  phase: ErrorPhase;
}

/** A test runtime whose isolated errors are collected instead of printed. */
function setup() {
  const rt = new TestRuntime();
  const errors: Reported[] = [];
  rt.executor.onError = (error, r) => errors.push({ error, node: r.node, phase: r.phase });
  return { rt, ex: rt.executor, errors };
}

interface Spec {
  log?: string[];
  /** Yield in onInit so the node runs in the first cycle. */
  boot?: boolean;
  /** Yield itself on every run (a polling source). */
  loop?: boolean;
  /** What the cycle function returns (default Broadcast). */
  ret?: Control | boolean;
  triggers?: Node<unknown>[];
  observes?: Node<unknown>[];
  onDrop?: (self: Node<number>) => void;
}

/** A node that counts its runs in `value`, logs its name, and returns `spec.ret`. */
function mk(ex: Executor, name: string, spec: Spec = {}): Node<number> {
  const b = new NodeBuilder(0).named(name);
  if (spec.triggers) b.triggeredBy(...spec.triggers);
  if (spec.observes) b.observerOf(...spec.observes);
  if (spec.boot || spec.loop) b.onInit((e, self) => e.yieldNow(self));
  if (spec.onDrop) b.onDrop(spec.onDrop);
  return b.build(ex, (self, ctx) => {
    self.value++;
    spec.log?.push(name);
    if (spec.loop) ctx.yieldNow();
    return spec.ret ?? Control.Broadcast;
  });
}

// ------------------------------------------------------------------ graph structure (10.2, 10.3)

test("executor gives the first node id 0 and later nodes increasing ids when built", () => {
  const { ex } = setup();
  const a = mk(ex, "a"), b = mk(ex, "b"), c = mk(ex, "c", { triggers: [a] });
  assertEquals([a.id, b.id, c.id], [0, 1, 2]);
  b.remove();
  const d = mk(ex, "d");
  assertEquals(d.id, 3, "ids are never reused, even when the slot is");
  assertEquals(ex.liveNodes().map((n) => n.id), [0, 2, 3]);
});

test("executor lists exactly the Trigger child when a parent has one Trigger edge", () => {
  const { ex } = setup();
  const p = mk(ex, "p");
  const c = mk(ex, "c", { triggers: [p] });
  assertEquals(ex.triggerChildrenOf(p), [c]);
  assertEquals(ex.observerChildrenOf(p), []);
  assertEquals(ex.parentsOf(c), [{ node: p, relationship: Relationship.Trigger }]);
});

test("executor lists only Trigger children as trigger children when a parent also has an observer", () => {
  const { ex } = setup();
  const p = mk(ex, "p");
  const t1 = mk(ex, "t1", { triggers: [p] });
  const o = mk(ex, "o", { observes: [p] });
  const t2 = mk(ex, "t2", { triggers: [p] });
  assertEquals(ex.triggerChildrenOf(p), [t1, t2]);
  assertEquals(ex.observerChildrenOf(p), [o]);
});

test("builder merges a parent named twice into one edge and Trigger wins over Observe", () => {
  const { rt, ex } = setup();
  const p = mk(ex, "p", { boot: true });
  const oo = new NodeBuilder(0).observerOf(p).observerOf(p).build(ex, () => false);
  assertEquals(ex.parentsOf(oo), [{ node: p, relationship: Relationship.Observe }]);

  const ot = new NodeBuilder(0).observerOf(p).triggeredBy(p).build(ex, (self) => {
    self.value++;
  });
  assertEquals(ex.parentsOf(ot), [{ node: p, relationship: Relationship.Trigger }]);

  const to = new NodeBuilder(0)
    .triggeredBy(p)
    .observerOf(p)
    .addRelationship(p, Relationship.Observe)
    .triggeredBy(p, p)
    .build(ex, (self) => {
      self.value++;
    });
  assertEquals(ex.parentsOf(to), [{ node: p, relationship: Relationship.Trigger }]);

  assertEquals(ex.triggerChildrenOf(p), [ot, to], "one edge per child");
  assertEquals(ex.observerChildrenOf(p), [oo]);
  rt.runOneCycle();
  assertEquals([ot.value, to.value, oo.value], [1, 1, 0], "merged Trigger children run once");
});

test("node depth is 0 for roots and 1 + the deepest parent when Trigger and Observe parents mix", () => {
  const { ex } = setup();
  const a = mk(ex, "a");
  const b = mk(ex, "b", { triggers: [a] });
  const c = mk(ex, "c", { observes: [b] });
  const d = mk(ex, "d", { triggers: [a], observes: [c] });
  const e = mk(ex, "e", { triggers: [a, d, b] });
  assertEquals([a.depth, b.depth, c.depth, d.depth, e.depth], [0, 1, 2, 3, 4]);
  assertEquals(ex.stats().nodes.map((n) => n.depth), [0, 1, 2, 3, 4]);
});

test("a chain deeper than the scheduler's initial depth capacity propagates in one cycle", () => {
  const { rt, ex } = setup();
  const order: number[] = [];
  let prev = new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, () => {
    order.push(0);
    return true;
  });
  const nodes: Node<number>[] = [prev];
  for (let i = 1; i < 150; i++) {
    const k = i;
    prev = new NodeBuilder(0).triggeredBy(prev).build(ex, () => {
      order.push(k);
      return true;
    });
    nodes.push(prev);
  }
  assertEquals(prev.depth, 149);
  rt.runOneCycle();
  assertEquals(order, Array.from({ length: 150 }, (_, i) => i));
  assert(ex.hasMutated(prev));
});

// ------------------------------------------------------------------ the cycle (10.4)

test("a new executor has epoch 0, no nodes and no scheduled work", () => {
  const ex = new Executor();
  assertEquals(ex.epoch, 0);
  assertEquals(ex.nodeCount, 0);
  assertEquals(ex.inCycle, false);
  assertEquals(ex.hasScheduledWork(), false);
  assertEquals(ex.nextTimerDeadline(), Infinity);
  assertEquals(ex.stats(), { cycles: 0, nodeRuns: 0, nodeCount: 0, pendingTimers: 0, nodes: [] });
});

test("empty cycles increment the epoch by one each when nothing is scheduled", () => {
  const { rt, ex } = setup();
  const states = [rt.runOneCycle(), rt.runOneCycle(), rt.runOneCycle()];
  assertEquals(states, [ExecutorState.Running, ExecutorState.Running, ExecutorState.Running]);
  assertEquals(ex.epoch, 3);
  assertEquals(ex.stats().cycles, 3);
});

test("a node that yields itself runs once per cycle and sees the cycle's epoch", () => {
  const { rt, ex } = setup();
  const epochs: number[] = [];
  const n = new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (self, ctx) => {
      self.value++;
      epochs.push(ctx.epoch);
      ctx.yieldNow(self);
      return false;
    });
  rt.runOneCycle();
  assertEquals([n.value, ex.epoch], [1, 1]);
  rt.runOneCycle();
  assertEquals([n.value, ex.epoch], [2, 2]);
  rt.runOneCycle();
  assertEquals(epochs, [1, 2, 3]);
  assertEquals(ex.runCount(n), 3);
});

test("a node that yields in onInit runs in the first cycle and not again unless it yields", () => {
  const { rt, ex } = setup();
  const n = mk(ex, "n", { boot: true });
  assertEquals(ex.hasScheduledWork(), true);
  rt.runOneCycle();
  assertEquals(n.value, 1);
  assertEquals(ex.hasScheduledWork(), false);
  rt.runOneCycle();
  assertEquals(n.value, 1);
});

test("a node yielded several times before a cycle runs once in that cycle", () => {
  const { rt, ex } = setup();
  const n = mk(ex, "n", { boot: true });
  ex.yieldNow(n);
  ex.yieldNow(n);
  rt.runOneCycle();
  assertEquals(n.value, 1);
});

test("a Trigger child runs in the same cycle when its parent broadcasts", () => {
  const { rt, ex } = setup();
  const p = mk(ex, "p", { boot: true });
  const c = mk(ex, "c", { triggers: [p] });
  rt.runOneCycle();
  assertEquals([p.value, c.value], [1, 1]);
});

test("an Observe child never runs when its parent broadcasts every cycle", () => {
  const { rt, ex } = setup();
  const p = mk(ex, "p", { loop: true });
  const o = mk(ex, "o", { observes: [p] });
  for (let i = 0; i < 5; i++) rt.runOneCycle();
  assertEquals([p.value, o.value], [5, 0]);
  ex.yieldNow(o);
  rt.runOneCycle();
  assertEquals([p.value, o.value], [6, 1], "it runs when something else schedules it");
});

test("a Trigger child does not run when its parent returns Unchanged", () => {
  const { rt, ex } = setup();
  const p = mk(ex, "p", { boot: true, ret: Control.Unchanged });
  const c = mk(ex, "c", { triggers: [p] });
  rt.runOneCycle();
  assertEquals([p.value, c.value], [1, 0]);
  assertEquals(ex.hasMutated(p), false);
});

test("a cycle function returning true broadcasts and false or undefined does not", () => {
  const { rt, ex } = setup();
  const rets: (boolean | undefined)[] = [true, false, undefined];
  const kids = rets.map((r, i) => {
    const p = new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, () => r);
    return [p, mk(ex, `c${i}`, { triggers: [p] })] as const;
  });
  rt.runOneCycle();
  assertEquals(kids.map(([, c]) => c.value), [1, 0, 0]);
  assertEquals(kids.map(([p]) => ex.hasMutated(p)), [true, false, false]);
});

test("a chain of Trigger nodes runs in parent-to-child order in one cycle", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const n1 = mk(ex, "1", { boot: true, log });
  const n2 = mk(ex, "2", { triggers: [n1], log });
  mk(ex, "3", { triggers: [n2], log });
  rt.runOneCycle();
  assertEquals(log, ["1", "2", "3"]);
});

test("Trigger children run in creation order when their parent broadcasts", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const p = mk(ex, "p", { boot: true, log });
  for (const name of ["a", "b", "c", "d"]) mk(ex, name, { triggers: [p], log });
  rt.runOneCycle();
  assertEquals(log, ["p", "a", "b", "c", "d"]);
});

test("Trigger children keep creation order when a middle child is removed and a new one added", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const p = mk(ex, "p", { boot: true, log });
  const kids = ["a", "b", "c"].map((name) => mk(ex, name, { triggers: [p], log }));
  kids[1].remove();
  mk(ex, "d", { triggers: [p], log });
  rt.runOneCycle();
  assertEquals(log, ["p", "a", "c", "d"]);
  assertEquals(ex.triggerChildrenOf(p).map((n) => n.name), ["a", "c", "d"]);
});

test("a node returning Terminate makes cycle() return Terminated", () => {
  const { rt, ex } = setup();
  mk(ex, "t", { boot: true, ret: Control.Terminate });
  assertEquals(rt.runOneCycle(), ExecutorState.Terminated);
  assertEquals(ex.inCycle, false);
});

test("Terminate stops the cycle: nodes queued after it do not run and the next cycle works (A5)", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const before = mk(ex, "before", { boot: true, log });
  const term = mk(ex, "term", { boot: true, log, ret: Control.Terminate });
  mk(ex, "after", { boot: true, log });
  mk(ex, "child", { triggers: [before], log });
  mk(ex, "termChild", { triggers: [term], log });
  assertEquals(rt.runOneCycle(), ExecutorState.Terminated);
  assertEquals(log, ["before", "term"]);
  assertEquals(ex.hasScheduledWork(), false, "the scheduler is left clean");
  // The next cycle works from depth 0 again.
  log.length = 0;
  ex.yieldNow(before);
  assertEquals(rt.runOneCycle(), ExecutorState.Running);
  assertEquals(log, ["before", "child"]);
  assertEquals(rt.runOneCycle(), ExecutorState.Running);
  assertEquals(log, ["before", "child"], "dropped entries do not resurface later");
});

test("Terminate still removes nodes that swept earlier in the same cycle", () => {
  const { rt, ex } = setup();
  let drops = 0;
  const sweeper = mk(ex, "s", { boot: true, ret: Control.Sweep, onDrop: () => drops++ });
  mk(ex, "t", { boot: true, ret: Control.Terminate });
  assertEquals(rt.runOneCycle(), ExecutorState.Terminated);
  assertEquals(sweeper.isAlive, false);
  assertEquals(drops, 1);
  assertEquals(ex.nodeCount, 1);
});

test("TestRuntime.runUntilIdle stops at Terminate and returns the cycles run", () => {
  const { rt, ex } = setup();
  let n = 0;
  new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (_self, ctx) => {
      ctx.yieldNow();
      return ++n === 3 ? Control.Terminate : Control.Unchanged;
    });
  assertEquals(rt.runUntilIdle(), 3);
  assertEquals(n, 3);
});

test("TestRuntime.runUntilIdle throws CapacityError when a node yields itself forever", () => {
  const { rt, ex } = setup();
  const n = mk(ex, "forever", { loop: true });
  assertThrows(() => rt.runUntilIdle(10), CapacityError, "CAPACITY_EXCEEDED");
  assertEquals(n.value, 10);
});

test("a cycle with an infinite timeout returns at once when work is pending (no_timeout)", () => {
  const rt = new RealtimeRuntime();
  try {
    const ex = rt.executor;
    const n = mk(ex, "n", { boot: true });
    assertEquals(rt.runOneCycle(Infinity), ExecutorState.Running);
    assertEquals(n.value, 1);
    assertEquals(ex.nodeCount, 1);
    // The executor itself never waits.
    assertEquals(ex.cycle(rt.clock), ExecutorState.Running);
    assertEquals(ex.epoch, 2);
  } finally {
    rt.shutdown();
  }
});

test("an executor driven by hand with a TestClock runs like the TestRuntime", () => {
  const ex = new Executor();
  const clock = new TestClock();
  const n = new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (self) => {
      self.value++;
      return true;
    });
  assertEquals(ex.cycle(clock), ExecutorState.Running);
  assertEquals([n.value, ex.epoch, ex.hasMutated(n)], [1, 1, true]);
});

// ------------------------------------------------------------------ mutation tracking

test("hasMutated is false before the first cycle and true after the cycle in which a node broadcast", () => {
  const { rt, ex } = setup();
  const p = mk(ex, "p", { boot: true });
  assertEquals(ex.hasMutated(p), false);
  rt.runOneCycle();
  assertEquals(ex.hasMutated(p), true);
  rt.runOneCycle();
  assertEquals(ex.hasMutated(p), false, "not in a later cycle in which it did not run");
});

test("hasMutated stays false when a node changes its value but returns Unchanged", () => {
  const { rt, ex } = setup();
  const p = mk(ex, "p", { boot: true, ret: Control.Unchanged });
  rt.runOneCycle();
  assertEquals(p.value, 1);
  assertEquals(ex.hasMutated(p), false);
});

test("ctx.hasMutated tells a child which of its parents broadcast in this cycle", () => {
  const { rt, ex } = setup();
  const a = mk(ex, "a", { boot: true });
  const b = mk(ex, "b", { boot: true, ret: Control.Unchanged });
  const o = mk(ex, "o"); // never runs
  const seen: boolean[][] = [];
  new NodeBuilder(0).triggeredBy(a, b).observerOf(o).build(ex, (_self, ctx) => {
    seen.push([ctx.hasMutated(a), ctx.hasMutated(b), ctx.hasMutated(o)]);
  });
  rt.runOneCycle();
  assertEquals(seen, [[true, false, false]]);
});

test("a diamond sink runs once after all its parents and sees the source mutated (A1)", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const s = mk(ex, "S", { boot: true, log });
  const a = mk(ex, "A", { triggers: [s], log });
  const b = mk(ex, "B", { triggers: [s], log });
  const c = mk(ex, "C", { triggers: [s], log });
  let sawS: boolean | undefined;
  const k = new NodeBuilder(0).named("K").triggeredBy(s, a, b, c).build(ex, (self, ctx) => {
    self.value++;
    log.push("K");
    sawS = ctx.hasMutated(s);
  });
  rt.runOneCycle();
  assertEquals(log, ["S", "A", "B", "C", "K"]);
  assertEquals(k.value, 1);
  assertEquals(k.depth, 2);
  assertEquals(sawS, true);
});

test("an observer triggered by a gate runs only when the gate broadcasts and sees the observed node mutated (A2)", () => {
  const { rt, ex } = setup();
  const p = mk(ex, "P", { loop: true });
  const t = new NodeBuilder(0)
    .named("T")
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (self, ctx) => {
      self.value++;
      ctx.yieldNow();
      return self.value % 2 === 0; // broadcasts in even cycles
    });
  const runs: [number, boolean][] = [];
  new NodeBuilder(0).named("Q").observerOf(p).triggeredBy(t).build(ex, (_self, ctx) => {
    runs.push([ctx.epoch, ctx.hasMutated(p)]);
  });
  for (let i = 0; i < 6; i++) rt.runOneCycle();
  assertEquals(runs, [[2, true], [4, true], [6, true]]);
  assertEquals([p.value, t.value], [6, 6]);
});

test("a node with two broadcasting Trigger parents runs once per cycle", () => {
  const { rt, ex } = setup();
  const a = mk(ex, "a", { loop: true });
  const b = mk(ex, "b", { loop: true });
  const c = mk(ex, "c", { triggers: [a, b] });
  rt.runOneCycle();
  rt.runOneCycle();
  assertEquals(c.value, 2);
  assertEquals(ex.runCount(c), 2);
});

test("hasMutated keeps working across the internal tick renormalization", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const s = new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (self, ctx) => {
      self.value++;
      log.push("S");
      ctx.yieldNow();
      return self.value !== 3; // no broadcast in the 3rd cycle
    });
  const a = mk(ex, "A", { triggers: [s], log });
  mk(ex, "K", { triggers: [s, a], log });
  ex._setTickForTest(0x7fffffee); // two cycles before the limit
  const mutated: boolean[] = [];
  for (let i = 0; i < 5; i++) {
    log.length = 0;
    rt.runOneCycle();
    mutated.push(ex.hasMutated(s));
    assertEquals(log, s.value === 3 ? ["S"] : ["S", "A", "K"], `cycle ${i + 1}`);
  }
  assertEquals(mutated, [true, true, false, true, true]);
  assertEquals(ex.epoch, 5, "the epoch itself never wraps");
});

// ------------------------------------------------------------------ scheduleNode

test("ctx.scheduleNode runs a node at the same depth later in the same cycle", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const peer = mk(ex, "peer", { log });
  mk(ex, "a", { boot: true, log });
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_self, ctx) => {
    log.push("b");
    ctx.scheduleNode(peer);
  });
  rt.runOneCycle();
  assertEquals(log, ["a", "b", "peer"]);
});

test("ctx.scheduleNode runs a deeper unrelated node in the same cycle", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const r = mk(ex, "r", { log });
  const deep = mk(ex, "deep", { observes: [r], log });
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_self, ctx) => {
    log.push("src");
    ctx.scheduleNode(deep);
  });
  rt.runOneCycle();
  assertEquals(log, ["src", "deep"]);
  assertEquals(ex.epoch, 1);
});

test("ctx.scheduleNode of the running node itself does not run it again in the cycle", () => {
  const { rt, ex } = setup();
  let runs = 0;
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (self, ctx) => {
    runs++;
    if (runs > 5) throw new Error("livelock");
    ctx.scheduleNode(self);
  });
  rt.runOneCycle();
  assertEquals(runs, 1);
  rt.runOneCycle();
  assertEquals(runs, 1, "nor in the next cycle");
});

test("a node scheduled by ctx.scheduleNode and by a parent's Broadcast runs once", () => {
  const { rt, ex, errors } = setup();
  const log: string[] = [];
  const p = mk(ex, "p", { boot: true, log });
  const c = mk(ex, "c", { triggers: [p], log });
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_self, ctx) => {
    log.push("s");
    ctx.scheduleNode(c);
  });
  rt.runOneCycle();
  assertEquals(log, ["p", "s", "c"]);
  assertEquals(c.value, 1);
  assertEquals(errors, []);
});

test("ctx.scheduleNode of a node that already ran this cycle does not run it again", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const first = mk(ex, "first", { boot: true, log, ret: Control.Unchanged });
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_self, ctx) => {
    log.push("second");
    ctx.scheduleNode(first);
  });
  rt.runOneCycle();
  assertEquals(log, ["first", "second"]);
});

test("ctx.scheduleNode at a lower depth throws SchedulerError and the cycle goes on", () => {
  const { rt, ex, errors } = setup();
  const log: string[] = [];
  const root = mk(ex, "root", { boot: true, log });
  const other = mk(ex, "other", { log });
  let caught: unknown;
  const child = new NodeBuilder(0).triggeredBy(root).build(ex, (_self, ctx) => {
    log.push("child");
    try {
      ctx.scheduleNode(other);
    } catch (e) {
      caught = e;
    }
    return true;
  });
  const grand = mk(ex, "grand", { triggers: [child], log });
  rt.runOneCycle();
  assert(caught instanceof SchedulerError);
  assertEquals(caught.code, "SCHEDULE_LOWER_DEPTH");
  assertEquals(log, ["root", "child", "grand"]);
  assertEquals(grand.value, 1);
  assertEquals(errors, []);
  // The executor still works.
  ex.yieldNow(other);
  rt.runOneCycle();
  assertEquals(log, ["root", "child", "grand", "other"]);
});

// ------------------------------------------------------------------ lifetime: onDrop, remove, Sweep

test("onDrop runs exactly once when node.remove() is called between cycles", () => {
  const { ex } = setup();
  const seen: [boolean, number][] = [];
  const n = mk(ex, "n", { onDrop: (self) => seen.push([self.isAlive, self.value]) });
  n.value = 41;
  assertEquals(ex.nodeCount, 1);
  n.remove();
  assertEquals(seen, [[false, 41]], "onDrop sees isAlive false and the last value");
  assertEquals(ex.nodeCount, 0);
  n.remove();
  ex.remove(n);
  assertEquals(seen.length, 1, "removing again does nothing");
});

test("discarding a node's handle neither removes it nor runs its onDrop", () => {
  const { rt, ex } = setup();
  let drops = 0;
  let runs = 0;
  new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .onDrop(() => drops++)
    .spawn(ex, (_self, ctx) => {
      runs++;
      ctx.yieldNow();
    });
  for (let i = 0; i < 3; i++) rt.runOneCycle();
  assertEquals([runs, drops, ex.nodeCount], [3, 0, 1]);
});

test("a removed handle keeps its last value, reports isAlive false, and counts no runs", () => {
  const { rt, ex } = setup();
  const n = mk(ex, "n", { loop: true });
  rt.runOneCycle();
  rt.runOneCycle();
  assertEquals(n.isAlive, true);
  assertEquals(ex.runCount(n), 2);
  n.remove();
  assertEquals(n.isAlive, false);
  assertEquals(n.value, 2);
  assertEquals(ex.runCount(n), 0);
  assertEquals(ex.hasMutated(n), false);
  assertEquals(ex.liveNodes(), []);
  rt.runOneCycle();
  assertEquals(n.value, 2, "its pending yield did not run it");
  assertEquals(ex.stats().nodeRuns, 2, "stats keep the runs of removed nodes");
});

test("removing a node between cycles removes all its descendants at once, each onDrop once", () => {
  const { ex } = setup();
  const drops: string[] = [];
  const od = (self: Node<number>) => drops.push(self.name!);
  const root = mk(ex, "root", { onDrop: od });
  const other = mk(ex, "other", { onDrop: od });
  const a = mk(ex, "a", { triggers: [root], onDrop: od });
  const b = mk(ex, "b", { observes: [root], onDrop: od });
  const c = mk(ex, "c", { triggers: [a, other], observes: [b], onDrop: od });
  const d = mk(ex, "d", { triggers: [c], onDrop: od });
  a.remove();
  assertEquals(drops.sort(), ["a", "c", "d"]);
  assertEquals([root.isAlive, other.isAlive, b.isAlive], [true, true, true]);
  assertEquals([a.isAlive, c.isAlive, d.isAlive], [false, false, false]);
  assertEquals(ex.triggerChildrenOf(other), []);
  root.remove();
  assertEquals(drops.sort(), ["a", "b", "c", "d", "root"]);
  assertEquals(ex.nodeCount, 1);
});

test("removing a child leaves its parent in the graph and the parent stops triggering it", () => {
  const { rt, ex } = setup();
  const p = mk(ex, "p", { loop: true });
  const c = mk(ex, "c", { triggers: [p] });
  rt.runOneCycle();
  c.remove();
  rt.runOneCycle();
  assertEquals([p.isAlive, p.value, c.value], [true, 2, 1]);
  assertEquals(ex.triggerChildrenOf(p), []);
});

test("node.remove() during a cycle takes effect in the sweep phase and the node does not run", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const victim = mk(ex, "victim", { log, onDrop: () => log.push("drop victim") });
  const victimChild = mk(ex, "vchild", {
    triggers: [victim],
    onDrop: () => log.push("drop vchild"),
  });
  let aliveInCycle: boolean | undefined, countInCycle: number | undefined;
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_self, ctx) => {
    log.push("killer");
    victim.remove();
    victim.remove(); // twice in one cycle: still one onDrop
    aliveInCycle = victim.isAlive;
    countInCycle = ctx.executor.nodeCount;
  });
  ex.yieldNow(victim); // queued after the killer
  mk(ex, "last", { boot: true, log });
  rt.runOneCycle();
  assertEquals(aliveInCycle, true);
  assertEquals(countInCycle, 4);
  assertEquals(log.slice(0, 2), ["killer", "last"]);
  assertEquals(log.slice(2).sort(), ["drop vchild", "drop victim"]);
  assertEquals([victim.isAlive, victimChild.isAlive], [false, false]);
  assertEquals(ex.nodeCount, 2);
});

test("a node that returns Sweep is removed at the end of the cycle with its descendants; its parents stay", () => {
  const { rt, ex } = setup();
  const drops: string[] = [];
  const od = (self: Node<number>) => drops.push(self.name!);
  const n1 = mk(ex, "n1", { boot: true, onDrop: od });
  const n2 = mk(ex, "n2", { triggers: [n1], onDrop: od });
  const n3 = mk(ex, "n3", { triggers: [n2], ret: Control.Sweep, onDrop: od });
  assertEquals(ex.nodeCount, 3);
  rt.runOneCycle();
  assertEquals(drops, ["n3"]);
  assertEquals([n1.isAlive, n2.isAlive, n3.isAlive], [true, true, false]);
  assertEquals(n3.value, 1);
  assertEquals(ex.nodeCount, 2);
});

test("a root that returns Sweep removes its whole downstream graph, each onDrop once", () => {
  const { rt, ex } = setup();
  const drops: string[] = [];
  const od = (self: Node<number>) => drops.push(self.name!);
  const n1 = mk(ex, "n1", { boot: true, ret: Control.Sweep, onDrop: od });
  const n2 = mk(ex, "n2", { triggers: [n1], onDrop: od });
  mk(ex, "n3", { observes: [n2], onDrop: od });
  rt.runOneCycle();
  assertEquals(drops.sort(), ["n1", "n2", "n3"]);
  assertEquals(n2.value, 0, "poisoned descendants never run");
  assertEquals(ex.nodeCount, 0);
  rt.runOneCycle();
  assertEquals(drops.length, 3);
});

test("Sweep poisons all descendants even when they have healthy other parents", () => {
  const { rt, ex, errors } = setup();
  const drops: string[] = [];
  const od = (self: Node<number>) => drops.push(self.name!);
  // The healthy parent runs first, so the children are queued before they are poisoned.
  const h = mk(ex, "H", { loop: true, onDrop: od });
  const s = mk(ex, "S", { boot: true, ret: Control.Sweep, onDrop: od });
  const c = mk(ex, "C", { triggers: [s, h], onDrop: od });
  const o = mk(ex, "O", { observes: [s], triggers: [h], onDrop: od });
  const g = mk(ex, "G", { triggers: [c, h], onDrop: od });
  rt.runOneCycle();
  assertEquals([c.value, o.value, g.value], [0, 0, 0], "poisoned nodes never run");
  assertEquals(drops.sort(), ["C", "G", "O", "S"]);
  assertEquals([h.isAlive, s.isAlive, c.isAlive, o.isAlive, g.isAlive], [
    true,
    false,
    false,
    false,
    false,
  ]);
  rt.runOneCycle();
  assertEquals(h.value, 2);
  assertEquals(drops.length, 4);
  assertEquals(ex.triggerChildrenOf(h), []);
  assertEquals(errors, []);
});

test("executor.own releases a resource once, before onDrop, when the node leaves the graph", () => {
  const { ex } = setup();
  const events: string[] = [];
  const n = mk(ex, "n", { onDrop: () => events.push("drop") });
  ex.own(n, () => events.push("release 1"));
  ex.own(n, () => events.push("release 2"));
  n.remove();
  n.remove();
  assertEquals(events, ["release 1", "release 2", "drop"]);
});

// ------------------------------------------------------------------ spawnSubgraph

test("a node built in spawnSubgraph exists after cycle N and first runs in cycle N+1 (A4)", () => {
  const { rt, ex } = setup();
  let flag = false;
  let child: Node<number> | undefined;
  const root = new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (_self, ctx) => {
      ctx.spawnSubgraph((e) => {
        child = new NodeBuilder(0)
          .onInit((e2, self) => e2.yieldNow(self))
          .build(e, () => {
            flag = true;
            return Control.Sweep;
          });
      });
    });
  rt.runOneCycle();
  assertEquals(ex.nodeCount, 2);
  assertEquals(flag, false);
  assert(child !== undefined && child.isAlive);
  assertEquals(ex.runCount(child), 0);
  rt.runOneCycle();
  assertEquals(flag, true);
  assertEquals(ex.nodeCount, 1);
  assertEquals([root.isAlive, child.isAlive], [true, false]);
});

test("a spawned node that throws in cycle N+1 is removed and reported", () => {
  const { rt, ex, errors } = setup();
  let flag = false;
  const boom = new Error("boom");
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_self, ctx) => {
    ctx.spawnSubgraph((e) => {
      new NodeBuilder(0).named("spawned").onInit((e2, self) => e2.yieldNow(self)).spawn(
        e,
        () => {
          flag = true;
          throw boom;
        },
      );
    });
  });
  rt.runOneCycle();
  assertEquals([ex.nodeCount, flag], [2, false]);
  rt.runOneCycle();
  assertEquals([ex.nodeCount, flag], [1, true]);
  assertEquals(errors.length, 1);
  assertEquals(errors[0].error, boom);
  assertEquals(errors[0].phase, "cycle");
  assertEquals(errors[0].node?.name, "spawned");
});

test("spawn closures run in FIFO order after the sweep phase of their cycle", () => {
  const { rt, ex } = setup();
  const events: string[] = [];
  const sweeper = mk(ex, "sweeper", {
    boot: true,
    ret: Control.Sweep,
    onDrop: () => events.push("drop"),
  });
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_self, ctx) => {
    ctx.spawnSubgraph(() => events.push(`spawn1 sweeperAlive=${sweeper.isAlive}`));
    ctx.spawnSubgraph((e) => events.push(`spawn2 inCycle=${e.inCycle}`));
    events.push("ran");
  });
  rt.runOneCycle();
  assertEquals(events, ["ran", "drop", "spawn1 sweeperAlive=false", "spawn2 inCycle=true"]);
  rt.runOneCycle();
  assertEquals(events.length, 4, "spawn closures run once");
});

test("a spawn closure may build on a live node and the new child is triggered from the next cycle", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const p = mk(ex, "p", { loop: true, log });
  let spawned = false;
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_self, ctx) => {
    if (spawned) return;
    spawned = true;
    ctx.spawnSubgraph((e) => void mk(e, "kid", { triggers: [p], log }));
  });
  rt.runOneCycle();
  assertEquals(log, ["p"]);
  rt.runOneCycle();
  assertEquals(log, ["p", "p", "kid"]);
});

// ------------------------------------------------------------------ error isolation

test("a throwing node is removed and reported, other queued nodes still run, and the next cycle works", () => {
  const { rt, ex, errors } = setup();
  const log: string[] = [];
  const a = mk(ex, "a", { loop: true, log });
  const boom = new Error("boom");
  let drops = 0;
  const b = new NodeBuilder(0)
    .named("b")
    .onInit((e, self) => e.yieldNow(self))
    .onDrop(() => drops++)
    .build(ex, (self) => {
      self.value = 99; // half-done work stays visible on the handle
      log.push("b");
      throw boom;
    });
  const c = mk(ex, "c", { loop: true, log });
  const bChild = mk(ex, "bChild", { triggers: [b], log });
  assertEquals(rt.runOneCycle(), ExecutorState.Running);
  assertEquals(log, ["a", "b", "c"]);
  assertEquals(errors.length, 1);
  assertEquals(errors[0].error, boom);
  assertEquals(errors[0].node, b);
  assertEquals(errors[0].phase, "cycle");
  assertEquals([b.isAlive, bChild.isAlive, drops, b.value], [false, false, 1, 99]);
  log.length = 0;
  rt.runOneCycle();
  assertEquals(log, ["a", "c"]);
  assertEquals([a.value, c.value], [2, 2]);
  assertEquals(errors.length, 1);
});

test("a node that throws a non-Error value is reported with that value", () => {
  const { rt, ex, errors } = setup();
  const n = new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, () => {
    throw "plain string";
  });
  rt.runOneCycle();
  assertEquals(errors.map((r) => [r.error, r.phase]), [["plain string", "cycle"]]);
  assertEquals(n.isAlive, false);
});

test("a throwing node poisons its Trigger and Observe descendants but not its parents (A3)", () => {
  const { rt, ex, errors } = setup();
  const log: string[] = [];
  const r = mk(ex, "R", { boot: true, log });
  const h = mk(ex, "H", { boot: true, log });
  const x = new NodeBuilder(0).named("X").triggeredBy(r).build(ex, () => {
    log.push("X");
    throw new Error("x failed");
  });
  const t = mk(ex, "T", { triggers: [x, h], log });
  const o = mk(ex, "O", { observes: [x], triggers: [h], log });
  const g = mk(ex, "G", { triggers: [t, o], log });
  rt.runOneCycle();
  assertEquals(log, ["R", "H", "X"]);
  assertEquals([r.isAlive, h.isAlive], [true, true]);
  assertEquals([x.isAlive, t.isAlive, o.isAlive, g.isAlive], [false, false, false, false]);
  assertEquals(errors.length, 1);
  assertEquals(errors[0].node, x);
  assertEquals(ex.nodeCount, 2);
});

test("a panicking node's observer spawned from another graph is removed too (garbage_collection_on_poisoned)", () => {
  const { rt, ex, errors } = setup();
  const n0 = mk(ex, "n0", { boot: true });
  const n1 = new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, () => {
    throw new Error("n1");
  });
  const n2 = mk(ex, "n2", { triggers: [n0], observes: [n1] });
  new NodeBuilder(0).observerOf(n2).spawn(ex, () => true);
  assertEquals(ex.nodeCount, 4);
  rt.runOneCycle();
  assertEquals(ex.nodeCount, 1);
  assertEquals(ex.liveNodes(), [n0]);
  assertEquals(n2.value, 0);
  assertEquals(errors.length, 1);
});

test("allowPanic(true) lets the error escape cycle() and keeps the node in the graph", () => {
  const { rt, ex, errors } = setup();
  const log: string[] = [];
  const boom = new Error("panic");
  let panics = 1;
  const p = new NodeBuilder(0)
    .named("p")
    .allowPanic(true)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, () => {
      log.push("p");
      if (panics-- > 0) throw boom;
    });
  mk(ex, "before", { boot: true, log }); // depth 0, queued after p
  const q = mk(ex, "q", { boot: true, log });
  let thrown: unknown;
  try {
    rt.runOneCycle();
  } catch (e) {
    thrown = e;
  }
  assertEquals(thrown, boom);
  assertEquals(errors, [], "not reported to onError");
  assertEquals(ex.inCycle, false);
  assertEquals(p.isAlive, true);
  assertEquals(log, ["p"]);
  assertEquals(ex.hasScheduledWork(), true, "nodes queued after it are still pending");
  // The next cycle runs the leftovers once each; p does not run again unless scheduled.
  ex.yieldNow(q); // q is already pending: still runs once
  assertEquals(rt.runOneCycle(), ExecutorState.Running);
  assertEquals(log, ["p", "before", "q"]);
  assertEquals(q.value, 1);
  ex.yieldNow(p);
  rt.runOneCycle();
  assertEquals(log, ["p", "before", "q", "p"]);
  assertEquals(ex.epoch, 3);
});

test("allowPanic(true) rethrows only after the cycle's sweep and spawn phases ran", () => {
  const { rt, ex } = setup();
  const events: string[] = [];
  mk(ex, "sweeper", { boot: true, ret: Control.Sweep, onDrop: () => events.push("drop") });
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_self, ctx) => {
    ctx.spawnSubgraph(() => events.push("spawn"));
  });
  new NodeBuilder(0)
    .allowPanic()
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, () => {
      throw new Error("late panic");
    });
  let thrown: unknown;
  try {
    rt.runOneCycle();
  } catch (e) {
    thrown = e;
  }
  assert(thrown instanceof Error && thrown.message === "late panic");
  assertEquals(events, ["drop", "spawn"]);
  assertEquals(ex.nodeCount, 2);
});

test("allowPanic(false) keeps the default isolation when set explicitly", () => {
  const { rt, ex, errors } = setup();
  const n = new NodeBuilder(0)
    .allowPanic(false)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, () => {
      throw new Error("isolated");
    });
  assertEquals(rt.runOneCycle(), ExecutorState.Running);
  assertEquals(n.isAlive, false);
  assertEquals(errors.length, 1);
});

test("an error thrown by onInit is reported, the node is removed, and the executor keeps working", () => {
  const { rt, ex, errors } = setup();
  const boom = new Error("init failed");
  let drops = 0;
  const parent = mk(ex, "parent", { boot: true });
  const n = new NodeBuilder(0)
    .named("bad")
    .triggeredBy(parent)
    .onInit((e, self) => {
      e.yieldNow(self);
      throw boom;
    })
    .onDrop(() => drops++)
    .build(ex, (self) => {
      self.value++;
    });
  assertEquals(errors.map((r) => [r.error, r.node, r.phase]), [[boom, n, "init"]]);
  assertEquals(n.isAlive, false);
  assertEquals(drops, 1);
  assertEquals(ex.nodeCount, 1);
  assertEquals(ex.triggerChildrenOf(parent), []);
  rt.runOneCycle();
  assertEquals(n.value, 0, "its yield from onInit never runs it");
  assertEquals(parent.value, 1);
});

test("an onInit error with allowPanic(true) is rethrown by build and leaves no node behind", () => {
  const { ex, errors } = setup();
  const boom = new Error("init panic");
  const b = new NodeBuilder(0).allowPanic().onInit(() => {
    throw boom;
  });
  let thrown: unknown;
  try {
    b.build(ex, () => false);
  } catch (e) {
    thrown = e;
  }
  assertEquals(thrown, boom);
  assertEquals(errors, []);
  assertEquals(ex.nodeCount, 0);
  assertEquals(ex.liveNodes(), []);
});

test("an error thrown by onDrop is reported and the node and its descendants are still removed", () => {
  const { rt, ex, errors } = setup();
  const drops: string[] = [];
  const boom = new Error("drop failed");
  const a = mk(ex, "a", {
    onDrop: (self) => {
      drops.push(self.name!);
      throw boom;
    },
  });
  const b = mk(ex, "b", { triggers: [a], onDrop: (self) => drops.push(self.name!) });
  a.remove();
  assertEquals(drops.sort(), ["a", "b"]);
  assertEquals([a.isAlive, b.isAlive], [false, false]);
  assertEquals(errors.map((r) => [r.error, r.node, r.phase]), [[boom, a, "drop"]]);
  const n = mk(ex, "n", { boot: true });
  rt.runOneCycle();
  assertEquals(n.value, 1);
});

test("an error thrown by onDrop in a cycle's sweep phase is reported and the cycle completes", () => {
  const { rt, ex, errors } = setup();
  const events: string[] = [];
  mk(ex, "s", {
    boot: true,
    ret: Control.Sweep,
    onDrop: () => {
      throw new Error("drop in sweep");
    },
  });
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_self, ctx) => {
    ctx.spawnSubgraph(() => events.push("spawn ran"));
  });
  assertEquals(rt.runOneCycle(), ExecutorState.Running);
  assertEquals(errors.map((r) => r.phase), ["drop"]);
  assertEquals(events, ["spawn ran"]);
  assertEquals(ex.inCycle, false);
  assertEquals(ex.nodeCount, 1);
});

test("an error thrown by a resource release is reported with phase release and onDrop still runs", () => {
  const { ex, errors } = setup();
  const events: string[] = [];
  const n = mk(ex, "n", { onDrop: () => events.push("drop") });
  ex.own(n, () => {
    throw new Error("release failed");
  });
  n.remove();
  assertEquals(events, ["drop"]);
  assertEquals(errors.map((r) => [r.phase, r.node]), [["release", n]]);
});

test("an error thrown by a spawn closure is reported, later closures still run, the next cycle works", () => {
  const { rt, ex, errors } = setup();
  const boom = new Error("spawn failed");
  let built: Node<number> | undefined;
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_self, ctx) => {
    ctx.spawnSubgraph(() => {
      throw boom;
    });
    ctx.spawnSubgraph((e) => {
      built = mk(e, "built", { boot: true });
    });
  });
  rt.runOneCycle();
  assertEquals(errors.map((r) => [r.error, r.node, r.phase]), [[boom, undefined, "spawn"]]);
  assert(built !== undefined && built.isAlive);
  rt.runOneCycle();
  assertEquals(built.value, 1);
});

test("an onInit error inside a spawn closure is reported and the closure goes on", () => {
  const { rt, ex, errors } = setup();
  const after: string[] = [];
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_self, ctx) => {
    ctx.spawnSubgraph((e) => {
      const bad = new NodeBuilder(0).onInit(() => {
        throw new Error("init in spawn");
      }).build(e, () => false);
      after.push(`bad alive=${bad.isAlive}`);
    });
  });
  rt.runOneCycle();
  assertEquals(after, ["bad alive=false"]);
  assertEquals(errors.map((r) => r.phase), ["init"]);
  assertEquals(ex.nodeCount, 1);
});

test("an onError handler that throws does not break the executor", () => {
  const rt = new TestRuntime();
  const ex = rt.executor;
  ex.onError = () => {
    throw new Error("handler failed");
  };
  const printed: unknown[][] = [];
  const orig = console.error;
  console.error = (...args: unknown[]) => void printed.push(args);
  try {
    const bad = new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, () => {
      throw new Error("node failed");
    });
    const good = mk(ex, "good", { boot: true });
    assertEquals(rt.runOneCycle(), ExecutorState.Running);
    assertEquals([bad.isAlive, good.value], [false, 1]);
    assertEquals(printed.length, 1, "the handler's failure is printed once");
  } finally {
    console.error = orig;
  }
  const n = mk(ex, "n", { boot: true });
  rt.runOneCycle();
  assertEquals(n.value, 1);
});

test("the default onError prints one line naming the node to stderr", () => {
  const rt = new TestRuntime();
  const printed: unknown[][] = [];
  const orig = console.error;
  console.error = (...args: unknown[]) => void printed.push(args);
  try {
    new NodeBuilder(0).named("noisy").onInit((e, self) => e.yieldNow(self)).build(
      rt.executor,
      () => {
        throw new Error("loud");
      },
    );
    rt.runOneCycle();
  } finally {
    console.error = orig;
  }
  assertEquals(printed.length, 1);
  assert(String(printed[0][0]).includes('"noisy"'), String(printed[0][0]));
  assert(String(printed[0][0]).includes("cycle"), String(printed[0][0]));
});

// ------------------------------------------------------------------ stale generations

test("a pending yield of a removed node never runs a new node that reuses its slot", () => {
  const { rt, ex } = setup();
  const old = mk(ex, "old");
  ex.yieldNow(old);
  old.remove();
  const fresh = mk(ex, "fresh");
  assertEquals(fresh._slot, old._slot, "precondition: the slot is reused");
  rt.runOneCycle();
  assertEquals([old.value, fresh.value], [0, 0]);
});

test("a yield made in the cycle a node swept never reaches the node a spawn closure builds in its slot", () => {
  const { rt, ex } = setup();
  let fresh: Node<number> | undefined;
  const old = new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (self, ctx) => {
      self.value++;
      ctx.yieldNow(self);
      ctx.spawnSubgraph((e) => {
        fresh = mk(e, "fresh");
      });
      return Control.Sweep;
    });
  rt.runOneCycle();
  assert(fresh !== undefined);
  assertEquals(fresh._slot, old._slot, "precondition: the slot is reused");
  rt.runOneCycle();
  assertEquals([old.value, fresh.value], [1, 0]);
});

test("a parent's old Trigger edge never reaches a new node that reuses the removed child's slot", () => {
  const { rt, ex } = setup();
  const p = mk(ex, "p", { boot: true });
  const child = mk(ex, "child", { triggers: [p] });
  child.remove();
  const fresh = mk(ex, "fresh");
  assertEquals(fresh._slot, child._slot, "precondition: the slot is reused");
  rt.runOneCycle();
  assertEquals([p.value, fresh.value], [1, 0]);
});

test("hasMutated of a removed node stays false when a new node in its slot broadcasts", () => {
  const { rt, ex } = setup();
  const old = mk(ex, "old", { boot: true });
  rt.runOneCycle();
  assertEquals(ex.hasMutated(old), true);
  old.remove();
  const fresh = mk(ex, "fresh", { boot: true });
  assertEquals(fresh._slot, old._slot, "precondition: the slot is reused");
  rt.runOneCycle();
  assertEquals(ex.hasMutated(fresh), true);
  assertEquals(ex.hasMutated(old), false);
  assertEquals(ex.runCount(old), 0);
  assertEquals(ex.runCount(fresh), 1);
});

// ------------------------------------------------------------------ context

test("ctx.current is the running node and ctx.executor its executor during a cycle", () => {
  const { rt, ex } = setup();
  const seen: [Node<unknown>, Executor, boolean][] = [];
  const a = new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_s, ctx) => {
    seen.push([ctx.current, ctx.executor, ctx.executor.inCycle]);
    return true;
  });
  const b = new NodeBuilder(0).triggeredBy(a).build(ex, (_s, ctx) => {
    seen.push([ctx.current, ctx.executor, ctx.executor.inCycle]);
  });
  rt.runOneCycle();
  assertEquals(seen.length, 2);
  assert(seen[0][0] === a && seen[1][0] === b);
  assert(seen[0][1] === ex && seen[1][1] === ex);
  assert(seen[0][2] && seen[1][2]);
  assertEquals(ex.inCycle, false);
});

test("ctx.yieldNow() with no argument yields the running node for the next cycle", () => {
  const { rt, ex } = setup();
  const n = new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (self, ctx) => {
    if (++self.value < 3) ctx.yieldNow();
  });
  assertEquals(rt.runUntilIdle(), 3);
  assertEquals(n.value, 3);
});

test("ctx.yieldNow(other) runs another node in the next cycle, not the current one", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const other = mk(ex, "other", { log });
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_s, ctx) => {
    log.push(`src@${ctx.epoch}`);
    ctx.yieldNow(other);
  });
  rt.runOneCycle();
  assertEquals(log, ["src@1"]);
  rt.runOneCycle();
  assertEquals(log, ["src@1", "other"]);
});

test("the context handed to cycle functions is an ExecutionContext", () => {
  const { rt, ex } = setup();
  let ok = false;
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_s, ctx) => {
    ok = ctx instanceof ExecutionContext;
  });
  rt.runOneCycle();
  assert(ok);
});

// ------------------------------------------------------------------ stats

test("stats reports cycles, runs per node in id order, live nodes and pending timers", () => {
  const { rt, ex } = setup();
  const a = mk(ex, "a", { loop: true });
  const b = mk(ex, "b", { triggers: [a] });
  const gone = mk(ex, "gone", { boot: true });
  rt.runOneCycle();
  gone.remove();
  ex.registerTimer(b, ms(5));
  rt.runOneCycle();
  assertEquals(ex.stats(), {
    cycles: 2,
    nodeRuns: 5,
    nodeCount: 2,
    pendingTimers: 1,
    nodes: [
      { id: a.id, name: "a", depth: 0, runs: 2 },
      { id: b.id, name: "b", depth: 1, runs: 2 },
    ],
  });
});

test("a node handle exposes its name, executor and a name#id string", () => {
  const { ex } = setup();
  const named = mk(ex, "src");
  const anon = new NodeBuilder(0).build(ex, () => false);
  assertEquals([named.name, anon.name], ["src", undefined]);
  assert(ex.liveNodes().includes(named));
  assertEquals(named.toString(), `src#${named.id}`);
  assertEquals(anon.toString(), `node#${anon.id}`);
});

test("executor.remove(node) removes like node.remove() and ignores an already removed node", () => {
  const { ex } = setup();
  let drops = 0;
  const n = mk(ex, "n", { onDrop: () => drops++ });
  ex.remove(n);
  ex.remove(n);
  assertEquals([n.isAlive, drops, ex.nodeCount], [false, 1, 0]);
});
