/**
 * The manual test clock (reference §10.7, §5.5), CycleTime, and the time helpers.
 */

import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import {
  CycleTime,
  InvalidArgumentError,
  ms,
  NodeBuilder,
  ns,
  seconds,
  splitUnixNanos,
  TestClock,
  TestRuntime,
  us,
} from "../mod.ts";

function sample(clock: TestClock): CycleTime {
  const t = new CycleTime();
  clock.sample(t);
  return t;
}

function fields(t: CycleTime): [number, number, number] {
  return [t.monotonicNs, t.unixSeconds, t.unixSubsecNanos];
}

// ------------------------------------------------------------------ helpers

test("time helpers convert ns, us, ms and seconds to nanoseconds", () => {
  assertEquals(ns(250), 250);
  assertEquals(us(5), 5_000);
  assertEquals(ms(1), 1_000_000);
  assertEquals(seconds(2), 2_000_000_000);
  assertEquals(ms(1.5), 1_500_000);
  assertEquals(us(0.25), 250);
  assertEquals(seconds(0), 0);
  assertEquals(seconds(3600), 3_600_000_000_000);
});

test("splitUnixNanos splits exact nanoseconds into whole seconds and sub-second nanoseconds", () => {
  assertEquals(splitUnixNanos(0n), [0, 0]);
  assertEquals(splitUnixNanos(1_700_000_000_123_456_789n), [1_700_000_000, 123_456_789]);
  assertEquals(splitUnixNanos(999_999_999n), [0, 999_999_999]);
  assertEquals(splitUnixNanos(1_000_000_000n), [1, 0]);
});

test("splitUnixNanos keeps sub-second nanoseconds non-negative when the instant is before 1970", () => {
  assertEquals(splitUnixNanos(-1n), [-1, 999_999_999]);
  assertEquals(splitUnixNanos(-1_000_000_000n), [-1, 0]);
  assertEquals(splitUnixNanos(-1_500_000_000n), [-2, 500_000_000]);
});

test("splitUnixNanos rejects a non-bigint with InvalidArgumentError", () => {
  assertThrows(
    () => splitUnixNanos(5 as unknown as bigint),
    InvalidArgumentError,
    "INVALID_ARGUMENT",
  );
});

// ------------------------------------------------------------------ CycleTime

test("CycleTime starts at zero in every field when constructed", () => {
  const t = new CycleTime();
  assertEquals(fields(t), [0, 0, 0]);
  assertEquals(t.unixNanos, 0n);
  assertEquals(t.unixMillis, 0);
});

test("CycleTime.setWall carries sub-second overflow into the seconds", () => {
  const t = new CycleTime();
  t.setWall(10, 999_999_999, 2);
  assertEquals([t.unixSeconds, t.unixSubsecNanos], [11, 1]);
  t.setWall(10, 500_000_000, seconds(2) + 600_000_000);
  assertEquals([t.unixSeconds, t.unixSubsecNanos], [13, 100_000_000]);
  t.setWall(10, 0, -1);
  assertEquals([t.unixSeconds, t.unixSubsecNanos], [9, 999_999_999]);
});

test("CycleTime.unixNanos is an exact bigint when the value exceeds 2^53", () => {
  const t = new CycleTime();
  t.unixSeconds = 1_700_000_000;
  t.unixSubsecNanos = 123_456_789;
  assertEquals(t.unixNanos, 1_700_000_000_123_456_789n);
  assertEquals(typeof t.unixNanos, "bigint");
  assertEquals(t.unixMillis, 1_700_000_000_123.456789);
});

test("CycleTime.toString shows monotonic ns and ISO wall time with nanoseconds", () => {
  const t = new CycleTime();
  t.monotonicNs = 42;
  t.unixSeconds = 3600;
  t.unixSubsecNanos = 5;
  assertEquals(t.toString(), "CycleTime(42 ns, 1970-01-01T01:00:00.000000005Z)");
});

