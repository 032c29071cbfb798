/**
 * Misuse gets a clear typed error (right class, right code), and the executor keeps working
 * afterwards: a throwing node is removed and reported, a misuse changes nothing.
 */

import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import {
  BuilderError,
  CapacityError,
  ContextError,
  Control,
  ErrorCode,
  type ErrorPhase,
  type ExecutionContext,
  type Executor,
  ExecutorState,
  ForeignNodeError,
  InvalidArgumentError,
  type Node,
  NodeBuilder,
  NodeRemovedError,
  Relationship,
  SchedulerError,
  TestRuntime,
  type TimerHandle,
  WaveletError,
} from "../mod.ts";
import { RealtimeRuntime } from "../mod.ts";

interface Reported {
  error: unknown;
  node: Node<unknown> | undefined;
  phase: ErrorPhase;
}

function setup() {
  const rt = new TestRuntime();
  const errors: Reported[] = [];
  rt.executor.onError = (error, r) => errors.push({ error, node: r.node, phase: r.phase });
  return { rt, ex: rt.executor, errors };
}

/** A plain node that counts its runs and broadcasts. */
function plain(ex: Executor, boot = false): Node<number> {
  const b = new NodeBuilder(0);
  if (boot) b.onInit((e, self) => e.yieldNow(self));
  return b.build(ex, (self) => {
    self.value++;
    return true;
  });
}

/** Asserts the executor still runs a fresh node in the next cycle. */
function assertStillWorks(rt: TestRuntime): void {
  const probe = plain(rt.executor, true);
  assertEquals(rt.runOneCycle(), ExecutorState.Running);
  assertEquals(probe.value, 1, "the executor still runs nodes");
  probe.remove();
}

/** Runs `fn` inside a node's cycle function and returns what it threw (undefined if nothing). */
function throwInCycle(rt: TestRuntime, fn: (ctx: ExecutionContext) => void): unknown {
  let caught: unknown = undefined;
  const n = new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .build(rt.executor, (_self, ctx) => {
      try {
        fn(ctx);
      } catch (e) {
        caught = e;
      }
    });
  rt.runOneCycle();
  n.remove();
  return caught;
}

// ------------------------------------------------------------------ the error classes

test("every WaveletError subclass has name equal to its class name and keeps code and cause", () => {
  const classes = [
    WaveletError,
    SchedulerError,
    NodeRemovedError,
    ForeignNodeError,
    BuilderError,
    InvalidArgumentError,
    ContextError,
    CapacityError,
  ];
  const cause = new Error("root cause");
  for (const C of classes) {
    const e = new C("message text", { code: ErrorCode.InvalidArgument, cause });
    assert(e instanceof WaveletError, `${C.name} extends WaveletError`);
    assert(e instanceof Error, `${C.name} extends Error`);
    assertEquals(e.name, C.name);
    assertEquals(e.code, "INVALID_ARGUMENT");
    assertEquals(e.message, "message text");
    assertEquals(e.cause, cause);
  }
});

test("ErrorCode values are distinct stable strings equal to their SCREAMING_SNAKE names", () => {
  const values = Object.values(ErrorCode);
  assertEquals(new Set(values).size, values.length);
  for (const [key, value] of Object.entries(ErrorCode)) {
    assertEquals(value, key.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase(), key);
  }
});

// ------------------------------------------------------------------ building on removed / foreign nodes

test("building on a removed node throws NodeRemovedError NODE_REMOVED and builds nothing", () => {
  const { rt, ex } = setup();
  const gone = plain(ex);
  const live = plain(ex);
  gone.remove();
  for (
    const make of [
      () => new NodeBuilder(0).triggeredBy(gone),
      () => new NodeBuilder(0).observerOf(gone),
      () => new NodeBuilder(0).triggeredBy(live).observerOf(gone),
    ]
  ) {
    const e = assertThrows(() => make().build(ex, () => false), NodeRemovedError, "NODE_REMOVED");
    assertEquals(e.name, "NodeRemovedError");
  }
  assertEquals(ex.nodeCount, 1);
  assertEquals(ex.triggerChildrenOf(live), [], "no half-built edge on the live parent");
  assertStillWorks(rt);
});

