// Per-hop latency ("data age"): exact ages on a manual clock through local channels, children,
// scheduleNode and two channels of different ages; records sent while stamps were off carry
// none; a Worker producing into a ring channel (structure, not timing: one age per run that
// consumed records, a child never younger than its parent, nothing garbage); stamps go off when
// the metrics stop (the channel's stamp word reads 0); promtool accepts the text; bad dataAge
// options give typed errors before anything is attached.
import fc from "fast-check";
import { ExecutionMode } from "../src/core/control.ts";
import { NodeBuilder } from "../src/core/builder.ts";
import type { Node } from "../src/core/node.ts";
import { runtimePort } from "../src/core/executor.ts";
import { InvalidArgumentError } from "../src/core/errors.ts";
import { TestRuntime } from "../src/runtime/test_runtime.ts";
import { RealtimeRuntime } from "../src/runtime/realtime.ts";
import { Metrics } from "../src/metrics/metrics.ts";
import { serveMetrics } from "../src/metrics/server.ts";
import { BUCKET_BOUNDS_NS } from "../src/metrics/buckets.ts";
import {
  channel,
  conflatingChannel,
  defineRecord,
  localChannel,
  type RingSender,
} from "../channel.ts";
import { historicalSource } from "../replay.ts";
import { HistoricalRuntime } from "../src/runtime/historical.ts";
import { H_STAMP, type Rings } from "../src/channel/rings.ts";
import type { LocalReceiver, LocalSender } from "../src/channel/local.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import { arg, fuzzCall, pick } from "./_fuzz.ts";
import { promtoolCheck } from "./_promtool.ts";

/** A manual clock for the data-age option. */
function manual() {
  const c = { t: 0, monotonicNs: () => c.t };
  return c;
}

/** A node that takes every item of its local channel into `value` and broadcasts if any. */
function drain(rt: TestRuntime, name: string): [Node<number>, LocalSender<number>] {
  return new NodeBuilder(0).named(name).buildWith(
    rt.executor,
    localChannel<number>({ capacity: 16 }),
    take,
  );
}
function take(self: Node<number>, _ctx: unknown, rx: LocalReceiver<number>): boolean {
  let any = false;
  for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) {
    self.value = v;
    any = true;
  }
  return any;
}

function count(m: Metrics, node: Node<unknown>) {
  return m.dataAge!.snapshot(node)!;
}

test("data age is exact on a manual clock: source, child, grandchild, scheduleNode", () => {
  const rt = new TestRuntime();
  const clock = manual();
  const m = new Metrics(rt.executor, { dataAge: { clock }, notifyLatency: false });
  const [src, tx] = drain(rt, "src");
  const child = new NodeBuilder(0).named("child").triggeredBy(src)
    .build(rt.executor, () => true);
  const grand = new NodeBuilder(0).named("grand").triggeredBy(child).build(
    rt.executor,
    () => false,
  );
  // Deeper than kicker (which schedules it), through a parent that never broadcasts.
  const late = new NodeBuilder(0).named("late").triggeredBy(grand).build(rt.executor, () => false);
  const kicker = new NodeBuilder(0).named("kicker").triggeredBy(src)
    .build(rt.executor, (_s, ctx) => {
      ctx.scheduleNode(late);
      return false;
    });
  clock.t = 100;
  tx.trySend(1);
  clock.t = 250;
  rt.runOneCycle();
  for (const n of [src, child, grand, kicker, late]) {
    const s = count(m, n);
    assertEquals(s.count, 1, `${n.name} ran once on the record`);
    assertEquals(s.sumNs, 150, `${n.name}: 250 - 100`);
  }
  // Two records: the oldest counts. The next cycle's runs inherit nothing from this one.
  clock.t = 300;
  tx.trySend(2);
  clock.t = 320;
  tx.trySend(3);
  clock.t = 400;
  rt.runOneCycle();
  assertEquals(count(m, src).sumNs, 150 + 100);
  assertEquals(count(m, grand).sumNs, 150 + 100);
  // A run without records or a stamped parent records nothing (here: a yield).
  rt.executor.yieldNow(late);
  rt.runOneCycle();
  assertEquals(count(m, late).count, 2, "the yield-driven run added nothing");
  const text = m.text();
  assert(text.includes('wavelet_node_data_age_seconds_count{node="grand"} 2'), text);
  m.stop();
});

