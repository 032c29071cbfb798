// The JetStream source and sink nodes against a real nats-server -js: acknowledgement after the
// consuming cycle (and after the sinks' commits), backpressure, de-duplication by message id,
// the server going away and coming back, a deleted consumer, a bad payload, and typed refusals.
import fc from "fast-check";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  Control,
  ErrorCode,
  ExecutionMode,
  InvalidArgumentError,
  type Node,
  NodeBuilder,
  RealtimeRuntime,
  TestRuntime,
  WaveletError,
} from "../mod.ts";
import {
  ensureStream,
  type JetStreamBatch,
  JetStreamError,
  type JetStreamOutput,
  jetStreamSink,
  jetStreamSource,
  type NatsServer,
  partitionedSource,
  partitionMapping,
  partitionOf,
  startNatsServer,
} from "../nats.ts";
import { readStream } from "./_nats.ts";
import { assert, assertEquals, assertRejects, assertThrows, test } from "./_harness.ts";

const dec = new TextDecoder();

async function setup(): Promise<{ server: NatsServer; nc: NatsConnection }> {
  const server = await startNatsServer();
  const nc = await connect({
    servers: server.url,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
  await ensureStream({ connection: nc, stream: "IN", subjects: ["in.>"] });
  await ensureStream({ connection: nc, stream: "OUT", subjects: ["out.>"] });
  return { server, nc };
}

async function publishN(nc: NatsConnection, n: number, payload = (i: number) => `${i}`) {
  const js = jetstream(nc);
  const acks = [];
  for (let i = 0; i < n; i++) acks.push(js.publish(`in.${i % 10}`, payload(i), { msgID: `m${i}` }));
  await Promise.all(acks);
}

/** Polls `cond` every 10 ms for up to `ms`. */
async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function ackFloor(nc: NatsConnection, stream: string, durable: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.consumers.info(stream, durable)).ack_floor.stream_seq;
}

/** A node turning each input "i" into the output "i" on out.<i % 10>, id from the input. */
function doubler(ex: RealtimeRuntime["executor"], src: Node<JetStreamBatch<string>>) {
  return new NodeBuilder<JetStreamOutput[]>([]).triggeredBy(src).build(ex, (self) => {
    self.value = src.value.messages.map((m) => ({
      subject: `out.${Number(m.value) % 10}`,
      data: `${m.value}`,
      id: `IN:${m.seq}`,
    }));
    return Control.Broadcast;
  });
}

/** Checks that OUT holds "0" .. "n-1", each once, in order per subject. */
async function checkOut(nc: NatsConnection, n: number): Promise<void> {
  const out = await readStream(nc, "OUT");
  const seen = new Set<number>();
  const last = new Array(10).fill(-1);
  for (const m of out) {
    const v = Number(m.data);
    assert(!seen.has(v), `output ${v} twice`);
    seen.add(v);
    assert(v > last[v % 10], `output ${v} after ${last[v % 10]} on its subject`);
    last[v % 10] = v;
    assertEquals(m.subject, `out.${v % 10}`);
  }
  assertEquals(seen.size, n, "every input gave its output");
}

test(
  "the source acknowledges only after the consuming cycle completed and stops fetching while its channel is full",
  async () => {
    const { server, nc } = await setup();
    try {
      await publishN(nc, 50);
      const rt = new TestRuntime();
      const src = jetStreamSource(rt.executor, {
        connection: nc,
        stream: "IN",
        durable: "d1",
        capacity: 10,
        decode: (d) => dec.decode(d),
      });
      await src.claimed;
      await until(() => src.state().queued === 10, 5000, "a full channel");
      await new Promise((r) => setTimeout(r, 300));
      assertEquals(src.state().fetched, 10, "no fetching while the channel is full");
      assertEquals(await ackFloor(nc, "IN", "d1"), 0);
      rt.runOneCycle();
      assertEquals(src.node.value.messages.map((m) => m.value).join(), "0,1,2,3,4,5,6,7,8,9");
      assertEquals(src.state().acked, 0, "nothing acknowledged inside the cycle");
      await Promise.resolve();
      assertEquals(src.state().acked, 10, "acknowledged once the cycle completed");
      await until(async () => (await ackFloor(nc, "IN", "d1")) === 10, 5000, "the ack floor");
      await until(() => src.state().fetched === 20, 5000, "fetching again");
      assertEquals(src.state().pending, 30);
      await src.stop();
    } finally {
      await nc.close();
      await server.stop();
    }
  },
);

test(
  "with commitAfter an input is acknowledged only once its output is stored, and message ids drop repeated outputs",
  async () => {
    const { server, nc } = await setup();
    try {
      await publishN(nc, 20);
      const rt = new TestRuntime();
      const src = jetStreamSource(rt.executor, {
        connection: nc,
        stream: "IN",
        durable: "d2",
        decode: (d) => dec.decode(d),
      });
      const outputs = doubler(rt.executor, src.node);
      const sink = jetStreamSink(rt.executor, outputs, { connection: nc, outputs: (v) => v });
      src.commitAfter(sink);
      await until(() => src.state().queued === 20, 5000, "the inputs");
      rt.runOneCycle();
      await Promise.resolve();
      assertEquals(src.state().acked, 0, "not before the outputs are stored");
      // One publication in flight per subject (ten subjects), the rest queued behind them.
      assertEquals([sink.state().inFlight, sink.state().queued], [10, 10]);
      await sink.flush();
      await new Promise((r) => setTimeout(r, 0));
      assertEquals(src.state().acked, 20);
      // The same outputs again (as after a redelivery): the server drops them by id.
      rt.executor.yieldNow(outputs);
      rt.runOneCycle();
      await sink.flush();
      assertEquals(sink.state().published, 40);
      assertEquals(sink.state().duplicates, 20, "every repeated output dropped by its id");
      await checkOut(nc, 20);
      await src.stop();
    } finally {
      await nc.close();
      await server.stop();
    }
  },
);

/**
 * Runs IN -> doubler -> OUT on a realtime runtime with `run()` until OUT holds `n` outputs,
 * doing `disturb` once the source delivered `after` messages. Returns the errors reported.
 */
async function pipeline(
  server: NatsServer,
  nc: NatsConnection,
  n: number,
  after: number,
  disturb: () => Promise<void>,
): Promise<{ errors: unknown[]; claims: number }> {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const errors: unknown[] = [];
  rt.executor.onError = (e) => errors.push(e);
  const src = jetStreamSource(rt.executor, {
    connection: nc,
    stream: "IN",
    durable: "p",
    capacity: 256,
    decode: (d) => dec.decode(d),
    retryMs: 20,
    maxRetryMs: 500,
    expiresMs: 1000,
  });
  const sink = jetStreamSink(rt.executor, doubler(rt.executor, src.node), {
    connection: nc,
    outputs: (v) => v,
    timeoutMs: 1000,
    retryMs: 20,
    maxRetryMs: 500,
  });
  src.commitAfter(sink);
  const running = rt.run();
  try {
    await until(() => src.state().delivered >= after, 30_000, `${after} deliveries`);
    const at = src.state().delivered;
    assert(at < n, `disturbed after ${at} of ${n} deliveries`);
    await disturb();
    await until(
      async () => {
        try {
          const jsm = await jetstreamManager(nc);
          return (await jsm.streams.info("OUT")).state.messages >= n;
        } catch {
          return false;
        }
      },
      60_000,
      `${n} outputs`,
    );
    await sink.flush();
    await until(() => src.state().acked >= n, 10_000, "every input acknowledged");
  } finally {
    rt.shutdown();
    await running;
    await sink.flush();
    await src.stop();
  }
  void server;
  return { errors, claims: src.state().claims };
}

test(
  "the server going away and coming back is reported, retried, and loses or repeats nothing",
  async () => {
    const { server, nc } = await setup();
    try {
      await publishN(nc, 5000);
      const { errors } = await pipeline(server, nc, 5000, 1000, async () => {
        await server.halt();
        await new Promise((r) => setTimeout(r, 4000));
        await server.restart();
      });
      assert(errors.length > 0, "the outage was reported");
      for (const e of errors) {
        assert(e instanceof JetStreamError, `a JetStreamError: ${e}`);
        assert(
          [ErrorCode.NatsDisconnected, ErrorCode.NatsTimeout, ErrorCode.NatsFailed].includes(
            (e as JetStreamError).code as never,
          ),
          (e as JetStreamError).message,
        );
      }
      await checkOut(nc, 5000);
    } finally {
      await nc.close();
      await server.stop();
    }
  },
  { timeoutMs: 120_000 },
);

test(
  "a consumer deleted mid-stream is reported and created again at the acknowledged position",
  async () => {
    const { server, nc } = await setup();
    try {
      await publishN(nc, 5000);
      const { errors, claims } = await pipeline(server, nc, 5000, 1000, async () => {
        const jsm = await jetstreamManager(nc);
        await jsm.consumers.delete("IN", "p");
      });
      assert(
        errors.some((e) => e instanceof JetStreamError && e.code === ErrorCode.NatsNotFound),
        `NATS_NOT_FOUND reported: ${errors.map(String)}`,
      );
      assert(claims >= 2, `claimed again (${claims})`);
      await checkOut(nc, 5000);
    } finally {
      await nc.close();
      await server.stop();
    }
  },
  { timeoutMs: 120_000 },
);

test(
  "a payload decode refuses is reported as SOURCE_BAD_RECORD and terminated, and the rest goes on",
  async () => {
    const { server, nc } = await setup();
    try {
      await publishN(nc, 10, (i) => (i === 4 ? "not a number" : `${i}`));
      const rt = new TestRuntime();
      const errors: unknown[] = [];
      rt.executor.onError = (e) => errors.push(e);
      const src = jetStreamSource(rt.executor, {
        connection: nc,
        stream: "IN",
        durable: "bad",
        decode: (d) => {
          const v = Number(dec.decode(d));
          if (Number.isNaN(v)) throw new Error("not a number");
          return v;
        },
      });
      await until(() => src.state().queued === 10, 5000, "the messages");
      rt.runOneCycle();
      assertEquals(src.node.value.messages.map((m) => m.value), [0, 1, 2, 3, 5, 6, 7, 8, 9]);
      assertEquals(errors.length, 1);
      assertEquals((errors[0] as { code: string }).code, ErrorCode.SourceBadRecord);
      assert(/Record 5: .*could not be decoded: not a number/.test(String(errors[0])));
      await new Promise((r) => setTimeout(r, 0));
      assertEquals(src.state().bad, 1);
      assertEquals(src.state().acked, 10, "the bad one is settled (terminated) in order");
      await until(async () => (await ackFloor(nc, "IN", "bad")) === 10, 5000, "the ack floor");
      await src.stop();
    } finally {
      await nc.close();
      await server.stop();
    }
  },
);

test(
  "a partition process sees only its partitions, and the server's mapping agrees with partitionOf",
  async () => {
    const [from, to] = partitionMapping("orders", 4);
    const server = await startNatsServer({ mappings: { [from]: to } });
    const nc = await connect({ servers: server.url });
    try {
      await ensureStream({ connection: nc, stream: "ORDERS", subjects: ["orders.*.*"] });
      const js = jetstream(nc);
      for (let key = 0; key < 100; key++) await js.publish(`orders.${key}`, `${key}`);
      const rt = new TestRuntime();
      const parts = partitionedSource(rt.executor, {
        connection: nc,
        stream: "ORDERS",
        subject: "orders",
        partitions: 4,
        owned: [1, 3],
        durablePrefix: "t",
        decode: (d) => Number(dec.decode(d)),
      });
      const want = [...Array(100).keys()].filter((k) => [1, 3].includes(partitionOf(k, 4)));
      await until(
        () => parts.state().reduce((a, s) => a + s.queued, 0) === want.length,
        5000,
        "the owned partitions' messages",
      );
      rt.runOneCycle();
      const got = parts.nodes.flatMap((n) => n.value.messages);
      for (const m of got) {
        assertEquals(m.subject, `orders.${partitionOf(m.value, 4)}.${m.value}`);
      }
      assertEquals(got.map((m) => m.value).sort((a, b) => a - b), want);
      assertEquals(parts.state().map((s) => s.partition), [1, 3]);
      await parts.stop();
    } finally {
      await nc.close();
      await server.stop();
    }
  },
);

test("bad source, sink and partition options are refused with typed errors before anything is built", () => {
  const rt = new TestRuntime();
  const before = rt.executor.nodeCount;
  const nc = {
    publish() {},
    request() {},
    isClosed: () => false,
    flush: () => Promise.resolve(),
  } as unknown as NatsConnection;
  assertThrows(
    () => jetStreamSource(rt.executor, { connection: {} as never, stream: "S", durable: "d" }),
    InvalidArgumentError,
  );
  assertThrows(
    () => jetStreamSource(rt.executor, { connection: nc, stream: "a.b", durable: "d" }),
    InvalidArgumentError,
  );
  assertThrows(() => partitionOf(1.5, 4), InvalidArgumentError);
  assertThrows(() => partitionMapping("orders.*", 4), InvalidArgumentError);
  const bad = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.double(),
    fc.integer({ min: -5, max: 1 << 21 }),
    fc.string(),
  );
  fc.assert(
    fc.property(
      fc.record({
        capacity: bad,
        maxAckPending: bad,
        maxBatch: bad,
        expiresMs: bad,
        ackWaitMs: bad,
        retryMs: bad,
        deliver: bad,
        decode: bad,
      }, { requiredKeys: [] }),
      (o) => {
        const int = (v: unknown, min: number, max: number) =>
          v === undefined || (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max);
        const ok = int(o.capacity, 1, 1 << 20) && int(o.maxAckPending, 1, 1 << 20) &&
          int(o.maxBatch, 1, 1 << 20) && int(o.expiresMs, 1000, 3.6e6) &&
          int(o.ackWaitMs, 1000, 3.6e6) && int(o.retryMs, 1, 5000) && o.deliver === undefined &&
          o.decode === undefined;
        if (ok) return;
        assertThrows(
          () =>
            jetStreamSource(
              rt.executor,
              { connection: nc, stream: "S", durable: "d", ...o } as never,
            ),
          InvalidArgumentError,
        );
        assertEquals(rt.executor.nodeCount, before, "nothing was built");
      },
    ),
    { numRuns: 300 },
  );
  const parent = new NodeBuilder(0).build(rt.executor, () => false);
  fc.assert(
    fc.property(
      fc.record({ maxPending: bad, timeoutMs: bad, retryMs: bad, outputs: bad }, {
        requiredKeys: [],
      }),
      (o) => {
        const n = rt.executor.nodeCount;
        assertThrows(
          () => jetStreamSink(rt.executor, parent, { connection: nc, ...o } as never),
          InvalidArgumentError,
        );
        assertEquals(rt.executor.nodeCount, n, "nothing was built");
      },
    ),
    { numRuns: 200 },
  );
});

test("a missing nats-server binary is refused with UNSUPPORTED and says how to install it", async () => {
  const e = await assertRejects(
    () => startNatsServer({ binary: "/nonexistent/nats-server" }),
    WaveletError,
  );
  assertEquals(e.code, ErrorCode.Unsupported);
  assert(/apt-get install nats-server/.test(e.message), e.message);
  await assertRejects(() => startNatsServer({ port: 0 }), InvalidArgumentError);
  await assertRejects(
    () => startNatsServer({ mappings: { 'a"': "b" } }),
    InvalidArgumentError,
  );
});
