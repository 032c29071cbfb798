// The core's stimulus hook: attached to every receiver when recording or replay starts (and to
// receivers built while it runs), detached when it stops; recorded runs of batch-reading graphs
// replay to the same output.
import { Control, type Executor, HistoricalRuntime, NodeBuilder, RealtimeRuntime } from "../mod.ts";
import {
  conflatingChannel,
  defineRecord,
  localChannel,
  recordColumns,
  RecvStatus,
  ringChannel,
  valueChannel,
} from "../channel.ts";
import { runtimePort } from "../src/core/executor.ts";
import { Recorder, Replayer } from "../src/replay/tap.ts";
import { assert, assertEquals, test } from "./_harness.ts";

const Tick = defineRecord({ seq: "i32", px: "f64" });

/** A graph of every receiver kind, reading in batches where the kind can. */
function build(ex: Executor, out: string[]) {
  const cols = recordColumns(Tick, 8);
  const [, ring] = new NodeBuilder(0).named("batch").buildWith(
    ex,
    ringChannel(Tick, { capacity: 64 }),
    (_self, ctx, rx) => {
      // recvBatch in small batches, then next() in place.
      for (let n = rx.recvBatch(cols, 3); n > 0; n = rx.recvBatch(cols, 3)) {
        const seqs: number[] = [];
        for (let i = 0; i < n; i++) seqs.push(cols.seq[i]);
        out.push(`${ctx.epoch} batch ${seqs.join(" ")} len=${rx.length}`);
        if (rx.next()) out.push(`${ctx.epoch} next ${rx.record.seq} ${rx.record.px}`);
      }
      return Control.Unchanged;
    },
  );
  const o = { seq: 0, px: 0 };
  const [, conf] = new NodeBuilder(0).named("conf").buildWith(
    ex,
    conflatingChannel(Tick, { keys: 4 }),
    (_self, ctx, rx) => {
      while (rx.tryRecv(o) === RecvStatus.Item) out.push(`${ctx.epoch} key ${rx.key}=${o.seq}`);
      if (rx.latest(2, o)) out.push(`${ctx.epoch} latest2 ${o.seq}`);
      return Control.Unchanged;
    },
  );
  const [, val] = new NodeBuilder(0).named("value").buildWith(
    ex,
    valueChannel<string>({ capacity: 16 }),
    (_self, ctx, rx) => {
      for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) out.push(`${ctx.epoch} v ${v}`);
      return Control.Unchanged;
    },
  );
  const [, loc] = new NodeBuilder(0).named("local").buildWith(
    ex,
    localChannel<{ n: number }>({ capacity: 16 }),
    (_self, ctx, rx) => {
      for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) {
        out.push(`${ctx.epoch} l ${v.n}`);
      }
      return Control.Unchanged;
    },
  );
  return { ring, conf, val, loc };
}

/** Sends a round of items into every channel (what a cycle of the live run sees). */
function feed(s: ReturnType<typeof build>, round: number): void {
  const batch = Array.from({ length: 5 + (round % 3) }, (_, i) => ({
    seq: round * 10 + i,
    px: round + i / 4,
  }));
  s.ring.trySendMany(batch);
  for (let k = 0; k < 4; k++) s.conf.trySend({ seq: round * 10 + k, px: k }, (round + k) % 4);
  s.val.trySend(`r${round}`);
  s.loc.trySend({ n: round });
}

test("a recorded batch-reading graph of every receiver kind replays to the same output", () => {
  const live: string[] = [];
  const rt = new RealtimeRuntime();
  const senders = build(rt.executor, live);
  // Unrecorded cycles first: recording starts mid-run and hooks the receivers already there.
  for (let r = 0; r < 3; r++) {
    feed(senders, r);
    rt.runOneCycle(0);
  }
  const before = live.length;
  rt.startRecording();
  for (let r = 3; r < 12; r++) {
    feed(senders, r);
    rt.runOneCycle(0);
    rt.runOneCycle(0); // whatever was left over
  }
  const log = rt.recordedBytes()!;
  rt.shutdown();
  const recorded = live.slice(before);
  assert(recorded.some((l) => l.includes(" batch ")), "the ring was read in batches");
  assert(recorded.some((l) => l.includes(" next ")), "and in place");
  assert(recorded.some((l) => l.includes(" latest2 ")), "the conflating channel by key");

  const replayed: string[] = [];
  const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  build(h.executor, replayed);
  const cycles = h.replayLog(log);
  assert(cycles > 0);
  assertEquals(replayed, recorded, "the replay reads what the recorded cycles read");
});