test("a child inherits the oldest stamp of the parents that broadcast; unstamped records add nothing", () => {
  const rt = new TestRuntime();
  const clock = manual();
  const [a, txA] = drain(rt, "a");
  const [b, txB] = drain(rt, "b");
  const both = new NodeBuilder(0).named("both").triggeredBy(a).triggeredBy(b)
    .build(rt.executor, () => false);
  txA.trySend(0); // sent before any metrics: no stamp
  rt.runOneCycle();
  const m = new Metrics(rt.executor, { dataAge: { clock } });
  txA.trySend(0); // queued... and taken below with a stamp
  rt.runOneCycle();
  assertEquals(count(m, a).count, 1, "stamped once metrics were on");
  clock.t = 1_000;
  txB.trySend(1);
  clock.t = 1_200;
  txA.trySend(2);
  clock.t = 2_000;
  rt.runOneCycle();
  assertEquals(count(m, b).sumNs, 1_000);
  assertEquals(count(m, a).sumNs, 0 + 800);
  assertEquals(count(m, both).count, 2);
  assertEquals(count(m, both).sumNs, 0 + 1_000, "b's record is the older");
  m.stop();
  // Off: what is sent now carries no stamp, and nothing is recorded.
  txA.trySend(3);
  rt.runOneCycle();
  assertEquals(count(m, a).count, 2);
  const hub = runtimePort(rt.executor).ingest;
  assert(!hub.on, "the hub is off");
  assertEquals(hub.members, 2, "both channels are registered");
  a.remove();
  rt.runOneCycle();
  assertEquals(hub.members, 1, "a removed channel leaves the hub");
});

test("local channels read the clock once per group of sends between two takes", () => {
  const rt = new TestRuntime();
  const clock = manual();
  const m = new Metrics(rt.executor, { dataAge: { clock } });
  const [one, tx] = new NodeBuilder(0).named("one").buildWith(
    rt.executor,
    localChannel<number>({ capacity: 16 }),
    (self, _ctx, rx) => {
      const v = rx.tryRecv(); // one item per run: the rest waits for the next cycle
      if (v !== undefined) self.value = v;
      return v !== undefined;
    },
  );
  clock.t = 100;
  tx.trySend(1);
  clock.t = 150;
  tx.trySend(2); // no take since the first send: it shares the reading of 100
  clock.t = 200;
  rt.runOneCycle();
  assertEquals(count(m, one).sumNs, 100, "the first item: exact");
  clock.t = 300;
  rt.runOneCycle(); // the yield brings it back for the second item
  assertEquals(one.value, 2);
  assertEquals(count(m, one).sumNs, 100 + 200, "the second: an upper bound (sent at 150)");
  clock.t = 310;
  tx.trySend(3); // the first send after a take reads the clock again
  clock.t = 400;
  rt.runOneCycle();
  assertEquals(count(m, one).sumNs, 100 + 200 + 90);
  m.stop();
});

test("two registries with data age on one executor both measure; stamps stay on until both stop", () => {
  const rt = new TestRuntime();
  const clock = manual();
  const m1 = new Metrics(rt.executor, { dataAge: { clock } });
  const m2 = new Metrics(rt.executor, { dataAge: { clock } });
  const [src, tx] = drain(rt, "src");
  const child = new NodeBuilder(0).named("child").triggeredBy(src).build(rt.executor, () => true);
  clock.t = 10;
  tx.trySend(1);
  clock.t = 70;
  rt.runOneCycle();
  for (const m of [m1, m2]) {
    assertEquals(count(m, src).sumNs, 60);
    assertEquals(count(m, child).sumNs, 60);
  }
  const hub = runtimePort(rt.executor).ingest;
  m1.stop();
  assert(hub.on, "the second registry still asks");
  m2.stop();
  assert(!hub.on);
});

