import {
  channel,
  ChannelError,
  defineRecord,
  Overflow,
  RecvStatus,
  SendStatus,
} from "../channel.ts";
import {
  Control,
  ErrorCode,
  ExecutionMode,
  InvalidArgumentError,
  NodeBuilder,
  RealtimeRuntime,
  TestRuntime,
} from "../mod.ts";
import { loadBackend } from "../native.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import { startProducers } from "./_producers.ts";

const Rec = defineRecord({ producer: "i32", seq: "i32", value: "f64" });

const backends = [
  ["native", () => loadBackend({ prefer: "native" })],
  ["js", () => loadBackend({ prefer: "js" })],
] as const;

for (const [bname, backend] of backends) {
  for (const overflow of [Overflow.Reject, Overflow.Block, Overflow.DropOldest]) {
    test(
      `4 Workers x 250 000 records through a ring of 1024 with ${overflow} on the ${bname} backend`,
      async () => {
        const P = 4, N = 250_000;
        const rt = new RealtimeRuntime({ mode: ExecutionMode.Park, backend: backend() });
        const next = new Array<number>(P).fill(0);
        const got = new Array<number>(P).fill(0);
        const sum = new Array<number>(P).fill(0);
        let outOfOrder = 0, dropped = 0;
        const rec = { producer: 0, seq: 0, value: 0 };
        const [, tx] = new NodeBuilder(0).buildWith(
          rt.executor,
          channel({ kind: "ring", record: Rec, capacity: 1024, overflow }),
          (_self, _ctx, rx) => {
            for (let k = 0; k < 4096; k++) {
              const s = rx.tryRecv(rec);
              if (s === RecvStatus.Empty) return false;
              if (s === RecvStatus.Closed) {
                dropped = rx.dropped;
                return Control.Terminate;
              }
              const p = rec.producer;
              if (overflow === Overflow.DropOldest ? rec.seq < next[p] : rec.seq !== next[p]) {
                outOfOrder++;
              }
              next[p] = rec.seq + 1;
              got[p]++;
              sum[p] += rec.value;
            }
            return false; // items left: the channel runs the node again next cycle
          },
        );
        const { workers, done } = startProducers(tx, P, N, overflow === Overflow.Reject);
        await new Promise((r) => setTimeout(r, 20));
        rt.runForever();
        const results = await Promise.all(done);
        for (const w of workers) w.terminate();
        assertEquals(outOfOrder, 0, "records out of per-producer order");
        for (let p = 0; p < P; p++) {
          let expected = 0;
          for (let i = 0; i < N; i++) expected += (i * 7 + p) % 1000;
          if (overflow === Overflow.DropOldest) {
            assertEquals(results[p].sent, N);
            assert(got[p] <= N && got[p] > 0);
          } else {
            assertEquals(results[p].sent, N, `producer ${p} sent`);
            assertEquals(got[p], N, `producer ${p} received`);
            assertEquals(sum[p], expected, `producer ${p} checksum`);
          }
        }
        if (overflow === Overflow.DropOldest) {
          const total = got.reduce((a, b) => a + b, 0);
          assertEquals(
            total + dropped,
            P * N,
            "every record is either received or counted dropped",
          );
        } else {
          assertEquals(dropped, 0);
        }
      },
      { timeoutMs: 120_000 },
    );
  }
}

test("closing the receiver mid-stream makes producers see Closed and stop", async () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  let received = 0;
  const rec = { producer: 0, seq: 0, value: 0 };
  const [, tx] = new NodeBuilder(0).buildWith(
    rt.executor,
    channel({ kind: "ring", record: Rec, capacity: 64, overflow: Overflow.Block }),
    (_self, _ctx, rx) => {
      while (rx.tryRecv(rec) === RecvStatus.Item) {
        if (++received === 5_000) return Control.Terminate; // shuts down, closing the channel
      }
      return false;
    },
  );
  const { workers, done } = startProducers(tx, 2, 1_000_000, false);
  await new Promise((r) => setTimeout(r, 20));
  rt.runForever();
  const results = await Promise.all(done);
  for (const w of workers) w.terminate();
  assertEquals(received, 5_000);
  for (const r of results) {
    assert(r.closed, "producer saw Closed");
    assert(r.sent < 1_000_000);
  }
});

