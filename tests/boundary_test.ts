/**
 * Issue 10, the executor's boundary: an exception in any phase of a cycle leaves the executor idle
 * with its queue intact; a misused run call never tears a runtime down; teardown stays
 * O(n log n); handles and contexts cannot act on another executor or another node; options are
 * checked up front.
 */

import { assert, assertEquals, test } from "./_harness.ts";
import {
  type Clock,
  ContextError,
  type CycleTime,
  ErrorCode,
  type ExecutionContext,
  ExecutionMode,
  Executor,
  ExecutorState,
  ForeignNodeError,
  InvalidArgumentError,
  ms,
  type Node,
  NodeBuilder,
  RealtimeRuntime,
  TestClock,
  TestRuntime,
  WaveletError,
} from "../mod.ts";
import { NativeError } from "../native.ts";

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

function counter(ex: Executor, boot: boolean) {
  const b = new NodeBuilder(0);
  if (boot) b.onInit((e, self) => e.yieldNow(self));
  return b.build(ex, (self) => {
    self.value++;
    return true;
  });
}

test("a cycle given no clock throws a typed error, and the next cycle runs what was due (finding 4)", () => {
  const rt = new TestRuntime();
  const yielded = counter(rt.executor, true);
  const timed = counter(rt.executor, false);
  rt.executor.registerTimer(timed, 5);
  rt.advanceClock(10);
  const e = caught(() => rt.executor.cycle(null as unknown as Clock));
  assert(e instanceof InvalidArgumentError, `got ${e}`);
  assertEquals(e.code, ErrorCode.InvalidArgument);
  assertEquals(rt.executor.inCycle, false);
  assertEquals(rt.runOneCycle(), ExecutorState.Running);
  assertEquals([yielded.value, timed.value], [1, 1], "the yield and the due timer both ran");
});

test("a clock whose sample() throws once fails one cycle; nothing queued is lost (finding 4)", () => {
  const inner = new TestClock();
  let fail = true;
  const clock: Clock = {
    nowNs: () => inner.nowNs(),
    sample(out: CycleTime) {
      if (fail) {
        fail = false;
        throw new Error("clock broke");
      }
      inner.sample(out);
    },
  };
  const ex = new Executor({ clock });
  const yielded = counter(ex, true);
  const timed = counter(ex, false);
  ex.registerTimer(timed, 0);
  const e = caught(() => ex.cycle(clock));
  assertEquals((e as Error).message, "clock broke");
  assertEquals(ex.inCycle, false);
  // The yield was already moved to the queue when the timer poll failed: it must still run.
  assertEquals(ex.cycle(clock), ExecutorState.Running);
  assertEquals([yielded.value, timed.value], [1, 1]);
  assertEquals(ex.cycle(clock), ExecutorState.Running);
  assertEquals([yielded.value, timed.value], [1, 1], "each ran exactly once");
});

test("runOneCycle with a string, NaN or negative timeout is INVALID_TIMEOUT before anything runs (finding 4)", () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Spin });
  try {
    const n = counter(rt.executor, true);
    for (const bad of ["5", NaN, -1, null, {}]) {
      const e = caught(() => rt.runOneCycle(bad as unknown as number));
      assert(e instanceof InvalidArgumentError, `${String(bad)}: got ${e}`);
      assertEquals(e.code, ErrorCode.InvalidTimeout);
    }
    assertEquals(rt.executor.epoch, 0, "no cycle started");
    rt.runOneCycle();
    assertEquals(n.value, 1);
  } finally {
    rt.shutdown();
  }
});

test("a poller that fails (a closed epoll fd) surfaces its error each cycle, never REENTRANT_CYCLE (finding 4)", () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  if (!rt.backend.hasEpoll) {
    rt.shutdown();
    return;
  }
  const epfd = (rt as unknown as { _epfd: number })._epfd;
  const n = counter(rt.executor, false);
  const h = rt.executor.registerTimer(n, rt.clock.nowNs() + ms(1));
  rt.backend.close(epfd);
  for (let i = 0; i < 2; i++) {
    const e = caught(() => rt.runOneCycle(ms(5)));
    assert(e instanceof NativeError, `cycle ${i}: got ${e}`);
    assertEquals(rt.executor.inCycle, false);
  }
  rt.executor.cancelTimer(h);
  rt.shutdown(); // closing an already closed epoll fd must not stop the teardown
  assertEquals(rt.isShutDown, true);
});

