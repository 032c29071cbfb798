/**
 * The standard node library: the reference's wsnl tests (§10.12 transform, §10.13 logic,
 * §10.14 control, ported where the node exists here) plus the fixed time nodes and the nodes
 * the reference did not have.
 *
 * @module
 */

import {
  accumulate,
  and,
  combineLatest,
  constant,
  debounce,
  deduplicate,
  distinctUntilChanged,
  filter,
  filterBatch,
  map,
  mapBatch,
  not,
  or,
  periodic,
  router,
  scan,
  switchStream,
  switchValue,
  throttle,
  windowCount,
  windowTime,
  xor,
} from "../std.ts";
import {
  Control,
  type Executor,
  InvalidArgumentError,
  ms,
  type Node,
  NodeBuilder,
  NodeRemovedError,
  TestRuntime,
} from "../mod.ts";
import { probe, pushNode } from "../testing.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";

function setup(): { rt: TestRuntime; ex: Executor; mut: (n: Node<unknown>) => boolean } {
  const rt = new TestRuntime();
  return { rt, ex: rt.executor, mut: (n) => rt.executor.hasMutated(n) };
}

// ------------------------------------------------------------- §10.12 transform

test("accumulate keeps a running sum across batches (ref accumulator_node)", () => {
  const { rt, ex } = setup();
  const input = pushNode<number[]>(ex, []);
  const sum = accumulate(ex, input.node, 0, (a, x) => a + x);
  const seen: number[] = [];
  for (const batch of [[1, 2, 3], [4, 5], []]) {
    input.push(batch);
    rt.runOneCycle();
    seen.push(sum.value);
  }
  assertEquals(seen, [6, 15, 15]);
});

test("accumulate with reset aggregates each batch alone (ref accumulator_with_reset_node)", () => {
  const { rt, ex } = setup();
  const input = pushNode<number[]>(ex, []);
  const sum = accumulate(ex, input.node, 0, (a, x) => a + x, { reset: () => 0 });
  const seen: number[] = [];
  for (const batch of [[1, 2, 3], [4, 5], []]) {
    input.push(batch);
    rt.runOneCycle();
    seen.push(sum.value);
  }
  assertEquals(seen, [6, 9, 0]);
});

test("accumulate with a structured state (ref accumulator_complex_state)", () => {
  const { rt, ex } = setup();
  const input = pushNode<number[]>(ex, []);
  const stats = accumulate(
    ex,
    input.node,
    { count: 0, sum: 0 },
    (a, x) => ({ count: a.count + 1, sum: a.sum + x }),
  );
  input.push([10, 20]);
  rt.runOneCycle();
  assertEquals(stats.value, { count: 2, sum: 30 });
  input.push([5]);
  rt.runOneCycle();
  assertEquals(stats.value, { count: 3, sum: 35 });
});

test("accumulate always broadcasts, even for an empty batch (ref accumulator_always_broadcasts)", () => {
  const { rt, ex, mut } = setup();
  const input = pushNode<number[]>(ex, []);
  const sum = accumulate(ex, input.node, 0, (a, x) => a + x);
  input.push([]);
  rt.runOneCycle();
  assert(mut(sum));
  input.push([1, 2]);
  rt.runOneCycle();
  assert(mut(sum));
  rt.runOneCycle(); // no batch: does not run
  assert(!mut(sum));
});

test("deduplicate keeps first occurrences per batch, fresh each batch (ref deduplicate_node)", () => {
  const { rt, ex } = setup();
  const input = pushNode<number[]>(ex, []);
  const d = deduplicate(ex, input.node);
  const seen: number[][] = [];
  for (const batch of [[1, 2, 2, 3, 1], [3, 4, 4, 5], []]) {
    input.push(batch);
    rt.runOneCycle();
    seen.push([...d.value]);
  }
  assertEquals(seen, [[1, 2, 3], [3, 4, 5], []]);
});

test("deduplicate by key keeps the first item of each key in order (ref deduplicate_by_key)", () => {
  const { rt, ex } = setup();
  const input = pushNode<{ sym: string; px: number }[]>(ex, []);
  const d = deduplicate(ex, input.node, (t) => t.sym);
  input.push([
    { sym: "AAPL", px: 150 },
    { sym: "GOOGL", px: 2800 },
    { sym: "AAPL", px: 151 },
    { sym: "MSFT", px: 300 },
  ]);
  rt.runOneCycle();
  assertEquals(d.value.map((t) => `${t.sym}@${t.px}`), ["AAPL@150", "GOOGL@2800", "MSFT@300"]);
});

