import fc from "fast-check";
import {
  Control,
  ErrorCode,
  ExecutionMode,
  HistoricalRuntime,
  InvalidArgumentError,
  ms,
  type Node,
  NodeBuilder,
  RealtimeRuntime,
  seconds,
  us,
} from "../mod.ts";
import {
  csvRecords,
  type HistoricalBatch,
  historicalSource,
  jsonLines,
  readLines,
  SourceError,
  type TimeUnit,
} from "../replay.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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
    { ts: 0, a: 1 },
    { ts: 2, a: 2 },
    { ts: 2, a: 3 },
    { ts: "5", a: 4 }, // a string of digits, in the same unit
  ], { timeUnit: "ms" });
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
    const a = historicalSource(rt, csvRecords(csv), { name: "csv", timeUnit: "ns" });
    const b = historicalSource(rt, jsonLines<{ ts: string; px: number }>(jl), {
      name: "jsonl",
      timeUnit: "ns",
    });
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

// ------------------------------------------------------------------ sources fail loudly (issue 10)

/** A temporary directory for the files of one test. */
function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "wavelet-src-"));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A runtime over [0, 1 s] with a node that collects what `src` releases, and a timer node. */
function collect<R>(rt: HistoricalRuntime, src: Node<HistoricalBatch<R>>, out: R[]): Node<number> {
  new NodeBuilder(0).triggeredBy(src).build(rt.executor, () => {
    for (const r of src.value.records) out.push(r);
    return false;
  });
  return new NodeBuilder(0)
    .onInit((ex, self) => {
      ex.registerTimer(self, ms(100));
    })
    .build(rt.executor, (self, ctx) => {
      self.value++;
      ctx.registerTimer(ctx.current, ctx.time.monotonicNs + ms(100));
      return false;
    });
}

test("a CSV row without a usable ts throws out of runUntilCompletion with its file and line, after the rows before it", () => {
  withDir((dir) => {
    const path = join(dir, "q.csv");
    writeFileSync(path, "ts,px\n1000000,1\n2000000,2\n,3\n4000000,4\n");
    const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: BigInt(seconds(1)) });
    const got: Record<string, string | number>[] = [];
    const src = historicalSource(rt, csvRecords(path), { name: "q", timeUnit: "ns" });
    const ticker = collect(rt, src, got);
    const errors: unknown[] = [];
    rt.executor.onError = (e) => errors.push(e);
    const e = assertThrows(() => rt.runUntilCompletion(), SourceError, ErrorCode.SourceBadRecord);
    assertEquals(e.path, path);
    assertEquals(e.line, 4);
    assert(e.message.includes(`Line 4 of ${path}`) && e.message.includes('"ts"'), e.message);
    assertEquals(got.map((r) => r.px), [1, 2], "the rows before the bad one were delivered");
    assertEquals(errors, [], "thrown to the caller, not only reported");
    // The runtime stays usable: the rest of the interval runs; the source released nothing more.
    assert(src.isAlive, "the source node is still in the graph");
    rt.runUntilCompletion();
    assert(rt.isFinished);
    assertEquals(ticker.value, 10, "the timer node ran through the whole second");
    assertEquals(got.length, 2);
    assert(!src.value.ended, "a source stopped by a bad record has not ended");
  });
});

test("a malformed JSON line throws out of runUntilCompletion with its file and line", () => {
  withDir((dir) => {
    const path = join(dir, "t.jsonl");
    writeFileSync(path, '{"ts":"1","v":1}\n\n{"ts":"2","v":2}\n{"ts":"3","v":\n{"ts":"4","v":4}\n');
    const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 10n });
    const got: { v: number }[] = [];
    collect(
      rt,
      historicalSource(rt, jsonLines<{ ts: string; v: number }>(path), { timeUnit: "ns" }),
      got,
    );
    const e = assertThrows(() => rt.runUntilCompletion(), SourceError, ErrorCode.SourceBadRecord);
    assertEquals(e.line, 4);
    assert(e.message.includes("not valid JSON"), e.message);
    assert(e.cause instanceof SyntaxError, "the parser's error is the cause");
    assertEquals(got.map((r) => r.v), [1, 2]);
  });
});