test("data age off: no family, no stamps, no histogram", () => {
  const rt = new TestRuntime();
  const m = new Metrics(rt.executor);
  assertEquals(m.dataAge, null);
  assert(!m.text().includes("wavelet_node_data_age_seconds"));
  assert(!runtimePort(rt.executor).ingest.on);
  assertThrows(
    () => m.nodeHistogram("wavelet_node_data_age_seconds", "Age."),
    InvalidArgumentError,
  );
  m.stop();
});

const Tick = defineRecord({ producer: "i32", seq: "i32", value: "f64" });

test("a Worker's ring records: one age per run that read records, children never younger, stamps off after stop", async () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const m = new Metrics(rt.executor, { dataAge: true, clock: rt.backend });
  let readRuns = 0, got = 0, closed = false;
  const COUNT = 20_000;
  const [src, tx] = new NodeBuilder(0).named("src").buildWith(
    rt.executor,
    channel({ kind: "ring", record: Tick, capacity: 1024 }),
    (_self, _ctx, rx) => {
      let n = 0;
      while (rx.next()) n++;
      if (n > 0) readRuns++;
      got += n;
      if (rx.isClosed) closed = true;
      return n > 0;
    },
  );
  const child = new NodeBuilder(0).named("child").triggeredBy(src).build(rt.executor, () => true);
  const rings = (tx as unknown as { _rings: Rings })._rings;
  assertEquals(Atomics.load(rings.ctl, H_STAMP), 1, "the channel stamps while data age is on");
  const worker = new Worker(new URL("./fixtures/ring_producer.ts", import.meta.url).href, {
    type: "module",
  });
  const done = new Promise((resolve) => (worker.onmessage = resolve));
  worker.postMessage({
    sender: tx.toTransferable(),
    producer: 1,
    count: COUNT,
    retryOnFull: true,
    batch: 16,
  });
  (tx as RingSender<typeof Tick.fields>).close();
  // Cycles until the channel closed (each waits up to 50 ms for the Worker's wake-up).
  const until = Date.now() + 60_000;
  while (!closed && Date.now() < until) rt.runOneCycle(50e6);
  await done;
  worker.terminate();
  assertEquals(got, COUNT);
  const s = m.dataAge!.snapshot(src)!, c = m.dataAge!.snapshot(child)!;
  assertEquals(s.count, readRuns, "one age per run that read records");
  assertEquals(c.count, readRuns, "the child ran once per broadcast, inheriting the stamp");
  assert(s.sumNs >= 0 && c.sumNs >= s.sumNs, `child ${c.sumNs} >= src ${s.sumNs}`);
  // A garbage stamp (0, a stale one) would read as decades: nothing may land above the last
  // bound (10 s).
  assertEquals(BUCKET_BOUNDS_NS.at(-1), 10e9);
  assertEquals(s.counts.at(-1), 0, JSON.stringify(s.counts));
  assertEquals(c.counts.at(-1), 0, JSON.stringify(c.counts));
  m.stop();
  assertEquals(Atomics.load(rings.ctl, H_STAMP), 0, "stamps are off once the metrics stop");
  rt.shutdown();
});

test("value and conflating channels stamp while on: one age per run that took something", () => {
  const rt = new TestRuntime();
  const m = new Metrics(rt.executor, { dataAge: true });
  const [vals, vtx] = new NodeBuilder(0).named("vals").buildWith(
    rt.executor,
    channel({ kind: "value", capacity: 8, maxItemBytes: 64 }),
    (self, _ctx, rx) => {
      for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) self.value++;
      return true;
    },
  );
  const Px = defineRecord({ px: "f64" });
  const [quotes, qtx] = new NodeBuilder(0).named("quotes").buildWith(
    rt.executor,
    conflatingChannel(Px, { keys: 4, livenessCheckMs: 0 }),
    (self, _ctx, rx) => {
      while (rx.next()) self.value++;
      return true;
    },
  );
  vtx.trySend("a");
  vtx.trySend("b");
  qtx.trySend({ px: 1 }, 0);
  qtx.trySend({ px: 2 }, 0); // conflated: one record of key 0
  qtx.trySend({ px: 3 }, 3);
  rt.runOneCycle();
  assertEquals([vals.value, quotes.value], [2, 2]);
  const v = m.dataAge!.snapshot(vals)!, q = m.dataAge!.snapshot(quotes)!;
  assertEquals([v.count, q.count], [1, 1]);
  assert(v.sumNs >= 0 && q.sumNs >= 0);
  assertEquals(v.counts.at(-1), 0, "a real age, not a garbage stamp");
  assertEquals(q.counts.at(-1), 0, "a real age, not a garbage stamp");
  const rings = (vtx as unknown as { _rings: Rings })._rings;
  assertEquals(Atomics.load(rings.ctl, H_STAMP), 1);
  m.stop();
  assertEquals(Atomics.load(rings.ctl, H_STAMP), 0, "the value channel's stamp word reads 0");
  vtx.trySend("c");
  qtx.trySend({ px: 4 }, 1);
  rt.runOneCycle();
  assertEquals([vals.value, quotes.value], [3, 3]);
  assertEquals([v.count, q.count], [1, 1], "nothing measured once stopped");
});

