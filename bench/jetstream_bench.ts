/**
 * JetStream benchmark on loopback: the same pipeline (consume an input stream, transform each
 * message, publish the result to an output stream with a message id from the input, and
 * acknowledge the input only once its result is stored) through wavelet's JetStream source and
 * sink nodes on a `RealtimeRuntime` with `run()`, and through a plain JetStream consumer loop
 * without the runtime.
 *
 * Run with `deno run -A bench/jetstream_bench.ts` or `bun run bench/jetstream_bench.ts`; needs
 * `nats-server` on the PATH (a server is started on a free port with its store in a temporary
 * folder). `WAVELET_JS_RECORDS` (default 50 000) messages for throughput; latency is measured
 * at `WAVELET_JS_RATE` (default 1000) messages per second for `WAVELET_JS_SECONDS` (default 5).
 *
 * What is measured:
 * - throughput: N messages already stored in the input stream, from the pipeline's start to
 *   the last result stored (read by a core subscription on the results' subjects);
 * - end-to-end latency: the producer publishes paced messages stamped with its clock
 *   (`performance.now()`, same process); latency is the time from just before the producer's
 *   publish to the result's arrival at a core subscription, after 10% warm-up.
 * Both contenders: 100 keys, results on `out.<key>`, input acknowledged after its result's
 * publish acknowledgement, at most 256 results awaiting theirs. wavelet's sink keeps one
 * publication in flight per subject (order per key across failures); the plain loop pipelines
 * freely (in order only while nothing fails). Prints a Markdown table and a `JS_JSON` line.
 *
 * @module
 */

import process from "node:process";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager, type PubAck } from "@nats-io/jetstream";
import { Control, ExecutionMode, NodeBuilder, RealtimeRuntime } from "../mod.ts";
import {
  ensureStream,
  type JetStreamOutput,
  jetStreamSink,
  jetStreamSource,
  startNatsServer,
} from "../nats.ts";

const N = Number(process.env.WAVELET_JS_RECORDS ?? 50_000);
const RATE = Number(process.env.WAVELET_JS_RATE ?? 1000);
const SECONDS = Number(process.env.WAVELET_JS_SECONDS ?? 5);
const KEYS = 100;
const dec = new TextDecoder();

/** A running pipeline: stop() ends it. */
interface Pipeline {
  stop(): Promise<void>;
}

/** wavelet: source -> transform -> sink, committing after the sink. */
function wavelet(nc: NatsConnection, stream: string, out: string): Pipeline {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const src = jetStreamSource(rt.executor, {
    connection: nc,
    stream,
    durable: "bench",
    decode: (d) => dec.decode(d),
  });
  const results = new NodeBuilder<JetStreamOutput[]>([]).triggeredBy(src.node).build(
    rt.executor,
    (self) => {
      self.value = src.node.value.messages.map((m) => {
        const [key, stamp] = m.value.split(",");
        return { subject: `${out}.${key}`, data: `${key},${stamp}`, id: `${stream}:${m.seq}` };
      });
      return Control.Broadcast;
    },
  );
  const sink = jetStreamSink(rt.executor, results, { connection: nc, outputs: (v) => v });
  src.commitAfter(sink);
  const running = rt.run();
  return {
    async stop() {
      rt.shutdown();
      await running;
      await sink.flush();
      await src.stop();
    },
  };
}

