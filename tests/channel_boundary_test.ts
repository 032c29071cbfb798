/**
 * Issue 10, channels at the boundary: a bad record never stalls a channel, a producer thread
 * that dies without closing its sender is noticed, and a blocking send on the consumer's own
 * thread is refused even through a rebuilt sender.
 */

import fc from "fast-check";
import {
  channel,
  ChannelError,
  defineRecord,
  Overflow,
  RecordError,
  RecvStatus,
  RingSender,
  SendStatus,
  ValueSender,
} from "../channel.ts";
import {
  Control,
  ErrorCode,
  ExecutionMode,
  NodeBuilder,
  RealtimeRuntime,
  TestRuntime,
  type WaveletError,
} from "../mod.ts";
import { assert, assertEquals, isBun, test } from "./_harness.ts";

const Rec = defineRecord({ px: "f64", qty: "u32", side: "i32" });

function ringNode(overflow: Overflow, capacity = 4) {
  const rt = new TestRuntime();
  const got: number[] = [];
  const out = { px: 0, qty: 0, side: 0 };
  const [, tx] = new NodeBuilder(0).buildWith(
    rt.executor,
    channel({ kind: "ring", record: Rec, capacity, overflow }),
    (_self, _ctx, rx) => {
      while (rx.tryRecv(out) === RecvStatus.Item) got.push(out.px);
      return false;
    },
  );
  return { rt, tx, got };
}

const badRecords: [string, unknown][] = [
  ["a bigint field", { px: 1n }],
  ["a symbol field", { px: Symbol("x") }],
  ["a string field", { px: "1" }],
  ["null", null],
  ["a number", 5],
  ["a throwing getter", {
    get px(): number {
      throw new Error("getter");
    },
  }],
  ["a fraction in an i32 field", { px: 1, side: 1.5 }],
  ["a negative u32", { px: 1, qty: -1 }],
  ["NaN in a u32 field", { px: 1, qty: NaN }],
  ["2^32 in a u32 field", { px: 1, qty: 2 ** 32 }],
];

for (const overflow of [Overflow.Reject, Overflow.DropOldest]) {
  test(`a bad record is a typed error and the next records all arrive (${overflow}, finding 5)`, () => {
    const { rt, tx, got } = ringNode(overflow);
    let seq = 0;
    for (let round = 0; round < 6; round++) {
      for (const [what, bad] of badRecords) {
        let e: unknown = null;
        try {
          tx.trySend(bad as never);
        } catch (err) {
          e = err;
        }
        assert(e instanceof RecordError, `${what}: got ${e}`);
        assertEquals((e as RecordError).code, ErrorCode.InvalidRecord, what);
      }
      // A full ring: a bad record must not drop (or wait for) a good one either.
      for (let i = 0; i < 4; i++) assertEquals(tx.trySend({ px: seq++ }), SendStatus.Sent);
      for (const [, bad] of badRecords) {
        try {
          tx.trySend(bad as never);
        } catch { /* typed, checked above */ }
      }
      rt.runOneCycle();
    }
    assertEquals(got, Array.from({ length: 24 }, (_, i) => i));
    assertEquals(tx.dropped, 0, "no good record was dropped for a bad one");
  });
}

test("random records: every one is either sent whole or refused with INVALID_RECORD (finding 5)", () => {
  const { rt, tx, got } = ringNode(Overflow.Reject, 1024);
  let sent = 0;
  const expected: number[] = [];
  fc.assert(
    fc.property(
      fc.record({ px: fc.anything(), qty: fc.anything(), side: fc.anything() }, {
        requiredKeys: [],
      }),
      (r) => {
        try {
          if (tx.trySend(r as never) === SendStatus.Sent) {
            sent++;
            const px = (r as { px?: unknown }).px;
            expected.push(px === undefined ? 0 : px as number);
          }
        } catch (e) {
          assert(e instanceof RecordError, `got ${e}`);
        }
        if (sent % 512 === 0) rt.runOneCycle();
      },
    ),
    { numRuns: 500 },
  );
  rt.runOneCycle();
  assertEquals(got.length, sent);
  assertEquals(
    got.map((x) => Object.is(x, -0) ? 0 : x),
    expected.map((x) => Object.is(x, -0) ? 0 : x),
  );
});

test("a value that is not structured-cloneable is a typed error and the channel keeps working", () => {
  const rt = new TestRuntime();
  const got: unknown[] = [];
  const [, tx] = new NodeBuilder(0).buildWith(
    rt.executor,
    channel({ kind: "value", capacity: 2 }),
    (_self, _ctx, rx) => {
      for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) got.push(v);
      return false;
    },
  );
  for (const bad of [() => 1, Symbol("s"), { f: () => 1 }]) {
    let e: unknown = null;
    try {
      tx.trySend(bad);
    } catch (err) {
      e = err;
    }
    assert(e instanceof ChannelError, `got ${e}`);
    assertEquals((e as WaveletError).code, ErrorCode.InvalidArgument);
  }
  assertEquals(tx.trySend("a"), SendStatus.Sent);
  assertEquals(tx.trySend({ b: 2 }), SendStatus.Sent);
  rt.runOneCycle();
  assertEquals(got, ["a", { b: 2 }]);
});