test("a record without ts or timeOf throws out of runUntilCompletion with its position", () => {
  const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 10n });
  const got: { v: number }[] = [];
  const records: { ts?: bigint; v: number }[] = [{ ts: 1n, v: 1 }, { ts: 2n, v: 2 }, { v: 3 }];
  collect(rt, historicalSource(rt, records), got);
  const e = assertThrows(() => rt.runUntilCompletion(), SourceError, ErrorCode.SourceBadRecord);
  assertEquals(e.record, 3);
  assert(e.message.startsWith("Record 3: ") && e.message.includes('no "ts"'), e.message);
  assertEquals(got.map((r) => r.v), [1, 2]);
  // The first record bad: the source is refused when it is built, before anything changes.
  const rt2 = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 10n });
  const before = rt2.executor.nodeCount;
  assertThrows(() => historicalSource(rt2, [{ v: 1 }]), SourceError, ErrorCode.SourceBadRecord);
  assertEquals(rt2.executor.nodeCount, before);
  // timeOf throwing is a bad record too, with the thrown error as its cause.
  const rt3 = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 10n });
  const boom = new Error("no time here");
  const e3 = assertThrows(
    () =>
      historicalSource(rt3, [1], {
        timeOf: () => {
          throw boom;
        },
      }),
    SourceError,
  );
  assertEquals(e3.cause, boom);
});

test("numeric and string timestamps need an explicit unit: none is guessed", () => {
  const bare: { ts: number | string }[][] = [[{ ts: 1_700_000_000_000 }], [{ ts: "17000" }]];
  for (const records of bare) {
    const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 10n });
    const e = assertThrows(
      () => historicalSource(rt, records),
      InvalidArgumentError,
      ErrorCode.InvalidArgument,
    );
    assert(e.message.includes("timeUnit"), e.message);
  }
  // A bigint is nanoseconds; with a unit, every form is read in it, exactly.
  const cases: [unknown, TimeUnit | undefined, bigint][] = [
    [5n, undefined, 5n],
    [5n, "us", 5_000n],
    [1_700_000_000_123, "ms", 1_700_000_000_123_000_000n],
    ["1700000000123", "ms", 1_700_000_000_123_000_000n],
    ["1700000000.5", "s", 1_700_000_000_500_000_000n],
    ["1700000000000000001", "ns", 1_700_000_000_000_000_001n],
    [1.5, "us", 1_500n],
    ["0.0000000015", "s", 2n], // rounded half away from zero, to the nanosecond
    ["-2", "s", -2_000_000_000n],
  ];
  for (const [ts, timeUnit, expect] of cases) {
    // The source arms a timer at its first record's time: 1000 ns after this start if exact.
    const rt = new HistoricalRuntime({ startUnixNanos: expect - 1000n, endUnixNanos: expect });
    historicalSource(rt, [{ ts }], { timeUnit });
    assertEquals(rt.executor.nextTimerDeadline(), 1000, `${String(ts)} ${timeUnit}`);
  }
  // Numbers that lost digits (epoch nanoseconds as a JSON number) are bad records.
  const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 10n });
  assertThrows(
    () => historicalSource(rt, [{ ts: 1_700_000_000_000_000_001 }], { timeUnit: "ns" }),
    SourceError,
  );
  assertThrows(
    () => historicalSource(rt, [{ ts: 1 }], { timeUnit: "min" as TimeUnit }),
    InvalidArgumentError,
  );
  assertThrows(
    () => historicalSource(rt, [{ ts: 1 }], { timeUnit: "ms", timeOf: () => 1n }),
    InvalidArgumentError,
  );
  assertThrows(
    () => historicalSource(rt, [{ ts: 1 }], { timeOf: (() => 1) as unknown as () => bigint }),
    InvalidArgumentError,
  );
});

test("an epoch-millisecond CSV with timeUnit releases each row at its own time", () => {
  withDir((dir) => {
    const path = join(dir, "ms.csv");
    const t0 = 1_767_225_600_000; // 2026-01-01 in ms
    writeFileSync(path, `ts,px\n${t0 + 10},1\n${t0 + 20},2\n${t0 + 30},3\n`);
    const rt = new HistoricalRuntime({ startUnixNanos: T0, endUnixNanos: T0 + 50_000_000n });
    const at: number[] = [];
    const src = historicalSource(rt, csvRecords(path), { timeUnit: "ms" });
    new NodeBuilder(0).triggeredBy(src).build(rt.executor, (_s, ctx) => {
      for (const _ of src.value.records) at.push(ctx.time.monotonicNs);
      return false;
    });
    rt.runUntilCompletion();
    assertEquals(at, [10e6, 20e6, 30e6]);
  });
});

