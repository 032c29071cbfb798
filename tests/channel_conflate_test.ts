/**
 * Issue 12, item 2: conflating channels. The latest record per key wins, producers never wait,
 * the node sees each updated key's newest record once per run; bad input changes nothing; dead
 * producers are noticed; a recorded run replays.
 */

import fc from "fast-check";
import {
  channel,
  ChannelError,
  conflatingChannel,
  type ConflatingReceiver,
  ConflatingSender,
  type ConflatingSenderTransferable,
  defineRecord,
  RecordError,
  RecvStatus,
  SendStatus,
} from "../channel.ts";
import {
  CapacityError,
  Control,
  ErrorCode,
  ExecutionMode,
  type Executor,
  HistoricalRuntime,
  InvalidArgumentError,
  ms,
  NodeBuilder,
  RealtimeRuntime,
  TestRuntime,
  WaveletError,
} from "../mod.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import { badValue } from "./_fuzz.ts";

const Px = defineRecord({ px: "f64", size: "u32" });
const Tick = defineRecord({ producer: "i32", seq: "i32", a: "f64", b: "f64" });

/** A TestRuntime node over a conflating channel; each run calls `take(rx)`. */
function node(keys: number, producers = 8) {
  const rt = new TestRuntime();
  let take: (rx: ConflatingReceiver<typeof Px.fields>) => void = () => {};
  const runs: number[] = [];
  const [n, tx] = new NodeBuilder(0).buildWith(
    rt.executor,
    conflatingChannel(Px, { keys, producers, livenessCheckMs: 0 }),
    (self, _ctx, rx) => {
      runs.push(rt.executor.epoch);
      take(rx);
      self.value++;
      return false;
    },
  );
  return {
    rt,
    tx,
    node: n,
    runs,
    /**
     * Runs one cycle with `f` as the node's body (`force`: the node runs even if nothing woke
     * it); returns what it read as "key=px".
     */
    cycle(
      f: (rx: ConflatingReceiver<typeof Px.fields>) => string[] = drainNext,
      force = false,
    ): string[] {
      let got: string[] = [];
      take = (rx) => (got = f(rx));
      if (force) rt.executor.yieldNow(n);
      rt.runOneCycle();
      take = () => {};
      return got;
    },
  };
}

function drainNext(rx: ConflatingReceiver<typeof Px.fields>): string[] {
  const out: string[] = [];
  while (rx.next()) out.push(`${rx.key}=${rx.record.px}`);
  return out;
}

function drainTryRecv(rx: ConflatingReceiver<typeof Px.fields>): string[] {
  const out: string[] = [];
  const r = { px: 0, size: 0 };
  while (rx.tryRecv(r) === RecvStatus.Item) out.push(`${rx.key}=${r.px}`);
  return out;
}

test("the latest record per key wins; each updated key once per run, in key order", () => {
  const c = node(100);
  for (let i = 1; i <= 50; i++) c.tx.trySend({ px: i }, 70);
  c.tx.trySend({ px: 3 }, 99);
  c.tx.trySend({ px: 4 }, 0);
  c.tx.trySend({ px: 5 }, 0);
  assertEquals(c.cycle(), ["0=5", "70=50", "99=3"]);
  assertEquals(c.cycle(), [], "nothing new: no run at all");
  assertEquals(c.runs.length, 1);
  c.tx.trySend({ px: 6, size: 7 }, 99);
  const sizes: number[] = [];
  assertEquals(
    c.cycle((rx) => {
      const r = drainTryRecv(rx);
      const out = { px: 0, size: 0 };
      assert(rx.latest(99, out));
      sizes.push(out.size);
      assert(!rx.latest(5, out), "key 5 was never published");
      return r;
    }),
    ["99=6"],
  );
  assertEquals(sizes, [7]);
});

test("a key updated while the node runs comes back in the next cycle, not the same run", () => {
  const c = node(4);
  c.tx.trySend({ px: 1 }, 2);
  const seen: string[][] = [];
  for (let round = 0; round < 3; round++) {
    seen.push(c.cycle((rx) => {
      const got = drainNext(rx);
      if (round < 2) c.tx.trySend({ px: 10 + round }, 2); // an update during the run
      return [...got, ...drainNext(rx)]; // not handed out again in this run
    }));
  }
  assertEquals(seen, [["2=1"], ["2=10"], ["2=11"]]);
});

