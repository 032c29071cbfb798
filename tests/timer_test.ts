/**
 * Timers: the TimerHeap unit (reference §10.6, §3.6) and timers seen through the executor
 * (fire at or after the deadline, never early, cancelled with their node, FIFO on equal
 * deadlines, invalid deadlines rejected).
 */

import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import { TimerHeap } from "../src/drivers/timer.ts";
import {
  Control,
  type ErrorReport,
  InvalidArgumentError,
  ms,
  type Node,
  NodeBuilder,
  NodeRemovedError,
  seconds,
  TestRuntime,
} from "../mod.ts";

/** Pops every pending timer, returning [slot, gen, deadline] in firing order. */
function popAll(h: TimerHeap): [number, number, number][] {
  const out: [number, number, number][] = [];
  while (h.size > 0) {
    out.push([h.topSlot(), h.topGen(), h.nextDeadline()]);
    h.popTop();
  }
  return out;
}

// ------------------------------------------------------------------ TimerHeap

test("TimerHeap starts empty with no next deadline when created", () => {
  const h = new TimerHeap();
  assertEquals(h.size, 0);
  assertEquals(h.nextDeadline(), Infinity);
});

test("TimerHeap.add returns a handle that names the registered timer's slot", () => {
  const h = new TimerHeap();
  const handle = h.add(7, 3, ms(100));
  assertEquals(h.size, 1);
  assertEquals(h.slotOf(handle), 7);
  assertEquals(h.topSlot(), 7);
  assertEquals(h.topGen(), 3);
  assertEquals(h.nextDeadline(), ms(100));
});

test("TimerHeap orders timers by deadline, then registration order when deadlines are equal", () => {
  const h = new TimerHeap();
  // Like the reference: +100 ms, +200 ms, +100 ms -> (100, first), (100, third), (200, second).
  h.add(0, 0, ms(100));
  h.add(1, 0, ms(200));
  h.add(2, 0, ms(100));
  assertEquals(popAll(h), [[0, 0, ms(100)], [2, 0, ms(100)], [1, 0, ms(200)]]);
});

test("TimerHeap keeps registration order among many equal deadlines when interleaved with others", () => {
  const h = new TimerHeap();
  const want: number[] = [];
  for (let i = 0; i < 40; i++) {
    h.add(i, 0, i % 3 === 0 ? 5 : 9);
  }
  for (let i = 0; i < 40; i += 3) want.push(i);
  for (let i = 0; i < 40; i++) if (i % 3 !== 0) want.push(i);
  assertEquals(popAll(h).map(([slot]) => slot), want);
});

test("TimerHeap.nextDeadline tracks the earliest pending deadline as timers come and go", () => {
  const h = new TimerHeap();
  const a = h.add(0, 0, 500);
  assertEquals(h.nextDeadline(), 500);
  const b = h.add(1, 0, 300);
  assertEquals(h.nextDeadline(), 300);
  h.add(2, 0, 900);
  assert(h.cancel(b));
  assertEquals(h.nextDeadline(), 500);
  assert(h.cancel(a));
  assertEquals(h.nextDeadline(), 900);
  h.popTop();
  assertEquals(h.nextDeadline(), Infinity);
});

test("TimerHeap.cancel removes the only timer and leaves the heap empty", () => {
  const h = new TimerHeap();
  const t = h.add(0, 0, 10);
  assertEquals(h.cancel(t), true);
  assertEquals(h.size, 0);
  assertEquals(h.nextDeadline(), Infinity);
  assertEquals(h.slotOf(t), -1);
});

test("TimerHeap.cancel returns false when the timer was already cancelled or fired", () => {
  const h = new TimerHeap();
  const a = h.add(0, 0, 10);
  const b = h.add(1, 0, 20);
  assertEquals(h.cancel(a), true);
  assertEquals(h.cancel(a), false);
  h.popTop(); // b fires
  assertEquals(h.cancel(b), false);
  assertEquals(h.size, 0);
});

