/**
 * PrecisionClock: the reference's cases (§10.9) on the native and the pure-JS backend, and the
 * bracketing calibration (§5.3) on a scripted clock source.
 */

import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import { ErrorCode, InvalidArgumentError } from "../src/core/errors.ts";
import { CycleTime } from "../src/core/time.ts";
import {
  type ClockSource,
  DEFAULT_RESYNC_INTERVAL_NS,
  PrecisionClock,
  precisionClockDefaults,
} from "../src/clock/precision_clock.ts";
import { loadBackend } from "../ffi/load.ts";

const backends = [
  ["native", loadBackend({ prefer: "native" })],
  ["js", loadBackend({ prefer: "js" })],
] as const;

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function wallNs(t: CycleTime): number {
  return t.unixSeconds * 1e9 + t.unixSubsecNanos;
}

/** A clock source that replays scripted readings. */
class ScriptedSource implements ClockSource {
  monotonic: number[];
  walls: [number, number][];
  realtimeCalls = 0;
  #now = 0;
  constructor(monotonic: number[], walls: [number, number][]) {
    this.monotonic = monotonic;
    this.walls = walls;
  }
  /** Once the script runs out, time stays at the last reading (or a value set with `at`). */
  monotonicNs(): number {
    if (this.monotonic.length > 0) this.#now = this.monotonic.shift()!;
    return this.#now;
  }
  at(ns: number): void {
    this.#now = ns;
  }
  realtime(out: Float64Array): void {
    this.realtimeCalls++;
    const w = this.walls.shift() ?? [0, 0];
    out[0] = w[0];
    out[1] = w[1];
  }
}

test("precision clock creation uses a 3600 s resync and the Linux defaults", () => {
  for (const [, backend] of backends) {
    const clock = new PrecisionClock(backend);
    assertEquals(clock.resyncIntervalNs, 3600e9);
    assertEquals(DEFAULT_RESYNC_INTERVAL_NS, 3600e9);
    assertEquals(clock.thresholdNs, 500);
    assertEquals(clock.maxRetries, 5);
  }
});

test("precision clock stores a custom configuration as given", () => {
  const clock = new PrecisionClock(backends[0][1], {
    resyncIntervalNs: 1800e9,
    thresholdNs: 500,
    maxRetries: 50,
  });
  assertEquals(clock.resyncIntervalNs, 1800e9);
  assertEquals(clock.thresholdNs, 500);
  assertEquals(clock.maxRetries, 50);
});

for (const [name, backend] of backends) {
  test(`precision clock time advances across a 1 ms sleep (${name} backend)`, async () => {
    const clock = new PrecisionClock(backend);
    const a = new CycleTime(), b = new CycleTime();
    clock.sample(a);
    await sleepMs(2);
    clock.sample(b);
    assert(b.monotonicNs > a.monotonicNs, "monotonic advanced");
    assert(wallNs(b) > wallNs(a), "wall advanced");
    assert(b.monotonicNs - a.monotonicNs >= 1e6, "by at least 1 ms");
  });

  test(`precision clock manual resync keeps a positive, current wall time (${name} backend)`, () => {
    const clock = new PrecisionClock(backend);
    clock.resync();
    const t = new CycleTime();
    clock.sample(t);
    assert(t.unixSeconds > 0, "positive Unix timestamp");
    assertEquals(typeof clock.isAccurate, "boolean");
    assert(Math.abs(t.unixMillis - Date.now()) < 5, `wall ${t.unixMillis} vs ${Date.now()}`);
    assert(Number.isInteger(t.unixSubsecNanos) && t.unixSubsecNanos < 1e9);
  });

  test(`precision clock samples are non-decreasing in both components (${name} backend)`, () => {
    const clock = new PrecisionClock(backend);
    const prev = new CycleTime(), cur = new CycleTime();
    clock.sample(prev);
    for (let i = 0; i < 1000; i++) {
      clock.sample(cur);
      assert(cur.monotonicNs >= prev.monotonicNs, "monotonic non-decreasing");
      assert(wallNs(cur) >= wallNs(prev), "wall non-decreasing");
      assert(
        cur.unixSeconds > prev.unixSeconds ||
          (cur.unixSeconds === prev.unixSeconds && cur.unixSubsecNanos >= prev.unixSubsecNanos),
        "exact wall non-decreasing",
      );
      prev.monotonicNs = cur.monotonicNs;
      prev.unixSeconds = cur.unixSeconds;
      prev.unixSubsecNanos = cur.unixSubsecNanos;
    }
  });
}