test("building on a node that is leaving the graph in the sweep phase throws NODE_REMOVED", () => {
  const { rt, ex, errors } = setup();
  let caught: unknown;
  let descendantAlive: boolean | undefined;
  const a = new NodeBuilder(0).onDrop(() => {
    // a is removed before its descendant c, which is leaving too but not swept yet.
    descendantAlive = c.isAlive;
    try {
      new NodeBuilder(0).triggeredBy(c).build(ex, () => false);
    } catch (e) {
      caught = e;
    }
  }).build(ex, () => false);
  const c = new NodeBuilder(0).triggeredBy(a).build(ex, () => false);
  const bystander = plain(ex);
  a.remove();
  assertEquals(descendantAlive, true, "precondition: c was not swept yet");
  assert(caught instanceof NodeRemovedError, `got ${caught}`);
  assertEquals(caught.code, "NODE_REMOVED");
  assertEquals(c.isAlive, false);
  assertEquals(ex.liveNodes(), [bystander], "nothing new was built");
  assertEquals(errors, []);
  assertStillWorks(rt);
});

test("a spawn closure building on a node swept in the same cycle reports NODE_REMOVED", () => {
  const { rt, ex, errors } = setup();
  const before = ex.nodeCount;
  new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (self, ctx) => {
      ctx.spawnSubgraph((e) => void new NodeBuilder(0).triggeredBy(self).build(e, () => false));
      return Control.Sweep;
    });
  rt.runOneCycle();
  assertEquals(errors.length, 1);
  assert(errors[0].error instanceof NodeRemovedError);
  assertEquals((errors[0].error as NodeRemovedError).code, "NODE_REMOVED");
  assertEquals(errors[0].phase, "spawn");
  assertEquals(ex.nodeCount, before);
  assertStillWorks(rt);
});

test("a relationship to a node of another executor throws ForeignNodeError FOREIGN_NODE at build", () => {
  const { rt, ex } = setup();
  const other = new TestRuntime();
  const foreign = plain(other.executor);
  const local = plain(ex);
  const e = assertThrows(
    () => new NodeBuilder(0).triggeredBy(local, foreign).build(ex, () => false),
    ForeignNodeError,
    "FOREIGN_NODE",
  );
  assertEquals(e.name, "ForeignNodeError");
  assertThrows(
    () => new NodeBuilder(0).observerOf(foreign).build(ex, () => false),
    ForeignNodeError,
    "FOREIGN_NODE",
  );
  assertThrows(
    () => new NodeBuilder(0).addRelationship(foreign, Relationship.Trigger).build(ex, () => false),
    ForeignNodeError,
    "FOREIGN_NODE",
  );
  assertEquals(ex.nodeCount, 1);
  assertEquals(other.executor.nodeCount, 1);
  assertEquals(ex.triggerChildrenOf(local), []);
  assertEquals(other.executor.triggerChildrenOf(foreign), []);
  assertStillWorks(rt);
  assertStillWorks(other);
});

test("executor methods given a node of another executor throw ForeignNodeError", () => {
  const { rt, ex } = setup();
  const foreign = plain(new TestRuntime().executor);
  const calls: [string, () => unknown][] = [
    ["yieldNow", () => ex.yieldNow(foreign)],
    ["remove", () => ex.remove(foreign)],
    ["hasMutated", () => ex.hasMutated(foreign)],
    ["registerTimer", () => ex.registerTimer(foreign, 10)],
    ["runCount", () => ex.runCount(foreign)],
    ["parentsOf", () => ex.parentsOf(foreign)],
    ["own", () => ex.own(foreign, () => {})],
  ];
  for (const [what, call] of calls) {
    try {
      call();
      throw new Error(`${what} did not throw`);
    } catch (e) {
      assert(e instanceof ForeignNodeError, `${what}: got ${e}`);
      assertEquals(e.code, "FOREIGN_NODE", what);
    }
  }
  assertEquals(foreign.isAlive, true, "the foreign node was not removed");
  assertEquals(ex.stats().pendingTimers, 0);
  assertStillWorks(rt);
});

