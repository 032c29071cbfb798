/**
 * Issue 12, item 1: the ring channel's batch paths. `trySendMany` publishes a batch with one
 * store and wakes the node at most once; `recvBatch` takes runs of records into columns; every
 * guarantee of the one-by-one paths holds (per-producer order, the three overflow policies,
 * close, dead producers, exact counts), and a bad record or a bad argument changes nothing.
 */

import fc from "fast-check";
import {
  channel,
  ChannelError,
  defineRecord,
  Overflow,
  recordColumns,
  RecordError,
  RecvStatus,
  ringChannel,
  RingSender,
  SendStatus,
} from "../channel.ts";
import {
  Control,
  ErrorCode,
  ExecutionMode,
  type Executor,
  HistoricalRuntime,
  InvalidArgumentError,
  ms,
  NodeBuilder,
  Notifier,
  RealtimeRuntime,
  TestRuntime,
} from "../mod.ts";
import { loadBackend } from "../native.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import { startProducers } from "./_producers.ts";

const Rec = defineRecord({ producer: "i32", seq: "i32", value: "f64" });
type R = { producer: number; seq: number; value: number };

/** A TestRuntime node whose receive step the test drives: each run calls `take(rx)`. */
function node(capacity: number, overflow: Overflow, producers = 8) {
  const rt = new TestRuntime();
  // deno-lint-ignore no-explicit-any
  let take: (rx: any) => void = () => {};
  const [n, tx] = new NodeBuilder(0).buildWith(
    rt.executor,
    ringChannel(Rec, { capacity, overflow, producers }),
    (_self, _ctx, rx) => {
      take(rx);
      return false;
    },
  );
  return {
    rt,
    tx,
    node: n,
    // deno-lint-ignore no-explicit-any
    run(f: (rx: any) => void) {
      take = f;
      rt.runOneCycle();
      take = () => {};
    },
  };
}

const recs = (from: number, n: number, producer = 0): R[] =>
  Array.from({ length: n }, (_, i) => ({ producer, seq: from + i, value: (from + i) / 2 }));

test("trySendMany publishes a batch, recvBatch takes it into columns in order", () => {
  const { tx, run } = node(64, Overflow.Reject);
  assertEquals(tx.trySendMany(recs(0, 40)), 40);
  assertEquals(tx.trySendMany(recs(40, 30), 5, 30), 24, "the range [5, 30) is 25, room for 24");
  const cols = recordColumns(Rec, 100);
  let n = -1;
  run((rx) => (n = rx.recvBatch(cols)));
  assertEquals(n, 64);
  assertEquals(
    Array.from(cols.seq.subarray(0, 64)),
    [...Array.from({ length: 40 }, (_, i) => i), ...Array.from({ length: 24 }, (_, i) => 45 + i)],
  );
  assertEquals(cols.value[63], 68 / 2);
  // max, and columns shorter than what is queued.
  tx.trySendMany(recs(0, 50));
  const short = recordColumns(Rec, 8);
  const got: number[][] = [];
  run((rx) => {
    got.push(rx.recvBatch(short, 3) === 3 ? Array.from(short.seq.subarray(0, 3)) : []);
    for (let k; (k = rx.recvBatch(short)) > 0;) got.push(Array.from(short.seq.subarray(0, k)));
  });
  assertEquals(got.flat(), Array.from({ length: 50 }, (_, i) => i));
  assertEquals(got[0].length, 3);
  assert(got.slice(1).every((g) => g.length <= 8));
});