test("hooks attach to receivers when recording starts, to receivers built meanwhile, and detach", () => {
  const rt = new RealtimeRuntime();
  const port = runtimePort(rt.executor);
  type Rx = { _hook: { now: unknown } };
  let first: Rx | undefined, second: Rx | undefined;
  const [a] = new NodeBuilder(0).named("a").buildWith(
    rt.executor,
    localChannel<number>({ capacity: 4 }),
    (_s, _c, rx) => void (first = rx as unknown as Rx),
  );
  const [, tx] = new NodeBuilder(0).named("b").buildWith(
    rt.executor,
    ringChannel(Tick, { capacity: 8 }),
    (_s, _c, rx) => void (second = rx as unknown as Rx),
  );
  tx.trySend({ seq: 1, px: 1 });
  rt.executor.yieldNow(a);
  rt.runOneCycle(0);
  assert(first !== undefined && second !== undefined, "both nodes ran");
  assertEquals(first._hook.now, null, "live: no hook");
  assertEquals(second._hook.now, null);

  const rec = new Recorder(rt.executor, null);
  port.attachHook(rec);
  assert(first._hook.now !== null && second._hook.now !== null, "attached when recording starts");
  let third: Rx | undefined;
  const [c, tx3] = new NodeBuilder(0).named("c").buildWith(
    rt.executor,
    valueChannel<number>({ capacity: 4 }),
    (_s, _c, rx) => void (third = rx as unknown as Rx),
  );
  tx3.trySend(7);
  rt.runOneCycle(0);
  assert(third !== undefined && third._hook.now !== null, "a receiver built while recording");

  port.attachHook(null);
  assertEquals(first._hook.now, null, "detached when recording stops");
  assertEquals(second._hook.now, null);
  assertEquals(third._hook.now, null);

  rt.executor.remove(c);
  port.attachHook(rec);
  assertEquals(third._hook.now, null, "a removed receiver is no longer hooked");
  assert(first._hook.now !== null);
  port.attachHook(null);
  rec.close();
  rt.shutdown();
});

test("a recorder's in-memory log spanning many flushes opens and replays", () => {
  const live: string[] = [];
  const rt = new RealtimeRuntime();
  const s = build(rt.executor, live);
  rt.startRecording();
  // Enough cycles for several MiB of log (flushed to memory chunks every MiB).
  for (let r = 0; r < 6000; r++) {
    feed(s, r);
    rt.runOneCycle(0);
  }
  const mid = rt.recordedBytes()!;
  feed(s, 6000);
  rt.runOneCycle(0);
  const log = rt.recordedBytes()!;
  rt.shutdown();
  assert(log.length > 2 << 20, `a log of several MiB (${log.length} bytes)`);
  assert(mid.length < log.length, "the log grows");
  const replayed: string[] = [];
  const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  build(h.executor, replayed);
  h.replayLog(log);
  assertEquals(replayed, live);
}, { timeoutMs: 120_000 });

test("the log read or closed inside a cycle holds the cycles before it, whole", () => {
  const rt = new RealtimeRuntime();
  const logs: Uint8Array[] = [];
  const [n, tx] = new NodeBuilder(0).named("n").buildWith(
    rt.executor,
    localChannel<number>({ capacity: 8 }),
    (self, _ctx, rx) => {
      for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) self.value += v;
      logs.push(rt.recordedBytes()!); // mid-cycle: this cycle's entries are not in it yet
      return Control.Unchanged;
    },
  );
  rt.startRecording();
  for (let i = 1; i <= 3; i++) {
    tx.trySend(i);
    rt.runOneCycle(0);
  }
  assertEquals(n.value, 6);
  const counts = logs.map((l) => new Replayer(l).cycleCount);
  assertEquals(counts, [0, 1, 2], "each log ends before the cycle that read it");
  const rec = new Recorder(rt.executor, null);
  const port = runtimePort(rt.executor);
  const replaced = port.hook!;
  port.attachHook(null);
  (replaced as Recorder).close();
  port.attachHook(rec);
  new NodeBuilder(0).named("closer").onInit((e, self) => e.yieldNow(self)).build(
    rt.executor,
    () => void rec.close(), // closing inside the cycle leaves that cycle out
  );
  rt.runOneCycle(0);
  assertEquals(new Replayer(rec.bytes()!).cycleCount, 0);
  port.attachHook(null);
  rt.shutdown();
});