test("TimerHeap.cancel with a stale handle does not cancel a later timer that reused the entry", () => {
  const h = new TimerHeap();
  const old = h.add(1, 0, 10);
  h.popTop(); // fired: its entry is free
  const fresh = h.add(2, 0, 20); // reuses the entry
  assert(old !== fresh, "a reused entry gets a different handle");
  assertEquals(h.cancel(old), false);
  assertEquals(h.slotOf(old), -1);
  assertEquals(h.size, 1);
  assertEquals(h.slotOf(fresh), 2);
  assertEquals(h.cancel(fresh), true);
  // And a handle cancelled once stays dead through several reuses.
  for (let i = 0; i < 5; i++) {
    const t = h.add(3, 0, 30);
    assertEquals(h.cancel(old), false);
    assertEquals(h.cancel(fresh), false);
    assertEquals(h.cancel(t), true);
  }
});

test("TimerHeap.cancel returns false for handles it never issued", () => {
  const h = new TimerHeap();
  h.add(0, 0, 1);
  for (const bogus of [-1, 1.5, NaN, Infinity, 999, 123456789]) {
    assertEquals(h.cancel(bogus), false, `cancel(${bogus})`);
    assertEquals(h.slotOf(bogus), -1, `slotOf(${bogus})`);
  }
  assertEquals(h.cancel("0" as unknown as number), false);
  assertEquals(h.size, 1);
});

test("TimerHeap.removeNode removes only the timers of that slot and generation", () => {
  const h = new TimerHeap();
  h.add(4, 1, 10);
  h.add(5, 1, 15);
  h.add(4, 1, 20);
  h.add(4, 2, 25); // same slot, newer generation: kept
  h.add(6, 1, 5);
  assertEquals(h.removeNode(4, 1), 2);
  assertEquals(popAll(h), [[6, 1, 5], [5, 1, 15], [4, 2, 25]]);
  assertEquals(h.removeNode(4, 1), 0);
});

test("TimerHeap keeps stale handles of timers removed by removeNode from cancelling new timers", () => {
  const h = new TimerHeap();
  const a = h.add(1, 0, 10);
  h.removeNode(1, 0);
  const b = h.add(1, 1, 10);
  assertEquals(h.cancel(a), false);
  assertEquals(h.size, 1);
  assertEquals(h.cancel(b), true);
});

test("TimerHeap leaves a future timer pending when only an earlier one is popped", () => {
  const h = new TimerHeap();
  h.add(0, 0, seconds(10));
  h.add(1, 0, ms(1));
  const now = ms(5);
  const fired: number[] = [];
  while (h.size > 0 && h.nextDeadline() <= now) {
    fired.push(h.topSlot());
    h.popTop();
  }
  assertEquals(fired, [1]);
  assertEquals(h.size, 1);
  assertEquals(h.nextDeadline(), seconds(10));
});

test("TimerHeap matches a sorted model over many random adds, cancels, pops and removeNodes", () => {
  let seed = 987654321;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return (seed >>> 8) % n;
  };
  const h = new TimerHeap();
  interface M {
    deadline: number;
    seq: number;
    slot: number;
    gen: number;
    handle: number;
  }
  let model: M[] = [];
  const dead: number[] = [];
  let seq = 0;
  const sorted = () => [...model].sort((a, b) => a.deadline - b.deadline || a.seq - b.seq);
  for (let step = 0; step < 6000; step++) {
    const op = rand(10);
    if (op < 5) {
      const slot = rand(20), gen = rand(3), deadline = rand(200);
      const handle = h.add(slot, gen, deadline);
      model.push({ deadline, seq: seq++, slot, gen, handle });
    } else if (op < 7 && model.length > 0) {
      const i = rand(model.length);
      assertEquals(h.cancel(model[i].handle), true, `cancel at step ${step}`);
      dead.push(model[i].handle);
      model.splice(i, 1);
    } else if (op < 9 && model.length > 0) {
      const top = sorted()[0];
      assertEquals(
        [h.topSlot(), h.topGen(), h.nextDeadline()],
        [top.slot, top.gen, top.deadline],
        `top at step ${step}`,
      );
      h.popTop();
      dead.push(top.handle);
      model = model.filter((m) => m !== top);
    } else if (op === 9) {
      const slot = rand(20), gen = rand(3);
      const victims = model.filter((m) => m.slot === slot && m.gen === gen);
      assertEquals(h.removeNode(slot, gen), victims.length, `removeNode at step ${step}`);
      for (const v of victims) dead.push(v.handle);
      model = model.filter((m) => !(m.slot === slot && m.gen === gen));
    }
    if (dead.length > 0 && rand(4) === 0) {
      // A handle that fired or was cancelled never cancels anything again.
      assertEquals(h.cancel(dead[rand(dead.length)]), false, `stale cancel at step ${step}`);
    }
    assertEquals(h.size, model.length, `size at step ${step}`);
  }
  const rest = popAll(h);
  assertEquals(rest, sorted().map((m) => [m.slot, m.gen, m.deadline] as [number, number, number]));
});