test("deduplicate does not broadcast an empty result (ref no_mutations_on_empty)", () => {
  const { rt, ex, mut } = setup();
  const input = pushNode<number[]>(ex, []);
  const d = deduplicate(ex, input.node);
  input.push([]);
  rt.runOneCycle();
  assert(!mut(d));
  input.push([1]);
  rt.runOneCycle();
  assert(mut(d));
});

test("filterBatch keeps matching items and broadcasts iff non-empty (ref filter_node)", () => {
  const { rt, ex, mut } = setup();
  const input = pushNode<number[]>(ex, []);
  const evens = filterBatch(ex, input.node, (x) => x % 2 === 0);
  const cases: [number[], number[], boolean][] = [
    [[1, 2, 3, 4, 5], [2, 4], true],
    [[6, 7, 8], [6, 8], true],
    [[1, 3, 5], [], false],
    [[], [], false],
  ];
  for (const [batch, out, m] of cases) {
    input.push(batch);
    rt.runOneCycle();
    assertEquals([...evens.value], out);
    assertEquals(mut(evens), m);
  }
});

test("filterBatch with a predicate on records (ref filter_node_complex_predicate)", () => {
  const { rt, ex } = setup();
  const input = pushNode<{ id: number; qty: number }[]>(ex, []);
  const big = filterBatch(ex, input.node, (o) => o.qty > 100);
  input.push([{ id: 1, qty: 50 }, { id: 2, qty: 150 }, { id: 3, qty: 200 }, { id: 4, qty: 100 }]);
  rt.runOneCycle();
  assertEquals(big.value.map((o) => o.id), [2, 3]);
});

test("filterBatch preserves order (ref filter_preserves_order)", () => {
  const { rt, ex } = setup();
  const input = pushNode<number[]>(ex, []);
  const f = filterBatch(ex, input.node, (x) => x > 5);
  input.push([10, 3, 8, 1, 6, 2, 9]);
  rt.runOneCycle();
  assertEquals([...f.value], [10, 8, 6, 9]);
});

test("filterBatch and mapBatch never modify the source batch", () => {
  const { rt, ex } = setup();
  const input = pushNode<number[]>(ex, []);
  const f = filterBatch(ex, input.node, (x) => x > 1);
  const m = mapBatch(ex, input.node, (x) => x * 10);
  const batch = [1, 2, 3];
  input.push(batch);
  rt.runOneCycle();
  assertEquals(batch, [1, 2, 3]);
  assertEquals([...f.value], [2, 3]);
  assertEquals([...m.value], [10, 20, 30]);
  assert(f.value !== batch && m.value !== batch);
});

test("map broadcasts fn(value) whenever its parent broadcasts; initial from fn or option", () => {
  const { rt, ex, mut } = setup();
  const input = pushNode(ex, 3);
  const sq = map(ex, input.node, (x) => x * x);
  const label = map(ex, input.node, (x) => `#${x}`, { initial: "none" });
  assertEquals(sq.value, 9);
  assertEquals(label.value, "none");
  input.push(3); // same value: still broadcasts
  rt.runOneCycle();
  assert(mut(sq));
  assertEquals(label.value, "#3");
  assertThrows(() => map(ex, input.node, 5 as never), InvalidArgumentError);
});

test("filter keeps the last passing value and only broadcasts passing values", () => {
  const { rt, ex, mut } = setup();
  const input = pushNode(ex, 0);
  const pos = filter(ex, input.node, (x) => x > 0);
  const posInit = filter(ex, input.node, (x) => x > 0, { initial: -1 });
  assertEquals(pos.value, undefined);
  assertEquals(posInit.value, -1);
  input.push(-5);
  rt.runOneCycle();
  assert(!mut(pos));
  assertEquals(pos.value, undefined);
  input.push(4);
  rt.runOneCycle();
  assert(mut(pos));
  input.push(-1);
  rt.runOneCycle();
  assertEquals([pos.value, posInit.value], [4, 4]);
});

test("scan folds every value and always broadcasts", () => {
  const { rt, ex } = setup();
  const input = pushNode(ex, 0);
  const p = probe(ex, scan(ex, input.node, [] as number[], (a, x) => [...a, x]));
  for (const x of [1, 1, 2]) {
    input.push(x);
    rt.runOneCycle();
  }
  assertEquals(p.values(), [[1], [1, 1], [1, 1, 2]]);
});

