/**
 * Public-API fuzz, the executor: Executor, NodeBuilder, ExecutionContext (inside a cycle and
 * saved past it) and timer handles across executors. Each entry point gets random bad
 * arguments; each call must succeed or throw a typed `WaveletError`, and the executor must keep
 * working.
 *
 * @module
 */

import fc from "fast-check";
import { assert, assertEquals, test } from "./_harness.ts";
import {
  arg,
  assertTyped,
  badNumber,
  badValue,
  counter,
  expectTyped,
  fuzzCall,
  Graph,
  opts,
  pick,
  throwingObject,
} from "./_fuzz.ts";
import { RUNS } from "../src/core/graph.ts";
import { ContextError, ErrorCode } from "../src/core/errors.ts";
import { Control, Relationship } from "../src/core/control.ts";
import {
  type ExecutionContext,
  ExecutionContext as ExecutionContextClass,
} from "../src/core/context.ts";
import { Executor } from "../src/core/executor.ts";
import type { IoHandle } from "../src/drivers/io.ts";
import type { Node } from "../src/core/node.ts";
import { NodeBuilder } from "../src/core/builder.ts";
import { TestRuntime } from "../src/runtime/test_runtime.ts";
import type { TimerHandle } from "../src/drivers/timer.ts";
import { channel } from "../src/channel/build.ts";
import { profile, type Profiler } from "../src/observe/profile.ts";
import { trace, type Tracer } from "../src/observe/trace.ts";

// ---------------------------------------------------------------------------------------------
// Executor

fuzzCall("new Executor(options)", [
  opts(["initialCapacity", "notifierCapacity"], {
    initialCapacity: fc.integer({ min: 1, max: 4096 }),
    notifierCapacity: fc.integer({ min: 1, max: 4096 }),
  }),
], (g, [o]) => {
  const ex = new Executor(pick(o, () => ({})));
  const fresh = counter(ex, "fresh");
  const [, notifier] = new NodeBuilder(0).buildWithNotifier(ex, () => Control.Unchanged);
  notifier.notify();
  ex.cycle(g.rt.clock);
  assertEquals(fresh.value, 1, "a node of the new executor runs in its first cycle");
});

fuzzCall("Executor.cycle(clock)", [arg()], (g, [c]) => {
  g.ex.cycle(pick(c, () => g.rt.clock));
});

/** The node-taking methods of Executor, each called with a bad node (or a live one). */
const NODE_METHODS = [
  "hasMutated",
  "yieldNow",
  "remove",
  "runCount",
  "parentsOf",
  "triggerChildrenOf",
  "observerChildrenOf",
  "registerNotifier",
] as const;

fuzzCall("Executor's node methods (hasMutated, yieldNow, remove, ...)", [
  fc.constantFrom(...NODE_METHODS),
  arg(fc.oneof(badValue, fc.constantFrom("removed", "foreign"))),
], (g, [m, n]) => {
  const target = n === "removed"
    ? (() => {
      const x = g.node(0);
      x.remove();
      return x;
    })()
    : n === "foreign"
    ? counter(new Executor(), "foreign")
    : pick(n, () => g.node(0));
  (g.ex as any)[m as string](target);
});

fuzzCall("Executor.registerTimer(node, deadline) and cancelTimer(handle)", [
  arg(),
  arg(badNumber),
  badValue,
], (g, [n, d, h]) => {
  const target = pick(n, () => g.node(0));
  expectTyped("registerTimer", () => g.ex.registerTimer(target, pick(d, () => 10)));
  const r = expectTyped("cancelTimer", () => g.ex.cancelTimer(h as TimerHandle));
  assert(r === undefined || typeof r === "boolean", "cancelTimer returns a boolean");
});

fuzzCall("Executor I/O methods (registerIo, reregisterIo, deregisterIo, ioReadiness)", [
  arg(badNumber),
  arg(),
  arg(badNumber),
  badValue,
], (g, [fd, n, interest, h]) => {
  expectTyped(
    "registerIo",
    () => g.ex.registerIo(pick(fd, () => 0), pick(n, () => g.node(0)), pick(interest, () => 1)),
  );
  expectTyped("reregisterIo", () => g.ex.reregisterIo(h as IoHandle, interest as number));
  expectTyped("deregisterIo", () => g.ex.deregisterIo(h as IoHandle));
  expectTyped("ioReadiness", () => g.ex.ioReadiness(h as IoHandle));
});

fuzzCall("Executor.own, scheduleStimulus, observe's trace and profile", [
  arg(),
  arg(),
  badValue,
  badValue,
  badValue,
  opts(["nodeTime", "cycleTime", "nowNs"]),
], (g, [n, release, slot, gen, limit, profiling]) => {
  expectTyped("own", () => g.ex.own(pick(n, () => g.node(0)), pick(release, () => () => {})));
  expectTyped(
    "scheduleStimulus",
    () => g.ex.scheduleStimulus(slot as number, gen as number, limit as number),
  );
  const tracer = expectTyped("trace", () => trace(g.ex, limit as number)) as Tracer | undefined;
  const profiler = expectTyped(
    "profile",
    () => profile(g.ex, pick(profiling, () => ({}))),
  ) as Profiler | undefined;
  g.ex.yieldNow(g.node(0));
  g.rt.runOneCycle();
  tracer?.stop();
  profiler?.stop();
});

