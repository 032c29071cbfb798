/**
 * SimpleFactory and KeyedFactory: memoization per executor and per key, rebuild after
 * removal, re-entrant gets, throwing functions, misuse errors.
 *
 * @module
 */

import {
  BuilderError,
  Control,
  type Executor,
  InvalidArgumentError,
  type Node,
  NodeBuilder,
  TestRuntime,
} from "../mod.ts";
import { FactoryError, KeyedFactory, SimpleFactory } from "../std.ts";
import { assert, assertEquals, assertStrictEquals, assertThrows, test } from "./_harness.ts";

function leaf(ex: Executor, value: number, name = "leaf"): Node<number> {
  return new NodeBuilder(value).named(name).build(ex, () => Control.Unchanged);
}

test("SimpleFactory builds once and returns the same node on later gets", () => {
  const rt = new TestRuntime();
  let calls = 0;
  const f = new SimpleFactory<number>((ex) => {
    calls++;
    return leaf(ex, 7);
  });
  const a = f.get(rt.executor);
  const b = f.get(rt.executor);
  assertStrictEquals(a, b);
  assertEquals(calls, 1);
  assertEquals(a.value, 7);
  assertStrictEquals(f.peek(rt.executor), a);
  assertEquals(rt.executor.nodeCount, 1);
});

test("SimpleFactory memoizes per executor", () => {
  const r1 = new TestRuntime(), r2 = new TestRuntime();
  const f = new SimpleFactory<number>((ex) => leaf(ex, 1));
  const a = f.get(r1.executor), b = f.get(r2.executor);
  assert(a !== b);
  assert(r1.executor.liveNodes().includes(a) && r2.executor.liveNodes().includes(b));
  assertStrictEquals(f.get(r1.executor), a);
});

test("SimpleFactory rebuilds a node that left the graph instead of returning it dead", () => {
  const rt = new TestRuntime();
  let calls = 0;
  const f = new SimpleFactory<number>((ex) => leaf(ex, ++calls));
  const a = f.get(rt.executor);
  a.remove();
  assertEquals(f.peek(rt.executor), undefined);
  const b = f.get(rt.executor);
  assert(a !== b && b.isAlive);
  assertEquals(b.value, 2);
});

test("SimpleFactory rebuilds a node that swept itself during a cycle", () => {
  const rt = new TestRuntime();
  const f = new SimpleFactory<number>((ex) =>
    new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, () => Control.Sweep)
  );
  const a = f.get(rt.executor);
  rt.runOneCycle();
  assert(!a.isAlive);
  const b = f.get(rt.executor);
  assert(b.isAlive && b !== a);
});

test("SimpleFactory: attach after construction, attach twice and get before attach throw", () => {
  const rt = new TestRuntime();
  const f = new SimpleFactory<number>();
  assert(!f.isAttached);
  const e = assertThrows(() => f.get(rt.executor), FactoryError);
  assertEquals(e.code, "FACTORY_NOT_ATTACHED");
  f.attach((ex) => leaf(ex, 3));
  assert(f.isAttached);
  assertEquals(
    assertThrows(() => f.attach((ex) => leaf(ex, 4)), FactoryError).code,
    "FACTORY_ALREADY_ATTACHED",
  );
  assertEquals(f.get(rt.executor).value, 3);
});

test("SimpleFactory: a get of itself from inside its function is a cycle error, not a recursion", () => {
  const rt = new TestRuntime();
  const f: SimpleFactory<number> = new SimpleFactory<number>((ex) => {
    f.get(ex);
    return leaf(ex, 1);
  });
  const e = assertThrows(() => f.get(rt.executor), FactoryError);
  assertEquals(e.code, "FACTORY_CYCLE");
});

test("SimpleFactory: a throwing function leaves the factory usable and caches nothing", () => {
  const rt = new TestRuntime();
  let fail = true;
  const f = new SimpleFactory<number>((ex) => {
    if (fail) throw new Error("boom");
    return leaf(ex, 9);
  });
  let caught: unknown;
  try {
    f.get(rt.executor);
  } catch (err) {
    caught = err;
  }
  assertEquals((caught as Error).message, "boom");
  assertEquals(f.peek(rt.executor), undefined);
  fail = false;
  assertEquals(f.get(rt.executor).value, 9);
});