test("distinctUntilChanged broadcasts only when the key changes", () => {
  const { rt, ex } = setup();
  const input = pushNode(ex, { id: 0, v: "" });
  const p = probe(ex, distinctUntilChanged(ex, input.node, { key: (o) => o.id }));
  for (const o of [{ id: 1, v: "a" }, { id: 1, v: "b" }, { id: 2, v: "c" }, { id: 1, v: "d" }]) {
    input.push(o);
    rt.runOneCycle();
  }
  assertEquals(p.values().map((o) => o.v), ["a", "c", "d"]);
});

test("windowCount: tumbling, sliding and skipping windows", () => {
  const { rt, ex } = setup();
  const input = pushNode(ex, 0);
  const tumble = probe(ex, windowCount(ex, input.node, 3));
  const slide = probe(ex, windowCount(ex, input.node, 3, { step: 1 }));
  const skip = probe(ex, windowCount(ex, input.node, 2, { step: 3 }));
  for (let i = 1; i <= 7; i++) {
    input.push(i);
    rt.runOneCycle();
  }
  assertEquals(tumble.values(), [[1, 2, 3], [4, 5, 6]]);
  assertEquals(slide.values(), [[1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6], [5, 6, 7]]);
  assertEquals(skip.values(), [[1, 2], [4, 5]]);
  assertThrows(() => windowCount(ex, input.node, 0), InvalidArgumentError);
  assertThrows(() => windowCount(ex, input.node, 2, { step: 1.5 }), InvalidArgumentError);
});

// ------------------------------------------------------------------ §10.13 logic

function logicSetup(l: boolean, r: boolean) {
  const s = setup();
  const left = pushNode(s.ex, l), right = pushNode(s.ex, r);
  const step = (lv?: boolean, rv?: boolean) => {
    if (lv !== undefined) left.push(lv);
    if (rv !== undefined) right.push(rv);
    s.rt.runOneCycle();
  };
  return { ...s, left, right, step };
}

test("and: truth table driven by pushes (ref and_node_basic)", () => {
  const t = logicSetup(false, false);
  const out = and(t.ex, t.left.node, t.right.node);
  const seen = [out.value];
  for (
    const [l, r] of [[true, undefined], [undefined, true], [false, undefined], [undefined, false]]
  ) {
    t.step(l, r);
    seen.push(out.value);
  }
  assertEquals(seen, [false, false, true, false, false]);
});

test("and with init (ref and_node_with_init)", () => {
  const t = logicSetup(true, true);
  const a = and(t.ex, t.left.node, t.right.node, { init: true });
  const b = and(t.ex, t.left.node, t.right.node, { init: false });
  assertEquals([a.value, b.value], [true, false]);
  t.step(true);
  assertEquals([a.value, b.value], [true, true]);
});

test("and with bootstrap evaluates in the first cycle (ref and_node_with_bootstrap)", () => {
  const t = logicSetup(true, true);
  const a = and(t.ex, t.left.node, t.right.node, { bootstrap: true });
  assertEquals(a.value, false);
  t.rt.runOneCycle();
  assertEquals(a.value, true);
});

test("or: truth table driven by pushes (ref or_node_basic)", () => {
  const t = logicSetup(false, false);
  const out = or(t.ex, t.left.node, t.right.node);
  const seen = [out.value];
  for (
    const [l, r] of [[true, undefined], [undefined, true], [false, undefined], [undefined, false]]
  ) {
    t.step(l, r);
    seen.push(out.value);
  }
  assertEquals(seen, [false, true, true, true, false]);
});

test("or with init (ref or_node_with_init)", () => {
  const t = logicSetup(false, false);
  const a = or(t.ex, t.left.node, t.right.node, { init: true });
  const b = or(t.ex, t.left.node, t.right.node, { init: false });
  assertEquals([a.value, b.value], [true, false]);
  t.step(false);
  assertEquals([a.value, b.value], [false, false]);
});

test("or with bootstrap (ref or_node_with_bootstrap)", () => {
  const t = logicSetup(false, true);
  const a = or(t.ex, t.left.node, t.right.node, { bootstrap: true });
  assertEquals(a.value, false);
  t.rt.runOneCycle();
  assertEquals(a.value, true);
});

test("xor: truth table driven by pushes (ref xor_node_basic)", () => {
  const t = logicSetup(false, false);
  const out = xor(t.ex, t.left.node, t.right.node);
  const seen = [out.value];
  for (
    const [l, r] of [[true, undefined], [undefined, true], [false, undefined], [undefined, false]]
  ) {
    t.step(l, r);
    seen.push(out.value);
  }
  assertEquals(seen, [false, true, false, true, false]);
});