test("trySendColumns sends a range of columns, wrapping around the ring, under each policy", () => {
  const src = recordColumns(Rec, 40);
  for (let i = 0; i < 40; i++) {
    src.seq[i] = i;
    src.value[i] = i / 2;
    src.producer[i] = 7;
  }
  const cols = recordColumns(Rec, 64);
  for (const overflow of [Overflow.Reject, Overflow.DropOldest, Overflow.Block]) {
    const { tx, run } = node(16, overflow);
    let n = 0;
    // Move the ring's position to 10 so the batches below wrap.
    assertEquals(tx.trySendColumns(src, 0, 10), 10);
    run((rx) => (n = rx.recvBatch(cols)));
    assertEquals(n, 10);
    assertEquals(tx.trySendColumns(src, 10, 22), 12, "wraps at 16");
    run((rx) => (n = rx.recvBatch(cols)));
    assertEquals(Array.from(cols.seq.subarray(0, n)), Array.from({ length: 12 }, (_, i) => 10 + i));
    assertEquals(Array.from(cols.producer.subarray(0, n)), new Array(12).fill(7));
    assertEquals(cols.value[11], 21 / 2);
    if (overflow === Overflow.Block) {
      assertThrows(() => tx.trySendColumns(src), ChannelError, ErrorCode.ChannelWouldDeadlock);
      continue;
    }
    const sent = tx.trySendColumns(src);
    assertEquals(sent, overflow === Overflow.Reject ? 16 : 40);
    run((rx) => (n = rx.recvBatch(cols)));
    assertEquals(
      Array.from(cols.seq.subarray(0, n)),
      overflow === Overflow.Reject
        ? Array.from({ length: 16 }, (_, i) => i)
        : Array.from({ length: 16 }, (_, i) => 24 + i),
    );
    assertEquals(tx.dropped, overflow === Overflow.DropOldest ? 24 : 0);
  }
});

test("columns are checked on every call unless they are the frozen ones recordColumns made", () => {
  const { tx, run } = node(64, Overflow.Reject);
  const mine = { ...recordColumns(Rec, 4) } as { seq: unknown };
  assertEquals(tx.trySendColumns(mine as never), 4);
  mine.seq = new Float64Array(4); // wrong type now: refused, nothing sent
  assertThrows(() => tx.trySendColumns(mine as never), InvalidArgumentError);
  const frozen = recordColumns(Rec, 4);
  assertThrows(() => ((frozen as { seq: unknown }).seq = new Float64Array(4)), TypeError);
  assertEquals(tx.trySendColumns(frozen), 4);
  assertEquals(tx.trySendColumns(frozen, 1, 3), 2);
  assertThrows(() => tx.trySendColumns(frozen, 3, 5), InvalidArgumentError);
  assertThrows(() => tx.trySendColumns(frozen, -1), InvalidArgumentError);
  let n = 0;
  run((rx) => (n = rx.recvBatch(recordColumns(Rec, 64))));
  assertEquals(n, 10);
});

test("a full ring under each policy: reject sends what fits, drop-oldest keeps the newest, block on the node's thread refuses before sending", () => {
  const reject = node(8, Overflow.Reject);
  assertEquals(reject.tx.trySendMany(recs(0, 20)), 8);
  assertEquals(reject.tx.trySendMany(recs(0, 1)), 0);
  const cols = recordColumns(Rec, 64);
  let n = 0;
  reject.run((rx) => (n = rx.recvBatch(cols)));
  assertEquals(Array.from(cols.seq.subarray(0, n)), [0, 1, 2, 3, 4, 5, 6, 7]);

  const drop = node(8, Overflow.DropOldest);
  assertEquals(drop.tx.trySendMany(recs(0, 5)), 5);
  assertEquals(drop.tx.trySendMany(recs(5, 20)), 20, "drop-oldest takes every record");
  assertEquals(drop.tx.dropped, 17);
  drop.run((rx) => (n = rx.recvBatch(cols)));
  assertEquals(Array.from(cols.seq.subarray(0, n)), [17, 18, 19, 20, 21, 22, 23, 24]);

  const block = node(8, Overflow.Block);
  assertEquals(block.tx.trySendMany(recs(0, 6)), 6);
  assertThrows(
    () => block.tx.trySendMany(recs(6, 3)),
    ChannelError,
    ErrorCode.ChannelWouldDeadlock,
  );
  assertEquals(block.tx.trySendMany(recs(6, 2)), 2, "a batch that fits does not block");
  block.run((rx) => (n = rx.recvBatch(cols)));
  assertEquals(Array.from(cols.seq.subarray(0, n)), [0, 1, 2, 3, 4, 5, 6, 7]);
});

