// The metrics registry on a test runtime and with real Workers: what the instrument counts
// (runs and time by node name, cycles, timer lateness exact on a test clock, notify-to-run from
// other threads), what is read on request (probes, gauges, per-node histograms), that the
// Prometheus text passes `promtool check metrics` whatever the names, and that bad arguments
// get typed errors and leave the executor working.
import fc from "fast-check";
import { Control } from "../src/core/control.ts";
import { NodeBuilder } from "../src/core/builder.ts";
import { ErrorCode, InvalidArgumentError } from "../src/core/errors.ts";
import { ms, us } from "../src/core/time.ts";
import { ExecutionMode } from "../src/core/control.ts";
import { TestRuntime } from "../src/runtime/test_runtime.ts";
import { RealtimeRuntime } from "../src/runtime/realtime.ts";
import { trace } from "../src/observe/trace.ts";
import { Metrics } from "../src/metrics/metrics.ts";
import { BUCKET_BOUNDS_NS, BucketHistogram } from "../src/metrics/buckets.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import { arg, fuzzCall, pick, RUNS } from "./_fuzz.ts";
import { promtoolCheck } from "./_promtool.ts";

/** The value of the sample `line` starts with (name and labels), or NaN. */
function sample(text: string, series: string): number {
  for (const line of text.split("\n")) {
    if (line.startsWith(series + " ")) return Number(line.slice(series.length + 1));
  }
  return NaN;
}

function ticker(rt: TestRuntime, name: string) {
  return new NodeBuilder(0).named(name).onInit((ex, s) => ex.yieldNow(s))
    .build(rt.executor, (self, ctx) => {
      self.value++;
      ctx.yieldNow();
      return Control.Broadcast;
    });
}

test("runs and time are counted by node name; removed nodes stay counted, a reused slot starts at 0", () => {
  const rt = new TestRuntime();
  const ex = rt.executor;
  const m = new Metrics(ex);
  const src = ticker(rt, "src");
  const a = new NodeBuilder(0).named("twin").triggeredBy(src).build(ex, () => true);
  new NodeBuilder(0).named("twin").triggeredBy(src).build(ex, () => false);
  for (let i = 0; i < 5; i++) rt.runOneCycle();
  let text = m.text();
  assertEquals(sample(text, 'wavelet_node_runs_total{node="src"}'), 5);
  assertEquals(sample(text, 'wavelet_node_runs_total{node="twin"}'), 10, "two nodes, one name");
  assertEquals(sample(text, "wavelet_cycles_total"), 5);
  assert(sample(text, 'wavelet_node_time_seconds_total{node="src"}') > 0, "src was timed");
  // Remove one twin; a new node takes its slot under another name.
  a.remove();
  const fresh = new NodeBuilder(0).named("fresh").triggeredBy(src).build(ex, () => false);
  assertEquals(fresh._slot, a._slot, "the freed slot is reused");
  rt.runOneCycle();
  text = m.text();
  assertEquals(sample(text, 'wavelet_node_runs_total{node="twin"}'), 11, "5 + 6, never down");
  assertEquals(sample(text, 'wavelet_node_runs_total{node="fresh"}'), 1, "a new node starts at 0");
  const byName = Object.fromEntries(m.nodes().map((n) => [n.name, n.runs]));
  assertEquals(byName, { src: 6, twin: 6, fresh: 1 });
  m.stop();
});

test("attaching and detaching other instruments keeps the counters", () => {
  const rt = new TestRuntime();
  const m = new Metrics(rt.executor);
  const src = ticker(rt, "src");
  rt.runOneCycle();
  const tracer = trace(rt.executor, { nodes: [src] });
  rt.runOneCycle();
  tracer.stop();
  rt.runOneCycle();
  assertEquals(m.nodes()[0].runs, 3, "each re-wrap kept the count");
  assertEquals(tracer.take().length, 1, "the tracer saw the one cycle it was attached for");
  m.stop();
});