test("xor with init (ref xor_node_with_init)", () => {
  const t = logicSetup(true, false);
  const a = xor(t.ex, t.left.node, t.right.node, { init: true });
  assertEquals(a.value, true);
  t.rt.runOneCycle(); // empty cycle
  assertEquals(a.value, true);
  const t2 = logicSetup(true, false);
  const b = xor(t2.ex, t2.left.node, t2.right.node, { init: false });
  assertEquals(b.value, false);
  t2.step(undefined, false);
  assertEquals(b.value, true);
});

test("xor with bootstrap (ref xor_node_with_bootstrap)", () => {
  const t = logicSetup(true, true);
  const a = xor(t.ex, t.left.node, t.right.node, { bootstrap: true });
  assertEquals(a.value, false);
  t.rt.runOneCycle();
  assertEquals(a.value, false);
});

test("logic nodes propagate only on change (ref propagation_only_on_change)", () => {
  const t = logicSetup(true, false);
  const out = and(t.ex, t.left.node, t.right.node);
  let childRuns = 0;
  new NodeBuilder(0).triggeredBy(out).build(t.ex, () => {
    childRuns++;
    return false;
  });
  t.step(undefined, false);
  assertEquals([out.value, childRuns], [false, 0]);
  t.step(undefined, true);
  assertEquals([out.value, childRuns], [true, 1]);
  t.step(true, true);
  assertEquals([out.value, childRuns], [true, 1]);
});

test("a chain of logic nodes: (A and B) or (C xor D) (ref complex_logic_chain)", () => {
  const { rt, ex } = setup();
  const a = pushNode(ex, true), b = pushNode(ex, false), c = pushNode(ex, true);
  const d = pushNode(ex, true);
  const out = or(ex, and(ex, a.node, b.node), xor(ex, c.node, d.node));
  rt.runOneCycle();
  assertEquals(out.value, false);
  b.push(true);
  rt.runOneCycle();
  assertEquals(out.value, true);
  d.push(false);
  rt.runOneCycle();
  assertEquals(out.value, true);
  a.push(false);
  b.push(false);
  rt.runOneCycle();
  assertEquals(out.value, true);
  c.push(false);
  rt.runOneCycle();
  assertEquals(out.value, false);
});

test("bootstrapped logic nodes all evaluate in the first cycle (ref bootstrap_scheduling)", () => {
  const { rt, ex } = setup();
  const l = constant(ex, true), r = constant(ex, true);
  const nodes = [and, or, xor].map((f) => f(ex, l, r, { bootstrap: true }));
  assertEquals(nodes.map((n) => n.value), [false, false, false]);
  rt.runOneCycle();
  assertEquals(nodes.map((n) => n.value), [true, true, false]);
});

test("not starts as the negation and propagates changes only", () => {
  const { rt, ex, mut } = setup();
  const a = pushNode(ex, true);
  const n = not(ex, a.node);
  assertEquals(n.value, false);
  a.push(true);
  rt.runOneCycle();
  assert(!mut(n));
  a.push(false);
  rt.runOneCycle();
  assert(mut(n) && n.value === true);
});

// ------------------------------------------------------------------ §10.14 control

test("router routes by key, replaces each output's batch, drops unrouted keys (ref router)", () => {
  const { rt, ex, mut } = setup();
  const input = pushNode<number[]>(ex, []);
  const r = router(ex, input.node, (x: number) => x % 2);
  const even = r.route(0), odd = r.route(1);
  assertEquals(r.size, 2);
  assert(r.route(0) === even);
  input.push([0]);
  rt.runOneCycle();
  assertEquals([[...even.value], mut(even)], [[0], true]);
  assertEquals([[...odd.value], mut(odd)], [[], false]);
  input.push([2, 3, 5]);
  rt.runOneCycle();
  assertEquals([...even.value], [2]);
  assertEquals([...odd.value], [3, 5]);
  assert(mut(even) && mut(odd));
  assertEquals(input.node.value, [2, 3, 5]); // the source is left intact
  even.remove();
  odd.remove();
  assertEquals(r.size, 0);
  input.push([4]);
  rt.runOneCycle();
  assertEquals(r.node.value, 0); // no output: dropped
});