test("ctx.scheduleNode given a node of another executor throws ForeignNodeError", () => {
  const { rt } = setup();
  const foreign = plain(new TestRuntime().executor);
  const caught = throwInCycle(rt, (ctx) => ctx.scheduleNode(foreign));
  assert(caught instanceof ForeignNodeError, `got ${caught}`);
  assertEquals(caught.code, "FOREIGN_NODE");
  assertStillWorks(rt);
});

/** Calls each entry and asserts it threw InvalidArgumentError INVALID_ARGUMENT. */
function assertAllInvalid(calls: [string, () => unknown][]): void {
  for (const [what, call] of calls) {
    let caught: unknown;
    try {
      call();
    } catch (e) {
      caught = e;
    }
    assert(
      caught instanceof InvalidArgumentError,
      `${what}: expected InvalidArgumentError, got ${caught}`,
    );
    assertEquals(caught.code, "INVALID_ARGUMENT", what);
  }
}

const NOT_NODES: unknown[] = [null, undefined, {}, 42];

test("yieldNow, remove, registerTimer and own reject a value that is not a node with InvalidArgumentError", () => {
  const { rt, ex } = setup();
  for (const bad of NOT_NODES) {
    const n = bad as Node<unknown>;
    assertAllInvalid([
      [`yieldNow(${bad})`, () => ex.yieldNow(n)],
      [`remove(${bad})`, () => ex.remove(n)],
      [`registerTimer(${bad})`, () => ex.registerTimer(n, 1)],
      [`own(${bad})`, () => ex.own(n, () => {})],
    ]);
  }
  assertEquals(ex.hasScheduledWork(), false);
  assertStillWorks(rt);
});

test("hasMutated and runCount reject a value that is not a node, null included, with InvalidArgumentError", () => {
  const { rt, ex } = setup();
  for (const bad of NOT_NODES) {
    const n = bad as Node<unknown>;
    assertAllInvalid([
      [`hasMutated(${bad})`, () => ex.hasMutated(n)],
      [`runCount(${bad})`, () => ex.runCount(n)],
    ]);
  }
  const caught = throwInCycle(rt, (ctx) => ctx.hasMutated(null as unknown as Node<unknown>));
  assert(caught instanceof InvalidArgumentError, `ctx.hasMutated(null): got ${caught}`);
  assertStillWorks(rt);
});

// ------------------------------------------------------------------ builder misuse

test("setting onInit twice throws BuilderError ON_INIT_TWICE and keeps the first callback", () => {
  const { rt, ex } = setup();
  const calls: string[] = [];
  const b = new NodeBuilder(0).onInit(() => void calls.push("first"));
  const e = assertThrows(
    () => b.onInit(() => void calls.push("second")),
    BuilderError,
    "ON_INIT_TWICE",
  );
  assertEquals(e.name, "BuilderError");
  b.build(ex, () => false);
  assertEquals(calls, ["first"]);
  assertStillWorks(rt);
});

test("setting onDrop twice throws BuilderError ON_DROP_TWICE and keeps the first callback", () => {
  const { rt, ex } = setup();
  const calls: string[] = [];
  const b = new NodeBuilder(0).onDrop(() => void calls.push("first"));
  assertThrows(() => b.onDrop(() => void calls.push("second")), BuilderError, "ON_DROP_TWICE");
  b.build(ex, () => false).remove();
  assertEquals(calls, ["first"]);
  assertStillWorks(rt);
});

