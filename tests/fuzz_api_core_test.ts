/**
 * Public-API fuzz, core values: time helpers, clocks, Histogram, the error classes, printError
 * and TestRuntime. Each entry point gets random bad arguments; each call must succeed or throw a
 * typed `WaveletError`, and the executor must keep working.
 *
 * @module
 */

import fc from "fast-check";
import { assert, assertEquals, test } from "./_harness.ts";
import { arg, badValue, counter, expectTyped, fuzzCall, Graph, opts, pick } from "./_fuzz.ts";
import { RUNS } from "../src/core/graph.ts";
import {
  BuilderError,
  CapacityError,
  ContextError,
  type ErrorCode,
  ForeignNodeError,
  InvalidArgumentError,
  NodeRemovedError,
  SchedulerError,
  WaveletError,
} from "../src/core/errors.ts";
import { ChannelError } from "../src/channel/status.ts";
import { CycleTime, ms, ns, seconds, splitUnixNanos, us } from "../src/core/time.ts";
import { FactoryError } from "../src/factory.ts";
import { Histogram } from "../src/observe/histogram.ts";
import { HistoricalClock } from "../src/clock/historical_clock.ts";
import { NativeError, NativeLoadError, UnsupportedError } from "../src/core/system_errors.ts";
import { NetError } from "../src/net/errors.ts";
import { NotifierClosedError } from "../src/drivers/notify.ts";
import { printError } from "../src/core/report.ts";
import { ReplayError } from "../src/replay/log.ts";
import { RuntimeShutDownError } from "../src/runtime/realtime.ts";
import { SourceError } from "../src/runtime/readers.ts";
import { TestClock } from "../src/clock/test_clock.ts";
import { TestRuntime } from "../src/runtime/test_runtime.ts";

// ---------------------------------------------------------------------------------------------
// Time, clocks, Histogram

for (const [name, fn] of [["ns", ns], ["us", us], ["ms", ms], ["seconds", seconds]] as const) {
  fuzzCall(`${name}(n)`, [badValue], (_g, [n]) => {
    const r = fn(n as number);
    assert(typeof r === "number" && r === r, `${name} returned ${String(r)}`);
  });
}

fuzzCall("splitUnixNanos(x)", [badValue], (_g, [x]) => splitUnixNanos(x as bigint));

fuzzCall("CycleTime.setWall, unixNanos, unixMillis, toString", [badValue, badValue, badValue], (
  _g,
  [a, b, c],
) => {
  const t = new CycleTime();
  t.setWall(a as number, b as number, c as number);
  void t.unixNanos;
  void t.unixMillis;
  void t.toString();
});

fuzzCall("new TestClock(options) and its methods", [
  opts(["startUnixNanos"], { startUnixNanos: fc.bigInt() }),
  badValue,
  badValue,
  badValue,
], (_g, [o, d, e, out]) => {
  const c = expectTyped("new TestClock", () => new TestClock(pick(o, () => ({})))) as
    | TestClock
    | undefined;
  const clock = c ?? new TestClock();
  expectTyped("TestClock.advance", () => clock.advance(d as number));
  expectTyped("TestClock.setElapsed", () => clock.setElapsed(e as number));
  expectTyped("TestClock.sample", () => clock.sample(out as CycleTime));
  const t = new CycleTime();
  clock.sample(t);
  void t.unixNanos;
  assert(Number.isFinite(clock.nowNs()), "the clock stays finite");
});

fuzzCall("new HistoricalClock(options) and its methods", [
  arg(fc.oneof(badValue, fc.record({ startUnixNanos: badValue }, { requiredKeys: [] }))),
  badValue,
  badValue,
  badValue,
  badValue,
  badValue,
], (_g, [o, e, m, s, sub, u]) => {
  const c = expectTyped(
    "new HistoricalClock",
    () => new HistoricalClock(pick(o, () => ({ startUnixNanos: 0n }))),
  ) as HistoricalClock | undefined;
  const clock = c ?? new HistoricalClock({ startUnixNanos: 0n });
  expectTyped("HistoricalClock.setElapsed", () => clock.setElapsed(e as number));
  expectTyped(
    "HistoricalClock.setExact",
    () => clock.setExact(m as number, s as number, sub as number),
  );
  expectTyped("HistoricalClock.toElapsed", () => clock.toElapsed(u as bigint));
  expectTyped("HistoricalClock.sample", () => clock.sample(u as CycleTime));
  const t = new CycleTime();
  clock.sample(t);
  void t.unixNanos;
});