test("cycle durations count the cycles that ran a node; timer lateness is exact on a test clock", () => {
  const rt = new TestRuntime();
  const m = new Metrics(rt.executor);
  const late = [us(7), us(300), ms(20)];
  let deadline = 0;
  new NodeBuilder(0).named("timed").onInit((ex, s) => {
    deadline = rt.clock.nowNs() + ms(1);
    ex.registerTimer(s, deadline);
  }).build(rt.executor, () => false);
  rt.runOneCycle(); // runs nothing: no duration recorded
  assertEquals(m.cycleDuration.count, 0);
  for (let i = 0; i < late.length; i++) {
    rt.advanceClock(deadline + late[i] - rt.clock.nowNs());
    rt.runOneCycle();
    assertEquals(m.timerLateness.count, i + 1);
    const node = rt.executor.liveNodes()[0];
    deadline = rt.clock.nowNs() + ms(1);
    rt.executor.registerTimer(node, deadline);
  }
  assertEquals(m.timerLateness.sumNs, us(7) + us(300) + ms(20), "each lateness exactly");
  const counts = m.timerLateness.snapshot().counts;
  assertEquals(counts[BUCKET_BOUNDS_NS.indexOf(1e4)], 1, "7 us in (5, 10] us");
  assertEquals(counts[BUCKET_BOUNDS_NS.indexOf(5e5)], 1, "300 us in (250, 500] us");
  assertEquals(counts[BUCKET_BOUNDS_NS.indexOf(2.5e7)], 1, "20 ms in (10, 25] ms");
  assertEquals(m.cycleDuration.count, 3, "three cycles ran the node");
  m.stop();
});

test("notify-to-run: each drained notification is measured once; stop() turns stamps off", () => {
  const rt = new TestRuntime();
  const m = new Metrics(rt.executor);
  let runs = 0;
  const [, notifier] = new NodeBuilder(0).named("pinged").buildWithNotifier(rt.executor, () => {
    runs++;
    return false;
  });
  for (let i = 0; i < 4; i++) {
    notifier.notify();
    notifier.notify(); // one pending notification either way
    rt.runOneCycle();
  }
  rt.runOneCycle(); // nothing pending
  assertEquals(runs, 4);
  assertEquals(m.notifyToRun.count, 4);
  assert(m.notifyToRun.sumNs > 0 && m.notifyToRun.sumNs < 4e9, `${m.notifyToRun.sumNs} ns`);
  m.stop();
  m.stop(); // idempotent
  notifier.notify();
  rt.runOneCycle();
  assertEquals(runs, 5, "the node still runs");
  assertEquals(m.notifyToRun.count, 4, "and nothing is measured after stop");
  // A second registry stamps again: stale words from the stopped period are not read as stamps.
  const again = new Metrics(rt.executor);
  notifier.notify();
  rt.runOneCycle();
  assertEquals(again.notifyToRun.count, 1);
  assert(again.notifyToRun.sumNs < 1e9, "a fresh stamp, not a stale one");
  again.stop();
});

test("notify-to-run from Worker threads: one value per drained notification, all plausible", async () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const m = new Metrics(rt.executor);
  const NODES = 4, COUNT = 5_000;
  let runs = 0;
  const transferables = [];
  for (let k = 0; k < NODES; k++) {
    const [, n] = new NodeBuilder(0).named(`n${k}`).buildWithNotifier(rt.executor, () => {
      runs++;
      return false;
    });
    transferables.push(n.toTransferable());
  }
  const [, finish] = new NodeBuilder(0).named("finish").buildWithNotifier(rt.executor, () => {
    runs++;
    return Control.Terminate;
  });
  const published = new Int32Array(new SharedArrayBuffer(4 * NODES));
  const done = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    new URL("./fixtures/realtime_notify_worker.ts", import.meta.url).href,
    { type: "module" },
  );
  const ended = new Promise((resolve) => (worker.onmessage = resolve));
  worker.postMessage({
    notifiers: transferables,
    finish: finish.toTransferable(),
    published: published.buffer,
    done: done.buffer,
    workers: 1,
    count: COUNT,
    seed: 3,
    delayMs: 20,
  });
  await new Promise((r) => setTimeout(r, 20));
  rt.runForever();
  await ended;
  worker.terminate();
  const h = m.notifyToRun;
  assertEquals(h.count, runs, "every run of a notified node had its notification measured");
  assert(runs >= NODES, `${runs} runs`);
  const counts = h.snapshot().counts;
  // A garbage stamp would read as up to +-131 s: nothing may land above 1 s.
  const aboveOneSecond = counts.slice(BUCKET_BOUNDS_NS.indexOf(1e9) + 1).reduce((a, b) => a + b);
  assertEquals(aboveOneSecond, 0, `latencies above 1 s: ${JSON.stringify(counts)}`);
  assert(h.sumNs > 0, "latencies are measured, not all ties");
  m.stop();
});

