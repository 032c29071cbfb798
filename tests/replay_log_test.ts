// Format 3 of the stimulus log: a receiver's consecutive items go into one ITEMS entry (split at
// its u16 count), empty and closed reads and decisions into 5-byte entries; format 2 logs (no
// such entries) are still read, and format 3 entries in a format 2 log are refused. A recorded
// ring is read in place (the recorder copies the record from the ring) unless it drops oldest.
import {
  Control,
  CycleTime,
  ErrorCode,
  type Executor,
  HistoricalRuntime,
  NodeBuilder,
  RealtimeRuntime,
  TestRuntime,
} from "../mod.ts";
import { defineRecord, Overflow, recordColumns, RecvStatus, ringChannel } from "../channel.ts";
import type { LiveRead } from "../src/core/hooks.ts";
import { ReplayError } from "../replay.ts";
import { Recorder, Replayer } from "../src/replay/tap.ts";
import { LOG_VERSION, MAX_RUN, Obs } from "../src/replay/log.ts";
import { crc32 } from "../src/replay/crc32.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";

/** A live read handing out `items` (each 8 bytes, as two words), then empty reads. */
function liveOf(items: number): LiveRead & { served: number } {
  const bytes = new Uint8Array(8), words = new Int32Array(bytes.buffer);
  const rx = {
    served: 0,
    bytes,
    words: words as Int32Array | null,
    at: 0,
    liveRecv(): number {
      if (rx.served >= items) return Obs.Empty;
      words[0] = rx.served;
      words[1] = ~rx.served;
      rx.served++;
      return Obs.Item;
    },
    replayed(_b: Uint8Array): void {},
  };
  return rx;
}

function timeAt(ns: number): CycleTime {
  const t = new CycleTime();
  t.monotonicNs = ns;
  return t;
}

/** A graph of two nodes, and a recorder with a cycle of `n` items read by node `a`, then one of `b`. */
function recorded(n: number) {
  const rt = new TestRuntime();
  const a = new NodeBuilder(0).named("a").build(rt.executor, () => true);
  const b = new NodeBuilder(0).named("b").build(rt.executor, () => true);
  const rec = new Recorder(rt.executor, null);
  const ha = rec.receiver(a._slot), hb = rec.receiver(b._slot);
  const la = liveOf(n), lb = liveOf(1);
  ha.recv(la);
  hb.recv(lb); // breaks a's run: a's next items start another
  for (let i = 1; i < n; i++) ha.recv(la);
  assertEquals(ha.recv(la), Obs.Empty);
  assertEquals(ha.decide(() => true), true);
  assertEquals(ha.decide(() => false), false);
  rec.endCycle(1, timeAt(1_000), true);
  return { rt, a, b, rec };
}

test("consecutive items of a receiver are one ITEMS entry, split at its count's limit, and replay in order", () => {
  const n = MAX_RUN + 5;
  const { rt, a, b, rec } = recorded(n);
  const log = rec.bytes()!;
  rec.close();
  assertEquals(log[5], LOG_VERSION);
  // One item (11 + 8), b's item (11 + 8), a run of MAX_RUN and one of 4 (11 + 8 each): no
  // per-item entries.
  const items = 3 * 11 + 11 + 8 * (n + 1);
  assert(log.length < items + 200, `a log of ${log.length} bytes holds runs, not entries`);
  const rep = new Replayer(log);
  rep.bind(rt.executor);
  assert(rep.nextCycle());
  const got = new Int32Array(2);
  for (let i = 0; i < n; i++) {
    const p = rep.next(a._slot, Obs.Item);
    assertEquals(rep.lastKind, Obs.Item);
    new Uint8Array(got.buffer).set(p);
    if (got[0] !== i || got[1] !== ~i) throw new Error(`item ${i} read back as ${got}`);
  }
  rep.next(a._slot, Obs.Item);
  assertEquals(rep.lastKind, Obs.Empty);
  assertEquals(rep.nextNumber(a._slot, Obs.More), 1);
  assertEquals(rep.nextNumber(a._slot, Obs.More), 0);
  rep.next(b._slot, Obs.Item);
  assertEquals(rep.lastKind, Obs.Item);
  rep.end();
  assertEquals(rep.failure, null);
  assertEquals(rep.nextCycle(), false);
});