test("onBadRecord skip skips and counts bad rows of a reader and of the source", () => {
  withDir((dir) => {
    const path = join(dir, "q.csv");
    writeFileSync(
      path,
      'ts,px\n1,1\n2\n3,3\n,4\n5,"5\n6,6\n"x"y,7\n8,8\n', // cells, no ts, a multi-line quote, junk
    );
    const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 100n });
    const got: Record<string, string | number>[] = [];
    const src = historicalSource(rt, csvRecords(path), { timeUnit: "ns", onBadRecord: "skip" });
    collect(rt, src, got);
    rt.runUntilCompletion();
    // Line 6 opens a quote that line 7 does not close: the record spans lines 6-8 and ends in
    // `"x"y`, a quote followed by text: one bad record.
    assertEquals(got.map((r) => r.px), [1, 3, 8]);
    assertEquals(src.value.skipped, 3, "line 3 (cells), line 5 (no ts), lines 6-8 (quotes)");
    assert(src.value.ended);

    const jl = join(dir, "t.jsonl");
    writeFileSync(jl, '{"ts":"1"}\nnot json\n{"ts":"3"}\n');
    const stream = jsonLines<{ ts: string }>(jl, { onBadRecord: "skip" });
    assertEquals([...stream].map((r) => r.ts), ["1", "3"]);
    assertEquals(stream.skipped, 1);
  });
});

test("CSV follows RFC 4180: quoted commas, doubled quotes and line breaks; bad rows are typed errors", () => {
  withDir((dir) => {
    const path = join(dir, "q.csv");
    writeFileSync(path, 'ts,note,px\r\n1,"a,b",1\r\n2,"say ""hi""\r\nthere",2\r\n\r\n3,,3.5\r\n');
    const rows = [...csvRecords(path)];
    assertEquals(rows, [
      { ts: "1", note: "a,b", px: 1 },
      { ts: "2", note: 'say "hi"\r\nthere', px: 2 },
      { ts: "3", note: "", px: 3.5 },
    ]);
    const bad: [string, number, string][] = [
      ["ts,px\n1,2,3\n", 2, "3 cells where the header has 2"],
      ['ts,px\n1,2\n2,"open\n3,4\n', 3, "not closed"],
      ['ts,px\n1,2"x\n', 2, "quote inside an unquoted field"],
      ['ts,px\n"1"x,2\n', 2, 'followed by "x"'],
    ];
    for (const [text, line, what] of bad) {
      writeFileSync(path, text);
      const e = assertThrows(() => [...csvRecords(path)], SourceError, ErrorCode.SourceBadRecord);
      assertEquals(e.line, line, text);
      assert(e.message.includes(what), e.message);
    }
    // A bad header cannot be skipped: every row after it would be misread.
    writeFileSync(path, "ts,px,px\n1,2,3\n");
    const e = assertThrows(
      () => [...csvRecords(path, { onBadRecord: "skip" })],
      SourceError,
      ErrorCode.SourceBadRecord,
    );
    assert(e.message.includes('"px" twice'), e.message);
    // Numbers: decimal cells only, integers only when exact; everything else stays text.
    writeFileSync(path, "ts,a,b,c,d,e\n1, ,0x10,12345678901234567890,1e3,-2.5\n");
    assertEquals([...csvRecords(path)], [{
      ts: "1",
      a: " ",
      b: "0x10",
      c: "12345678901234567890",
      d: 1000,
      e: -2.5,
    }]);
  });
});

test("typed readers: a CSV row mapper and a JSON-lines mapper feed historicalSource without a cast", () => {
  withDir((dir) => {
    interface Quote {
      ts: bigint;
      sym: string;
      px: number;
    }
    const csv = join(dir, "q.csv");
    writeFileSync(csv, "ts,sym,px\n1000,ABC,1.5\n2000,XYZ,2.5\n");
    const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 5_000n });
    const quotes: Node<HistoricalBatch<Quote>> = historicalSource(
      rt,
      csvRecords(csv, { map: (r) => ({ ts: BigInt(r.ts), sym: r.sym, px: Number(r.px) }) }),
    );
    const jl = join(dir, "q.jsonl");
    writeFileSync(jl, '{"t":"3000","sym":"QQQ","px":3.5}\n');
    const more: Node<HistoricalBatch<Quote>> = historicalSource(
      rt,
      jsonLines(jl, {
        map: (v) => {
          const o = v as { t: string; sym: string; px: number };
          return { ts: BigInt(o.t), sym: o.sym, px: o.px };
        },
      }),
    );
    const got: Quote[] = [];
    collect(rt, quotes, got);
    collect(rt, more, got);
    rt.runUntilCompletion();
    assertEquals(got.map((q) => `${q.sym} ${q.px} ${q.ts}`), [
      "ABC 1.5 1000",
      "XYZ 2.5 2000",
      "QQQ 3.5 3000",
    ]);
    // A mapper that throws makes a bad record, with the file and line.
    const e = assertThrows(
      () => [
        ...csvRecords(csv, {
          map: (r) => {
            if (r.sym === "XYZ") throw new Error("unknown symbol");
            return r;
          },
        }),
      ],
      SourceError,
    );
    assertEquals(e.line, 3);
    assert(e.message.includes("unknown symbol"), e.message);
  });
});