// ------------------------------------------------------------------ through the executor

function setup() {
  const rt = new TestRuntime();
  const errors: { error: unknown; report: ErrorReport }[] = [];
  rt.executor.onError = (error, report) => errors.push({ error, report });
  return { rt, ex: rt.executor, errors };
}

/** A node that counts its runs in `log` under `name` and returns Unchanged. */
function counter(
  rt: TestRuntime,
  log: string[],
  name: string,
  onInit?: (self: Node<number>) => void,
): Node<number> {
  const b = new NodeBuilder(0).named(name);
  if (onInit) b.onInit((_ex, self) => onInit(self));
  return b.build(rt.executor, (self) => {
    self.value++;
    log.push(name);
    return false;
  });
}

test("executor timer fires in the first cycle at its exact deadline and never earlier", () => {
  const { rt, ex, errors } = setup();
  const log: string[] = [];
  const n = counter(rt, log, "t", (self) => ex.registerTimer(self, ms(100)));
  assertEquals(ex.nextTimerDeadline(), ms(100));
  rt.runOneCycle();
  assertEquals(n.value, 0, "not at time 0");
  rt.advanceClock(ms(100) - 1);
  rt.runOneCycle();
  assertEquals(n.value, 0, "not 1 ns before the deadline");
  rt.advanceClock(1);
  rt.runOneCycle();
  assertEquals(n.value, 1, "at the deadline");
  assertEquals(ex.nextTimerDeadline(), Infinity);
  rt.advanceClock(seconds(1));
  rt.runOneCycle();
  assertEquals(n.value, 1, "one-shot: does not fire again");
  assertEquals(errors.length, 0);
});

test("executor timer fires once in the next cycle when the clock jumps far past its deadline", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const n = counter(rt, log, "t", (self) => ex.registerTimer(self, ms(100)));
  rt.advanceClock(seconds(50));
  rt.runOneCycle();
  assertEquals(n.value, 1);
  rt.runOneCycle();
  assertEquals(n.value, 1);
});

test("executor timer registered from a cycle at now + 100 ms fires after advancing 150 ms (A6)", () => {
  const { rt, ex } = setup();
  let runs = 0;
  new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (self, ctx) => {
      runs++;
      if (self.value++ === 0) ctx.registerTimer(self, ctx.time.monotonicNs + ms(100));
      return false;
    });
  rt.runOneCycle();
  assertEquals(runs, 1);
  rt.runOneCycle();
  rt.runOneCycle();
  assertEquals(runs, 1, "cycles without advancing the clock do not fire it");
  rt.advanceClock(ms(150));
  rt.runOneCycle();
  assertEquals(runs, 2);
});

test("executor timer with a deadline already passed fires in the next cycle, not the current one", () => {
  const { rt, ex } = setup();
  rt.advanceClock(seconds(1));
  const order: string[] = [];
  new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (self, ctx) => {
      order.push(`run@${ctx.epoch}`);
      if (self.value++ === 0) ctx.registerTimer(self, 0);
      return false;
    });
  rt.runOneCycle();
  assertEquals(order, ["run@1"]);
  rt.runOneCycle();
  assertEquals(order, ["run@1", "run@2"]);
});