// A mark from 0 to nextNodeId is valid and removes the nodes built since (the queued one too),
// so the marks tried here are the invalid ones and marks past every node.
fuzzCall("Executor.removeBuiltSince(mark)", [
  arg(badValue.filter((v) => !(Number.isInteger(v) && (v as number) >= 0 && (v as number) < 1e3))),
], (g, [mark]) => {
  const removed = g.ex.removeBuiltSince(pick(mark, () => g.ex.nextNodeId));
  assert(typeof removed === "number", "removeBuiltSince counts what it removed");
});

test("fuzz: a bad onError handler gives a typed error or is used, and cycles keep running", () => {
  const saved = console.error;
  console.error = () => {};
  try {
    fc.assert(
      fc.property(badValue, (handler) => {
        const g = new Graph();
        expectTyped("onError =", () => {
          g.ex.onError = handler as never;
        });
        new NodeBuilder(0)
          .onInit((ex, self) => ex.yieldNow(self))
          .build(g.ex, () => {
            throw new Error("a node fails on purpose");
          });
        expectTyped("a cycle with a failing node", () => g.rt.runOneCycle());
        g.assertStillWorks("a bad onError");
      }),
      { numRuns: RUNS },
    );
  } finally {
    console.error = saved;
  }
});

test("fuzz: cancelTimer with another executor's handle cancels nothing of this executor", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), (na, nb) => {
      const a = new TestRuntime(), b = new TestRuntime();
      const fired: string[] = [];
      const make = (rt: TestRuntime, name: string, count: number) => {
        const handles: TimerHandle[] = [];
        for (let i = 0; i <= count; i++) {
          const n = new NodeBuilder(0).build(rt.executor, () => {
            fired.push(`${name}${i}`);
            return Control.Unchanged;
          });
          handles.push(rt.executor.registerTimer(n, 10 + i));
        }
        return handles;
      };
      make(a, "a", na);
      const hb = make(b, "b", nb);
      for (const h of hb) {
        const r = expectTyped("cancelTimer(foreign handle)", () => a.executor.cancelTimer(h));
        assert(r === undefined || r === false, "a foreign handle cancels nothing here");
      }
      a.advanceClock(100);
      b.advanceClock(100);
      a.runOneCycle();
      b.runOneCycle();
      assertEquals(fired.length, na + nb + 2, `every timer fired: ${fired}`);
    }),
    { numRuns: 50 },
  );
});

// ---------------------------------------------------------------------------------------------
// NodeBuilder: random chains of method calls with bad arguments, then a build

const BUILDER_STEPS = [
  "named",
  "triggeredBy",
  "observerOf",
  "addRelationship",
  "onInit",
  "onDrop",
  "allowPanic",
] as const;

const builderStep = fc.tuple(fc.constantFrom(...BUILDER_STEPS), arg(), arg());

function stepArgs(g: Graph, m: string, a: unknown, b: unknown): unknown[] {
  switch (m) {
    case "named":
      return [pick(a, () => "n")];
    case "triggeredBy":
    case "observerOf":
      return [pick(a, () => g.node(0)), pick(b, () => g.node(1))];
    case "addRelationship":
      return [pick(a, () => g.node(0)), pick(b, () => Relationship.Observe)];
    case "onInit":
    case "onDrop":
      return [pick(a, () => () => {})];
    default:
      return [pick(a, () => true)];
  }
}

fuzzCall("NodeBuilder methods then build/spawn/buildWithNotifier", [
  fc.array(builderStep, { maxLength: 4 }),
  fc.constantFrom("build", "spawn", "buildWithNotifier"),
  arg(),
  arg(),
], (g, [steps, terminal, e, f]) => {
  const b = new NodeBuilder<unknown>(0);
  for (const [m, x, y] of steps as [string, unknown, unknown][]) {
    expectTyped(`NodeBuilder.${m}`, () => (b as any)[m](...stepArgs(g, m, x, y)));
  }
  const fn = pick(f, () => () => Control.Unchanged);
  (b as any)[terminal as string](pick(e, () => g.ex), fn);
});

fuzzCall("NodeBuilder.buildWith(executor, channel(options), fn)", [
  arg(),
  opts(["kind", "capacity", "overflow", "record", "maxItemBytes", "blockTimeoutMs"], {
    kind: fc.constantFrom("local", "value", "ring"),
    capacity: fc.integer({ min: 1, max: 64 }),
  }),
  arg(),
], (g, [e, o, f]) => {
  new NodeBuilder(0).buildWith(
    pick(e, () => g.ex),
    channel(pick(o, () => ({ kind: "local", capacity: 4 }))),
    pick(f, () => () => Control.Unchanged),
  );
});