test("readLines splits on LF and CRLF, keeps lines longer than its chunk whole, and refuses bytes that are not UTF-8", () => {
  withDir((dir) => {
    const path = join(dir, "l.txt");
    const long = "é".repeat(200_000); // 400 KB of two-byte characters across chunk boundaries
    writeFileSync(path, `\ufeffone\r\n${long}\n\nthree\r\nlast`);
    assertEquals([...readLines(path)], ["one", long, "three", "last"]);
    // Many short lines of three-byte characters: chunk boundaries fall inside characters.
    const many = Array.from({ length: 30_000 }, (_, i) => `日本語 ${i}`);
    writeFileSync(path, many.join("\n"));
    assertEquals([...readLines(path)], many);
    writeFileSync(path, new Uint8Array([0x61, 0x0a, 0x62, 0xff, 0x0a]));
    const e = assertThrows(() => [...readLines(path)], SourceError, ErrorCode.SourceBadRecord);
    assertEquals(e.line, 2);
    // A record stream goes on after a line that is not UTF-8 when told to skip it.
    const enc = new TextEncoder();
    writeFileSync(
      path,
      new Uint8Array([...enc.encode('{"a":1}\n"'), 0xc3, 0x28, ...enc.encode('"\n{"a":3}\n')]),
    );
    const stream = jsonLines<{ a: number }>(path, { onBadRecord: "skip" });
    assertEquals([...stream].map((r) => r.a), [1, 3]);
    assertEquals(stream.skipped, 1);
    assertThrows(() => [...readLines(join(dir, "missing.txt"))], InvalidArgumentError);
  });
});

test("readLines and csvRecords read back any text their format can hold (fast-check)", () => {
  withDir((dir) => {
    const path = join(dir, "f.txt");
    const text = fc.string({ unit: "binary", maxLength: 40 });
    // Lines: any text without line breaks, some long enough to cross the 64 KiB chunks.
    const line = fc.oneof(
      { weight: 9, arbitrary: text.map((s) => s.replace(/[\r\n]/g, "")) },
      { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 140_000 }).map((n) => "x".repeat(n)) },
    );
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 20 }),
        fc.boolean(),
        fc.boolean(),
        (ls, crlf, end) => {
          const nl = crlf ? "\r\n" : "\n";
          writeFileSync(path, ls.join(nl) + (end && ls.length > 0 ? nl : ""));
          // A byte order mark at the very start of the file is not text.
          const expect = ls.map((l, i) => i === 0 ? l.replace(/^\ufeff/, "") : l);
          assertEquals([...readLines(path)], expect.filter((l) => l.length > 0));
        },
      ),
      { numRuns: 60 },
    );
    // CSV: any cells (commas, quotes, CR, LF included), quoted as RFC 4180 says.
    const quote = (c: string) =>
      /[",\r\n]/.test(c) || c === "" ? `"${c.replaceAll('"', '""')}"` : c;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }).chain((n) =>
          fc.array(
            fc.array(text, { minLength: n, maxLength: n }),
            {
              maxLength: 8,
            },
          )
        ),
        fc.boolean(),
        (rows, crlf) => {
          const n = rows[0]?.length ?? 1;
          const header = Array.from({ length: n }, (_, i) => `c${i}`);
          const nl = crlf ? "\r\n" : "\n";
          writeFileSync(path, [header, ...rows].map((r) => r.map(quote).join(",")).join(nl) + nl);
          const got = [...csvRecords(path, { map: (r) => header.map((h) => r[h]) })];
          assertEquals(got, rows);
        },
      ),
      { numRuns: 200 },
    );
  });
});

test("a source closes its file when it ends, fails or is removed", () => {
  const open = () => readdirSync("/proc/self/fd").length;
  withDir((dir) => {
    const path = join(dir, "q.csv");
    writeFileSync(path, "ts,px\n1,1\n2,2\n");
    const base = open();
    const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 10n });
    historicalSource(rt, csvRecords(path), { timeUnit: "ns" });
    assertEquals(open(), base + 1, "the file is open while records remain");
    rt.runUntilCompletion();
    assertEquals(open(), base, "closed at the end");

    writeFileSync(path, "ts,px\n1,1\n,2\n3,3\n");
    const rt2 = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 10n });
    historicalSource(rt2, csvRecords(path), { timeUnit: "ns" });
    assertThrows(() => rt2.runUntilCompletion(), SourceError);
    assertEquals(open(), base, "closed when a bad record stops it");

    const rt3 = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 10n });
    const src = historicalSource(rt3, csvRecords(path), { timeUnit: "ns" });
    src.remove();
    assertEquals(open(), base, "closed when the node is removed");
  });
});