test("reusing a builder after build throws BuilderError BUILDER_CONSUMED and builds nothing", () => {
  const { rt, ex } = setup();
  const p = plain(ex);
  const b = new NodeBuilder(0);
  b.build(ex, () => false);
  const uses: [string, () => unknown][] = [
    ["build", () => b.build(ex, () => false)],
    ["spawn", () => b.spawn(ex, () => false)],
    ["triggeredBy", () => b.triggeredBy(p)],
    ["observerOf", () => b.observerOf(p)],
    ["addRelationship", () => b.addRelationship(p, Relationship.Observe)],
    ["onInit", () => b.onInit(() => {})],
    ["onDrop", () => b.onDrop(() => {})],
    ["allowPanic", () => b.allowPanic(true)],
  ];
  for (const [what, use] of uses) {
    try {
      use();
      throw new Error(`${what} did not throw`);
    } catch (e) {
      assert(e instanceof BuilderError, `${what}: got ${e}`);
      assertEquals(e.code, "BUILDER_CONSUMED", what);
    }
  }
  assertEquals(ex.nodeCount, 2);
  assertEquals(ex.triggerChildrenOf(p), []);
  assertStillWorks(rt);
});

test("reusing a builder after spawn throws BuilderError BUILDER_CONSUMED", () => {
  const { ex } = setup();
  const b = new NodeBuilder(0);
  b.spawn(ex, () => false);
  assertThrows(() => b.spawn(ex, () => false), BuilderError, "BUILDER_CONSUMED");
  assertEquals(ex.nodeCount, 1);
});

test("named() on a consumed builder throws BuilderError BUILDER_CONSUMED", () => {
  const { ex } = setup();
  const b = new NodeBuilder(0).named("first");
  const n = b.build(ex, () => false);
  assertThrows(() => b.named("renamed"), BuilderError, "BUILDER_CONSUMED");
  assertEquals(n.name, "first");
});

test("a cycle function that is not a function throws InvalidArgumentError and builds nothing", () => {
  const { rt, ex } = setup();
  const p = plain(ex);
  let inits = 0;
  for (const bad of [undefined, null, 42, "fn", {}]) {
    const e = assertThrows(
      () =>
        new NodeBuilder(0).triggeredBy(p).onInit(() => void inits++).build(
          ex,
          bad as unknown as () => boolean,
        ),
      InvalidArgumentError,
      "INVALID_ARGUMENT",
    );
    assertEquals(e.name, "InvalidArgumentError");
  }
  assertEquals(inits, 0, "onInit never ran");
  assertEquals(ex.nodeCount, 1);
  assertEquals(ex.triggerChildrenOf(p), []);
  assertStillWorks(rt);
});

test("builder methods reject wrong argument types with InvalidArgumentError", () => {
  const { ex } = setup();
  const p = plain(ex);
  const bad = (v: unknown) => v as never;
  const calls: [string, () => unknown][] = [
    ["named", () => new NodeBuilder(0).named(bad(5))],
    ["onInit", () => new NodeBuilder(0).onInit(bad("x"))],
    ["onDrop", () => new NodeBuilder(0).onDrop(bad(null))],
    ["triggeredBy", () => new NodeBuilder(0).triggeredBy(bad(undefined))],
    ["observerOf", () => new NodeBuilder(0).observerOf(bad({}))],
    ["addRelationship node", () => new NodeBuilder(0).addRelationship(bad(null), 0)],
    ["addRelationship rel", () => new NodeBuilder(0).addRelationship(p, bad(7))],
  ];
  for (const [what, call] of calls) {
    try {
      call();
      throw new Error(`${what} did not throw`);
    } catch (e) {
      assert(e instanceof InvalidArgumentError, `${what}: got ${e}`);
      assertEquals(e.code, "INVALID_ARGUMENT", what);
    }
  }
});