test("executor timers with equal deadlines fire in registration order within a depth", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const a = counter(rt, log, "a");
  const b = counter(rt, log, "b");
  const c = counter(rt, log, "c");
  // Registration order is the reverse of creation (slot) order.
  ex.registerTimer(c, ms(5));
  ex.registerTimer(a, ms(5));
  ex.registerTimer(b, ms(5));
  rt.advanceClock(ms(5));
  rt.runOneCycle();
  assertEquals(log, ["c", "a", "b"]);
});

test("executor timers with different deadlines expiring in one cycle run in deadline order within a depth", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const a = counter(rt, log, "a");
  const b = counter(rt, log, "b");
  ex.registerTimer(a, ms(9));
  ex.registerTimer(b, ms(3));
  rt.advanceClock(ms(10));
  rt.runOneCycle();
  assertEquals(log, ["b", "a"]);
});

test("executor runs timer-woken nodes in depth order when deeper nodes' timers expire first", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const root = counter(rt, log, "d0");
  const mid = new NodeBuilder(0).observerOf(root).build(ex, () => void log.push("d1"));
  const deep = new NodeBuilder(0).observerOf(mid).build(ex, () => void log.push("d2"));
  ex.registerTimer(deep, 1);
  ex.registerTimer(root, 3);
  ex.registerTimer(mid, 2);
  rt.advanceClock(5);
  rt.runOneCycle();
  assertEquals(log, ["d0", "d1", "d2"]);
  assertEquals(ex.nextTimerDeadline(), Infinity);
});

test("executor runs a node once when several of its timers expire in the same cycle", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const n = counter(rt, log, "n");
  ex.registerTimer(n, 1);
  ex.registerTimer(n, 2);
  ex.registerTimer(n, 3);
  rt.advanceClock(10);
  rt.runOneCycle();
  assertEquals(n.value, 1);
  assertEquals(ex.stats().pendingTimers, 0);
});

test("executor leaves a future timer pending when an earlier one fires", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const a = counter(rt, log, "a");
  const b = counter(rt, log, "b");
  ex.registerTimer(a, ms(1));
  ex.registerTimer(b, seconds(10));
  rt.advanceClock(ms(2));
  rt.runOneCycle();
  assertEquals(log, ["a"]);
  assertEquals(ex.nextTimerDeadline(), seconds(10));
  assertEquals(ex.stats().pendingTimers, 1);
});

test("executor timer is cancelled when its node is removed and never fires afterwards", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  let drops = 0;
  const n = new NodeBuilder(0)
    .onInit((e, self) => void e.registerTimer(self, ms(10)))
    .onDrop(() => drops++)
    .build(ex, () => void log.push("n"));
  assertEquals(ex.stats().pendingTimers, 1);
  n.remove();
  assertEquals(ex.stats().pendingTimers, 0);
  assertEquals(ex.nextTimerDeadline(), Infinity);
  rt.advanceClock(ms(20));
  rt.runOneCycle();
  assertEquals(log, []);
  assertEquals(drops, 1);
});

test("executor timer is cancelled when its node sweeps itself during a cycle", () => {
  const { rt, ex } = setup();
  const n = new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (self, ctx) => {
      ctx.registerTimer(self, ms(1));
      return Control.Sweep;
    });
  rt.runOneCycle();
  assertEquals(n.isAlive, false);
  assertEquals(ex.stats().pendingTimers, 0);
  assertEquals(ex.nextTimerDeadline(), Infinity);
});

test("executor timer of a removed node never reaches a new node that reuses its slot", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const old = counter(rt, log, "old", (self) => ex.registerTimer(self, ms(10)));
  old.remove();
  const fresh = counter(rt, log, "fresh");
  // Same slot, new generation (slot reuse is what makes this test meaningful).
  assertEquals(fresh._slot, old._slot);
  assert(fresh._gen !== old._gen);
  rt.advanceClock(ms(10));
  rt.runOneCycle();
  assertEquals(log, []);
  assertEquals(fresh.value, 0);
});

