import {
  Control,
  ErrorCode,
  InvalidArgumentError,
  ms,
  NodeBuilder,
  Relationship,
  TestRuntime,
} from "../mod.ts";
import { Histogram, profile, trace } from "../observe.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";

function diamond(rt: TestRuntime) {
  const ex = rt.executor;
  const src = new NodeBuilder(0).named("src").onInit((e, s) => e.yieldNow(s))
    .build(ex, (self, ctx) => {
      self.value++;
      if (self.value < 3) ctx.yieldNow();
      return Control.Broadcast;
    });
  const a = new NodeBuilder(0).named("a").triggeredBy(src).build(ex, () => true);
  const b = new NodeBuilder(0).named("b").triggeredBy(src).build(ex, () => false);
  const sink = new NodeBuilder(0).named("sink").triggeredBy(a, b).observerOf(src)
    .build(ex, () => false);
  return { src, a, b, sink };
}

test("stats count cycles, node runs and per-node runs", () => {
  const rt = new TestRuntime();
  diamond(rt);
  rt.runUntilIdle();
  const s = rt.executor.stats();
  assertEquals(s.cycles, 3);
  assertEquals(
    s.nodes.map((n) => [n.name, n.runs]),
    [["src", 3], ["a", 3], ["b", 3], ["sink", 3]],
  );
  assertEquals(s.nodeRuns, 12);
});

test("profiling measures per-node time and cycle durations, and switches off cleanly", () => {
  const rt = new TestRuntime();
  let fake = 0;
  const { src } = diamond(rt);
  // A fake clock that advances 100 ns per reading makes the figures exact.
  const profiler = profile(rt.executor, { nowNs: () => (fake += 100) });
  rt.runUntilIdle();
  const s = profiler.report();
  assertEquals(s.cycleTime!.count, 3);
  assertEquals(s.nodes.map((n) => n.name), ["src", "a", "b", "sink"]);
  for (const n of s.nodes) assertEquals(n.timeNs, 300, `${n.name}: 3 runs x 100 ns`);
  profiler.stop();
  profiler.stop(); // idempotent
  const readings = fake;
  src.value = 0;
  rt.executor.yieldNow(src);
  rt.runUntilIdle();
  assertEquals(fake, readings, "a stopped profiler reads no clock");
  assertEquals(profiler.report().cycleTime!.count, 3, "and its report stays as it was");
  assertEquals(rt.executor.stats().nodes[0].runs, 6, "the original cycle functions run again");
});

test("a trace says why each node ran: triggers, yields, timers, notify, scheduleNode", () => {
  const rt = new TestRuntime();
  const ex = rt.executor;
  const { src } = diamond(rt);
  const late = new NodeBuilder(0).named("late").observerOf(src).build(ex, () => false);
  const [pinged, notifier] = new NodeBuilder(0).named("pinged").buildWithNotifier(ex, () => false);
  const timed = new NodeBuilder(0).named("timed").onInit((e, s) => {
    e.registerTimer(s, ms(1));
  }).build(ex, () => false);
  new NodeBuilder(0).named("scheduler").triggeredBy(src).build(ex, (_s, ctx) => {
    ctx.scheduleNode(late);
    return false;
  });
  const tracer = trace(ex);
  rt.runOneCycle();
  const t1 = tracer.take().map((e) => `${e.epoch} ${e.name}: ${e.reasons.join(", ")}`);
  assertEquals(t1, [
    "1 src: yield",
    "1 a: trigger src#0",
    "1 b: trigger src#0",
    "1 scheduler: trigger src#0",
    "1 late: scheduled by scheduler#7",
    "1 sink: trigger a#1",
  ]);
  notifier.notify();
  rt.advanceClock(ms(1));
  rt.runOneCycle();
  const t2 = tracer.take();
  const why = (name: string) => t2.find((e) => e.name === name)?.reasons;
  assertEquals(why("pinged"), ["notify"]);
  assertEquals(why("timed"), ["timer"]);
  assertEquals(why("src"), ["yield"]);
  tracer.stop();
  rt.runOneCycle();
  assertEquals(tracer.take(), []);
  void pinged;
  void timed;
});

test("a trace of chosen nodes wraps only them, names who scheduled them, and keeps its limit", () => {
  const rt = new TestRuntime();
  const ex = rt.executor;
  const { src, a, sink } = diamond(rt);
  const late = new NodeBuilder(0).named("late").observerOf(src).build(ex, () => false);
  const scheduler = new NodeBuilder(0).named("scheduler").triggeredBy(src).build(ex, (_s, ctx) => {
    ctx.scheduleNode(late);
    return false;
  });
  const tracer = trace(ex, { nodes: [sink, late], limit: 3 });
  rt.runUntilIdle(); // src yields itself twice more: three cycles
  const entries = tracer.take();
  assertEquals(
    entries.map((e) => `${e.epoch} ${e.name}: ${e.reasons.join(", ")}`),
    ["2 sink: trigger a#1", "3 late: scheduled by scheduler#5", "3 sink: trigger a#1"],
    "the last three of six entries",
  );
  void scheduler;
  tracer.stop();
  assertThrows(() => trace(ex, { nodes: [a, "b" as never] }), InvalidArgumentError);
  const other = new TestRuntime();
  const foreign = new NodeBuilder(0).build(other.executor, () => false);
  assertThrows(() => trace(ex, { nodes: [foreign] }), InvalidArgumentError);
  assertThrows(() => trace(ex, { limit: 0 }), InvalidArgumentError);
  sink.remove();
  assertThrows(() => trace(ex, { nodes: [sink] }), InvalidArgumentError, ErrorCode.InvalidArgument);
});

test("toDot and toMermaid show names, ids and edge kinds", () => {
  const rt = new TestRuntime();
  diamond(rt);
  const dot = rt.executor.toDot();
  assert(dot.includes('n0 [label="src#0"]'));
  assert(dot.includes("n1 -> n3;"));
  assert(dot.includes("n0 -> n3 [style=dashed];"), "Observe edges are dashed");
  const mermaid = rt.executor.toMermaid();
  assert(mermaid.startsWith("flowchart LR"));
  assert(mermaid.includes("n0 -.-> n3"));
  assert(mermaid.includes("n1 --> n3"));
  const parents = rt.executor.parentsOf(rt.executor.liveNodes()[3]);
  assertEquals(parents.map((p) => [p.node.name, p.relationship]), [
    ["a", Relationship.Trigger],
    ["b", Relationship.Trigger],
    ["src", Relationship.Observe],
  ]);
});

test("the histogram's percentiles are within its bucket precision", () => {
  const h = new Histogram();
  for (let i = 1; i <= 10_000; i++) h.record(i * 100);
  const s = h.snapshot();
  assertEquals(s.count, 10_000);
  assertEquals(s.min, 100);
  assertEquals(s.max, 1_000_000);
  for (const [p, v] of [[50, s.p50], [99, s.p99], [99.9, s.p999]]) {
    const exact = p * 10_000;
    assert(Math.abs(v - exact) / exact < 0.07, `p${p} ${v} vs ${exact}`);
  }
  h.reset();
  assertEquals(h.count, 0);
  assert(Number.isNaN(h.percentile(50)));
});