test("a bad record anywhere in a batch throws INVALID_RECORD and sends nothing, under every policy, fitting or not", () => {
  for (const overflow of [Overflow.Reject, Overflow.DropOldest, Overflow.Block]) {
    for (const size of [4, 40]) {
      const { tx, run } = node(16, overflow);
      tx.trySendMany(recs(0, 10));
      for (const at of [0, size >> 1, size - 1]) {
        const batch: unknown[] = recs(100, size);
        batch[at] = { producer: 0, seq: 1.5, value: 0 };
        let e: unknown = null;
        try {
          tx.trySendMany(batch as R[]);
        } catch (err) {
          e = err;
        }
        if (overflow === Overflow.Block && size === 40) {
          // Too big to fit on the node's own thread: refused before anything is looked at.
          assert(e instanceof RecordError || e instanceof ChannelError, `got ${e}`);
        } else {
          assert(e instanceof RecordError, `${overflow} ${size} @${at}: got ${e}`);
        }
      }
      assertEquals(tx.dropped, 0, `${overflow}: no record was dropped for a bad batch`);
      const cols = recordColumns(Rec, 64);
      let n = 0;
      run((rx) => (n = rx.recvBatch(cols)));
      assertEquals(Array.from(cols.seq.subarray(0, n)), Array.from({ length: 10 }, (_, i) => i));
      assertEquals(tx.trySendMany(recs(10, 3)), 3, "the channel works on");
    }
  }
});

test("bad batch arguments and bad columns are typed errors before anything changes", () => {
  const { tx, run } = node(16, Overflow.Reject);
  tx.trySendMany(recs(0, 4));
  fc.assert(
    fc.property(
      fc.oneof(fc.anything(), fc.constant(recs(0, 3))),
      fc.oneof(fc.constant(undefined), fc.integer({ min: -3, max: 6 }), fc.anything()),
      fc.oneof(fc.constant(undefined), fc.integer({ min: -3, max: 6 }), fc.anything()),
      (items, start, end) => {
        try {
          const n = tx.trySendMany(items as R[], start as number, end as number);
          assert(Array.isArray(items) && typeof n === "number");
          // What it said it sent is read back below; keep the ring from filling.
          run((rx) => {
            const cols = recordColumns(Rec, 64);
            while (rx.recvBatch(cols) > 0) { /* drain */ }
          });
        } catch (e) {
          assert(
            e instanceof InvalidArgumentError || e instanceof RecordError,
            `got ${e}`,
          );
        }
      },
    ),
    { numRuns: 300 },
  );
  // Columns: missing, wrong type, shorter than asked; max not an integer >= 0.
  run((rx) => {
    while (rx.recvBatch(recordColumns(Rec, 64)) > 0) { /* drain */ }
  });
  assertEquals(tx.trySendMany(recs(0, 8)), 8);
  const good = recordColumns(Rec, 8);
  const bad: unknown[] = [
    null,
    5,
    {},
    { ...good, seq: new Float64Array(8) },
    { ...good, value: [1, 2, 3] },
    {
      ...good,
      get producer() {
        throw new Error("getter");
      },
    },
  ];
  let seen = -1;
  run((rx) => {
    for (const cols of bad) {
      assertThrows(() => rx.recvBatch(cols), InvalidArgumentError, ErrorCode.InvalidArgument);
    }
    for (const max of [-1, 1.5, "2", NaN]) {
      assertThrows(() => rx.recvBatch(good, max), InvalidArgumentError);
    }
    seen = rx.recvBatch(good);
  });
  assertEquals(seen, 8, "nothing was taken by the refused calls");
  assertThrows(() => recordColumns(Rec, 0), InvalidArgumentError);
  assertThrows(() => recordColumns({ ...Rec } as typeof Rec, 4), InvalidArgumentError);
});

test("a batch wakes the node once; single sends wake it once per idle period", () => {
  const { tx, run } = node(1024, Overflow.Reject);
  let notifies = 0;
  const original = Notifier.prototype.notify;
  Notifier.prototype.notify = function (this: Notifier) {
    notifies++;
    return original.call(this);
  };
  try {
    tx.trySendMany(recs(0, 64));
    assertEquals(notifies, 1, "one wake-up for a batch of 64");
    for (let i = 0; i < 100; i++) tx.trySend(recs(64 + i, 1)[0]);
    assertEquals(notifies, 1, "the node was not idle since: no more wake-ups");
    const cols = recordColumns(Rec, 1024);
    let n = 0;
    run((rx) => (n = rx.recvBatch(cols)));
    assertEquals(n, 164);
    tx.trySend(recs(0, 1)[0]);
    tx.trySendMany(recs(0, 10));
    assertEquals(notifies, 2, "idle again: the next send woke it, once");
    // A node that leaves records runs again without any wake-up.
    run((rx) => (n = rx.recvBatch(cols, 5)));
    tx.trySendMany(recs(0, 10));
    assertEquals(notifies, 2);
  } finally {
    Notifier.prototype.notify = original;
  }
});