test("precision clock reports its measurement quality", () => {
  const clock = new PrecisionClock(backends[0][1]);
  assertEquals(typeof clock.isAccurate, "boolean");
  assertEquals(typeof clock.thresholdNs, "number");
  assert(clock.uncertaintyNs >= 0, "uncertainty known");
  assertEquals(clock.isAccurate, clock.uncertaintyNs <= clock.thresholdNs);
  assertEquals(clock.nowNs() > 0, true);
});

test("precision clock defaults per OS match the reference", () => {
  assertEquals(precisionClockDefaults("linux"), { thresholdNs: 500, maxRetries: 5 });
  assertEquals(precisionClockDefaults("windows"), { thresholdNs: 2000, maxRetries: 20 });
  assertEquals(precisionClockDefaults("darwin"), { thresholdNs: 1000, maxRetries: 10 });
  assertEquals(precisionClockDefaults("freebsd"), { thresholdNs: 1500, maxRetries: 15 });
});

test("calibration keeps the narrowest bracket and stops once within the threshold", () => {
  // Brackets of 2000, 800, 300 ns: the third is within 500 ns, so the fourth is never read.
  const src = new ScriptedSource(
    [1000, 3000, 10_000, 10_800, 20_000, 20_300],
    [[100, 0], [200, 0], [300, 500], [400, 0]],
  );
  const clock = new PrecisionClock(src, { thresholdNs: 500, maxRetries: 5 });
  assertEquals(src.realtimeCalls, 3, "stopped early");
  assert(clock.isAccurate, "accurate");
  assertEquals(clock.uncertaintyNs, 300);
  // Base: wall 300 s + 500 ns at the midpoint 20 150; a sample at 21 150 is 1000 ns later.
  src.at(21_150);
  const t = new CycleTime();
  clock.sample(t);
  assertEquals(t.monotonicNs, 21_150);
  assertEquals([t.unixSeconds, t.unixSubsecNanos], [300, 1500]);
});

test("calibration without a bracket within the threshold is kept but not accurate", () => {
  const src = new ScriptedSource(
    [0, 5000, 10_000, 12_000, 20_000, 29_000],
    [[10, 0], [20, 0], [30, 0]],
  );
  const clock = new PrecisionClock(src, { thresholdNs: 500, maxRetries: 3 });
  assertEquals(src.realtimeCalls, 3);
  assertEquals(clock.isAccurate, false);
  assertEquals(clock.uncertaintyNs, 2000, "the narrowest bracket wins");
  src.at(11_000); // the midpoint of the kept bracket
  const t = new CycleTime();
  clock.sample(t);
  assertEquals([t.unixSeconds, t.unixSubsecNanos], [20, 0]);
});

test("calibration with zero retries or only brackets of 1 s or more is unbracketed", () => {
  const zero = new ScriptedSource([5, 5], [[7, 0]]);
  const c0 = new PrecisionClock(zero, { maxRetries: 0 });
  assertEquals(c0.isAccurate, false);
  assertEquals(c0.uncertaintyNs, Infinity);
  const slow = new ScriptedSource([0, 1e9, 2e9, 4e9, 5e9], [[1, 0], [2, 0], [3, 0]]);
  const c1 = new PrecisionClock(slow, { maxRetries: 2 });
  assertEquals(c1.isAccurate, false);
  assertEquals(slow.realtimeCalls, 3, "two rejected attempts and one plain sample");
});

test("the wall time advances with the monotonic clock and resyncs after the interval", () => {
  const src = new ScriptedSource([0, 100], [[1000, 999_999_990], [5000, 0]]);
  const clock = new PrecisionClock(src, { resyncIntervalNs: 1e6, maxRetries: 1 });
  const t = new CycleTime();
  src.at(1e6 - 1); // still inside the interval: no resync, exact carry into the next second
  clock.sample(t);
  assertEquals(src.realtimeCalls, 1);
  assertEquals([t.unixSeconds, t.unixSubsecNanos], [1001, 999_939]);
  src.monotonic = [2e6, 2e6, 2e6 + 100];
  clock.sample(t);
  assertEquals(src.realtimeCalls, 2, "resynced");
  assertEquals(t.unixSeconds, 5000, "the wall time may jump at a resync");
});

test("precision clock rejects invalid options with InvalidArgumentError", () => {
  const b = backends[1][1];
  assertThrows(
    () => new PrecisionClock(b, { resyncIntervalNs: 0 }),
    InvalidArgumentError,
    ErrorCode.InvalidArgument,
  );
  assertThrows(() => new PrecisionClock(b, { thresholdNs: NaN }), InvalidArgumentError);
  assertThrows(() => new PrecisionClock(b, { maxRetries: -1 }), InvalidArgumentError);
  assertThrows(() => new PrecisionClock(b, { maxRetries: 1.5 }), InvalidArgumentError);
});