test("model: random sends from several senders, runs and latest() match a latest-per-key map", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 70 }),
      fc.array(
        fc.oneof(
          fc.record({
            op: fc.constant("send" as const),
            who: fc.integer({ min: 0, max: 2 }),
            key: fc.nat(),
            px: fc.double({ noNaN: true }),
          }),
          fc.record({ op: fc.constantFrom("next" as const, "tryRecv" as const) }),
          fc.record({ op: fc.constant("latest" as const), key: fc.nat() }),
        ),
        { maxLength: 80 },
      ),
      (keys, ops) => {
        const c = node(keys, 3);
        const senders = [
          c.tx,
          ConflatingSender.fromTransferable<typeof Px.fields>(c.tx.toTransferable()),
          ConflatingSender.fromTransferable<typeof Px.fields>(c.tx.toTransferable()),
        ];
        const latest = new Map<number, number>();
        const updated = new Set<number>();
        const norm = (v: number) => Object.is(v, -0) ? 0 : v;
        for (const o of ops) {
          if (o.op === "send") {
            const key = o.key % keys;
            assertEquals(senders[o.who].trySend({ px: o.px }, key), SendStatus.Sent);
            latest.set(key, o.px);
            updated.add(key);
          } else if (o.op === "latest") {
            const key = o.key % keys;
            const out = { px: 0, size: 0 };
            let ok = false;
            c.cycle((rx) => {
              ok = rx.latest(key, out);
              return [];
            }, true);
            assertEquals(ok, latest.has(key));
            if (ok) assertEquals(norm(out.px), norm(latest.get(key)!));
            updated.delete(key);
            // The run above also left the other updates for the next run.
          } else {
            const got = c.cycle(o.op === "next" ? drainNext : drainTryRecv);
            const want = [...updated].sort((a, b) => a - b).map((k) => `${k}=${latest.get(k)}`);
            assertEquals(
              got.map((s) => s.replace("=-0", "=0")),
              want.map((s) => s.replace("=-0", "=0")),
            );
            updated.clear();
          }
        }
        for (const s of senders) s.close();
      },
    ),
    { numRuns: 300 },
  );
});

test("closing: every sender closed and every update read is Closed; sends after are refused", () => {
  const c = node(3);
  const other = ConflatingSender.fromTransferable<typeof Px.fields>(c.tx.toTransferable());
  other.trySend({ px: 1 }, 1);
  c.tx.close();
  other.close();
  const statuses: RecvStatus[] = [];
  let closed = false;
  c.cycle((rx) => {
    const out = { px: 0, size: 0 };
    for (let s = rx.tryRecv(out);; s = rx.tryRecv(out)) {
      statuses.push(s);
      if (s !== RecvStatus.Item) break;
    }
    closed = rx.isClosed;
    return [];
  });
  assertEquals(statuses, [RecvStatus.Item, RecvStatus.Closed]);
  assert(closed);
  assertThrows(() => other.trySend({ px: 2 }, 0), ChannelError, ErrorCode.ChannelClosed);
  assertThrows(() => other.toTransferable(), ChannelError);
  // A removed node: open senders see Closed.
  const d = node(2);
  d.node.remove();
  assertEquals(d.tx.trySend({ px: 1 }, 0), SendStatus.Closed);
  assert(d.tx.isClosed);
});

test("bad keys, bad records and bad options are typed errors, and nothing is published", () => {
  const c = node(10);
  c.tx.trySend({ px: 1 }, 3);
  fc.assert(
    fc.property(fc.oneof(badValue, fc.integer({ min: -5, max: 20 })), (key) => {
      try {
        c.tx.trySend({ px: 99 }, key as number);
        // undefined is the default key, 0.
        assert(
          key === undefined ||
            (typeof key === "number" && Number.isInteger(key) && key >= 0 && key < 10),
          `${String(key)}`,
        );
        c.tx.trySend({ px: 1 }, key as number); // back to the value the others hold
      } catch (e) {
        assert(e instanceof InvalidArgumentError, `got ${e}`);
      }
    }),
    { numRuns: 200 },
  );
  for (const bad of [null, 5, { px: "1" }, { px: 1, size: -1 }, { px: 1, size: 1.5 }]) {
    assertThrows(() => c.tx.trySend(bad as never, 3), RecordError, ErrorCode.InvalidRecord);
  }
  const got = c.cycle();
  assert(got.every((s) => s.endsWith("=1")), `no bad or refused record got through: ${got}`);
  assert(got.includes("3=1"));

  const rt = new TestRuntime();
  const bads: unknown[] = [
    { kind: "conflate", record: Px, keys: 0 },
    { kind: "conflate", record: Px, keys: 2 ** 20 + 1 },
    { kind: "conflate", record: Px, keys: 1.5 },
    { kind: "conflate", record: Px, capacity: 8 },
    { kind: "conflate", record: Px, overflow: "block" },
    { kind: "conflate" },
    { kind: "conflate", record: { fields: { x: "f32" } } },
    { kind: "ring", record: Px, capacity: 8, keys: 4 },
    { kind: "conflate", record: Px, producers: 1024, keys: 2 ** 20 },
  ];
  const before = rt.executor.nodeCount;
  for (const o of bads) {
    assertThrows(
      () => new NodeBuilder(0).buildWith(rt.executor, channel(o as never), () => false),
      WaveletError,
      ErrorCode.InvalidArgument,
    );
  }
  assertEquals(rt.executor.nodeCount, before, "nothing half-built");
  assertThrows(() => conflatingChannel(Px, { keys: -1 }), InvalidArgumentError);
});