test("a Worker that throws or is terminated does not wedge the graph", async () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const got = [0, 0];
  const rec = { producer: 0, seq: 0, value: 0 };
  const [, tx] = new NodeBuilder(0).buildWith(
    rt.executor,
    channel({
      kind: "ring",
      record: Rec,
      capacity: 256,
      overflow: Overflow.Block,
      blockTimeoutMs: 5_000,
    }),
    (_self, _ctx, rx) => {
      while (rx.tryRecv(rec) === RecvStatus.Item) got[rec.producer]++;
      return false;
    },
  );
  // A watchdog ends the run once both producers failed and their records arrived (the failed
  // producers never close their senders, so the channel itself never reports Closed).
  const failed = new Int32Array(new SharedArrayBuffer(4));
  const giveUp = rt.clock.nowNs() + 30e9;
  new NodeBuilder(0)
    .onInit((ex, self) => {
      ex.registerTimer(self, rt.clock.nowNs() + 10e6);
    })
    .build(rt.executor, (_self, ctx) => {
      const now = ctx.time.monotonicNs;
      if ((Atomics.load(failed, 0) === 2 && got[0] + got[1] === 20_000) || now > giveUp) {
        return Control.Terminate;
      }
      ctx.registerTimer(ctx.current, now + 10e6);
      return false;
    });
  const { workers, done } = startProducers(tx, 2, 20_000, false, {
    throwAfter: 10_000,
    failed: failed.buffer,
  });
  let failures = 0;
  const settled = Promise.allSettled(done).then((r) => {
    failures = r.filter((x) => x.status === "rejected").length;
  });
  await new Promise((r) => setTimeout(r, 20));
  rt.runForever();
  await settled;
  for (const w of workers) w.terminate();
  assertEquals(failures, 2);
  assertEquals(got, [10_000, 10_000], "everything sent before the failure arrived");
});

test("value channel carries structured-cloneable values from Workers in order", async () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const seen: { producer: number; seq: number; tag: string }[] = [];
  const [, tx] = new NodeBuilder(0).buildWith(
    rt.executor,
    channel({ kind: "value", capacity: 128, maxItemBytes: 256, overflow: Overflow.Block }),
    (_self, _ctx, rx) => {
      for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) {
        seen.push(v as { producer: number; seq: number; tag: string });
      }
      return rx.isClosed ? Control.Terminate : false;
    },
  );
  const { workers, done } = startProducers(tx, 2, 2_000, false);
  await new Promise((r) => setTimeout(r, 20));
  rt.runForever();
  await Promise.all(done);
  for (const w of workers) w.terminate();
  assertEquals(seen.length, 4_000);
  for (const p of [0, 1]) {
    const mine = seen.filter((v) => v.producer === p);
    assertEquals(mine.map((v) => v.seq), [...Array(2_000).keys()]);
    assert(mine.every((v) => v.tag === `p${p}`));
  }
});

test("ring channel on the test runtime: reject keeps the item, drop-oldest counts, close is seen", () => {
  const rt = new TestRuntime();
  const out: number[] = [];
  let closedSeen = false;
  const rec = { producer: 0, seq: 0, value: 0 };
  const [, tx] = new NodeBuilder(0).buildWith(
    rt.executor,
    channel({ kind: "ring", record: Rec, capacity: 4 }),
    (_self, _ctx, rx) => {
      for (;;) {
        const s = rx.tryRecv(rec);
        if (s === RecvStatus.Item) out.push(rec.seq);
        else {
          if (s === RecvStatus.Closed) closedSeen = true;
          return false;
        }
      }
    },
  );
  for (let i = 0; i < 4; i++) assertEquals(tx.trySend({ seq: i }), SendStatus.Sent);
  assertEquals(tx.trySend({ seq: 99 }), SendStatus.Full);
  rt.runOneCycle();
  assertEquals(out, [0, 1, 2, 3]);
  tx.close();
  rt.runOneCycle();
  assert(closedSeen, "the receiver saw Closed after the last sender closed");
  assertThrows(() => tx.trySend({ seq: 1 }), ChannelError, ErrorCode.ChannelClosed);

  const rt2 = new TestRuntime();
  const got: number[] = [];
  const [, tx2] = new NodeBuilder(0).buildWith(
    rt2.executor,
    channel({ kind: "ring", record: Rec, capacity: 4, overflow: Overflow.DropOldest }),
    (_self, _ctx, rx) => {
      while (rx.tryRecv(rec) === RecvStatus.Item) got.push(rec.seq);
      return false;
    },
  );
  for (let i = 0; i < 10; i++) assertEquals(tx2.trySend({ seq: i }), SendStatus.Sent);
  rt2.runOneCycle();
  assertEquals(got, [6, 7, 8, 9]);
  assertEquals(tx2.dropped, 6);
});