// ------------------------------------------------------------------ TestClock

test("TestClock starts at the Unix epoch with zero elapsed time when given no start", () => {
  const c = new TestClock();
  assertEquals(c.elapsedNs, 0);
  assertEquals(c.nowNs(), 0);
  const t = sample(c);
  assertEquals(fields(t), [0, 0, 0]);
  assertEquals(t.unixNanos, 0n);
});

test("TestClock.advance moves wall and monotonic time by exactly the duration", () => {
  const c = new TestClock();
  c.advance(seconds(3600));
  const t = sample(c);
  assertEquals(c.elapsedNs, seconds(3600));
  assertEquals(c.nowNs(), seconds(3600));
  assertEquals(fields(t), [seconds(3600), 3600, 0]);
  assertEquals(t.unixNanos, 3_600_000_000_000n);
});

test("TestClock gives a monotonic difference of exactly 500 ms when advanced 500 ms between samples", () => {
  const c = new TestClock();
  c.advance(123);
  const a = sample(c);
  c.advance(ms(500));
  const b = sample(c);
  assertEquals(b.monotonicNs - a.monotonicNs, ms(500));
  assertEquals(b.unixNanos - a.unixNanos, 500_000_000n);
});

test("TestClock starts its wall time at startUnixNanos with zero elapsed time", () => {
  const c = new TestClock({ startUnixNanos: 1_000_000_000n * 1_000_000_000n });
  let t = sample(c);
  assertEquals(t.unixSeconds, 1_000_000_000);
  assertEquals(t.unixSubsecNanos, 0);
  assertEquals(t.monotonicNs, 0);
  assertEquals(c.elapsedNs, 0);
  c.advance(seconds(60));
  t = sample(c);
  assertEquals(t.unixSeconds, 1_000_000_060);
  assertEquals(t.monotonicNs, seconds(60));
});

test("TestClock keeps unixNanos exact to the nanosecond when the start has sub-second digits", () => {
  const start = 1_700_000_000_999_999_998n;
  const c = new TestClock({ startUnixNanos: start });
  assertEquals(sample(c).unixNanos, start);
  c.advance(1);
  assertEquals(sample(c).unixNanos, start + 1n);
  c.advance(1); // carries into the next second
  const t = sample(c);
  assertEquals(t.unixNanos, start + 2n);
  assertEquals([t.unixSeconds, t.unixSubsecNanos], [1_700_000_001, 0]);
  c.advance(seconds(86_400) + 7);
  assertEquals(sample(c).unixNanos, start + 86_400_000_000_009n);
});

test("TestClock accepts a start before the Unix epoch and keeps sub-second nanoseconds in range", () => {
  const c = new TestClock({ startUnixNanos: -1_500_000_000n });
  const t = sample(c);
  assertEquals(t.unixNanos, -1_500_000_000n);
  assertEquals([t.unixSeconds, t.unixSubsecNanos], [-2, 500_000_000]);
  c.advance(seconds(2));
  assertEquals(sample(c).unixNanos, 500_000_000n);
});

test("TestClock.setElapsed sets wall and monotonic time and may move backwards", () => {
  const c = new TestClock();
  c.setElapsed(seconds(300));
  assertEquals(c.elapsedNs, seconds(300));
  assertEquals(fields(sample(c)), [seconds(300), 300, 0]);
  c.setElapsed(seconds(3600));
  assertEquals(sample(c).unixSeconds, 3600);
  c.advance(seconds(1800));
  assertEquals(sample(c).unixSeconds, 5400);
  c.setElapsed(ms(1));
  assertEquals(fields(sample(c)), [ms(1), 0, ms(1)]);
});

test("TestClock.reset returns to the start time and zero elapsed after advancing", () => {
  const c = new TestClock({ startUnixNanos: 5_000_000_000n });
  c.advance(seconds(1000));
  c.reset();
  assertEquals(c.elapsedNs, 0);
  assertEquals(c.nowNs(), 0);
  const t = sample(c);
  assertEquals(t.unixNanos, 5_000_000_000n);
  assertEquals(t.monotonicNs, 0);
});