test("router: outputs sit one depth below the router and run in the same cycle", () => {
  const { rt, ex } = setup();
  const input = pushNode<string[]>(ex, []);
  const r = router(ex, input.node, (s: string) => s[0]);
  const a = r.route("a");
  assertEquals(a.depth, r.node.depth + 1);
  const p = probe(ex, a);
  input.push(["ax", "by", "az"]);
  rt.runOneCycle();
  assertEquals(p.records.map((x) => [x.epoch, [...x.value]]), [[1, ["ax", "az"]]]);
  assertEquals(r.node.value, 2);
});

test("router: removing the router removes every output, even ones still held (ref router_drop)", () => {
  const { rt, ex } = setup();
  const input = pushNode<number[]>(ex, []);
  const r = router(ex, input.node, (x: number) => x);
  const outs = [r.route(1), r.route(2)];
  const before = ex.nodeCount;
  r.remove();
  assertEquals(ex.nodeCount, before - 3);
  assert(outs.every((o) => !o.isAlive));
  assertThrows(() => r.route(3), NodeRemovedError);
  rt.runOneCycle();
});

test("router: an output removed alone is rebuilt by route and receives later items only", () => {
  const { rt, ex } = setup();
  const input = pushNode<number[]>(ex, []);
  const r = router(ex, input.node, (x: number) => x > 0);
  const pos = r.route(true);
  input.push([1]);
  rt.runOneCycle();
  pos.remove();
  const pos2 = r.route(true);
  assert(pos2 !== pos);
  assertEquals([...pos2.value], []);
  input.push([2, -1]);
  rt.runOneCycle();
  assertEquals([...pos2.value], [2]);
});

test("router: removing the source removes the router and its outputs", () => {
  const { ex } = setup();
  const input = pushNode<number[]>(ex, []);
  const r = router(ex, input.node, (x: number) => x);
  const o = r.route(1);
  input.node.remove();
  assert(!r.node.isAlive && !o.isAlive);
  assertEquals(ex.nodeCount, 0);
});

function switchSetup(sel: boolean) {
  const s = setup();
  const left = pushNode<number[]>(s.ex, []), right = pushNode<number[]>(s.ex, []);
  const sw = pushNode(s.ex, sel);
  const out = switchStream(s.ex, left.node, right.node, sw.node);
  return { ...s, left, right, sw, out };
}

test("switchStream follows the selected input and pulls the new one on a flip (ref switch_stream_node_basic)", () => {
  const t = switchSetup(true);
  t.left.push([1, 2, 3]);
  t.rt.runOneCycle();
  assertEquals([[...t.out.value], t.mut(t.out)], [[1, 2, 3], true]);
  t.right.push([10, 20]);
  t.rt.runOneCycle();
  assertEquals([[...t.out.value], t.mut(t.out)], [[1, 2, 3], false]);
  t.sw.push(false);
  t.rt.runOneCycle();
  assertEquals([[...t.out.value], t.mut(t.out)], [[10, 20], true]);
  t.right.push([30, 40]);
  t.rt.runOneCycle();
  assertEquals([[...t.out.value], t.mut(t.out)], [[30, 40], true]);
  t.left.push([100, 200]);
  t.rt.runOneCycle();
  assertEquals([[...t.out.value], t.mut(t.out)], [[30, 40], false]);
});

test("switchStream copies data and leaves the sources intact (ref switch_stream_node_clones_data)", () => {
  const t = switchSetup(true);
  t.left.push([1, 2, 3]);
  t.right.push([4, 5]);
  t.rt.runOneCycle();
  t.sw.push(false);
  t.rt.runOneCycle();
  assertEquals([...t.out.value], [4, 5]);
  assertEquals(t.left.node.value, [1, 2, 3]);
  assertEquals(t.right.node.value, [4, 5]);
  assert(t.out.value !== t.right.node.value);
});

test("switchStream: a flip in the same cycle as both inputs selects the new side (ref switch_during_same_cycle)", () => {
  const t = switchSetup(true);
  t.left.push([1, 2]);
  t.right.push([10, 20]);
  t.sw.push(false);
  t.rt.runOneCycle();
  assertEquals([...t.out.value], [10, 20]);
});

test("switchStream: both inputs in one cycle, the selected one wins (ref both_inputs_mutate_same_cycle)", () => {
  const t = switchSetup(true);
  t.left.push([1, 2]);
  t.right.push([10, 20]);
  t.rt.runOneCycle();
  assertEquals([...t.out.value], [1, 2]);
});