test("ctx.spawnSubgraph with a non-function throws InvalidArgumentError", () => {
  const { rt } = setup();
  const caught = throwInCycle(rt, (ctx) => ctx.spawnSubgraph(42 as never));
  assert(caught instanceof InvalidArgumentError, `got ${caught}`);
  assertEquals(caught.code, "INVALID_ARGUMENT");
  assertStillWorks(rt);
});

// ------------------------------------------------------------------ timers and scheduling

test("a negative, NaN or infinite timer deadline throws InvalidArgumentError INVALID_DEADLINE", () => {
  const { rt, ex } = setup();
  const n = plain(ex);
  for (const bad of [-1, NaN, Infinity, -Infinity]) {
    assertThrows(() => ex.registerTimer(n, bad), InvalidArgumentError, "INVALID_DEADLINE");
  }
  const caught = throwInCycle(rt, (ctx) => ctx.registerTimer(ctx.current, -5));
  assert(caught instanceof InvalidArgumentError, `got ${caught}`);
  assertEquals(caught.code, "INVALID_DEADLINE");
  assertEquals(ex.nextTimerDeadline(), Infinity);
  assertStillWorks(rt);
});

test("yielding or scheduling a removed node throws NodeRemovedError NODE_REMOVED", () => {
  const { rt, ex } = setup();
  const gone = plain(ex);
  gone.remove();
  assertThrows(() => ex.yieldNow(gone), NodeRemovedError, "NODE_REMOVED");
  assertThrows(() => ex.parentsOf(gone), NodeRemovedError, "NODE_REMOVED");
  assertThrows(() => ex.own(gone, () => {}), NodeRemovedError, "NODE_REMOVED");
  const caught1 = throwInCycle(rt, (ctx) => ctx.scheduleNode(gone));
  assert(caught1 instanceof NodeRemovedError, `scheduleNode: got ${caught1}`);
  assertEquals(caught1.code, "NODE_REMOVED");
  const caught2 = throwInCycle(rt, (ctx) => ctx.yieldNow(gone));
  assert(caught2 instanceof NodeRemovedError, `ctx.yieldNow: got ${caught2}`);
  assertStillWorks(rt);
});

test("scheduling at a lower depth throws SchedulerError SCHEDULE_LOWER_DEPTH and the same depth is allowed", () => {
  const { rt, ex, errors } = setup();
  const root = plain(ex, true);
  const low = plain(ex); // depth 0
  const peer = new NodeBuilder(0).observerOf(root).build(ex, (self) => {
    self.value++;
  }); // depth 1
  let lowErr: unknown, peerErr: unknown = "not called";
  const mid = new NodeBuilder(0).triggeredBy(root).build(ex, (_self, ctx) => {
    try {
      ctx.scheduleNode(low);
    } catch (e) {
      lowErr = e;
    }
    try {
      ctx.scheduleNode(peer);
      peerErr = undefined;
    } catch (e) {
      peerErr = e;
    }
  });
  assertEquals([mid.depth, peer.depth, low.depth], [1, 1, 0]);
  rt.runOneCycle();
  assert(lowErr instanceof SchedulerError, `got ${lowErr}`);
  assertEquals(lowErr.code, "SCHEDULE_LOWER_DEPTH");
  assertEquals(lowErr.name, "SchedulerError");
  assertEquals(peerErr, undefined);
  assertEquals([low.value, peer.value], [0, 1]);
  assertEquals(errors, []);
  assertStillWorks(rt);
});

test("an uncaught SchedulerError in a cycle function is isolated like any other error", () => {
  const { rt, ex, errors } = setup();
  const root = plain(ex, true);
  const low = plain(ex);
  const bad = new NodeBuilder(0).triggeredBy(root).build(ex, (_self, ctx) => {
    ctx.scheduleNode(low);
  });
  rt.runOneCycle();
  assertEquals(errors.length, 1);
  assert(errors[0].error instanceof SchedulerError);
  assertEquals(errors[0].node, bad);
  assertEquals(bad.isAlive, false);
  assertEquals(low.value, 0);
  assertStillWorks(rt);
});