test("a forged sender description is refused; a real one works across structured clone", () => {
  const c = node(4);
  const t = c.tx.toTransferable();
  fc.assert(
    fc.property(
      fc.record({
        kind: fc.oneof(fc.constant(t.kind), badValue),
        sab: fc.oneof(
          fc.constant(t.sab),
          fc.constant(new SharedArrayBuffer(64)),
          fc.constant(new SharedArrayBuffer(t.sab.byteLength)),
          badValue,
        ),
        fields: fc.oneof(fc.constant(t.fields), fc.constant({ px: "f64" }), badValue),
        notifier: fc.oneof(fc.constant(t.notifier), badValue),
      }),
      (forged) => {
        try {
          const s = ConflatingSender.fromTransferable(forged as ConflatingSenderTransferable);
          assert(forged.sab === t.sab && forged.kind === t.kind);
          s.close();
        } catch (e) {
          assert(e instanceof WaveletError, `got ${e}`);
        }
      },
    ),
    { numRuns: 200 },
  );
  const remote = ConflatingSender.fromTransferable<typeof Px.fields>(structuredClone(t));
  remote.trySend({ px: 42 }, 3);
  assertEquals(c.cycle(), ["3=42"]);
});

test("more senders than producer slots is a CapacityError; a closed sender's slot is reused", () => {
  const c = node(2, 2);
  const a = ConflatingSender.fromTransferable<typeof Px.fields>(c.tx.toTransferable());
  a.trySend({ px: 1 }, 0);
  c.tx.trySend({ px: 2 }, 1);
  const b = ConflatingSender.fromTransferable<typeof Px.fields>(c.tx.toTransferable());
  assertThrows(() => b.trySend({ px: 3 }, 0), CapacityError, ErrorCode.CapacityExceeded);
  a.close();
  assertEquals(c.cycle(), ["0=1", "1=2"], "a's last record is still the latest of key 0");
  assertEquals(b.trySend({ px: 4 }, 0), SendStatus.Sent);
  assertEquals(c.cycle(), ["0=4"]);
});

/** Starts a conflate_producer Worker; resolves with its report. */
function producer(
  t: ConflatingSenderTransferable,
  start: Record<string, unknown>,
): { w: Worker; done: Promise<{ sent: number }> } {
  const w = new Worker(new URL("./fixtures/conflate_producer.ts", import.meta.url).href, {
    type: "module",
  });
  const done = new Promise<{ sent: number }>((resolve, reject) => {
    w.onmessage = (e) => resolve(e.data);
    w.onerror = (e) => {
      e.preventDefault();
      if (start.end === "throw") return;
      reject(new Error(`worker failed: ${e.message}`));
    };
  });
  w.postMessage({ sender: t, ...start });
  return { w, done };
}

test("4 Workers publish 20 000 rounds without waiting for the graph; the node then sees every key's last record", async () => {
  const P = 4, OWN = 8, N = 20_000, SHARED = P * OWN;
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const last = new Int32Array(SHARED + 1).fill(-1);
  let regress = 0, torn = 0, closed = false;
  const [, tx] = new NodeBuilder(0).buildWith(
    rt.executor,
    channel({ kind: "conflate", record: Tick, keys: SHARED + 1, producers: P }),
    (_self, _ctx, rx) => {
      const r = rx.record;
      while (rx.next()) {
        if (r.a !== r.b || r.a !== r.seq * 1.5 + r.producer) torn++;
        if (rx.key < SHARED && r.seq < last[rx.key]) regress++;
        last[rx.key] = r.seq;
      }
      if (rx.isClosed) {
        closed = true;
        return Control.Terminate;
      }
      return false;
    },
  );
  const ws = Array.from({ length: P }, (_, p) =>
    producer(tx.toTransferable(), {
      producer: p,
      keys: [...Array.from({ length: OWN }, (_, j) => p * OWN + j), SHARED],
      updates: N,
    }));
  tx.close();
  // The graph does not run while they publish: a producer that waited would never finish.
  const reports = await Promise.all(ws.map((x) => x.done));
  for (const r of reports) assertEquals(r.sent, N * (OWN + 1));
  rt.runForever();
  for (const x of ws) x.w.terminate();
  assert(closed, "Closed once every Worker closed and everything was read");
  assertEquals(torn, 0, "no torn record");
  assertEquals(regress, 0, "a key never goes back to an older record of its producer");
  for (let k = 0; k <= SHARED; k++) assertEquals(last[k], N - 1, `key ${k}`);
});

