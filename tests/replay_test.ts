import fc from "fast-check";
import {
  Control,
  CycleTime,
  ErrorCode,
  type Executor,
  HistoricalRuntime,
  InvalidArgumentError,
  ms,
  NodeBuilder,
  RealtimeRuntime,
  TestRuntime,
  WaveletError,
} from "../mod.ts";
import { channel, defineRecord, type LocalSender } from "../channel.ts";
import { runtimePort } from "../src/core/executor.ts";
import { fileSink, ReplayError } from "../replay.ts";
import { Recorder, Replayer } from "../src/replay/tap.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import { badValue } from "./_fuzz.ts";
import { buildGraph, recordLiveRun, type Trace, type Variant } from "./fixtures/replay_graph.ts";
import { crc32, crc32Portable } from "../src/replay/crc32.ts";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// One recorded live run for the tests below that only read it.
let shared: { live: Trace; log: Uint8Array } | undefined;
async function sharedRun(): Promise<{ live: Trace; log: Uint8Array }> {
  if (shared === undefined) {
    const live: Trace = [];
    shared = { live, log: await recordLiveRun(live, 2_000) };
  }
  return shared;
}

/** A fresh historical runtime with the graph built as `variant` says, and its trace. */
function freshGraph(variant: Variant = {}) {
  const trace: Trace = [];
  const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  buildGraph(h.executor, trace, variant);
  const errors: unknown[] = [];
  h.executor.onError = (e) => errors.push(e);
  return { h, trace, errors };
}

test("a recorded realtime run with a Worker channel and timers replays bit for bit", async () => {
  const live: Trace = [];
  const log = await recordLiveRun(live, 5_000);
  assert(live.some((l) => l.includes(" feed ")), "the live run processed quotes");
  assert(live.filter((l) => l.includes(" ticks ")).length >= 2, "timers fired during the run");
  assert(live.at(-1)!.includes("signal"), "the run ended in the signal node");

  const { h, trace } = freshGraph();
  const cycles = h.replayLog(log);
  assert(cycles > 0);
  assertEquals(new Replayer(log).cycleCount, cycles, "every recorded cycle replayed");
  assertEquals(trace.length, live.length, "same number of node runs");
  assertEquals(trace, live, "same executions, same values, same cycle numbers and times");
}, { timeoutMs: 60_000 });

test("a replay against a different graph is a clear ReplayError", async () => {
  const { log } = await sharedRun();
  // A graph without the "feed" name.
  const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  new NodeBuilder(0).named("other").build(h.executor, () => false);
  const e = assertThrows(() => h.replayLog(log), ReplayError, ErrorCode.ReplayMismatch);
  assert(e.message.includes('"feed"'), e.message);
  // Not a log at all.
  assertThrows(
    () => h.replayLog(new Uint8Array([1, 2, 3])),
    ReplayError,
    ErrorCode.ReplayLogInvalid,
  );
}, { timeoutMs: 60_000 });

test(
  "a log replayed into a graph with other edges or channel layouts is refused before any cycle runs",
  async () => {
    const { log } = await sharedRun();
    // Same names, same order, one edge less: signal no longer observes feed.
    const edge = freshGraph({ signalObservesFeed: false });
    const e1 = assertThrows(() => edge.h.replayLog(log), ReplayError, ErrorCode.ReplayMismatch);
    assert(e1.message.includes('"signal"') && e1.message.includes('"feed" (observe)'), e1.message);
    assertEquals(edge.trace, [], "no node ran");
    assertEquals(edge.h.executor.epoch, 0, "no cycle ran");

    // Same graph, another ring record layout (qty is an f64 here).
    const Wide = defineRecord({ seq: "i32", px: "f64", qty: "f64" });
    const layout = freshGraph({ record: Wide as never });
    const e2 = assertThrows(() => layout.h.replayLog(log), ReplayError, ErrorCode.ReplayMismatch);
    assert(e2.message.includes('"feed"') && e2.message.includes("qty:f64"), e2.message);
    assertEquals(layout.trace, []);

    // The same nodes built in another order.
    const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
    new NodeBuilder(0).named("ticks").build(h.executor, () => false);
    const e3 = assertThrows(() => h.replayLog(log), ReplayError, ErrorCode.ReplayMismatch);
    assert(e3.message.includes("does not have"), e3.message);
    const extra = freshGraph();
    new NodeBuilder(0).named("audit").build(extra.h.executor, () => false);
    const e4 = assertThrows(() => extra.h.replayLog(log), ReplayError, ErrorCode.ReplayMismatch);
    assert(e4.message.includes('"audit"'), e4.message);
  },
  { timeoutMs: 60_000 },
);

