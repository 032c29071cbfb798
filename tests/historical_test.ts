import {
  Control,
  csvRecords,
  ErrorCode,
  ExecutionMode,
  HistoricalRuntime,
  historicalSource,
  jsonLines,
  ms,
  NodeBuilder,
  RealtimeRuntime,
  seconds,
  us,
} from "../mod.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const T0 = 1_767_225_600_000_000_000n; // 2026-01-01T00:00:00Z

test("a 250 us interval with a 100 us step runs 4 cycles at 0, 100, 200 and 250 us (A7)", () => {
  const rt = new HistoricalRuntime({
    startUnixNanos: T0,
    endUnixNanos: T0 + 250_000n,
    stepNs: us(100),
  });
  const times: number[] = [];
  const walls: bigint[] = [];
  new NodeBuilder(0).onInit((ex, self) => ex.yieldNow(self)).build(rt.executor, (_s, ctx) => {
    times.push(ctx.time.monotonicNs);
    walls.push(ctx.time.unixNanos);
    // A timer due now fires in the next cycle, whenever that is.
    ctx.registerTimer(ctx.current, ctx.time.monotonicNs);
    return false;
  });
  const cycles = rt.runUntilCompletion();
  assertEquals(cycles, 4);
  assertEquals(times, [0, 100_000, 200_000, 250_000]);
  assertEquals(walls, [T0, T0 + 100_000n, T0 + 200_000n, T0 + 250_000n]);
  assert(rt.isFinished);
});

test("a graph that keeps scheduling work at one instant is a CapacityError, not a hang", () => {
  const rt = new HistoricalRuntime({
    startUnixNanos: 0n,
    endUnixNanos: 1_000n,
    maxCyclesPerInstant: 1_000,
  });
  new NodeBuilder(0).onInit((ex, self) => ex.yieldNow(self)).build(rt.executor, (_s, ctx) => {
    ctx.yieldNow();
    return false;
  });
  assertThrows(() => rt.runUntilCompletion(), Error, ErrorCode.CapacityExceeded);
});

test("without data or timers an interval runs two cycles: the start and the end", () => {
  const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: BigInt(seconds(3600)) });
  assertEquals(rt.runUntilCompletion(), 2);
  assertEquals(rt.clock.elapsedNs, seconds(3600));
});

test("a sparse 30-minute interval runs a number of cycles proportional to the data", () => {
  const start = T0, end = T0 + BigInt(seconds(1800));
  const rt = new HistoricalRuntime({ startUnixNanos: start, endUnixNanos: end });
  // 20 records spread over 30 minutes.
  const records = Array.from(
    { length: 20 },
    (_, i) => ({ ts: start + BigInt(i) * 90_000_000_000n, v: i }),
  );
  const src = historicalSource(rt, records, { name: "trades" });
  const got: [number, number][] = [];
  new NodeBuilder(0).triggeredBy(src).build(rt.executor, (_s, ctx) => {
    for (const r of src.value.records) got.push([r.v, ctx.time.monotonicNs]);
    return false;
  });
  const cycles = rt.runUntilCompletion();
  assert(cycles <= 22, `ran ${cycles} cycles for 20 records`);
  assertEquals(got.map((g) => g[0]), [...Array(20).keys()]);
  for (const [i, t] of got) assertEquals(t, i * 90e9, `record ${i} released at its own time`);
  assert(src.value.ended);
  assertEquals(rt.clock.elapsedNs, 1800e9, "the last cycle runs at the end");
});

test("historicalSource releases records in the cycle whose time reaches them, batched by instant", () => {
  const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 10_000_000n });
  const src = historicalSource(rt, [
    { ts: 0, a: 1 }, // milliseconds when a number
    { ts: 2, a: 2 },
    { ts: 2, a: 3 },
    { ts: "5000000", a: 4 }, // nanoseconds when a string of digits
  ]);
  const batches: number[][] = [];
  const at: number[] = [];
  new NodeBuilder(0).triggeredBy(src).build(rt.executor, (_s, ctx) => {
    batches.push(src.value.records.map((r) => r.a));
    at.push(ctx.time.monotonicNs);
    return false;
  });
  rt.runUntilCompletion();
  assertEquals(batches, [[1], [2, 3], [4]]);
  assertEquals(at, [0, 2e6, 5e6]);
});