test("a blocking sender rebuilt on the consumer's own thread refuses to block instead of deadlocking (finding 5)", () => {
  const rt = new TestRuntime();
  const [, tx] = new NodeBuilder(0).buildWith(
    rt.executor,
    channel({
      kind: "ring",
      record: Rec,
      capacity: 2,
      overflow: Overflow.Block,
      blockTimeoutMs: 60_000,
    }),
    () => false,
  );
  const again = RingSender.fromTransferable<typeof Rec.fields>(tx.toTransferable());
  assertEquals(again.trySend({ px: 1 }), SendStatus.Sent);
  assertEquals(again.trySend({ px: 2 }), SendStatus.Sent);
  let e: unknown = null;
  try {
    again.trySend({ px: 3 }); // full: blocking here would wait for this very thread
  } catch (err) {
    e = err;
  }
  assert(e instanceof ChannelError, `got ${e}`);
  assertEquals((e as ChannelError).code, ErrorCode.ChannelWouldDeadlock);
  const v = new TestRuntime();
  const [, vtx] = new NodeBuilder(0).buildWith(
    v.executor,
    channel({ kind: "value", capacity: 2, overflow: Overflow.Block }),
    () => false,
  );
  const vagain = ValueSender.fromTransferable(vtx.toTransferable());
  vagain.trySend(1);
  vagain.trySend(2);
  let e2: unknown = null;
  try {
    vagain.trySend(3);
  } catch (err) {
    e2 = err;
  }
  assertEquals((e2 as ChannelError)?.code, ErrorCode.ChannelWouldDeadlock);
});

for (const end of ["hang", "throw", "exit"] as const) {
  test(
    `a producer Worker that dies without closing (${end}) is noticed: its records arrive, then Closed (finding 5)`,
    async () => {
      const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
      const Seq = defineRecord({ seq: "i32" });
      const seen: number[] = [];
      let closed = false;
      const out = { seq: 0 };
      const [, tx] = new NodeBuilder(0).buildWith(
        rt.executor,
        channel({ kind: "ring", record: Seq, capacity: 64, livenessCheckMs: 20 }),
        (_self, _ctx, rx) => {
          for (;;) {
            const s = rx.tryRecv(out);
            if (s === RecvStatus.Item) seen.push(out.seq);
            else if (s === RecvStatus.Closed) {
              closed = true;
              return Control.Terminate;
            } else return false;
          }
        },
      );
      const w = new Worker(new URL("./fixtures/dying_producer.ts", import.meta.url).href, {
        type: "module",
      });
      w.onerror = (e) => e.preventDefault();
      const sent = new Promise((r) => (w.onmessage = () => r(null)));
      w.postMessage({ sender: tx.toTransferable(), count: 500, end });
      tx.close(); // the main thread's own sender
      // Drive the runtime from the host loop until the Worker said it sent everything.
      let done = false;
      sent.then(() => (done = true));
      while (!done) {
        rt.runOneCycle(1e6);
        await new Promise((r) => setTimeout(r, 0));
      }
      if (end === "hang") w.terminate();
      const t0 = performance.now();
      while (!closed && performance.now() - t0 < 20_000) {
        rt.runOneCycle(5e6);
        await new Promise((r) => setTimeout(r, 0));
      }
      w.terminate();
      rt.shutdown();
      assert(closed, "the receiver saw Closed once the producer's thread was gone");
      assertEquals(seen, Array.from({ length: 500 }, (_, i) => i));
    },
    { timeoutMs: 60_000 },
  );
}

test("more senders than producer slots is a typed CapacityError, and a closed sender frees its slot", () => {
  const rt = new TestRuntime();
  const out = { px: 0, qty: 0, side: 0 };
  const [, tx] = new NodeBuilder(0).buildWith(
    rt.executor,
    channel({ kind: "ring", record: Rec, capacity: 4, producers: 2 }),
    (_self, _ctx, rx) => {
      while (rx.tryRecv(out) === RecvStatus.Item) { /* drain */ }
      return false;
    },
  );
  const a = RingSender.fromTransferable<typeof Rec.fields>(tx.toTransferable());
  assertEquals(a.trySend({ px: 1 }), SendStatus.Sent);
  assertEquals(tx.trySend({ px: 2 }), SendStatus.Sent);
  const b = RingSender.fromTransferable<typeof Rec.fields>(tx.toTransferable());
  let e: unknown = null;
  try {
    b.trySend({ px: 3 });
  } catch (err) {
    e = err;
  }
  assertEquals((e as WaveletError)?.code, ErrorCode.CapacityExceeded);
  a.close();
  rt.runOneCycle(); // drains a's ring and frees its slot
  assertEquals(b.trySend({ px: 4 }), SendStatus.Sent);
  void isBun;
});