test("switchStream: empty inputs give an empty, unmutated output (ref empty_inputs)", () => {
  const t = switchSetup(true);
  t.left.push([]);
  t.rt.runOneCycle();
  assertEquals([[...t.out.value], t.mut(t.out)], [[], false]);
  t.right.push([]);
  t.rt.runOneCycle();
  assertEquals([[...t.out.value], t.mut(t.out)], [[], false]);
});

test("switchStream: switching several times (ref switch_multiple_times)", () => {
  const t = switchSetup(true);
  t.left.push([1]);
  t.rt.runOneCycle();
  assertEquals([...t.out.value], [1]);
  t.sw.push(false);
  t.rt.runOneCycle();
  t.right.push([2]);
  t.rt.runOneCycle();
  assertEquals([...t.out.value], [2]);
  t.sw.push(true);
  t.rt.runOneCycle();
  t.left.push([3]);
  t.rt.runOneCycle();
  assertEquals([...t.out.value], [3]);
});

test("switchStream with a constant selector (ref switch_with_no_initial_value)", () => {
  const { rt, ex, mut } = setup();
  const left = pushNode<number[]>(ex, []), right = pushNode<number[]>(ex, []);
  const out = switchStream(ex, left.node, right.node, constant(ex, true));
  left.push([1, 2]);
  rt.runOneCycle();
  assertEquals([...out.value], [1, 2]);
  right.push([10, 20]);
  rt.runOneCycle();
  assertEquals([[...out.value], mut(out)], [[1, 2], false]);
});

function valueSwitch(sel: boolean, initial: number, p0 = 10, s0 = 20) {
  const s = setup();
  const primary = pushNode(s.ex, p0), secondary = pushNode(s.ex, s0);
  const sw = pushNode(s.ex, sel);
  const out = switchValue(s.ex, primary.node, secondary.node, sw.node, initial);
  return { ...s, primary, secondary, sw, out };
}

test("switchValue basics (ref switch_node_basic)", () => {
  const t = valueSwitch(true, 0);
  const steps: [() => void, number, boolean][] = [
    [() => t.primary.push(100), 100, true],
    [() => t.secondary.push(200), 100, false],
    [() => t.sw.push(false), 200, true],
    [() => t.secondary.push(300), 300, true],
    [() => t.primary.push(400), 300, false],
  ];
  for (const [act, v, m] of steps) {
    act();
    t.rt.runOneCycle();
    assertEquals([t.out.value, t.mut(t.out)], [v, m]);
  }
});

test("switchValue copies the value and leaves the input as is (ref switch_node_clones_data)", () => {
  const t = valueSwitch(true, 0);
  t.primary.push(100);
  t.rt.runOneCycle();
  assertEquals([t.out.value, t.primary.node.value], [100, 100]);
});

test("switchValue: a flip with both inputs in one cycle (ref normal_switch_during_same_cycle, both_switch_inputs_mutate_same_cycle)", () => {
  const t = valueSwitch(true, 0);
  t.primary.push(100);
  t.secondary.push(200);
  t.sw.push(false);
  t.rt.runOneCycle();
  assertEquals(t.out.value, 200);
  const u = valueSwitch(true, 0);
  u.primary.push(100);
  u.secondary.push(200);
  u.rt.runOneCycle();
  assertEquals(u.out.value, 100);
});

test("switchValue pulls the newly selected input's current value (ref normal_switch_multiple_times)", () => {
  const t = valueSwitch(true, 0, 10, 20);
  const seen: number[] = [];
  for (
    const act of [
      () => t.primary.push(100),
      () => t.sw.push(false),
      () => t.secondary.push(200),
      () => t.sw.push(true),
      () => t.primary.push(300),
    ]
  ) {
    act();
    t.rt.runOneCycle();
    seen.push(t.out.value);
  }
  assertEquals(seen, [100, 20, 200, 100, 300]);
});

test("switchValue broadcasts even when the value is equal (ref switch_always_broadcasts)", () => {
  const t = valueSwitch(true, 0);
  t.primary.push(10);
  t.rt.runOneCycle();
  t.primary.push(10);
  t.rt.runOneCycle();
  assert(t.mut(t.out));
});

test("switchValue's initial value is visible before any cycle (ref switch_node_with_custom_initial)", () => {
  const t = valueSwitch(true, 999);
  assertEquals(t.out.value, 999);
  t.rt.runOneCycle();
  assertEquals(t.out.value, 999);
});