test("model: random single and batch sends and receives of one sender match a FIFO, under reject and drop-oldest", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(Overflow.Reject, Overflow.DropOldest),
      fc.constantFrom(2, 8, 32),
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant("send"), n: fc.constant(1) }),
          fc.record({
            op: fc.constantFrom("many", "columns"),
            n: fc.integer({ min: 0, max: 70 }),
          }),
          fc.record({
            op: fc.constantFrom("tryRecv", "next", "batch"),
            n: fc.integer({ min: 0, max: 40 }),
          }),
        ),
        { maxLength: 60 },
      ),
      (overflow, capacity, ops) => {
        const { tx, run } = node(capacity, overflow);
        const model: number[] = [];
        let seq = 0, dropped = 0;
        const cols = recordColumns(Rec, 64);
        const src = recordColumns(Rec, 70);
        for (const { op, n } of ops) {
          if (op === "send" || op === "many" || op === "columns") {
            const batch = recs(seq, n);
            for (let i = 0; i < n; i++) {
              src.seq[i] = batch[i].seq;
              src.value[i] = batch[i].value;
            }
            const sent = op === "send"
              ? (tx.trySend(batch[0]) === SendStatus.Sent ? 1 : 0)
              : op === "many"
              ? tx.trySendMany(batch)
              : tx.trySendColumns(src, 0, n);
            const room = capacity - model.length;
            if (overflow === Overflow.Reject) {
              assertEquals(sent, Math.min(n, room));
              for (let i = 0; i < sent; i++) model.push(seq + i);
            } else {
              assertEquals(sent, n);
              for (let i = 0; i < n; i++) model.push(seq + i);
              while (model.length > capacity) {
                model.shift();
                dropped++;
              }
            }
            seq += n;
            continue;
          }
          const got: number[] = [];
          const expected = model.splice(0, Math.min(n, model.length));
          run((rx) => {
            if (op === "tryRecv") {
              const out = { producer: 0, seq: 0, value: 0 };
              for (let k = 0; k < n && rx.tryRecv(out) === RecvStatus.Item; k++) {
                assertEquals(out.value, out.seq / 2);
                got.push(out.seq);
              }
            } else if (op === "next") {
              for (let k = 0; k < n && rx.next(); k++) got.push(rx.record.seq);
            } else {
              const k = rx.recvBatch(cols, n);
              for (let i = 0; i < k; i++) {
                assertEquals(cols.value[i], cols.seq[i] / 2);
                got.push(cols.seq[i]);
              }
            }
          });
          assertEquals(got, expected, `${op} ${n}`);
          assertEquals(tx.dropped, dropped);
        }
        // Drain what is left: exactly the model, in order.
        const rest: number[] = [];
        run((rx) => {
          for (let k; (k = rx.recvBatch(cols)) > 0;) rest.push(...cols.seq.subarray(0, k));
        });
        assertEquals(rest, model);
      },
    ),
    { numRuns: 200 },
  );
});

test("several senders, random batches: per-sender order, nothing lost or duplicated, the rings take turns", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 20 })), {
        maxLength: 40,
      }),
      fc.integer({ min: 1, max: 50 }),
      (sends, batch) => {
        const { tx, run } = node(256, Overflow.Reject, 4);
        const senders = [
          tx,
          ...[1, 2, 3].map(() =>
            RingSender.fromTransferable<typeof Rec.fields>(tx.toTransferable())
          ),
        ];
        const next = [0, 0, 0, 0];
        for (const [p, n] of sends) {
          assertEquals(senders[p].trySendMany(recs(next[p], n, p)), n);
          next[p] += n;
        }
        const seen: number[][] = [[], [], [], []];
        const cols = recordColumns(Rec, batch);
        run((rx) => {
          for (let k; (k = rx.recvBatch(cols)) > 0;) {
            for (let i = 0; i < k; i++) seen[cols.producer[i]].push(cols.seq[i]);
          }
        });
        for (let p = 0; p < 4; p++) {
          assertEquals(seen[p], Array.from({ length: next[p] }, (_, i) => i), `sender ${p}`);
        }
        for (const s of senders) s.close();
      },
    ),
    { numRuns: 150 },
  );
});