// ------------------------------------------------------------------ context and cycle misuse

test("using ctx after its cycle ended throws ContextError CONTEXT_EXPIRED for every member", () => {
  const { rt, ex } = setup();
  let kept: ExecutionContext | undefined;
  const n = new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, (_self, ctx) => {
    kept = ctx;
  });
  rt.runOneCycle();
  assert(kept !== undefined);
  const ctx = kept;
  const uses: [string, () => unknown][] = [
    ["current", () => ctx.current],
    ["epoch", () => ctx.epoch],
    ["time", () => ctx.time],
    ["executor", () => ctx.executor],
    ["hasMutated", () => ctx.hasMutated(n)],
    ["yieldNow", () => ctx.yieldNow(n)],
    ["scheduleNode", () => ctx.scheduleNode(n)],
    ["registerTimer", () => ctx.registerTimer(n, 10)],
    ["cancelTimer", () => ctx.cancelTimer(undefined as unknown as TimerHandle)],
    ["spawnSubgraph", () => ctx.spawnSubgraph(() => {})],
  ];
  for (const [what, use] of uses) {
    try {
      use();
      throw new Error(`ctx.${what} did not throw`);
    } catch (e) {
      assert(e instanceof ContextError, `ctx.${what}: got ${e}`);
      assertEquals(e.code, "CONTEXT_EXPIRED", what);
      assertEquals(e.name, "ContextError");
    }
  }
  assertEquals(ex.hasScheduledWork(), false, "the expired yieldNow queued nothing");
  assertEquals(ex.nextTimerDeadline(), Infinity);
  assertStillWorks(rt);
});

test("using ctx in a spawn closure or an onDrop of the sweep phase throws CONTEXT_EXPIRED", () => {
  const { rt, ex, errors } = setup();
  const caught: unknown[] = [];
  let kept: ExecutionContext | undefined;
  new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .onDrop(() => {
      try {
        kept!.epoch;
      } catch (e) {
        caught.push(e);
      }
    })
    .build(ex, (_self, ctx) => {
      kept = ctx;
      ctx.spawnSubgraph(() => {
        try {
          ctx.yieldNow();
        } catch (e) {
          caught.push(e);
        }
      });
      return Control.Sweep;
    });
  rt.runOneCycle();
  assertEquals(caught.length, 2);
  for (const e of caught) {
    assert(e instanceof ContextError, `got ${e}`);
    assertEquals(e.code, "CONTEXT_EXPIRED");
  }
  assertEquals(errors, []);
  assertStillWorks(rt);
});

test("building a node while nodes run throws BuilderError BUILD_DURING_CYCLE and builds nothing", () => {
  const { rt, ex } = setup();
  const before = ex.nodeCount + 1; // + the node throwInCycle builds
  let countInCycle = -1;
  const b = new NodeBuilder(0).onInit((e, self) => e.yieldNow(self));
  const caught = throwInCycle(rt, (ctx) => {
    try {
      b.build(ctx.executor, (self) => {
        self.value++;
      });
    } finally {
      countInCycle = ctx.executor.nodeCount;
    }
  });
  assert(caught instanceof BuilderError, `got ${caught}`);
  assertEquals(caught.code, "BUILD_DURING_CYCLE");
  assertEquals(countInCycle, before);
  // The rejected builder was not consumed: it can build in a spawn closure (or between cycles).
  const n = b.build(ex, (self) => {
    self.value++;
  });
  rt.runOneCycle();
  assertEquals(n.value, 1);
  assertStillWorks(rt);
});

test("spawn() during a cycle throws BUILD_DURING_CYCLE too", () => {
  const { rt, ex } = setup();
  const caught = throwInCycle(rt, () => new NodeBuilder(0).spawn(ex, () => false));
  assert(caught instanceof BuilderError, `got ${caught}`);
  assertEquals(caught.code, "BUILD_DURING_CYCLE");
  assertEquals(ex.nodeCount, 0);
});