/** The plain loop: fetch, publish each result with its id, acknowledge on its PubAck. */
function plain(nc: NatsConnection, stream: string, out: string): Pipeline {
  const js = jetstream(nc);
  let stopping = false;
  const loop = (async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(stream, { durable_name: "bench", ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get(stream, "bench");
    let inFlight = 0;
    let room: (() => void) | null = null;
    while (!stopping) {
      const it = await c.fetch({ max_messages: 256, expires: 1000 });
      for await (const m of it) {
        while (inFlight >= 256) await new Promise<void>((r) => room = r);
        const [key, stamp] = dec.decode(m.data).split(",");
        inFlight++;
        js.publish(`${out}.${key}`, `${key},${stamp}`, { msgID: `${stream}:${m.seq}` }).then(
          () => m.ack(),
          () => m.nak(),
        ).finally(() => {
          inFlight--;
          const r = room;
          room = null;
          r?.();
        });
      }
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
    },
  };
}

/** Publishes `n` messages "key,stamp" to `<subject>.<key>` (paced at `rate`/s when given). */
async function produce(nc: NatsConnection, subject: string, n: number, rate = 0) {
  const js = jetstream(nc);
  const t0 = performance.now();
  const all: Promise<PubAck>[] = [];
  let window: Promise<PubAck>[] = [];
  for (let i = 0; i < n; i++) {
    if (rate > 0) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    }
    const p = js.publish(`${subject}.${i % KEYS}`, `${i % KEYS},${performance.now()}`);
    if (rate > 0) all.push(p);
    else {
      window.push(p);
      if (window.length === 1000) {
        await Promise.all(window);
        window = [];
      }
    }
  }
  await Promise.all([...all, ...window]);
}

/** Collects results from a core subscription: count and latencies. */
function collect(nc: NatsConnection, subject: string, expect: number) {
  const lat: number[] = [];
  let n = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => resolve = r);
  const sub = nc.subscribe(`${subject}.>`);
  (async () => {
    for await (const m of sub) {
      lat.push(performance.now() - Number(dec.decode(m.data).split(",")[1]));
      if (++n === expect) resolve();
    }
  })();
  return { lat, done, close: () => sub.unsubscribe(), count: () => n };
}

const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
const server = await startNatsServer();
const nc = await connect({ servers: server.url });
const rows: Record<string, number | string>[] = [];
try {
  let round = 0;
  for (const [name, make] of [["wavelet", wavelet], ["plain consumer", plain]] as const) {
    // Throughput: N stored messages, then the pipeline.
    const sIn = `IN${round}`, sOut = `OUT${round}`, subjIn = `in${round}`, subjOut = `out${round}`;
    round++;
    await ensureStream({ connection: nc, stream: sIn, subjects: [`${subjIn}.>`], storage: "file" });
    await ensureStream({ connection: nc, stream: sOut, subjects: [`${subjOut}.>`] });
    await produce(nc, subjIn, N);
    const got = collect(nc, subjOut, N);
    const t0 = performance.now();
    const p = make(nc, sIn, subjOut);
    await got.done;
    const rate = N / ((performance.now() - t0) / 1000);
    await p.stop();
    got.close();
    // Latency: paced messages through a fresh pipeline.
    const lIn = `LIN${round}`, lOut = `LOUT${round}`, lsIn = `lin${round}`, lsOut = `lout${round}`;
    await ensureStream({ connection: nc, stream: lIn, subjects: [`${lsIn}.>`] });
    await ensureStream({ connection: nc, stream: lOut, subjects: [`${lsOut}.>`] });
    const total = RATE * SECONDS;
    const lat = collect(nc, lsOut, total);
    const lp = make(nc, lIn, lsOut);
    await new Promise((r) => setTimeout(r, 500));
    await produce(nc, lsIn, total, RATE);
    await lat.done;
    await lp.stop();
    lat.close();
    const xs = lat.lat.slice(Math.floor(total / 10)).sort((a, b) => a - b);
    rows.push({
      runtime,
      contender: name,
      throughput: Math.round(rate),
      p50: q(xs, 0.5),
      p99: q(xs, 0.99),
      max: xs[xs.length - 1],
    });
    console.error(`${runtime} ${name}: ${Math.round(rate)}/s, p50 ${q(xs, 0.5).toFixed(2)} ms`);
  }
} finally {
  await nc.close();
  await server.stop();
}
console.log(
  `| runtime | contender | throughput (msg/s) | latency p50 (ms) | p99 (ms) | max (ms) |`,
);
console.log(`|---|---|--:|--:|--:|--:|`);
for (const r of rows) {
  const f = (x: unknown) => (x as number).toFixed(2);
  console.log(
    `| ${r.runtime} | ${r.contender} | ${r.throughput} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.max)} |`,
  );
}
console.log(
  `JS_JSON ${JSON.stringify({ runtime, records: N, rate: RATE, seconds: SECONDS, rows })}`,
);
