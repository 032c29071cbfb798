/**
 * Testing utilities: push nodes, batch push nodes, probes, runUntil and runCycles
 * (reference §10.11 plus the port's own cases).
 *
 * @module
 */

import {
  CapacityError,
  Control,
  InvalidArgumentError,
  ms,
  NodeBuilder,
  NodeRemovedError,
  TestRuntime,
} from "../mod.ts";
import { probe, pushBatchNode, pushNode, runCycles, runUntil } from "../testing.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";

test("push node: a pushed value reaches a Trigger child in the next cycle (ref push_node)", () => {
  const rt = new TestRuntime();
  const input = pushNode(rt.executor, 0);
  const text = new NodeBuilder("").triggeredBy(input.node).build(rt.executor, (self) => {
    self.value = String(input.node.value);
    return Control.Broadcast;
  });
  input.push(2);
  rt.runOneCycle();
  assert(rt.executor.hasMutated(text));
  assertEquals(text.value, "2");
});

test("push node: several pushes before a cycle deliver the last one, in one broadcast", () => {
  const rt = new TestRuntime();
  const input = pushNode(rt.executor, 0);
  const p = probe(rt.executor, input.node);
  input.push(1);
  input.push(2);
  input.push(3);
  assert(input.hasPending);
  rt.runOneCycle();
  assert(!input.hasPending);
  assertEquals(p.values(), [3]);
  assertEquals(input.node.value, 3);
});

test("push node: a cycle without a push does not run or broadcast it", () => {
  const rt = new TestRuntime();
  const input = pushNode(rt.executor, 5);
  input.push(6);
  rt.runOneCycle();
  const runs = rt.executor.runCount(input.node);
  rt.runOneCycle();
  assert(!rt.executor.hasMutated(input.node));
  assertEquals(rt.executor.runCount(input.node), runs);
  assertEquals(input.node.value, 6);
});

test("push node: the initial value is visible before any cycle; pushing a removed node throws", () => {
  const rt = new TestRuntime();
  const input = pushNode(rt.executor, "init", { name: "in" });
  assertEquals(input.node.value, "init");
  assertEquals(input.node.name, "in");
  input.node.remove();
  assertThrows(() => input.push("x"), NodeRemovedError);
  assert(!input.hasPending);
});

test("push node: a push from inside a cycle is delivered in the following cycle", () => {
  const rt = new TestRuntime();
  const input = pushNode(rt.executor, 0);
  const p = probe(rt.executor, input.node);
  new NodeBuilder(0).onInit((ex, self) => ex.yieldNow(self)).build(rt.executor, () => {
    input.push(99);
    return Control.Unchanged;
  });
  rt.runOneCycle();
  assertEquals(p.values(), []);
  rt.runOneCycle();
  assertEquals(p.records.map((r) => [r.epoch, r.value]), [[2, 99]]);
});

test("batch push node: pushes before a cycle form one batch in order; pushAll([]) broadcasts []", () => {
  const rt = new TestRuntime();
  const input = pushBatchNode<number>(rt.executor, { name: "batch" });
  const p = probe(rt.executor, input.node);
  input.push(1);
  input.pushAll([2, 3]);
  assertEquals(input.pendingCount, 3);
  rt.runOneCycle();
  assertEquals(input.node.value, [1, 2, 3]);
  rt.runOneCycle(); // nothing pushed
  input.pushAll([]);
  rt.runOneCycle();
  assertEquals(p.values(), [[1, 2, 3], []]);
  assertEquals(p.epochs(), [1, 3]);
});

test("probe: records every broadcast with its epoch and cycle time", () => {
  const rt = new TestRuntime();
  const input = pushNode(rt.executor, 0);
  const p = probe(rt.executor, input.node);
  input.push(10);
  rt.runOneCycle();
  rt.advanceClock(ms(5));
  rt.runOneCycle();
  input.push(11);
  rt.runOneCycle();
  assertEquals(p.records, [
    { epoch: 1, timeNs: 0, value: 10 },
    { epoch: 3, timeNs: ms(5), value: 11 },
  ]);
  assertEquals(p.last(), 11);
  assertEquals(p.node.value, 2);
  p.clear();
  assertEquals(p.values(), []);
  assertEquals(p.last(), undefined);
});