test(
  "a channel read that differs from the log is thrown out of replayLog and the executor stays usable",
  async () => {
    const { log } = await sharedRun();
    // feed drains at most 16 records per run instead of 64: it reads less than it did.
    const { h, errors } = freshGraph({ batch: 16 });
    const e = assertThrows(() => h.replayLog(log), ReplayError, ErrorCode.ReplayMismatch);
    assert(/feed.*(less|more|different)/.test(e.message), e.message);
    // The executor isolates node exceptions, so onError saw it too (or nothing when the
    // difference showed at the end of a cycle); nothing else was reported.
    assert(errors.every((x) => x === e), `other errors: ${errors}`);
    // Usable afterwards: a new node runs in the next cycle.
    let ran = 0;
    new NodeBuilder(0).onInit((ex, self) => ex.yieldNow(self)).build(h.executor, () => {
      ran++;
    });
    h.runOneCycle();
    assertEquals(ran, 1);
  },
  { timeoutMs: 60_000 },
);

test("a difference caught by the node that met it still fails the replay", () => {
  function build(ex: Executor, reads: number): LocalSender<number> {
    const [, tx] = new NodeBuilder(0).named("rx").buildWith(
      ex,
      channel<
        { kind: "local"; capacity: number },
        number
      >({ kind: "local", capacity: 8 }),
      (self, _ctx, rx) => {
        for (let i = 0; i < reads; i++) {
          try {
            const v = rx.tryRecv();
            if (v !== undefined) self.value += v;
          } catch {
            // a node that swallows every error: the replay must still see the difference
          }
        }
        return true;
      },
    );
    return tx as LocalSender<number>;
  }
  const live = new RealtimeRuntime();
  const tx = build(live.executor, 2);
  live.startRecording();
  tx.trySend(1);
  tx.trySend(2);
  live.runOneCycle(ms(10));
  const log = live.recordedBytes()!;
  live.shutdown();

  const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  build(h.executor, 3); // one read more than recorded, caught inside the node
  const e = assertThrows(() => h.replayLog(log), ReplayError, ErrorCode.ReplayMismatch);
  assert(/more than the recorded run|different read/.test(e.message), e.message);
});

test("a replayed graph that terminates before the log ends is a ReplayError", async () => {
  const { log } = await sharedRun();
  const { h, trace } = freshGraph({ terminateAfterTicks: 1 });
  const e = assertThrows(() => h.replayLog(log), ReplayError, ErrorCode.ReplayMismatch);
  assert(e.message.includes("terminated"), e.message);
  assert(trace.length > 0, "it ran up to the termination");
});

test("a stimulus for a node the replayed graph already scheduled is a ReplayError", () => {
  function build(ex: Executor, yieldEachRun: boolean): LocalSender<number> {
    const [, tx] = new NodeBuilder(0).named("rx").buildWith(
      ex,
      channel<
        { kind: "local"; capacity: number },
        number
      >({ kind: "local", capacity: 8 }),
      (self, ctx, rx) => {
        if (yieldEachRun) ctx.yieldNow(); // the replayed code differs: it reschedules itself
        for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) self.value += v;
        return true;
      },
    );
    return tx as LocalSender<number>;
  }
  const live = new RealtimeRuntime();
  const tx = build(live.executor, false);
  live.startRecording();
  tx.trySend(1);
  live.runOneCycle(ms(10));
  tx.trySend(2);
  live.runOneCycle(ms(10));
  const log = live.recordedBytes()!;
  live.shutdown();

  const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  build(h.executor, true);
  h.executor.onError = () => {};
  const e = assertThrows(() => h.replayLog(log), ReplayError, ErrorCode.ReplayMismatch);
  assert(e.message.includes("already scheduled"), e.message);
});

test("a version-1 log, a damaged log and a cut log are refused with REPLAY_LOG_INVALID", async () => {
  const { log } = await sharedRun();
  const v1 = log.slice();
  v1[5] = 1;
  const e = assertThrows(
    () => freshGraph().h.replayLog(v1),
    ReplayError,
    ErrorCode.ReplayLogInvalid,
  );
  assert(e.message.includes("version 1"), e.message);
  const cut = log.subarray(0, log.length - 1);
  assertThrows(() => new Replayer(cut), ReplayError, ErrorCode.ReplayLogInvalid);
  const longer = new Uint8Array(log.length + 1);
  longer.set(log);
  assertThrows(() => new Replayer(longer), ReplayError, ErrorCode.ReplayLogInvalid);
});