test("switchValue starts on the input the selector names at build, not always the first (§12 item 12)", () => {
  const t = valueSwitch(false, 0);
  t.primary.push(1);
  t.rt.runOneCycle();
  assertEquals([t.out.value, t.mut(t.out)], [0, false]);
  t.secondary.push(2);
  t.rt.runOneCycle();
  assertEquals(t.out.value, 2);
});

test("combineLatest waits for every parent, then emits a fresh tuple once per cycle", () => {
  const { rt, ex, mut } = setup();
  const a = pushNode(ex, 0), b = pushNode(ex, "-"), c = pushNode(ex, false);
  const all = combineLatest(ex, [a.node, b.node, c.node] as const);
  const p = probe(ex, all);
  assertEquals(all.value, [0, "-", false]);
  a.push(1);
  b.push("x");
  rt.runOneCycle();
  assert(!mut(all));
  c.push(true);
  rt.runOneCycle();
  a.push(2);
  b.push("y");
  c.push(false);
  rt.runOneCycle();
  assertEquals(p.values(), [[1, "x", true], [2, "y", false]]);
  assert(p.records[0].value !== p.records[1].value);
});

test("combineLatest with requireAll false emits on any parent; a constant parent blocks requireAll", () => {
  const { rt, ex, mut } = setup();
  const a = pushNode(ex, 0);
  const k = constant(ex, 7);
  const any = combineLatest(ex, [a.node, k] as const, { requireAll: false });
  const all = combineLatest(ex, [a.node, k] as const);
  const allEmit = combineLatest(ex, [a.node, constant(ex, 7, { emit: true })] as const);
  a.push(1);
  rt.runOneCycle();
  assertEquals(any.value, [1, 7]);
  assert(!mut(all));
  assert(mut(allEmit));
  assertThrows(() => combineLatest(ex, [] as const), InvalidArgumentError);
});

test("constant never runs by default; with emit it broadcasts once in the first cycle", () => {
  const { rt, ex, mut } = setup();
  const k = constant(ex, "v");
  const e = constant(ex, "w", { emit: true });
  rt.runOneCycle();
  assert(!mut(k) && mut(e));
  assertEquals(ex.runCount(k), 0);
  rt.runOneCycle();
  assert(!mut(e));
  assertEquals([k.value, e.value], ["v", "w"]);
});

// ---------------------------------------------------------------------- time

test("periodic broadcasts at every period, its first run silent (the reference never broadcast)", () => {
  const { rt, ex, mut } = setup();
  const tick = periodic(ex, ms(10));
  let childRuns = 0;
  new NodeBuilder(0).triggeredBy(tick).build(ex, () => {
    childRuns++;
    return Control.Unchanged;
  });
  rt.runOneCycle();
  assert(!mut(tick));
  for (let k = 1; k <= 5; k++) {
    rt.advanceClock(ms(10));
    rt.runOneCycle();
    assert(mut(tick), `tick ${k}`);
    assertEquals(tick.value, k);
  }
  assertEquals(childRuns, 5);
});

test("periodic does not drift when cycles run late: deadlines stay on start + k*period", () => {
  const { rt, ex } = setup();
  rt.advanceClock(ms(3)); // start at 3 ms
  const tick = periodic(ex, ms(10));
  const p = probe(ex, tick);
  rt.runOneCycle();
  // each cycle runs 4 ms late; a drifting timer would fire at 17, 31, 45, ...
  for (const t of [17, 27, 37, 47]) {
    rt.clock.setElapsed(ms(t));
    rt.runOneCycle();
  }
  assertEquals(p.values(), [1, 2, 3, 4]);
  assertEquals(ex.nextTimerDeadline(), ms(53));
  rt.clock.setElapsed(ms(52.999));
  rt.runOneCycle();
  assertEquals(p.values().length, 4);
});

test("periodic skips ahead when several deadlines passed in one cycle, broadcasting once", () => {
  const { rt, ex } = setup();
  const tick = periodic(ex, ms(10));
  const p = probe(ex, tick);
  rt.runOneCycle();
  rt.advanceClock(ms(35));
  rt.runOneCycle();
  assertEquals(p.values(), [3]);
  assertEquals(ex.nextTimerDeadline(), ms(40));
  rt.advanceClock(ms(5));
  rt.runOneCycle();
  assertEquals(p.values(), [3, 4]);
});