test("fuzz: a builder that failed to build stays usable or says it was consumed", () => {
  fc.assert(
    fc.property(arg(), arg(), (e, f) => {
      const g = new Graph();
      const b = new NodeBuilder(0);
      const built = expectTyped(
        "build",
        () => b.build(pick(e, () => g.ex), pick(f, () => () => 0)),
      );
      if (built === undefined) {
        // Nothing was built: the same builder builds with good arguments now.
        b.build(g.ex, () => Control.Unchanged);
      }
      g.assertStillWorks("a failed build");
    }),
    { numRuns: RUNS },
  );
});

// ---------------------------------------------------------------------------------------------
// ExecutionContext

const CTX_METHODS = [
  "hasMutated",
  "yieldNow",
  "scheduleNode",
  "registerTimer",
  "cancelTimer",
  "registerIo",
  "reregisterIo",
  "deregisterIo",
  "ioReadiness",
  "spawnSubgraph",
] as const;

function ctxArgs(g: Graph, self: Node<unknown>, m: string, a: unknown, b: unknown): unknown[] {
  switch (m) {
    case "registerTimer":
      return [pick(a, () => self), pick(b, () => 5)];
    case "registerIo":
      return [pick(a, () => 0), pick(b, () => self), 1];
    case "reregisterIo":
      return [pick(a, () => 0), pick(b, () => 1)];
    case "cancelTimer":
    case "deregisterIo":
    case "ioReadiness":
      return [pick(a, () => 0)];
    case "spawnSubgraph":
      return [pick(a, () => (ex: Executor) => counter(ex, "spawned"))];
    default:
      return [pick(a, () => g.queued)];
  }
}

fuzzCall("ExecutionContext methods inside a cycle", [
  fc.constantFrom(...CTX_METHODS),
  arg(),
  arg(),
], (g, [m, a, b]) => {
  const failures: string[] = [];
  new NodeBuilder(0)
    .onInit((ex, self) => ex.yieldNow(self))
    .build(g.ex, (self, ctx) => {
      try {
        (ctx as any)[m as string](...ctxArgs(g, self, m as string, a, b));
      } catch (e) {
        try {
          assertTyped(`ctx.${m as string}`, e);
        } catch (bad) {
          failures.push((bad as Error).message);
        }
      }
      return Control.Unchanged;
    });
  g.rt.runOneCycle();
  assertEquals(failures, [], "every failing ctx call threw a typed error");
});

test("fuzz: a saved ExecutionContext throws CONTEXT_EXPIRED outside and in later cycles", () => {
  fc.assert(
    fc.property(fc.constantFrom(...CTX_METHODS), arg(), arg(), (m, a, b) => {
      const g = new Graph();
      let saved: ExecutionContext | undefined;
      let self: Node<unknown> | undefined;
      let round = 0;
      const errors: unknown[] = [];
      new NodeBuilder(0)
        .onInit((ex, s) => ex.yieldNow(s))
        .build(g.ex, (s, ctx) => {
          round++;
          if (round === 1) {
            saved = ctx;
            self = s;
            ctx.yieldNow();
          }
          return Control.Unchanged;
        });
      const later = new NodeBuilder(0).build(g.ex, () => {
        // A later cycle, another node: the saved context must not work again.
        try {
          (saved as any)[m](...ctxArgs(g, self!, m, a, b));
          errors.push("no error");
        } catch (e) {
          errors.push(e);
        }
        return Control.Unchanged;
      });
      g.rt.runOneCycle();
      try {
        (saved as any)[m](...ctxArgs(g, self!, m, a, b));
        errors.push("no error");
      } catch (e) {
        errors.push(e);
      }
      g.ex.yieldNow(later);
      g.rt.runOneCycle();
      assertEquals(errors.length, 2);
      for (const e of errors) {
        assert(
          e instanceof ContextError && e.code === ErrorCode.ContextExpired,
          `a saved ctx.${m} threw ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      g.assertStillWorks(`a saved ctx.${m}`);
    }),
    { numRuns: RUNS },
  );
});

fuzzCall("new ExecutionContext(executor) and its methods", [
  badValue,
  fc.constantFrom(...CTX_METHODS),
  badValue,
], (g, [e, m, a]) => {
  const ctx = new ExecutionContextClass(e as Executor, e as never, 0);
  (ctx as any)[m as string](a, a, a);
  void g;
});

test("fuzz: throwing objects as arguments never escape as their own errors", () => {
  const g = new Graph();
  const t = throwingObject();
  for (
    const call of [
      () => g.ex.cycle(t as never),
      () => g.ex.yieldNow(t as never),
      () => g.ex.registerTimer(t as never, 1),
      () => new NodeBuilder(0).named(t as never),
      () => new NodeBuilder(0).build(t as never, () => 0),
      () => new TestRuntime(t as never),
      () => new Executor(t as never),
      () => g.rt.runUntilIdle(t as never),
    ]
  ) {
    expectTyped("a call with a throwing object", call);
  }
  g.assertStillWorks("calls with throwing objects");
});