test("runForever() or run() called from a node while runOneCycle drives the runtime throws and keeps the runtime (finding 6)", async () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Spin });
  const got: unknown[] = [];
  let drops = 0;
  new NodeBuilder(0)
    .onInit((ex, self) => ex.yieldNow(self))
    .onDrop(() => drops++)
    .build(rt.executor, () => {
      try {
        rt.runForever();
      } catch (e) {
        got.push(e);
      }
      const p = rt.run();
      got.push(p);
      return false;
    });
  rt.runOneCycle();
  assertEquals(got.length, 2);
  assert(got[0] instanceof WaveletError, `runForever: ${got[0]}`);
  assertEquals((got[0] as WaveletError).code, ErrorCode.ReentrantCycle);
  const e = await (got[1] as Promise<unknown>).then(() => null, (err) => err);
  assert(e instanceof WaveletError, `run: ${e}`);
  assertEquals(e.code, ErrorCode.ReentrantCycle);
  assertEquals(rt.isShutDown, false, "the misuse did not shut the runtime down");
  assertEquals(drops, 0);
  const n = counter(rt.executor, true);
  rt.runOneCycle();
  assertEquals(n.value, 1);
  rt.shutdown();
  assertEquals(drops, 1);
});

test("removing many timer-owning nodes keeps every other node's timers exact (finding 9)", () => {
  const rt = new TestRuntime();
  const ex = rt.executor;
  const fired: number[] = [];
  const nodes = [];
  for (let i = 0; i < 2000; i++) {
    const n = new NodeBuilder(i).build(ex, (self) => {
      fired.push(self.value);
      return false;
    });
    ex.registerTimer(n, 100 + (i % 7));
    ex.registerTimer(n, 200 + (i % 5));
    nodes.push(n);
  }
  for (let i = 0; i < nodes.length; i += 2) nodes[i].remove();
  assertEquals(ex.stats().pendingTimers, 2000);
  rt.advanceClock(1000);
  rt.runOneCycle();
  assertEquals(fired.length, 1000);
  assert(fired.every((v) => v % 2 === 1), "only the kept nodes fired");
  assertEquals(ex.stats().pendingTimers, 0);
});

test("removing thousands of children of one parent keeps the order of the rest (finding 9)", () => {
  const rt = new TestRuntime();
  const ex = rt.executor;
  const src = counter(ex, false);
  const order: number[] = [];
  const kids: Node<number>[] = [];
  for (let i = 0; i < 3000; i++) {
    kids.push(
      new NodeBuilder(i).triggeredBy(src).build(ex, (self) => {
        order.push(self.value);
        return false;
      }),
    );
  }
  const obs = new NodeBuilder(0).observerOf(src).build(ex, () => false);
  new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (_self, ctx) => {
      for (let i = 0; i < kids.length; i++) if (i % 3 !== 0) ctx.executor.remove(kids[i]);
      return false;
    });
  rt.runOneCycle();
  assertEquals(ex.triggerChildrenOf(src).length, 1000);
  assertEquals(ex.observerChildrenOf(src), [obs]);
  ex.yieldNow(src);
  rt.runOneCycle();
  assertEquals(order, kids.filter((_, i) => i % 3 === 0).map((k) => k.value));
});