test("a historical source's records count from the instant they were due", () => {
  const rt = new HistoricalRuntime({
    startUnixNanos: 0n,
    endUnixNanos: 10_000_000n,
    stepNs: 2.5e6,
  });
  const clock = manual();
  clock.t = 1e9;
  const m = new Metrics(rt.executor, { dataAge: { clock } });
  // Due at 1 ms and 2 ms, released by the cycle at 2.5 ms; due at 6 ms, released at 7.5 ms.
  const src = historicalSource(rt, [{ ts: 1_000_000n }, { ts: 2_000_000n }, { ts: 6_000_000n }], {
    name: "hist",
  });
  const child = new NodeBuilder(0).named("child").triggeredBy(src).build(rt.executor, () => true);
  rt.runUntilCompletion();
  const s = m.dataAge!.snapshot(src)!, c = m.dataAge!.snapshot(child)!;
  assertEquals(s.count, 2);
  assertEquals(s.sumNs, 1.5e6 + 1.5e6, "the oldest of each release: 2.5 - 1 and 7.5 - 6 ms");
  assertEquals(c.sumNs, s.sumNs, "the child runs at the same (manual) instant");
  m.stop();
});

test("the text with data ages passes promtool", async () => {
  const rt = new TestRuntime();
  const clock = manual();
  const m = new Metrics(rt.executor, { dataAge: { clock } });
  const [, tx] = drain(rt, 'we"ird\\name');
  clock.t = 5;
  tx.trySend(1);
  clock.t = 2_000_000;
  rt.runOneCycle();
  const text = m.text();
  assert(text.includes("# TYPE wavelet_node_data_age_seconds histogram"), text);
  const r = await promtoolCheck(text);
  assertEquals(r.code, 0, r.out);
  m.stop();
});

test("serveMetrics measures data age by default, and refuses dataAge with a metrics option", () => {
  const rt = new RealtimeRuntime();
  const server = serveMetrics(rt);
  assert(server.metrics.dataAge !== null);
  assert(runtimePort(rt.executor).ingest.on);
  server.close();
  assert(!runtimePort(rt.executor).ingest.on, "closing the endpoint turns stamps off");
  const off = serveMetrics(rt, { dataAge: false });
  assertEquals(off.metrics.dataAge, null);
  off.close();
  const m = new Metrics(rt.executor);
  assertThrows(() => serveMetrics(rt, { metrics: m, dataAge: true }), InvalidArgumentError);
  m.stop();
  rt.shutdown();
});

fuzzCall("new Metrics(executor, { dataAge })", [
  arg(fc.oneof(fc.constant({ monotonicNs: () => 1 }), fc.constant({ monotonicNs: () => NaN }))),
  fc.boolean(),
], (g, [clock, wrap]) => {
  const dataAge = wrap ? { clock: pick(clock, () => ({ monotonicNs: () => 1 })) } : clock;
  let m: Metrics | null = null;
  try {
    m = new Metrics(g.ex, { dataAge: pick(dataAge, () => true) as never });
  } catch (e) {
    assert(!runtimePort(g.ex).ingest.on, "a refused option attached nothing");
    throw e;
  } finally {
    m?.stop();
  }
});