test("a receiver that stops before draining runs again next cycle; a removed node closes the channel", () => {
  const rt = new TestRuntime();
  const got: number[] = [];
  const [node, tx] = new NodeBuilder(0).buildWith(
    rt.executor,
    channel({ kind: "local", capacity: 100 }),
    (_self, _ctx, rx) => {
      const v = rx.tryRecv();
      if (v !== undefined) got.push(v as number);
      return false; // one item per cycle
    },
  );
  for (let i = 0; i < 5; i++) tx.trySend(i);
  assertEquals(rt.runUntilIdle(), 5);
  assertEquals(got, [0, 1, 2, 3, 4]);
  node.remove();
  assertEquals(tx.trySend(9), SendStatus.Closed);
});

test("local channel: sendAsync waits for room (backpressure), drop-oldest drops", async () => {
  const rt = new TestRuntime();
  const got: number[] = [];
  const [, tx] = new NodeBuilder(0).buildWith(
    rt.executor,
    channel({ kind: "local", capacity: 2 }),
    (_self, _ctx, rx) => {
      for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) got.push(v as number);
      return false;
    },
  );
  const sends = [0, 1, 2, 3].map((i) => tx.sendAsync(i));
  await Promise.resolve();
  assertEquals(tx.trySend(9), SendStatus.Full);
  while (got.length < 4) {
    rt.runOneCycle();
    await new Promise((r) => setTimeout(r, 0));
  }
  assertEquals(await Promise.all(sends), [0, 0, 0, 0]);
  assertEquals(got, [0, 1, 2, 3]);

  const [, tx2] = new NodeBuilder(0).buildWith(
    rt.executor,
    channel({ kind: "local", capacity: 2, overflow: Overflow.DropOldest }),
    () => false,
  );
  for (let i = 0; i < 5; i++) tx2.trySend(i);
  assertEquals(tx2.dropped, 3);
});

test("bad channel options and misuse are typed errors, and nothing is half-built", () => {
  const rt = new TestRuntime();
  const before = rt.executor.nodeCount;
  // deno-lint-ignore no-explicit-any
  const bad: any[] = [
    { kind: "ring", record: Rec, capacity: 0 },
    { kind: "ring", capacity: 4 },
    { kind: "local", capacity: 4, overflow: Overflow.Block },
    { kind: "value", capacity: 4, maxItemBytes: 2 },
    { kind: "nope", capacity: 4 },
  ];
  for (const o of bad) {
    assertThrows(
      () => new NodeBuilder(0).buildWith(rt.executor, channel(o), () => false),
      Error,
      ErrorCode.InvalidArgument,
    );
  }
  assertThrows(() => defineRecord({}), Error, ErrorCode.InvalidArgument);
  // deno-lint-ignore no-explicit-any
  assertThrows(() => defineRecord({ x: "f32" as any }), Error, ErrorCode.InvalidArgument);
  assertEquals(rt.executor.nodeCount, before);
  const [, block] = new NodeBuilder(0).buildWith(
    rt.executor,
    channel({ kind: "ring", record: Rec, capacity: 2, overflow: Overflow.Block }),
    () => false,
  );
  block.trySend({});
  block.trySend({});
  assertThrows(() => block.trySend({}), ChannelError, ErrorCode.ChannelWouldDeadlock);
  const [, values] = new NodeBuilder(0).buildWith(
    rt.executor,
    channel({ kind: "value", capacity: 2, maxItemBytes: 16 }),
    () => false,
  );
  assertThrows(() => values.trySend("x".repeat(100)), ChannelError, ErrorCode.ChannelItemTooLarge);
  rt.runOneCycle();
});