test("probe: records by reference unless a copy function is given", () => {
  const rt = new TestRuntime();
  // a node that mutates one array in place
  const acc = new NodeBuilder<number[]>([]).onInit((ex, self) => ex.yieldNow(self)).build(
    rt.executor,
    (self, ctx) => {
      self.value.push(self.value.length);
      if (self.value.length < 3) ctx.yieldNow();
      return true;
    },
  );
  const byRef = probe(rt.executor, acc);
  const copied = probe(rt.executor, acc, { copy: (v) => [...v] });
  runCycles(rt, 3);
  assertEquals(byRef.values(), [[0, 1, 2], [0, 1, 2], [0, 1, 2]]);
  assertEquals(copied.values(), [[0], [0, 1], [0, 1, 2]]);
  assertThrows(
    () => probe(rt.executor, acc, { copy: 1 as unknown as (v: number[]) => number[] }),
    InvalidArgumentError,
  );
});

test("probe: sees the value after the broadcast, as children do, and leaves with its target", () => {
  const rt = new TestRuntime();
  const input = pushNode(rt.executor, 0);
  const p = probe(rt.executor, input.node);
  input.push(1);
  rt.runOneCycle();
  input.node.remove();
  assert(!p.node.isAlive);
  assertEquals(p.values(), [1]);
});

test("runCycles runs n cycles and stops early on Terminate", () => {
  const rt = new TestRuntime();
  assertEquals(runCycles(rt, 0), 0);
  assertEquals(runCycles(rt, 4), 4);
  assertEquals(rt.executor.epoch, 4);
  let runs = 0;
  new NodeBuilder(0).onInit((ex, self) => ex.yieldNow(self)).build(rt.executor, (_s, ctx) => {
    ctx.yieldNow();
    return ++runs === 2 ? Control.Terminate : Control.Unchanged;
  });
  assertEquals(runCycles(rt, 10), 2);
  assertThrows(() => runCycles(rt, -1), InvalidArgumentError);
  assertThrows(() => runCycles(rt, 1.5), InvalidArgumentError);
});

test("runUntil checks first, then after each cycle, and returns the cycles run", () => {
  const rt = new TestRuntime();
  assertEquals(runUntil(rt, () => true), 0);
  const counter = new NodeBuilder(0).onInit((ex, self) => ex.yieldNow(self)).build(
    rt.executor,
    (self, ctx) => {
      self.value++;
      ctx.yieldNow();
      return true;
    },
  );
  assertEquals(runUntil(rt, () => counter.value === 5), 5);
});

test("runUntil advances the clock before each cycle when asked, for time-driven nodes", () => {
  const rt = new TestRuntime();
  let fired = 0;
  new NodeBuilder(0).onInit((ex, self) => ex.registerTimer(self, ms(30))).build(
    rt.executor,
    () => {
      fired++;
      return false;
    },
  );
  assertEquals(runUntil(rt, () => fired === 1, 100, ms(10)), 3);
  assertEquals(rt.clock.nowNs(), ms(30));
  assertThrows(
    () => runUntil({ runOneCycle: () => rt.runOneCycle() }, () => false, 5, 1),
    InvalidArgumentError,
  );
});

test("runUntil throws CapacityError after maxCycles, or when the executor terminates first", () => {
  const rt = new TestRuntime();
  assertThrows(() => runUntil(rt, () => false, 3), CapacityError);
  assertEquals(rt.executor.epoch, 3);
  new NodeBuilder(0).onInit((ex, self) => ex.yieldNow(self)).build(
    rt.executor,
    () => Control.Terminate,
  );
  assertThrows(() => runUntil(rt, () => false, 100), CapacityError);
  assertEquals(rt.executor.epoch, 4);
  assertThrows(() => runUntil(rt, () => false, -1), InvalidArgumentError);
});