test("TestClock gives identical samples when sampled twice without advancing", () => {
  const c = new TestClock({ startUnixNanos: 42_000_000_123n });
  c.advance(ms(7));
  const a = sample(c), b = sample(c);
  assertEquals(fields(a), fields(b));
  assertEquals(a.unixNanos, b.unixNanos);
  assertEquals(c.nowNs(), c.nowNs());
});

test("TestClock.advance rejects negative, NaN and infinite durations and keeps its time", () => {
  const c = new TestClock();
  c.advance(100);
  for (const bad of [-1, -0.001, NaN, Infinity, -Infinity, "1" as unknown as number]) {
    assertThrows(() => c.advance(bad), InvalidArgumentError, "INVALID_ARGUMENT");
  }
  assertEquals(c.elapsedNs, 100);
  c.advance(0);
  assertEquals(c.elapsedNs, 100);
});

test("TestClock.setElapsed rejects negative, NaN and infinite values and keeps its time", () => {
  const c = new TestClock();
  c.setElapsed(50);
  for (const bad of [-1, NaN, Infinity, -Infinity]) {
    assertThrows(() => c.setElapsed(bad), InvalidArgumentError, "INVALID_ARGUMENT");
  }
  assertEquals(c.elapsedNs, 50);
});

test("TestClock rejects a non-bigint startUnixNanos with InvalidArgumentError", () => {
  assertThrows(
    () => new TestClock({ startUnixNanos: 5 as unknown as bigint }),
    InvalidArgumentError,
    "INVALID_ARGUMENT",
  );
});

// ------------------------------------------------------------------ through the runtime

test("TestRuntime.advanceClock rejects a negative duration and leaves the clock unchanged", () => {
  const rt = new TestRuntime();
  rt.advanceClock(10);
  assertThrows(() => rt.advanceClock(-5), InvalidArgumentError, "INVALID_ARGUMENT");
  assertEquals(rt.clock.nowNs(), 10);
});

test("ctx.time is the runtime clock's time when a cycle runs and is the same for every node", () => {
  const rt = new TestRuntime({ startUnixNanos: 1_700_000_000_000_000_000n });
  rt.advanceClock(seconds(1) + 5);
  const seen: [number, bigint, number][] = [];
  const src = new NodeBuilder(0)
    .onInit((ex, self) => ex.yieldNow(self))
    .build(rt.executor, (_self, ctx) => {
      seen.push([ctx.time.monotonicNs, ctx.time.unixNanos, ctx.epoch]);
      return true;
    });
  new NodeBuilder(0).triggeredBy(src).build(rt.executor, (_self, ctx) => {
    seen.push([ctx.time.monotonicNs, ctx.time.unixNanos, ctx.epoch]);
    return false;
  });
  rt.runOneCycle();
  assertEquals(seen, [
    [seconds(1) + 5, 1_700_000_001_000_000_005n, 1],
    [seconds(1) + 5, 1_700_000_001_000_000_005n, 1],
  ]);
});

test("ctx.time reflects each cycle's clock when the clock moves between cycles", () => {
  const rt = new TestRuntime();
  const seen: number[] = [];
  new NodeBuilder(0)
    .onInit((ex, self) => ex.yieldNow(self))
    .build(rt.executor, (self, ctx) => {
      seen.push(ctx.time.monotonicNs);
      ctx.yieldNow(self);
      return false;
    });
  rt.runOneCycle();
  rt.advanceClock(us(3));
  rt.runOneCycle();
  rt.advanceClock(ms(2));
  rt.runOneCycle();
  rt.runOneCycle();
  assertEquals(seen, [0, us(3), us(3) + ms(2), us(3) + ms(2)]);
  assert(seen.every((v, i) => i === 0 || v >= seen[i - 1]), "monotonic");
});