test("executor cancelTimer stops a pending timer and returns false on the second call", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const n = counter(rt, log, "n");
  const keep = ex.registerTimer(n, ms(20));
  const h = ex.registerTimer(n, ms(10));
  assertEquals(ex.nextTimerDeadline(), ms(10));
  assertEquals(ex.cancelTimer(h), true);
  assertEquals(ex.cancelTimer(h), false);
  assertEquals(ex.nextTimerDeadline(), ms(20));
  rt.advanceClock(ms(15));
  rt.runOneCycle();
  assertEquals(log, []);
  rt.advanceClock(ms(5));
  rt.runOneCycle();
  assertEquals(log, ["n"]);
  assertEquals(ex.cancelTimer(keep), false, "already fired");
});

test("executor ctx.cancelTimer cancels a timer registered in an earlier cycle", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const target = counter(rt, log, "target");
  const handle = ex.registerTimer(target, ms(10));
  let result: boolean | undefined;
  new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (_self, ctx) => {
      result = ctx.cancelTimer(handle);
      return false;
    });
  rt.runOneCycle();
  assertEquals(result, true);
  rt.advanceClock(ms(10));
  rt.runOneCycle();
  assertEquals(log, []);
});

test("executor periodic timer re-registered each run fires once per period", () => {
  const { rt, ex } = setup();
  const fired: number[] = [];
  new NodeBuilder(0)
    .onInit((e, self) => void e.registerTimer(self, ms(100)))
    .build(ex, (self, ctx) => {
      fired.push(ctx.time.monotonicNs);
      ctx.registerTimer(self, ctx.time.monotonicNs + ms(100));
      return false;
    });
  for (let i = 0; i < 10; i++) {
    rt.advanceClock(ms(50));
    rt.runOneCycle();
  }
  assertEquals(fired, [ms(100), ms(200), ms(300), ms(400), ms(500)]);
});

test("TestRuntime.runUntilIdle runs an expired timer and stops when nothing is due", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const n = counter(rt, log, "n");
  ex.registerTimer(n, ms(1));
  assertEquals(rt.runUntilIdle(), 0, "not due yet");
  rt.advanceClock(ms(1));
  assertEquals(rt.runUntilIdle(), 1);
  assertEquals(log, ["n"]);
});

test("executor rejects negative, NaN, infinite and non-number deadlines with INVALID_DEADLINE", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const n = counter(rt, log, "n");
  for (const bad of [-1, -0.5, NaN, Infinity, -Infinity, "5" as unknown as number]) {
    const e = assertThrows(
      () => ex.registerTimer(n, bad),
      InvalidArgumentError,
      "INVALID_DEADLINE",
    );
    assertEquals(e.name, "InvalidArgumentError");
  }
  assertEquals(ex.stats().pendingTimers, 0);
  // Zero and fractional deadlines are fine.
  ex.registerTimer(n, 0);
  ex.registerTimer(n, 0.5);
  assertEquals(ex.stats().pendingTimers, 2);
  rt.advanceClock(1);
  rt.runOneCycle();
  assertEquals(log, ["n"]);
});

test("ctx.registerTimer rejects an invalid deadline with INVALID_DEADLINE inside a cycle", () => {
  const { rt, ex, errors } = setup();
  let caught: unknown;
  const n = new NodeBuilder(0)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (self, ctx) => {
      try {
        ctx.registerTimer(self, NaN);
      } catch (e) {
        caught = e;
      }
      return false;
    });
  rt.runOneCycle();
  assert(caught instanceof InvalidArgumentError);
  assertEquals(caught.code, "INVALID_DEADLINE");
  assertEquals(n.isAlive, true);
  assertEquals(errors.length, 0);
  assertEquals(ex.stats().pendingTimers, 0);
});

test("executor registerTimer on a removed node throws NodeRemovedError", () => {
  const { rt, ex } = setup();
  const log: string[] = [];
  const n = counter(rt, log, "n");
  n.remove();
  assertThrows(() => ex.registerTimer(n, ms(1)), NodeRemovedError, "NODE_REMOVED");
  assertEquals(ex.stats().pendingTimers, 0);
});
