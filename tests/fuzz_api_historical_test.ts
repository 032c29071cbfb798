/**
 * Public-API fuzz, history and replay: HistoricalRuntime, historicalSource, the line, JSON and
 * CSV readers, Recorder, Replayer (random and corrupted logs) and fileSink. Each call must
 * succeed or throw a typed `WaveletError`, and the executor must keep working. File paths the
 * fuzz passes all lie in a temporary directory.
 *
 * @module
 */

import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assert, test } from "./_harness.ts";
import { arg, badValue, counter, expectTyped, fuzzCall, opts, pick } from "./_fuzz.ts";
import { RUNS } from "../src/core/graph.ts";
import { Control } from "../src/core/control.ts";
import { csvRecords, jsonLines, readLines } from "../src/runtime/readers.ts";
import { CycleTime } from "../src/core/time.ts";
import { fileSink } from "../src/replay/file_sink.ts";
import { HistoricalRuntime } from "../src/runtime/historical.ts";
import { historicalSource } from "../src/runtime/sources.ts";
import { NodeBuilder } from "../src/core/builder.ts";
import { Recorder, Replayer } from "../src/replay/tap.ts";
import { TestRuntime } from "../src/runtime/test_runtime.ts";

/** Runs a historical runtime a few cycles (never to completion: a tiny step is valid). */
function runSome(rt: HistoricalRuntime, n = 5): void {
  for (let i = 0; i < n && !rt.isFinished; i++) rt.runOneCycle();
}

fuzzCall("new HistoricalRuntime(options)", [
  opts(["startUnixNanos", "endUnixNanos", "stepNs", "maxCyclesPerInstant", "initialCapacity"], {
    startUnixNanos: fc.bigInt({ min: 0n, max: 1000n }),
    endUnixNanos: fc.bigInt({ min: 0n, max: 10n ** 12n }),
    stepNs: fc.integer({ min: 1, max: 1e9 }),
    maxCyclesPerInstant: fc.integer({ min: 1, max: 100 }),
  }),
], (_g, [o]) => {
  const rt = new HistoricalRuntime(pick(o, () => ({ startUnixNanos: 0n, endUnixNanos: 100n })));
  const fresh = counter(rt.executor, "fresh");
  runSome(rt);
  assert(fresh.value === 1, "a node of the new runtime runs");
});

/** Runs a never-idle graph stops itself after (the fuzz must never hang). */
const RUNAWAY = 5000;

fuzzCall("HistoricalRuntime.runUntilCompletion with maxCyclesPerInstant", [
  arg(fc.oneof(badValue, fc.integer({ min: 1, max: 100 }))),
], (_g, [m]) => {
  const max = pick(m, () => 10);
  const rt = new HistoricalRuntime({
    startUnixNanos: 0n,
    endUnixNanos: 10n,
    maxCyclesPerInstant: max,
  });
  // A graph that never goes idle: the limit must stop it with a CapacityError. A limit that
  // does not hold (NaN) would loop forever; the node stops itself after RUNAWAY runs instead.
  let runs = 0;
  new NodeBuilder(0)
    .onInit((ex, self) => ex.yieldNow(self))
    .build(rt.executor, (_self, ctx) => {
      if (++runs >= RUNAWAY) return Control.Terminate;
      ctx.yieldNow();
      return Control.Unchanged;
    });
  try {
    rt.runUntilCompletion();
  } finally {
    if (runs >= RUNAWAY) {
      // An explicit undefined is the documented default (1e6), a limit that holds.
      const limit = max === undefined ? 1_000_000 : max;
      assert(
        typeof limit === "number" && Number.isInteger(limit) && limit >= RUNAWAY,
        `maxCyclesPerInstant ${String(max)} let a busy graph run ${runs} cycles at one instant`,
      );
    }
  }
});

const recordArb = fc.oneof(
  badValue,
  fc.record({ ts: fc.oneof(badValue, fc.bigInt({ min: 0n, max: 100n }), fc.nat(100)) }),
);

fuzzCall("historicalSource(rt, records, options)", [
  arg(),
  arg(fc.oneof(badValue, fc.array(recordArb, { maxLength: 4 }))),
  opts(["name", "timeOf"], { name: fc.string(), timeOf: fc.constant(() => 5n) }),
], (_g, [r, recs, o]) => {
  const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 100n });
  historicalSource(
    pick(r, () => rt),
    pick(recs, () => [{ ts: 1n }, { ts: 2n }]),
    pick(o, () => ({})),
  );
  runSome(rt);
  const fresh = counter(rt.executor, "fresh");
  rt.runOneCycle();
  assert(fresh.value === 1, "the historical runtime still runs");
});