test("per-node histograms: by name, folded when a node leaves, in the text only with values", async () => {
  const rt = new TestRuntime();
  const m = new Metrics(rt.executor);
  const age = m.nodeHistogram("app_data_age_seconds", "Age of the data a node ran on.");
  const a1 = new NodeBuilder(0).named("a").build(rt.executor, () => false);
  const a2 = new NodeBuilder(0).named("a").build(rt.executor, () => false);
  new NodeBuilder(0).named("quiet").build(rt.executor, () => false);
  assert(age.record(a1, us(2)));
  assert(age.record(a2, us(4)));
  assert(age.record(a2, -5), "negative counts as 0");
  assertEquals(age.snapshot(a2)!.count, 2);
  a1.remove();
  assert(!age.record(a1, 1), "a removed node records nothing");
  assertEquals(age.snapshot(a1), null);
  const text = m.text();
  assertEquals(sample(text, 'app_data_age_seconds_count{node="a"}'), 3);
  assertEquals(sample(text, 'app_data_age_seconds_sum{node="a"}'), 6e-6);
  assertEquals(sample(text, 'app_data_age_seconds_bucket{node="a",le="0.0000025"}'), 2);
  assert(!text.includes('node="quiet"} 0\nwavelet_node_data_age'), "no series for a quiet node");
  assert(!/app_data_age_seconds_count\{node="quiet"\}/.test(text));
  assertEquals((await promtoolCheck(text)).code, 0);
  const other = new TestRuntime();
  const foreign = new NodeBuilder(0).build(other.executor, () => false);
  assertThrows(() => age.record(foreign, 1), InvalidArgumentError, ErrorCode.InvalidArgument);
  assertThrows(() => age.record(a2, NaN), InvalidArgumentError);
  assertThrows(() => age.record(a2, "1" as unknown as number), InvalidArgumentError);
  m.stop();
});

test("channel probes, gauges and counters are read on request; failed readings are counted", () => {
  const rt = new TestRuntime();
  const m = new Metrics(rt.executor);
  let depth = 3;
  m.channel("orders", { depth: () => depth, dropped: () => 2, lost: () => 1 });
  m.channel("broken", {
    depth: () => NaN,
    dropped: () => {
      throw new Error("gone");
    },
  });
  m.gauge("app_queue_items", "Items waiting.", () => depth * 2);
  m.counter("app_orders_total", "Orders seen.", () => 41);
  let text = m.text();
  assertEquals(sample(text, 'wavelet_channel_depth{channel="orders"}'), 3);
  assertEquals(sample(text, 'wavelet_channel_dropped_total{channel="orders"}'), 2);
  assertEquals(sample(text, 'wavelet_channel_lost_total{channel="orders"}'), 1);
  assert(!text.includes('channel="broken"'), "readings that fail are left out");
  assertEquals(sample(text, "wavelet_metrics_read_errors_total"), 2);
  assertEquals(sample(text, "app_queue_items"), 6);
  assertEquals(sample(text, "app_orders_total"), 41);
  depth = 5;
  text = m.text();
  assertEquals(sample(text, 'wavelet_channel_depth{channel="orders"}'), 5, "read each time");
  assertEquals(sample(text, "wavelet_metrics_read_errors_total"), 4);
  m.stop();
});

test("registration refuses bad and taken names with typed errors", () => {
  const rt = new TestRuntime();
  const m = new Metrics(rt.executor);
  const bad: [string, () => unknown][] = [
    ["a counter without _total", () => m.counter("app_orders", "x", () => 1)],
    ["a gauge with _total", () => m.gauge("app_things_total", "x", () => 1)],
    ["a built-in name", () => m.gauge("wavelet_nodes", "x", () => 1)],
    ["a histogram's series", () => m.gauge("wavelet_cycle_duration_seconds_count", "x", () => 1)],
    ["a name with a dash", () => m.gauge("app-things", "x", () => 1)],
    ["a node histogram not in seconds", () => m.nodeHistogram("app_age", "x")],
    ["help that is not a string", () => m.gauge("app_x", 5 as unknown as string, () => 1)],
    ["read that is not a function", () => m.gauge("app_y", "x", 5 as unknown as () => number)],
    ["an empty probe", () => m.channel("c", {})],
    ["a probe field that is no function", () => m.channel("c", { depth: 3 as never })],
    ["an empty channel name", () => m.channel("", { depth: () => 1 })],
  ];
  for (const [what, fn] of bad) {
    const e = assertThrows(fn, InvalidArgumentError, ErrorCode.InvalidArgument);
    assert(!e.message.endsWith("."), `${what}: ${e.message}`);
  }
  m.gauge("app_x", "X.", () => 1);
  assertThrows(() => m.gauge("app_x", "X again.", () => 1), InvalidArgumentError);
  m.nodeHistogram("app_age_seconds", "Age.");
  assertThrows(() => m.gauge("app_age_seconds_sum", "x", () => 1), InvalidArgumentError);
  m.channel("c", { depth: () => 1 });
  assertThrows(() => m.channel("c", { depth: () => 1 }), InvalidArgumentError);
  m.stop();
  assertThrows(() => m.gauge("app_z", "z", () => 1), InvalidArgumentError);
  assertThrows(() => new Metrics({} as never), InvalidArgumentError);
  assertThrows(() => new Metrics(rt.executor, { nodeTime: 1 as never }), InvalidArgumentError);
});