test("nodes spawned during the recorded run are matched by creation order, and a graph that does not spawn them is refused", () => {
  function build(ex: Executor, spawn: boolean, got: number[]): { tx?: LocalSender<number> } {
    const out: { tx?: LocalSender<number> } = {};
    new NodeBuilder(0).named("parent").onInit((e, self) => e.yieldNow(self)).build(
      ex,
      (_self, ctx) => {
        if (!spawn) return false;
        ctx.spawnSubgraph((sub) => {
          const [, tx] = new NodeBuilder(0).named("child").buildWith(
            sub,
            channel<
              { kind: "local"; capacity: number },
              number
            >({ kind: "local", capacity: 8 }),
            (_s, _c, rx) => {
              for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) got.push(v);
            },
          );
          out.tx = tx as LocalSender<number>;
        });
        return false;
      },
    );
    return out;
  }
  const liveGot: number[] = [];
  const live = new RealtimeRuntime();
  live.startRecording();
  const spawned = build(live.executor, true, liveGot);
  live.runOneCycle(ms(10)); // parent runs and spawns the child
  spawned.tx!.trySend(7);
  spawned.tx!.trySend(8);
  live.runOneCycle(ms(10));
  const log = live.recordedBytes()!;
  live.shutdown();
  assertEquals(liveGot, [7, 8]);

  const replayGot: number[] = [];
  const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  build(h.executor, true, replayGot);
  h.replayLog(log);
  assertEquals(replayGot, [7, 8], "the spawned child read the recorded items");

  const h2 = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  build(h2.executor, false, []);
  const e = assertThrows(() => h2.replayLog(log), ReplayError, ErrorCode.ReplayMismatch);
  assert(e.message.includes('"child"'), e.message);
});

test("the fingerprint is the graph as the first recorded cycle starts, not when recording starts", () => {
  function build(ex: Executor, seen: number[]): LocalSender<number> {
    const [, tx] = new NodeBuilder(0).named("in").buildWith(
      ex,
      channel<
        { kind: "local"; capacity: number },
        number
      >({ kind: "local", capacity: 8 }),
      (_s, _c, rx) => {
        for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) seen.push(v);
      },
    );
    return tx as LocalSender<number>;
  }
  const live = new RealtimeRuntime();
  live.startRecording();
  live.runOneCycle(0); // an empty cycle: not recorded, the graph may still grow
  const tx = build(live.executor, []);
  tx.trySend(3);
  live.runOneCycle(ms(10));
  const log = live.recordedBytes()!;
  live.shutdown();
  const seen: number[] = [];
  const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  build(h.executor, seen);
  assertEquals(h.replayLog(log), 1);
  assertEquals(seen, [3]);
});