test("a reader never sees a torn record while a Worker overwrites the same keys as fast as it can", async () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Spin });
  const stop = new Int32Array(new SharedArrayBuffer(4));
  let reads = 0, torn = 0, lastSeq = -1, regress = 0;
  const [, tx] = new NodeBuilder(0).buildWith(
    rt.executor,
    conflatingChannel(Tick, { keys: 2 }),
    (_self, _ctx, rx) => {
      const out = { producer: 0, seq: 0, a: 0, b: 0 };
      while (rx.tryRecv(out) === RecvStatus.Item) {
        reads++;
        if (out.a !== out.b || out.a !== out.seq * 1.5) torn++;
        if (rx.key === 0) {
          if (out.seq <= lastSeq) regress++;
          lastSeq = out.seq;
        }
      }
      if (reads >= 20_000) Atomics.store(stop, 0, 1);
      return rx.isClosed ? Control.Terminate : false;
    },
  );
  const x = producer(tx.toTransferable(), {
    producer: 0,
    keys: [0, 1],
    updates: 0,
    until: stop.buffer,
  });
  tx.close();
  await new Promise((r) => setTimeout(r, 20));
  rt.runForever();
  await x.done;
  x.w.terminate();
  assert(reads >= 20_000, `reads ${reads}`);
  assertEquals(torn, 0);
  assertEquals(regress, 0, "each read of key 0 is newer than the one before");
});

for (const end of ["hang", "throw", "exit"] as const) {
  test(
    `a Worker that dies holding a conflating sender (${end}) is noticed: its last records stay, then Closed`,
    async () => {
      const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
      const last = new Int32Array(3).fill(-1);
      let closed = false;
      const [, tx] = new NodeBuilder(0).buildWith(
        rt.executor,
        conflatingChannel(Tick, { keys: 3, livenessCheckMs: 20 }),
        (_self, _ctx, rx) => {
          while (rx.next()) last[rx.key] = rx.record.seq;
          if (rx.isClosed) {
            closed = true;
            return Control.Terminate;
          }
          return false;
        },
      );
      const x = producer(tx.toTransferable(), { producer: 0, keys: [0, 2], updates: 500, end });
      tx.close();
      let done = false;
      x.done.then(() => (done = true), () => (done = true));
      while (!done) {
        rt.runOneCycle(1e6);
        await new Promise((r) => setTimeout(r, 0));
      }
      if (end === "hang") x.w.terminate();
      const t0 = performance.now();
      while (!closed && performance.now() - t0 < 20_000) {
        rt.runOneCycle(5e6);
        await new Promise((r) => setTimeout(r, 0));
      }
      x.w.terminate();
      rt.shutdown();
      assert(closed, "Closed once the producer's thread was gone");
      assertEquals(Array.from(last), [499, -1, 499]);
    },
    { timeoutMs: 60_000 },
  );
}

test("a recorded run with a conflating channel replays the same reads", () => {
  function build(ex: Executor, log: string[]) {
    const [, tx] = new NodeBuilder(0).named("quotes").buildWith(
      ex,
      conflatingChannel(Px, { keys: 8 }),
      (_self, _ctx, rx) => {
        const out = { px: 0, size: 0 };
        while (rx.next()) log.push(`next ${rx.key}=${rx.record.px}`);
        if (rx.latest(6, out)) log.push(`latest 6=${out.px}`);
        log.push(`length ${rx.length} closed ${rx.isClosed}`);
        if (rx.tryRecv(out) !== RecvStatus.Item) log.push("empty");
        return true;
      },
    );
    return tx;
  }
  const live: string[] = [];
  const rt = new RealtimeRuntime();
  const tx = build(rt.executor, live);
  rt.startRecording();
  tx.trySend({ px: 1 }, 6);
  tx.trySend({ px: 2 }, 6);
  tx.trySend({ px: 3 }, 1);
  rt.runOneCycle(ms(10));
  tx.trySend({ px: 4 }, 7);
  tx.close();
  rt.runOneCycle(ms(10));
  rt.runOneCycle(ms(10));
  const log = rt.recordedBytes()!;
  rt.shutdown();
  assert(live.includes("next 7=4") && live.includes("next 1=3"), live.join("; "));
  const replayed: string[] = [];
  const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  build(h.executor, replayed);
  h.replayLog(log);
  assertEquals(replayed, live);
});