test("SimpleFactory rejects results that are not live nodes of the executor", () => {
  const r1 = new TestRuntime(), r2 = new TestRuntime();
  const notNode = new SimpleFactory<number>(() => 42 as unknown as Node<number>);
  assertEquals(
    assertThrows(() => notNode.get(r1.executor), FactoryError).code,
    "FACTORY_BAD_RESULT",
  );
  const foreign = new SimpleFactory<number>(() => leaf(r2.executor, 1));
  assertEquals(
    assertThrows(() => foreign.get(r1.executor), FactoryError).code,
    "FACTORY_BAD_RESULT",
  );
  const dead = new SimpleFactory<number>((ex) => {
    const n = leaf(ex, 1);
    n.remove();
    return n;
  });
  assertEquals(assertThrows(() => dead.get(r1.executor), FactoryError).code, "FACTORY_BAD_RESULT");
  // still usable afterwards
  assertThrows(() => notNode.get(r1.executor), FactoryError);
});

test("SimpleFactory.get inside a running cycle throws BuilderError (use spawnSubgraph)", () => {
  const rt = new TestRuntime();
  const f = new SimpleFactory<number>((ex) => leaf(ex, 1));
  let err: unknown;
  let viaSpawn: Node<number> | undefined;
  new NodeBuilder(0).onInit((ex, self) => ex.yieldNow(self)).build(rt.executor, (_s, ctx) => {
    try {
      f.get(ctx.executor);
    } catch (e) {
      err = e;
    }
    ctx.spawnSubgraph((ex) => {
      viaSpawn = f.get(ex);
    });
    return Control.Unchanged;
  });
  rt.runOneCycle();
  assert(err instanceof BuilderError);
  assert(viaSpawn !== undefined && viaSpawn.isAlive);
});

test("KeyedFactory builds one node per key and memoizes it", () => {
  const rt = new TestRuntime();
  const calls: string[] = [];
  const f = new KeyedFactory<string, string>((ex, key) => {
    calls.push(key);
    return new NodeBuilder(key).named(`k:${key}`).build(ex, () => false);
  });
  const a = f.get(rt.executor, "a");
  const b = f.get(rt.executor, "b");
  assertStrictEquals(f.get(rt.executor, "a"), a);
  assert(a !== b);
  assertEquals(calls, ["a", "b"]);
  assertEquals(f.size(rt.executor), 2);
  assertEquals(f.keys(rt.executor), ["a", "b"]);
  assert(f.has(rt.executor, "a") && !f.has(rt.executor, "c"));
});

test("KeyedFactory rebuilds a removed key and drops it from the cache as it leaves", () => {
  const rt = new TestRuntime();
  let builds = 0;
  const f = new KeyedFactory<number, number>((ex, k) => {
    builds++;
    return leaf(ex, k * 10);
  });
  const a = f.get(rt.executor, 1);
  f.get(rt.executor, 2);
  a.remove();
  assertEquals(f.size(rt.executor), 1);
  assertEquals(f.peek(rt.executor, 1), undefined);
  const a2 = f.get(rt.executor, 1);
  assert(a2.isAlive && a2 !== a);
  assertEquals(a2.value, 10);
  assertEquals(builds, 3);
});

test("KeyedFactory: a key built from other keys of the same factory works (re-entrant get)", () => {
  const rt = new TestRuntime();
  // fib(n) node = sum of fib(n-1) and fib(n-2) nodes, each key built once.
  let builds = 0;
  const fib: KeyedFactory<number, number> = new KeyedFactory<number, number>((ex, n) => {
    builds++;
    if (n < 2) return leaf(ex, n, `fib${n}`);
    const a = fib.get(ex, n - 1), b = fib.get(ex, n - 2);
    return new NodeBuilder(a.value + b.value).named(`fib${n}`).triggeredBy(a, b).build(
      ex,
      () => false,
    );
  });
  const f10 = fib.get(rt.executor, 10);
  assertEquals(f10.value, 55);
  assertEquals(builds, 11);
  assertEquals(fib.size(rt.executor), 11);
  assertEquals(f10.depth, 9);
});