test(
  "a log written to a file sink in several blocks replays, and the file cut short is refused",
  () => {
    const dir = mkdtempSync(join(tmpdir(), "wavelet-replay-"));
    try {
      const path = join(dir, "run.wvlog");
      const live: Trace = [];
      const rt = new RealtimeRuntime();
      const tx = buildGraph(rt.executor, live);
      rt.startRecording(fileSink(path));
      const q = { seq: 0, px: 0, qty: 0 };
      for (let i = 0; i < 14_000; i++) {
        q.seq = i;
        q.px = 100 + (i % 17);
        q.qty = 1 + (i % 5);
        tx.trySend(q);
        if (i % 50 === 49) rt.runOneCycle(0); // the feed node drains up to 64 per run
      }
      tx.close();
      rt.runForever(); // until signal sees the close
      rt.shutdown(); // seals the last block and writes the end marker
      const bytes = new Uint8Array(readFileSync(path));
      assert(bytes.length > 3 * (1 << 16), `a log of ${bytes.length} bytes spans several blocks`);
      const { h, trace } = freshGraph();
      h.replayLog(bytes);
      assertEquals(trace, live);
      for (const at of [bytes.length - 1, bytes.length >> 1, 1 << 16, 9]) {
        assertThrows(
          () => freshGraph().h.replayLog(bytes.subarray(0, at)),
          ReplayError,
          ErrorCode.ReplayLogInvalid,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  { timeoutMs: 60_000 },
);

test("a graph too large to describe in the header is still bound by its fingerprint", () => {
  const long = "n".repeat(60);
  function build(ex: Executor, rename: number): void {
    for (let i = 0; i < 20_000; i++) {
      new NodeBuilder(0).named(`${long}${i === rename ? "x" : ""}${i}`).build(ex, () => false);
    }
    new NodeBuilder(0).named("tick").onInit((e, self) => e.yieldNow(self)).build(ex, () => true);
  }
  const rt = new RealtimeRuntime();
  build(rt.executor, -1);
  const rec = new Recorder(rt.executor, null);
  runtimePort(rt.executor).attachHook(rec);
  rt.runOneCycle(0);
  runtimePort(rt.executor).attachHook(null);
  rec.close();
  const log = rec.bytes()!;
  rt.shutdown();
  assert(log.length < 1 << 20, `only the fingerprint is kept (${log.length} bytes)`);
  const same = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  build(same.executor, -1);
  assertEquals(same.replayLog(log), 1);
  const renamed = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  build(renamed.executor, 12_345);
  const e = assertThrows(() => renamed.replayLog(log), ReplayError, ErrorCode.ReplayMismatch);
  assert(e.message.includes("fingerprint"), e.message);
}, { timeoutMs: 60_000 });

test("a recorder's in-memory log is complete at any time and final after close", () => {
  const rt = new RealtimeRuntime();
  const rec = new Recorder(rt.executor, null);
  runtimePort(rt.executor).attachHook(rec);
  let runs = 0;
  new NodeBuilder(0).named("n").onInit((e, self) => e.yieldNow(self)).build(
    rt.executor,
    (_s, ctx) => {
      runs++;
      if (runs < 3) ctx.yieldNow();
      return Control.Unchanged;
    },
  );
  rt.runOneCycle(0);
  const early = rec.bytes()!;
  rt.runOneCycle(0);
  rt.runOneCycle(0);
  rec.close();
  runtimePort(rt.executor).attachHook(null);
  const final = rec.bytes()!;
  assertEquals(new Replayer(early).cycleCount, 1);
  assertEquals(new Replayer(final).cycleCount, 3);
  assertEquals(rec.bytes(), final, "bytes() after close is the final log");
  rt.shutdown();
});

test("a Recorder refuses bad calls before writing, so its log always opens (fast-check)", () => {
  const bad = fc.oneof(badValue, fc.constantFrom(0, 6, 99, -1, 2 ** 32, 0.5));
  // Each step is a good call (checked to succeed) or one with a bad argument (any outcome but a
  // typed error fails the test).
  const step = fc.oneof(
    fc.constant({ op: "cycle" }),
    fc.record({ op: fc.constant("obs"), kind: fc.constantFrom(1, 2, 3, 4, 5), n: fc.nat(8) }),
    fc.record({ op: fc.constant("bad"), which: fc.nat(5), a: bad, b: bad, c: bad }),
  );
  fc.assert(
    fc.property(fc.array(step, { maxLength: 20 }), (steps) => {
      const rt = new TestRuntime();
      new NodeBuilder(0).named("n").build(rt.executor, () => false); // slot 0
      const rec = new Recorder(rt.executor, null);
      const time = new CycleTime();
      let epoch = 0, written = 0;
      for (const s of steps) {
        if (s.op === "cycle") {
          time.monotonicNs += 10;
          rec.endCycle(++epoch, time, true);
          written++;
        } else if (s.op === "obs") {
          const fits = s.kind === 1 || (s.kind <= 3 ? s.n === 0 : s.n === 8);
          const call = () => rec.obs(0, s.kind, new Uint8Array(s.n));
          if (fits) call();
          else assertThrows(call, InvalidArgumentError, ErrorCode.InvalidArgument);
        } else {
          const { a, b, c } = s as unknown as { a: never; b: never; c: never };
          const calls = [
            () => rec.notify(a),
            () => rec.io(a, b),
            () => rec.obs(a, b, c),
            () => rec.obsNumber(0, a, b),
            () => rec.endCycle(epoch, time, true), // a cycle number that does not increase
            () => rec.endCycle(a, b, c),
          ];
          try {
            calls[s.which]();
            if (s.which === 5) { // arguments that happen to be good
              written++;
              epoch = a;
            }
          } catch (e) {
            assert(e instanceof WaveletError, `a typed error, got ${e}`);
          }
        }
      }
      const log = rec.bytes()!;
      assertEquals(new Replayer(log).cycleCount, written, "the log opens with every cycle");
    }),
    { numRuns: 300 },
  );
});

test("the portable CRC-32 gives the host zlib's values, chained or not (fast-check)", () => {
  assertEquals(crc32Portable(new TextEncoder().encode("123456789")), 0xcbf43926);
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.nat(),
      fc.nat(),
      fc.nat(),
      (b, x, y, seed) => {
        const start = b.length === 0 ? 0 : x % b.length, end = start + (y % (b.length - start + 1));
        assertEquals(crc32Portable(b, start, end, seed), crc32(b, start, end, seed));
        // Chaining over two pieces is the checksum of the whole.
        assertEquals(crc32Portable(b, end, b.length, crc32Portable(b, 0, end)), crc32(b));
      },
    ),
    { numRuns: 500 },
  );
});