fuzzCall("Histogram.record and percentile", [fc.array(badValue, { maxLength: 5 }), badValue], (
  _g,
  [vs, p],
) => {
  const h = new Histogram();
  h.record(5);
  for (const v of vs as unknown[]) expectTyped("Histogram.record", () => h.record(v as number));
  expectTyped("Histogram.percentile", () => h.percentile(p as number));
  const s = h.snapshot();
  assert(Number.isFinite(s.mean) && Number.isFinite(s.p50), "the histogram stays finite");
});

// ---------------------------------------------------------------------------------------------
// Errors and printError

const ERROR_CLASSES = [
  WaveletError,
  ChannelError,
  NotifierClosedError,
  ReplayError,
  RuntimeShutDownError,
  SchedulerError,
  NodeRemovedError,
  ForeignNodeError,
  BuilderError,
  InvalidArgumentError,
  ContextError,
  CapacityError,
];

fuzzCall("error constructors", [fc.constantFrom(...ERROR_CLASSES), badValue, badValue, badValue], (
  _g,
  [C, code, message, options],
) => {
  const E = C as typeof WaveletError;
  const e = new E(message as string, { code: code as ErrorCode, ...(options as object) });
  assert(e instanceof WaveletError && typeof e.message === "string", "an error was made");
});

fuzzCall("NativeError, NativeLoadError and NetError constructors", [
  badValue,
  badValue,
  badValue,
  badValue,
], (_g, [a, b, c, d]) => {
  expectTyped("new NativeError", () => new NativeError(a as string, b as number, c as string));
  expectTyped("new NativeLoadError", () => new (NativeLoadError as any)(a, b, c));
  expectTyped(
    "new NetError",
    () => new NetError(a as string, { code: b as never, op: c as string, errno: d as number }),
  );
  expectTyped("new UnsupportedError", () => new UnsupportedError(a as string, b as string));
  expectTyped("new FactoryError", () => new FactoryError(a as string, b as never));
  expectTyped("new SourceError", () => new SourceError(a as string, b as never, c as never));
});

test("fuzz: printError(error, report) prints or gives a typed error", () => {
  const saved = console.error;
  console.error = () => {};
  try {
    fc.assert(
      fc.property(badValue, arg(), (err, report) => {
        const g = new Graph();
        expectTyped(
          "printError",
          () => printError(err, pick(report, () => ({ node: g.queued, phase: "cycle" }))),
        );
        g.assertStillWorks("printError");
      }),
      { numRuns: RUNS },
    );
  } finally {
    console.error = saved;
  }
});

// ---------------------------------------------------------------------------------------------
// TestRuntime

fuzzCall("new TestRuntime(options)", [
  opts(["startUnixNanos", "initialCapacity"], {
    startUnixNanos: fc.bigInt(),
    initialCapacity: fc.integer({ min: 1, max: 4096 }),
  }),
], (g, [o]) => {
  const rt = new TestRuntime(pick(o, () => ({})));
  const fresh = counter(rt.executor, "fresh");
  rt.runOneCycle();
  assertEquals(fresh.value, 1, "a node of the new runtime runs in its first cycle");
  void g;
});

fuzzCall("TestRuntime.advanceClock(d)", [badValue, badValue], (g, [a, b]) => {
  expectTyped("advanceClock", () => g.rt.advanceClock(a as number));
  g.rt.advanceClock(b as number);
  assert(Number.isFinite(g.rt.clock.nowNs()), "the clock stays finite");
});

fuzzCall("TestRuntime.runUntilIdle(maxCycles)", [badValue], (g, [m]) => {
  g.rt.runUntilIdle(m as number);
});