test("Executor options are checked at construction (finding 10)", () => {
  const bad: [string, unknown][] = [
    ["initialCapacity", NaN],
    ["initialCapacity", -1],
    ["initialCapacity", 1.5],
    ["initialCapacity", "64"],
    ["notifierCapacity", 0],
    ["notifierCapacity", NaN],
    ["notifierCapacity", 2 ** 30],
    ["clock", {}],
  ];
  for (const [k, v] of bad) {
    const e = caught(() => new Executor({ [k]: v }));
    assert(e instanceof InvalidArgumentError, `${k}=${String(v)}: ${e}`);
    assertEquals(e.code, ErrorCode.InvalidArgument);
  }
  const e = caught(() => new Executor(null as unknown as object));
  assert(e instanceof InvalidArgumentError);
  const ex = new Executor({ initialCapacity: 0 });
  const n = counter(ex, true);
  ex.cycle(new TestClock());
  assertEquals(n.value, 1);
});

test("a timer handle of one executor is refused by another and cancels nothing there (finding 10)", () => {
  const a = new TestRuntime(), b = new TestRuntime();
  const na = counter(a.executor, false), nb = counter(b.executor, false);
  a.executor.registerTimer(na, 5);
  const hb = b.executor.registerTimer(nb, 5);
  const e = caught(() => a.executor.cancelTimer(hb));
  assert(e instanceof ForeignNodeError, `got ${e}`);
  const e2 = caught(() => a.executor.cancelTimer(0 as never));
  assert(e2 instanceof InvalidArgumentError, `got ${e2}`);
  assertEquals(a.executor.stats().pendingTimers, 1);
  a.advanceClock(5);
  b.advanceClock(5);
  a.runOneCycle();
  b.runOneCycle();
  assertEquals([na.value, nb.value], [1, 1]);
});

test("a context saved by one node fails in a later cycle and in another node's run (finding 10)", () => {
  const rt = new TestRuntime();
  let saved: ExecutionContext | null = null;
  const a = new NodeBuilder(0)
    .onInit((ex, self) => ex.yieldNow(self))
    .build(rt.executor, (_self, ctx) => {
      saved ??= ctx;
      return false;
    });
  const errors: unknown[] = [];
  const b = new NodeBuilder(0).build(rt.executor, () => {
    for (const use of [() => saved!.current, () => saved!.yieldNow(), () => saved!.time]) {
      try {
        use();
      } catch (e) {
        errors.push(e);
      }
    }
    return false;
  });
  rt.runOneCycle();
  rt.executor.yieldNow(b);
  rt.runOneCycle();
  assertEquals(errors.length, 3);
  for (const e of errors) {
    assert(e instanceof ContextError, `got ${e}`);
    assertEquals(e.code, ErrorCode.ContextExpired);
  }
  // The owner still gets a working context of its own in a later cycle.
  let current: unknown = null;
  rt.executor.yieldNow(a);
  const c = new NodeBuilder(0).triggeredBy(a).build(rt.executor, () => false);
  void c;
  new NodeBuilder(0)
    .onInit((ex, self) => ex.yieldNow(self))
    .build(rt.executor, (self, ctx) => {
      current = ctx.current;
      return self.value === 0;
    });
  rt.runOneCycle();
  assert(current !== null);
});

test("registerTimerAfter counts from the cycle's time in a cycle and from the clock between cycles", () => {
  const rt = new TestRuntime();
  const fired: number[] = [];
  const n = new NodeBuilder(0)
    .onInit((ex, self) => {
      ex.registerTimerAfter(self, ms(100)); // the clock is at 0
    })
    .build(rt.executor, (self, ctx) => {
      fired.push(ctx.time.monotonicNs);
      if (++self.value < 3) ctx.registerTimerAfter(self, ms(100));
      return true;
    });
  rt.advanceClock(ms(150));
  rt.runUntilIdle();
  rt.advanceClock(ms(100));
  rt.runUntilIdle();
  rt.advanceClock(ms(100));
  rt.runUntilIdle();
  assertEquals(fired, [ms(150), ms(250), ms(350)]);
  assertEquals(n.value, 3);
  const e = caught(() => rt.executor.registerTimerAfter(n, NaN));
  assert(e instanceof InvalidArgumentError);
  assertEquals(e.code, ErrorCode.InvalidDeadline);
  const bare = new Executor();
  const m = counter(bare, false);
  const e2 = caught(() => bare.registerTimerAfter(m, 5));
  assert(e2 instanceof ContextError, `a clockless executor: ${e2}`);
});