test("the text passes promtool whatever the node and channel names (quotes, backslashes, lines)", async () => {
  const names = fc.sample(fc.string({ unit: "binary", maxLength: 12 }), { numRuns: 60, seed: 14 });
  names.push('a "quoted" name', "back\\slash", "two\nlines", "", "(unnamed)");
  const rt = new TestRuntime();
  const m = new Metrics(rt.executor);
  const src = ticker(rt, "src");
  for (const name of names) {
    new NodeBuilder(0).named(name).triggeredBy(src).build(rt.executor, () => false);
  }
  new NodeBuilder(0).triggeredBy(src).build(rt.executor, () => false); // unnamed
  const seen = new Set<string>();
  for (const name of names) {
    if (name === "" || seen.has(name)) continue;
    seen.add(name);
    m.channel(name, { depth: () => 1 });
  }
  m.nodeHistogram("app_age_seconds", "Age, with a \\ and a\nsecond line.");
  for (const n of rt.executor.liveNodes()) m.nodeHistograms[0].record(n, 1000);
  rt.runOneCycle();
  const text = m.text();
  const r = await promtoolCheck(text);
  assertEquals(r.code, 0, r.out);
  assertEquals(
    sample(text, 'wavelet_node_runs_total{node="(unnamed)"}'),
    2,
    "the unnamed node and the one named (unnamed)",
  );
  m.stop();
});

test("a bucket histogram's quantiles stay inside the right bucket", () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0, max: 2e10, noNaN: true }), { minLength: 1 }), (vs) => {
      const h = new BucketHistogram();
      for (const v of vs) h.record(v);
      const sorted = [...vs].sort((a, b) => a - b);
      for (const q of [0.5, 0.9, 0.99]) {
        const exact = sorted[Math.max(0, Math.ceil(q * vs.length) - 1)];
        const est = h.quantile(q);
        const i = BUCKET_BOUNDS_NS.findIndex((b) => exact <= b);
        const lo = i <= 0 ? 0 : BUCKET_BOUNDS_NS[i - 1];
        const hi = i < 0 ? Infinity : BUCKET_BOUNDS_NS[i];
        if (!(est >= (i < 0 ? 1e10 : lo) - 1e-6 && est <= hi + 1e-6)) {
          throw new Error(`q${q}: exact ${exact} estimated ${est}, bucket (${lo}, ${hi}]`);
        }
      }
    }),
    { numRuns: RUNS },
  );
  assertThrows(() => new BucketHistogram().record(Infinity), InvalidArgumentError);
  assertThrows(() => new BucketHistogram().quantile(2), InvalidArgumentError);
});

fuzzCall("Metrics registration (gauge, counter, channel, nodeHistogram)", [
  fc.constantFrom("gauge", "counter", "channel", "nodeHistogram"),
  arg(fc.constantFrom("app_a", "app_b_total", "app_c_seconds", "x")),
  arg(fc.constantFrom("help", "")),
  arg(fc.constantFrom(() => 1, { depth: () => 1 })),
], (g, [kind, name, help, third]) => {
  const m = new Metrics(g.ex);
  try {
    const n = pick(name, () => "app_ok_total");
    const h = pick(help, () => "Help.");
    const t = pick(third, () => kind === "channel" ? { dropped: () => 0 } : () => 1);
    if (kind === "gauge") m.gauge(n, h, t);
    else if (kind === "counter") m.counter(n, h, t);
    else if (kind === "channel") m.channel(n, t);
    else m.nodeHistogram(n, h);
    m.text();
  } finally {
    m.stop();
  }
});

fuzzCall("new Metrics(executor, options)", [
  arg(fc.constant({})),
  arg(fc.record({ nodeTime: fc.boolean(), notifyLatency: fc.boolean() }, { requiredKeys: [] })),
], (g, [ex, options]) => {
  const m = new Metrics(pick(ex, () => g.ex), pick(options, () => ({})));
  m.stop();
});