test("KeyedFactory: a key that needs itself is a cycle error and leaves the factory usable", () => {
  const rt = new TestRuntime();
  const f: KeyedFactory<string, number> = new KeyedFactory<string, number>((ex, k) => {
    if (k === "a") f.get(ex, "b");
    if (k === "b") f.get(ex, "a");
    return leaf(ex, 1);
  });
  assertEquals(assertThrows(() => f.get(rt.executor, "a"), FactoryError).code, "FACTORY_CYCLE");
  assertEquals(f.size(rt.executor), 0);
  assertEquals(f.get(rt.executor, "c").value, 1);
});

test("KeyedFactory: a throwing function leaves nothing it built, nested keys included", () => {
  const rt = new TestRuntime();
  let fail = true;
  const f: KeyedFactory<string, number> = new KeyedFactory<string, number>((ex, k) => {
    if (k === "outer") {
      f.get(ex, "inner");
      if (fail) throw new RangeError("no outer yet");
    }
    return leaf(ex, k.length);
  });
  assertThrows(() => f.get(rt.executor, "outer"), RangeError);
  assertEquals(f.keys(rt.executor), [], "the nested key's node was removed with the failure");
  assertEquals(rt.executor.nodeCount, 0, "nothing half-built stays in the graph");
  assertThrows(() => f.get(rt.executor, "outer"), RangeError); // still not marked "building"
  fail = false;
  assertEquals(f.get(rt.executor, "outer").value, 5);
});

test("KeyedFactory: attach twice and get before attach throw typed errors", () => {
  const rt = new TestRuntime();
  const f = new KeyedFactory<number, number>();
  assertEquals(
    assertThrows(() => f.get(rt.executor, 1), FactoryError).code,
    "FACTORY_NOT_ATTACHED",
  );
  f.attach((ex, k) => leaf(ex, k));
  assertEquals(
    assertThrows(() => f.attach((ex, k) => leaf(ex, k)), FactoryError).code,
    "FACTORY_ALREADY_ATTACHED",
  );
  assertEquals(
    assertThrows(() => new KeyedFactory(42 as never), InvalidArgumentError).code,
    "INVALID_ARGUMENT",
  );
});

test("KeyedFactory compares keys like Map keys (objects by identity, NaN equal to NaN)", () => {
  const rt = new TestRuntime();
  const f = new KeyedFactory<unknown, number>((ex) => leaf(ex, 0));
  const k = { id: 1 };
  assertStrictEquals(f.get(rt.executor, k), f.get(rt.executor, k));
  assert(f.get(rt.executor, { id: 1 }) !== f.get(rt.executor, k));
  assertStrictEquals(f.get(rt.executor, NaN), f.get(rt.executor, NaN));
});

test("Factories compose: environment-specific sources with identical downstream wiring", () => {
  // The README use case: the same graph code over a live or a test implementation.
  function wire(ex: Executor, src: SimpleFactory<number>): Node<number> {
    const s = src.get(ex);
    return new NodeBuilder(0).triggeredBy(s).build(ex, (self) => {
      self.value = s.value * 2;
      return true;
    });
  }
  const testSrc = new SimpleFactory<number>((ex) =>
    new NodeBuilder(21).onInit((e, self) => e.yieldNow(self)).build(ex, () => true)
  );
  const rt = new TestRuntime();
  const out = wire(rt.executor, testSrc);
  rt.runOneCycle();
  assertEquals(out.value, 42);
  // the same factory node is shared by a second consumer
  const out2 = wire(rt.executor, testSrc);
  assertEquals(rt.executor.triggerChildrenOf(testSrc.get(rt.executor)).length, 2);
  assert(out2 !== out);
});