fuzzCall("HistoricalRuntime.replayLog(log)", [
  arg(fc.oneof(badValue, fc.uint8Array({ maxLength: 64 }))),
], (_g, [log]) => {
  const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 100n });
  rt.replayLog(pick(log, () => recordedLog()));
});

/** A small valid log: two cycles of a node that yields. */
function recordedLog(): Uint8Array {
  const rt = new TestRuntime();
  const rec = new Recorder(rt.executor, null);
  const t = new CycleTime();
  t.monotonicNs = 1000;
  rec.endCycle(1, t, true);
  t.monotonicNs = 2000;
  rec.endCycle(2, t, true);
  const bytes = rec.bytes()!.slice();
  rec.close();
  return bytes;
}

fuzzCall("new Replayer(bytes) on random and corrupted logs, and its methods", [
  arg(
    fc.oneof(
      badValue,
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(fc.nat(200), fc.nat(255)).map(([i, b]) => {
        const log = recordedLog();
        log[i % log.length] = b;
        return log;
      }),
      fc.nat(200).map((n) => recordedLog().slice(0, n)),
    ),
  ),
  badValue,
  badValue,
], (g, [bytes, slot, kind]) => {
  const r = new Replayer(pick(bytes, () => recordedLog()));
  expectTyped("Replayer.bind", () => r.bind(g.ex));
  for (let i = 0; i < 4; i++) {
    const more = expectTyped("Replayer.nextCycle", () => r.nextCycle());
    if (more !== true) break;
    expectTyped("Replayer.inject", () => r.inject());
  }
  expectTyped("Replayer.next", () => r.next(slot as number, kind as number));
  expectTyped("Replayer.nextNumber", () => r.nextNumber(slot as number, kind as number));
  expectTyped("Replayer.end", () => r.end());
});

fuzzCall("new Recorder(ex, sink) and its methods", [
  arg(),
  arg(),
  badValue,
  badValue,
  badValue,
  badValue,
], (g, [e, sink, slot, kind, payload, time]) => {
  const rec = new Recorder(pick(e, () => g.ex), pick(sink, () => null));
  expectTyped("Recorder.notify", () => rec.notify(slot as number));
  expectTyped("Recorder.io", () => rec.io(slot as number, kind as number));
  expectTyped(
    "Recorder.obs",
    () => rec.obs(slot as number, kind as number, payload as Uint8Array),
  );
  expectTyped(
    "Recorder.obsNumber",
    () => rec.obsNumber(slot as number, kind as number, payload as number),
  );
  expectTyped(
    "Recorder.endCycle",
    () => rec.endCycle(slot as number, time as CycleTime, kind as boolean),
  );
  expectTyped("Recorder.bytes", () => rec.bytes());
  rec.close();
});

test("fuzz: file-reading sources and fileSink give typed errors on bad paths and contents", () => {
  const dir = mkdtempSync(join(tmpdir(), "wavelet-fuzz-"));
  try {
    const path = fc.oneof(
      badValue.filter((v) => typeof v !== "string"),
      fc.string().map((s) => join(dir, "missing", encodeURIComponent(s))),
      fc.constant(dir), // a directory, not a file
      fc.string({ maxLength: 200 }).map((text) => {
        const p = join(dir, "data.txt");
        writeFileSync(p, text);
        return p;
      }),
    );
    fc.assert(
      fc.property(path, badValue, (p, bytes) => {
        for (
          const [label, read] of [["readLines", readLines], ["jsonLines", jsonLines], [
            "csvRecords",
            csvRecords,
          ]] as const
        ) {
          expectTyped(label, () => {
            let n = 0;
            for (const _ of read(p as string)) if (++n > 1000) break;
          });
        }
        const out = typeof p === "string" ? join(dir, "out.log") : p;
        const sink = expectTyped("fileSink", () => fileSink(out as string)) as
          | ReturnType<typeof fileSink>
          | undefined;
        if (sink !== undefined) {
          expectTyped("LogSink.write", () => sink.write(bytes as Uint8Array));
          sink.close();
        }
      }),
      { numRuns: RUNS },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