/** Rewrites a log's version byte to `version` and every chained CRC after it. */
function asVersion(log: Uint8Array, version: number): Uint8Array {
  const out = log.slice(), dv = new DataView(out.buffer);
  out[5] = version;
  let at = 8 + 4 + dv.getUint32(8, true);
  let chain = crc32(out, 0, at);
  dv.setUint32(at, chain, true);
  at += 4;
  while (out[at] === 0x42) {
    const end = at + 9 + dv.getUint32(at + 1, true);
    chain = crc32(out, at, end, chain);
    dv.setUint32(end, chain, true);
    at = end + 4;
  }
  dv.setUint32(at + 13, crc32(out, at, at + 13, chain), true);
  return out;
}

test("a format 2 log is still read, and format 3 entries in one are refused", () => {
  // Written by hand with the entries of format 2 only (OBS, NOTIFY), then marked version 2.
  const rt = new TestRuntime();
  const a = new NodeBuilder(0).named("a").build(rt.executor, () => true);
  const rec = new Recorder(rt.executor, null);
  rec.notify(a._slot);
  rec.obs(a._slot, Obs.Item, new Uint8Array([1, 2, 3]));
  rec.obs(a._slot, Obs.Empty, null);
  rec.obsNumber(a._slot, Obs.More, 1);
  rec.endCycle(1, timeAt(5), true);
  const v3 = rec.bytes()!;
  rec.close();
  const v2 = asVersion(v3, 2);
  assertEquals(v2[5], 2);
  const rep = new Replayer(v2);
  rep.bind(rt.executor);
  assert(rep.nextCycle());
  assertEquals([...rep.next(a._slot, Obs.Item)], [1, 2, 3]);
  rep.next(a._slot, Obs.Item);
  assertEquals(rep.lastKind, Obs.Empty);
  assertEquals(rep.nextNumber(a._slot, Obs.More), 1);
  rep.end();
  assertEquals(rep.failure, null);

  // A format 3 log (ITEMS, EMPTY, MORE* entries) marked version 2 is damaged.
  const { rec: rec3 } = recorded(3);
  const log3 = rec3.bytes()!;
  rec3.close();
  const e = assertThrows(
    () => new Replayer(asVersion(log3, 2)),
    ReplayError,
    ErrorCode.ReplayLogInvalid,
  );
  assert(e.message.includes("unknown entry kind"), e.message);
  // Version 4 is refused by its number.
  const e4 = assertThrows(
    () => new Replayer(asVersion(log3, 4)),
    ReplayError,
    ErrorCode.ReplayLogInvalid,
  );
  assert(e4.message.includes("versions 2 and 3"), e4.message);
});

test("a recorded ring read in place (reject) and through its staging cell (drop-oldest) replays to the same reads", () => {
  const Tick = defineRecord({ seq: "i32", px: "f64" });
  const build = (ex: Executor, out: string[]) => {
    const cols = recordColumns(Tick, 4);
    const o = { seq: 0, px: 0 };
    return [Overflow.Reject, Overflow.DropOldest].map((overflow) =>
      new NodeBuilder(0).named(`ring ${overflow}`).buildWith(
        ex,
        ringChannel(Tick, { capacity: 8, overflow }),
        (_self, ctx, rx) => {
          // next() in place, then tryRecv and recvBatch: each read consumes the one before.
          while (rx.next()) {
            out.push(`${ctx.epoch} ${overflow} next ${rx.record.seq} ${rx.record.px}`);
            if (rx.tryRecv(o) === RecvStatus.Item) out.push(`${ctx.epoch} try ${o.seq}`);
            const n = rx.recvBatch(cols, 2);
            for (let i = 0; i < n; i++) out.push(`${ctx.epoch} batch ${cols.seq[i]}`);
          }
          return Control.Unchanged;
        },
      )[1]
    );
  };
  const live: string[] = [];
  const rt = new RealtimeRuntime();
  const txs = build(rt.executor, live);
  rt.startRecording();
  for (let r = 0; r < 10; r++) {
    for (let i = 0; i < 3 + 4 * (r % 3); i++) {
      for (const tx of txs) tx.trySend({ seq: r * 100 + i, px: r + i / 8 });
    }
    rt.runOneCycle(0);
  }
  const log = rt.recordedBytes()!;
  rt.shutdown();
  assert(live.some((l) => l.includes(" batch ")) && live.some((l) => l.includes(" try ")));
  const replayed: string[] = [];
  const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  build(h.executor, replayed);
  h.replayLog(log);
  assertEquals(replayed, live);
});