const backends = [
  ["native", () => loadBackend({ prefer: "native" })],
  ["js", () => loadBackend({ prefer: "js" })],
] as const;

for (const [bname, backend] of backends) {
  // Each batch API under every policy: record objects on one backend, columns on the other.
  const api = bname === "native" ? "trySendMany" : "trySendColumns";
  for (const overflow of [Overflow.Reject, Overflow.Block, Overflow.DropOldest]) {
    test(
      `4 Workers x 250 000 records, ${api} of 64 through a ring of 1024, received with recvBatch, ${overflow}, ${bname} backend`,
      async () => {
        const P = 4, N = 250_000;
        const rt = new RealtimeRuntime({ mode: ExecutionMode.Park, backend: backend() });
        const next = new Array<number>(P).fill(0);
        const got = new Array<number>(P).fill(0);
        const sum = new Array<number>(P).fill(0);
        let outOfOrder = 0, dropped = 0;
        const cols = recordColumns(Rec, 700);
        const [, tx] = new NodeBuilder(0).buildWith(
          rt.executor,
          channel({ kind: "ring", record: Rec, capacity: 1024, overflow }),
          (_self, _ctx, rx) => {
            const n = rx.recvBatch(cols);
            if (n === 0) {
              if (!rx.isClosed) return false;
              dropped = rx.dropped;
              return Control.Terminate;
            }
            for (let i = 0; i < n; i++) {
              const p = cols.producer[i], s = cols.seq[i];
              if (overflow === Overflow.DropOldest ? s < next[p] : s !== next[p]) outOfOrder++;
              next[p] = s + 1;
              got[p]++;
              sum[p] += cols.value[i];
            }
            return false;
          },
        );
        const { workers, done } = startProducers(tx, P, N, overflow === Overflow.Reject, {
          batch: 64,
          columns: api === "trySendColumns",
        });
        await new Promise((r) => setTimeout(r, 20));
        rt.runForever();
        const results = await Promise.all(done);
        for (const w of workers) w.terminate();
        assertEquals(outOfOrder, 0, "records out of per-producer order");
        for (let p = 0; p < P; p++) {
          assertEquals(results[p].sent, N, `producer ${p} sent`);
          if (overflow === Overflow.DropOldest) continue;
          let expected = 0;
          for (let i = 0; i < N; i++) expected += (i * 7 + p) % 1000;
          assertEquals(got[p], N, `producer ${p} received`);
          assertEquals(sum[p], expected, `producer ${p} checksum`);
        }
        if (overflow === Overflow.DropOldest) {
          assertEquals(got.reduce((a, b) => a + b, 0) + dropped, P * N, "received or dropped");
        } else assertEquals(dropped, 0);
      },
      { timeoutMs: 120_000 },
    );
  }
}

test("a recorded run read with recvBatch and next replays the same records", () => {
  function build(ex: Executor, log: string[]) {
    const cols = recordColumns(Rec, 5);
    const [, tx] = new NodeBuilder(0).named("batches").buildWith(
      ex,
      ringChannel(Rec, { capacity: 64 }),
      (_self, _ctx, rx) => {
        const n = rx.recvBatch(cols);
        log.push(`batch ${Array.from(cols.seq.subarray(0, n))}`);
        if (rx.next()) log.push(`next ${rx.record.seq} ${rx.record.value}`);
        return true;
      },
    );
    return tx;
  }
  const live: string[] = [];
  const rt = new RealtimeRuntime();
  const tx = build(rt.executor, live);
  rt.startRecording();
  tx.trySendMany(recs(0, 8));
  rt.runOneCycle(ms(10));
  tx.trySendMany(recs(8, 3));
  rt.runOneCycle(ms(10));
  rt.runOneCycle(ms(10));
  const log = rt.recordedBytes()!;
  rt.shutdown();
  assertEquals(live, ["batch 0,1,2,3,4", "next 5 2.5", "batch 6,7,8,9,10"]);
  const replayed: string[] = [];
  const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  build(h.executor, replayed);
  h.replayLog(log);
  assertEquals(replayed, live);
});