test("calling cycle() from inside a running cycle throws WaveletError REENTRANT_CYCLE", () => {
  const { rt, ex } = setup();
  const epochs: number[] = [];
  const caught = throwInCycle(rt, (ctx) => {
    epochs.push(ctx.epoch);
    try {
      ctx.executor.cycle(rt.clock);
    } finally {
      epochs.push(ctx.epoch);
    }
  });
  assert(caught instanceof WaveletError, `got ${caught}`);
  assertEquals(caught.code, "REENTRANT_CYCLE");
  assertEquals(caught.name, "WaveletError");
  assertEquals(epochs, [1, 1], "the rejected call did not start a cycle");
  assertEquals(ex.epoch, 1);
  assertStillWorks(rt);
});

test("calling cycle() from a spawn closure or an onDrop is rejected and reported", () => {
  const { rt, ex, errors } = setup();
  new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .onDrop(() => ex.cycle(rt.clock))
    .build(ex, (_self, ctx) => {
      ctx.spawnSubgraph((e) => e.cycle(rt.clock));
      return Control.Sweep;
    });
  rt.runOneCycle();
  assertEquals(errors.map((r) => r.phase).sort(), ["drop", "spawn"]);
  for (const r of errors) {
    assert(r.error instanceof WaveletError);
    assertEquals((r.error as WaveletError).code, "REENTRANT_CYCLE");
  }
  assertEquals(ex.epoch, 1);
  assertEquals(ex.inCycle, false);
  assertStillWorks(rt);
});

test("a negative or NaN cycle timeout throws InvalidArgumentError INVALID_TIMEOUT without starting a cycle", () => {
  const rt = new RealtimeRuntime();
  try {
    const ex = rt.executor;
    const n = plain(ex, true);
    for (const bad of [-1, -0.5, -Infinity, NaN]) {
      const e = assertThrows(() => rt.runOneCycle(bad), InvalidArgumentError, "INVALID_TIMEOUT");
      assertEquals(e.name, "InvalidArgumentError");
    }
    assertEquals(ex.epoch, 0);
    assertEquals(n.value, 0);
    assertEquals(ex.inCycle, false);
    assertEquals(rt.runOneCycle(0), ExecutorState.Running);
    assertEquals(n.value, 1);
    // With work queued, even an infinite timeout does not wait.
    ex.yieldNow(n);
    assertEquals(rt.runOneCycle(Infinity), ExecutorState.Running);
    assertEquals(rt.runOneCycle(1000), ExecutorState.Running);
    assertEquals(ex.epoch, 3);
  } finally {
    rt.shutdown();
  }
});

test("every error the runtime throws on purpose is a WaveletError whose name is its class", () => {
  const { rt, ex } = setup();
  const gone = plain(ex);
  gone.remove();
  const thrown: unknown[] = [];
  const tryIt = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      thrown.push(e);
    }
  };
  tryIt(() => new NodeBuilder(0).triggeredBy(gone).build(ex, () => false));
  tryIt(() => new NodeBuilder(0).triggeredBy(plain(new TestRuntime().executor)).build(ex, () => 0));
  tryIt(() => new NodeBuilder(0).onInit(() => {}).onInit(() => {}));
  tryIt(() => ex.registerTimer(plain(ex), NaN));
  tryIt(() => ex.cycle({} as never));
  tryIt(() => rt.advanceClock(-1));
  assertEquals(thrown.length, 6);
  for (const e of thrown) {
    assert(e instanceof WaveletError, `not a WaveletError: ${e}`);
    assertEquals(e.name, e.constructor.name);
    assert(typeof e.code === "string" && e.code.length > 0);
    assert(Object.values(ErrorCode).includes(e.code), `unknown code ${e.code}`);
    assert(e.message.length > 0);
  }
  assertStillWorks(rt);
});