test(
  "a producer Worker terminated mid-stream does not wedge the graph or the other producer",
  async () => {
    const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
    const got = [0, 0];
    const rec = { producer: 0, seq: 0, value: 0 };
    // deno-lint-ignore prefer-const
    let victim: Worker | undefined; // set below, after the graph that reads it is built
    let terminatedAt = -1;
    const [, tx] = new NodeBuilder(0).buildWith(
      rt.executor,
      channel({
        kind: "ring",
        record: Rec,
        capacity: 256,
        overflow: Overflow.Block,
        blockTimeoutMs: 5_000,
      }),
      (_self, ctx, rx) => {
        while (rx.tryRecv(rec) === RecvStatus.Item) got[rec.producer]++;
        if (terminatedAt < 0 && got[0] >= 5_000 && victim !== undefined) {
          victim.terminate(); // from inside the graph: the Worker dies mid-send
          terminatedAt = ctx.time.monotonicNs;
        }
        return false;
      },
    );
    // Ends the run once the healthy producer (1) is done, well after the kill.
    new NodeBuilder(0)
      .onInit((ex, self) => ex.yieldNow(self))
      .build(rt.executor, (_self, ctx) => {
        const now = ctx.time.monotonicNs;
        if (terminatedAt >= 0 && got[1] === 20_000 && now - terminatedAt > 50e6) {
          return Control.Terminate;
        }
        ctx.registerTimer(ctx.current, now + 5e6);
        return false;
      });
    // Producer 0 sends "forever"; producer 1 sends 20 000 and closes.
    const started = [0, 1].map((p) => {
      const w = new Worker(new URL("./fixtures/ring_producer.ts", import.meta.url).href, {
        type: "module",
      });
      w.onerror = (e) => e.preventDefault();
      w.postMessage({
        sender: tx.toTransferable(),
        producer: p,
        count: p === 0 ? 10_000_000 : 20_000,
        retryOnFull: false,
      });
      return w;
    });
    victim = started[0];
    tx.close();
    await new Promise((r) => setTimeout(r, 20));
    rt.runForever();
    started[1].terminate();
    assert(terminatedAt >= 0, "the producer was terminated");
    assert(got[0] >= 5_000, `received ${got[0]} from the terminated producer`);
    assertEquals(got[1], 20_000, "the healthy producer's records all arrived");
  },
  { timeoutMs: 60_000 },
);

for (const [bname, backend] of backends) {
  for (const runLingerNs of [200_000, 0]) {
    test(
      `run() with runLingerNs ${runLingerNs} on the ${bname} backend: 2 Workers x 100 000 records ` +
        "arrive in order while a host interval keeps firing",
      async () => {
        const P = 2, N = 100_000;
        const rt = new RealtimeRuntime({
          mode: ExecutionMode.Park,
          backend: backend(),
          runLingerNs,
        });
        const next = new Array<number>(P).fill(0);
        let outOfOrder = 0, received = 0;
        const rec = { producer: 0, seq: 0, value: 0 };
        const [, tx] = new NodeBuilder(0).buildWith(
          rt.executor,
          channel({ kind: "ring", record: Rec, capacity: 256, overflow: Overflow.Block }),
          (_self, _ctx, rx) => {
            for (let k = 0; k < 1024; k++) {
              const s = rx.tryRecv(rec);
              if (s === RecvStatus.Empty) return false;
              if (s === RecvStatus.Closed) return Control.Terminate;
              if (rec.seq !== next[rec.producer]) outOfOrder++;
              next[rec.producer] = rec.seq + 1;
              received++;
            }
            return false;
          },
        );
        // The host loop's share: an interval that counts its turns while the graph runs.
        let ticks = 0;
        const interval = setInterval(() => ticks++, 1);
        const { workers, done } = startProducers(tx, P, N, false);
        const running = rt.run();
        const results = await Promise.all(done);
        await running;
        clearInterval(interval);
        for (const w of workers) w.terminate();
        assertEquals(results.map((r) => r.sent), [N, N]);
        assertEquals([received, outOfOrder], [P * N, 0]);
        // The Workers hand over their start message and results through the host loop, so
        // the run could not have finished without it; the interval shows it kept turning.
        assert(ticks >= 1, `the host interval fired ${ticks} times`);
      },
      { timeoutMs: 60_000 },
    );
  }
}

test("runLingerNs must be a number of nanoseconds from 0 to 1e9", () => {
  for (const bad of [-1, NaN, Infinity, 2e9, "5", null]) {
    assertThrows(
      // deno-lint-ignore no-explicit-any
      () => new RealtimeRuntime({ runLingerNs: bad as any }),
      InvalidArgumentError,
      ErrorCode.InvalidArgument,
    );
  }
});