test("periodic: immediate broadcasts at the start; extra runs do not tick; removal cancels the timer", () => {
  const { rt, ex, mut } = setup();
  const tick = periodic(ex, ms(10), { immediate: true });
  rt.runOneCycle();
  assert(mut(tick));
  assertEquals(tick.value, 0);
  ex.yieldNow(tick); // a spurious run before the deadline
  rt.runOneCycle();
  assert(!mut(tick));
  assertEquals(ex.stats().pendingTimers, 1);
  tick.remove();
  assertEquals(ex.stats().pendingTimers, 0);
  assertThrows(() => periodic(ex, 0), InvalidArgumentError);
});

test("throttle: leading edge, drops values inside the interval", () => {
  const { rt, ex } = setup();
  const input = pushNode(ex, 0);
  const p = probe(ex, throttle(ex, input.node, ms(100)));
  for (const [t, v] of [[0, 1], [50, 2], [99, 3], [100, 4], [150, 5], [250, 6]]) {
    rt.clock.setElapsed(ms(t));
    input.push(v);
    rt.runOneCycle();
  }
  assertEquals(p.values(), [1, 4, 6]);
});

test("throttle with trailing emits the latest dropped value when the interval ends", () => {
  const { rt, ex } = setup();
  const input = pushNode(ex, 0);
  const p = probe(ex, throttle(ex, input.node, ms(100), { trailing: true }));
  for (const [t, v] of [[0, 1], [30, 2], [60, 3]]) {
    rt.clock.setElapsed(ms(t));
    input.push(v);
    rt.runOneCycle();
  }
  rt.clock.setElapsed(ms(100));
  rt.runOneCycle();
  assertEquals(p.records.map((r) => [r.timeNs / 1e6, r.value]), [[0, 1], [100, 3]]);
  rt.clock.setElapsed(ms(150));
  input.push(4);
  rt.runOneCycle();
  rt.clock.setElapsed(ms(200));
  rt.runOneCycle();
  assertEquals(p.values(), [1, 3, 4]);
});

test("debounce emits the last value after a quiet period; a due value is not lost to a new one", () => {
  const { rt, ex } = setup();
  const input = pushNode(ex, 0);
  const p = probe(ex, debounce(ex, input.node, ms(50)));
  for (const [t, v] of [[0, 1], [20, 2], [40, 3]]) {
    rt.clock.setElapsed(ms(t));
    input.push(v);
    rt.runOneCycle();
  }
  rt.clock.setElapsed(ms(60)); // the first timer (50 ms) fires early and re-arms at 90
  rt.runOneCycle();
  assertEquals(p.values(), []);
  rt.clock.setElapsed(ms(90));
  rt.runOneCycle();
  assertEquals(p.values(), [3]);
  input.push(4);
  rt.clock.setElapsed(ms(200));
  rt.runOneCycle(); // 4 pending until 250
  rt.clock.setElapsed(ms(260));
  input.push(5); // arrives in the cycle where 4 is due
  rt.runOneCycle();
  assertEquals(p.values(), [3, 4]);
  rt.clock.setElapsed(ms(310));
  rt.runOneCycle();
  assertEquals(p.values(), [3, 4, 5]);
});

test("windowTime emits each non-empty window when it closes; arrivals at the boundary open the next", () => {
  const { rt, ex } = setup();
  const input = pushNode(ex, 0);
  const p = probe(ex, windowTime(ex, input.node, ms(100)));
  const at = (t: number, v?: number) => {
    rt.clock.setElapsed(ms(t));
    if (v !== undefined) input.push(v);
    rt.runOneCycle();
  };
  at(10, 1); // anchor 10: windows [10,110), [110,210), ...
  at(60, 2);
  at(110, 3); // closes [1, 2]; 3 goes into [110, 210)
  at(200);
  at(210);
  at(500, 4); // empty windows skipped; 4 into [410, 510)
  at(510);
  assertEquals(p.records.map((r) => [r.timeNs / 1e6, [...r.value]]), [
    [110, [1, 2]],
    [210, [3]],
    [510, [4]],
  ]);
});

test("std functions validate their arguments", () => {
  const { ex } = setup();
  const input = pushNode(ex, 0);
  assertThrows(() => throttle(ex, input.node, -1), InvalidArgumentError);
  assertThrows(() => debounce(ex, input.node, NaN), InvalidArgumentError);
  assertThrows(() => windowTime(ex, input.node, 0), InvalidArgumentError);
  assertThrows(() => filter(ex, input.node, null as never), InvalidArgumentError);
  assertThrows(
    () => router(ex, pushNode<number[]>(ex, []).node, "k" as never),
    InvalidArgumentError,
  );
});