test("timers drive an event-driven historical run: a periodic node runs once per period", () => {
  const rt = new HistoricalRuntime({ startUnixNanos: T0, endUnixNanos: T0 + BigInt(seconds(60)) });
  let runs = 0;
  new NodeBuilder(0)
    .onInit((ex, self) => {
      ex.registerTimer(self, seconds(1));
    })
    .build(rt.executor, (_s, ctx) => {
      runs++;
      ctx.registerTimer(ctx.current, ctx.time.monotonicNs + seconds(1));
      return false;
    });
  const cycles = rt.runUntilCompletion();
  assertEquals(runs, 60);
  assertEquals(cycles, 61, "the start, then one cycle per second (the 60th is the end)");
});

test("CSV and JSON-lines files stream records into historical sources", () => {
  const dir = mkdtempSync(join(tmpdir(), "wavelet-hist-"));
  try {
    const csv = join(dir, "q.csv");
    writeFileSync(csv, 'ts,px,venue\n1000000,1.5,"A,1"\n3000000,2.5,B\n3000000,3.5,"C ""x"""\n');
    const jl = join(dir, "q.jsonl");
    writeFileSync(jl, '{"ts":"2000000","px":9}\n\n{"ts":"4000000","px":8}\n');
    const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 5_000_000n });
    const a = historicalSource(rt, csvRecords(csv), { name: "csv" });
    const b = historicalSource(rt, jsonLines<{ ts: string; px: number }>(jl), { name: "jsonl" });
    const order: string[] = [];
    new NodeBuilder(0).triggeredBy(a, b).build(rt.executor, (_s, ctx) => {
      if (ctx.hasMutated(a)) {
        for (const r of a.value.records) order.push(`csv ${r.px} ${r.venue}`);
      }
      if (ctx.hasMutated(b)) { for (const r of b.value.records) order.push(`jsonl ${r.px}`); }
      return false;
    });
    rt.runUntilCompletion();
    assertEquals(order, ["csv 1.5 A,1", "jsonl 9", "csv 2.5 B", 'csv 3.5 C "x"', "jsonl 8"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a graph replays history then continues live with its timers moved to the live clock", () => {
  // History up to "now": a node that runs every 10 ms of simulated time.
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const start = nowNs - 50_000_000n; // 50 ms ago
  const hist = new HistoricalRuntime({ startUnixNanos: start, endUnixNanos: nowNs });
  const wallAt: bigint[] = [];
  new NodeBuilder(0)
    .named("periodic")
    .onInit((ex, self) => {
      ex.registerTimer(self, ms(10));
    })
    .build(hist.executor, (self, ctx) => {
      self.value++;
      wallAt.push(ctx.time.unixNanos);
      if (self.value === 8) return Control.Terminate; // 5 historical + 3 live
      ctx.registerTimer(ctx.current, ctx.time.monotonicNs + ms(10));
      return false;
    });
  hist.runUntilCompletion();
  assertEquals(wallAt.length, 5, "5 periods of history");
  const live = RealtimeRuntime.adopt(hist, { mode: ExecutionMode.Park });
  live.runForever();
  assertEquals(wallAt.length, 8, "then live, without rebuilding the graph");
  for (let i = 1; i < wallAt.length; i++) {
    const gap = Number(wallAt[i] - wallAt[i - 1]);
    assert(gap >= 9e6, `run ${i} came ${gap} ns after the previous one`);
  }
  // The first live run is due 60 ms after the start, a wall time after the handover.
  assert(wallAt[5] >= start + 60_000_000n);
});

test("bad intervals and steps are typed errors", () => {
  assertThrows(
    () => new HistoricalRuntime({ startUnixNanos: 10n, endUnixNanos: 5n }),
    Error,
    ErrorCode.InvalidArgument,
  );
  assertThrows(
    // deno-lint-ignore no-explicit-any
    () => new HistoricalRuntime({ startUnixNanos: 0 as any, endUnixNanos: 5n }),
    Error,
    ErrorCode.InvalidArgument,
  );
  assertThrows(
    () => new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 5n, stepNs: 0 }),
    Error,
    ErrorCode.InvalidArgument,
  );
});
