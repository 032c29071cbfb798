/**
 * Public-API fuzz, feature builders: every std node, Router, the testing helpers and the
 * factories get random bad arguments and options. Each call must succeed or throw a typed
 * `WaveletError` at build (a non-function where a function is expected never waits for the first
 * cycle), and the executor must keep working.
 *
 * @module
 */

import fc from "fast-check";
import { assert, assertEquals, test } from "./_harness.ts";
import { arg, badNumber, badValue, expectTyped, fuzzCall, Graph, opts, pick } from "./_fuzz.ts";
import { RUNS } from "../src/core/graph.ts";
import {
  accumulate,
  deduplicate,
  distinctUntilChanged,
  filter,
  filterBatch,
  map,
  mapBatch,
  scan,
  windowCount,
} from "../src/std/transform.ts";
import { and, not, or, xor } from "../src/std/logic.ts";
import { combineLatest, Router, router, switchStream, switchValue } from "../src/std/control.ts";
import { constant } from "../src/std/util.ts";
import { Control } from "../src/core/control.ts";
import { debounce, periodic, throttle, windowTime } from "../src/std/time.ts";
import type { Executor } from "../src/core/executor.ts";
import { KeyedFactory, SimpleFactory } from "../src/factory.ts";
import type { Node } from "../src/core/node.ts";
import { NodeBuilder } from "../src/core/builder.ts";
import { probe, pushBatchNode, pushNode, runCycles, runUntil } from "../src/testing.ts";
import { TestRuntime } from "../src/runtime/test_runtime.ts";

/** A parent argument: valid, bad, a removed node or a node of another executor. */
const parentArg = arg(fc.oneof(badValue, fc.constantFrom("removed", "foreign")));

function parent<T>(g: Graph, v: unknown, value: T): Node<T> {
  if (v === "removed") {
    const n = g.node(value, "removed");
    n.remove();
    return n;
  }
  if (v === "foreign") return new NodeBuilder(value).build(new TestRuntime().executor, () => 0);
  return pick(v, () => g.node(value));
}

/** A function argument: valid, or bad (never a function that throws). */
const fnArg = arg();

const name = { name: fc.string() };

/**
 * Builds the std node, then pushes a value through it: a build that succeeded with bad
 * arguments must not fail in its first cycle because of them.
 */
function std(
  label: string,
  fnCount: number,
  optionKeys: readonly string[],
  good: Record<string, fc.Arbitrary<unknown>>,
  // deno-lint-ignore no-explicit-any
  build: (g: Graph, ex: Executor, p: Node<unknown>, fns: unknown[], o: any) => unknown,
  value: unknown = 1,
): void {
  fuzzCall(label, [
    arg(),
    parentArg,
    fc.array(fnArg, { minLength: fnCount, maxLength: fnCount }),
    opts(optionKeys, { ...name, ...good }),
  ], (g, [e, p, fns, o]) => {
    const ex = pick(e, () => g.ex);
    const input = parent(g, p, value);
    const built = build(g, ex, input, fns as unknown[], pick(o, () => ({})));
    if (built !== undefined && input.isAlive && g.ex.liveNodes().includes(input)) {
      // The parent broadcasts next cycle and the built node runs with it: what the build
      // accepted must not fail there.
      g.ex.yieldNow(input);
      g.rt.runOneCycle();
      assertEquals(g.errors.map(String), [], `${label} failed in its first cycle`);
    }
  });
}

const id = (x: unknown) => x;
const f = (fns: unknown[], i: number, valid: unknown) => pick(fns[i], () => valid);

std(
  "map(executor, parent, fn, options)",
  1,
  ["initial"],
  {},
  (_g, ex, p, fns, o) => map(ex, p, f(fns, 0, id), o),
);
std(
  "filter(executor, parent, predicate, options)",
  1,
  ["initial"],
  {},
  (_g, ex, p, fns, o) => filter(ex, p, f(fns, 0, () => true), o),
);
std(
  "scan(executor, parent, initial, fold, options)",
  1,
  [],
  {},
  (_g, ex, p, fns, o) => scan(ex, p, 0, f(fns, 0, (a: number) => a + 1), o),
);
std(
  "distinctUntilChanged(executor, parent, options)",
  0,
  ["key", "equals"],
  { key: fc.constant(id), equals: fc.constant(Object.is) },
  (_g, ex, p, _fns, o) => distinctUntilChanged(ex, p, o as never),
);
std(
  "filterBatch(executor, parent, predicate, options)",
  1,
  [],
  {},
  (_g, ex, p, fns, o) => filterBatch(ex, p as Node<number[]>, f(fns, 0, () => true), o),
  [1, 2],
);
std(
  "mapBatch(executor, parent, fn, options)",
  1,
  [],
  {},
  (_g, ex, p, fns, o) => mapBatch(ex, p as Node<number[]>, f(fns, 0, id), o),
  [1, 2],
);
std(
  "accumulate(executor, parent, initial, fold, options)",
  1,
  ["reset"],
  { reset: fc.constant(() => 0) },
  (_g, ex, p, fns, o) =>
    accumulate(ex, p as Node<number[]>, 0, f(fns, 0, (a: number) => a + 1), o as never),
  [1, 2],
);
std(
  "deduplicate(executor, parent, key, options)",
  1,
  [],
  {},
  (_g, ex, p, fns, o) => deduplicate(ex, p as Node<number[]>, f(fns, 0, undefined), o),
  [1, 1],
);
std(
  "windowCount(executor, parent, size, options)",
  1,
  ["step"],
  { step: fc.integer({ min: 1, max: 5 }) },
  (_g, ex, p, fns, o) => windowCount(ex, p, f(fns, 0, 2), o as never),
);
for (const [label, op] of [["and", and], ["or", or], ["xor", xor]] as const) {
  std(
    `${label}(executor, left, right, options)`,
    1,
    ["init", "bootstrap"],
    { init: fc.boolean(), bootstrap: fc.boolean() },
    (g, ex, p, fns, o) =>
      op(ex, p as Node<boolean>, f(fns, 0, g.node(true)) as Node<boolean>, o as never),
    true,
  );
}
std(
  "not(executor, input, options)",
  0,
  [],
  {},
  (_g, ex, p, _fns, o) => not(ex, p as Node<boolean>, o),
  false,
);
std(
  "combineLatest(executor, parents, options)",
  1,
  ["requireAll"],
  { requireAll: fc.boolean() },
  (g, ex, p, fns, o) => combineLatest(ex, f(fns, 0, [p, g.node(2)]) as never, o as never),
);
std(
  "switchValue(executor, primary, secondary, selector, initial, options)",
  2,
  [],
  {},
  (g, ex, p, fns, o) =>
    switchValue(ex, p, f(fns, 0, g.node(2)), f(fns, 1, g.node(true)), 0, o as never),
);
std(
  "switchStream(executor, primary, secondary, selector, options)",
  2,
  [],
  {},
  (g, ex, p, fns, o) =>
    switchStream(
      ex,
      p as Node<number[]>,
      f(fns, 0, g.node([3])),
      f(fns, 1, g.node(false)),
      o as never,
    ),
  [1],
);
std(
  "router(executor, source, key, options) and Router.route(key)",
  2,
  [],
  {},
  (_g, ex, p, fns, o) => {
    const r = router(ex, p as Node<number[]>, f(fns, 0, id), o as never);
    r.route(fns[1]);
    r.route(fns[1]);
    return r;
  },
  [1, 2],
);
std(
  "throttle(executor, parent, intervalNs, options)",
  1,
  ["trailing"],
  { trailing: fc.boolean() },
  (_g, ex, p, fns, o) => throttle(ex, p, f(fns, 0, 10), o as never),
);
std(
  "debounce(executor, parent, quietNs, options)",
  1,
  [],
  {},
  (_g, ex, p, fns, o) => debounce(ex, p, f(fns, 0, 10), o as never),
);
std(
  "windowTime(executor, parent, durationNs, options)",
  1,
  [],
  {},
  (_g, ex, p, fns, o) => windowTime(ex, p, f(fns, 0, 10), o as never),
);

fuzzCall("periodic(executor, periodNs, options)", [
  arg(),
  arg(badNumber),
  opts(["name", "immediate"], { ...name, immediate: fc.boolean() }),
], (g, [e, period, o]) => {
  periodic(pick(e, () => g.ex), pick(period, () => 10), pick(o, () => ({})));
});

fuzzCall("constant(executor, value, options)", [
  arg(),
  badValue,
  opts(["name", "emit"], { ...name, emit: fc.boolean() }),
], (g, [e, v, o]) => {
  constant(pick(e, () => g.ex), v, pick(o, () => ({})));
});

fuzzCall("new Router(executor, node, entries, name)", [arg(), arg(), arg(), arg()], (
  g,
  [e, n, m, s],
) => {
  const r = new Router(
    pick(e, () => g.ex),
    pick(n, () => g.node(0)),
    pick(m, () => new Map()),
    pick(s, () => "r"),
  );
  r.route(1);
});

test("fuzz: std periodic and windowTime stay bounded at huge clock times", () => {
  fc.assert(
    fc.property(
      fc.double({ min: 1, max: 1e6, noNaN: true }),
      fc.double({ min: 1e15, max: 1e300, noNaN: true }),
      (
        period,
        far,
      ) => {
        const g = new Graph();
        const p = periodic(g.ex, period);
        const input = g.node(1);
        const w = windowTime(g.ex, input, period);
        g.rt.runOneCycle();
        g.rt.advanceClock(far);
        g.ex.yieldNow(input);
        const cycles = g.rt.runUntilIdle(1000);
        assert(cycles < 1000, "the graph went idle");
        assert(Number.isFinite(p.value) && p.value >= 0, `periodic's tick ${p.value}`);
        void w;
        g.assertStillWorks("periodic at a huge time");
      },
    ),
    { numRuns: 60 },
  );
});

// ---------------------------------------------------------------------------------------------
// Testing helpers

fuzzCall("pushNode(executor, initial, options) and push", [
  arg(),
  badValue,
  opts(["name"], name),
  badValue,
], (g, [e, initial, o, v]) => {
  const h = pushNode(pick(e, () => g.ex), initial, pick(o, () => ({})));
  h.push(v);
  h.node.remove();
  expectTyped("push after removal", () => h.push(v));
});

fuzzCall("pushBatchNode(executor, options), push and pushAll", [
  arg(),
  opts(["name"], name),
  badValue,
  arg(fc.oneof(badValue, fc.array(badValue, { maxLength: 3 }))),
], (g, [e, o, item, items]) => {
  const h = pushBatchNode(pick(e, () => g.ex), pick(o, () => ({})));
  h.push(item);
  const before = h.pendingCount;
  expectTyped("pushAll", () => h.pushAll(pick(items, () => [1, 2]) as Iterable<unknown>));
  assert(h.pendingCount >= before, "pushAll never loses pending items");
});

fuzzCall("probe(executor, target, options)", [
  arg(),
  parentArg,
  opts(["copy", "name"], { ...name, copy: fc.constant((v: unknown) => v) }),
], (g, [e, t, o]) => {
  const target = parent(g, t, 1);
  const p = probe(pick(e, () => g.ex), target, pick(o, () => ({})));
  if (target.isAlive) g.ex.yieldNow(target);
  return p;
});

fuzzCall("runCycles(rt, n)", [arg(), arg(fc.oneof(badValue, fc.nat(50)))], (g, [r, n]) => {
  runCycles(pick(r, () => g.rt), pick(n, () => 3));
});

fuzzCall("runUntil(rt, predicate, maxCycles, advanceNs)", [
  arg(),
  arg(),
  arg(fc.oneof(badValue, fc.nat(50))),
  arg(fc.oneof(badValue, fc.nat(1000))),
], (g, [r, p, m, a]) => {
  let i = 0;
  runUntil(
    pick(r, () => g.rt),
    pick(p, () => () => ++i > 2),
    pick(m, () => 10),
    pick(a, () => 0),
  );
});

// ---------------------------------------------------------------------------------------------
// Factories

fuzzCall("SimpleFactory: constructor, attach, get, peek", [arg(), arg(), badValue], (
  g,
  [fn, e, other],
) => {
  const valid = (ex: Executor) => new NodeBuilder(0).build(ex, () => Control.Unchanged);
  const fac = expectTyped("new SimpleFactory", () => new SimpleFactory(pick(fn, () => valid))) as
    | SimpleFactory<number>
    | undefined;
  const sf = fac ?? new SimpleFactory(valid);
  expectTyped("SimpleFactory.attach", () => sf.attach(other as never));
  expectTyped("SimpleFactory.get", () => sf.get(pick(e, () => g.ex)));
  expectTyped("SimpleFactory.peek", () => sf.peek(pick(e, () => g.ex)));
});

fuzzCall("KeyedFactory: constructor, attach, get, peek, has, size, keys", [
  arg(),
  arg(),
  badValue,
], (g, [fn, e, key]) => {
  const valid = (ex: Executor, k: unknown) => new NodeBuilder(k).build(ex, () => 0);
  const fac = expectTyped("new KeyedFactory", () => new KeyedFactory(pick(fn, () => valid))) as
    | KeyedFactory<unknown, unknown>
    | undefined;
  const kf = fac ?? new KeyedFactory(valid);
  const ex = pick(e, () => g.ex);
  expectTyped("KeyedFactory.attach", () => kf.attach(key as never));
  expectTyped("KeyedFactory.get", () => kf.get(ex, key));
  expectTyped("KeyedFactory.peek", () => kf.peek(ex, key));
  expectTyped("KeyedFactory.has", () => kf.has(ex, key));
  expectTyped("KeyedFactory.size", () => kf.size(ex));
  expectTyped("KeyedFactory.keys", () => kf.keys(ex));
});

test("fuzz: std builders check functions at build, never in the first cycle", () => {
  fc.assert(
    fc.property(badValue.filter((v) => typeof v !== "function" && v !== undefined), (bad) => {
      const g = new Graph();
      const input = g.node(1);
      const batch = g.node([1]);
      const calls: [string, () => unknown][] = [
        ["map", () => map(g.ex, input, bad as never)],
        ["filter", () => filter(g.ex, input, bad as never)],
        ["scan", () => scan(g.ex, input, 0, bad as never)],
        ["filterBatch", () => filterBatch(g.ex, batch, bad as never)],
        ["mapBatch", () => mapBatch(g.ex, batch, bad as never)],
        ["accumulate", () => accumulate(g.ex, batch, 0, bad as never)],
        ["deduplicate", () => deduplicate(g.ex, batch, bad as never)],
        ["router", () => router(g.ex, batch, bad as never)],
        ["distinctUntilChanged", () => distinctUntilChanged(g.ex, input, { key: bad as never })],
      ];
      for (const [label, call] of calls) {
        let threw = false;
        try {
          call();
        } catch {
          threw = true;
        }
        assert(threw, `${label} accepted ${typeof bad} as its function`);
      }
      g.ex.yieldNow(input);
      g.ex.yieldNow(batch);
      g.assertStillWorks("std builds with a bad function");
      assertEquals(g.errors, [], "nothing failed in a cycle");
    }),
    { numRuns: RUNS },
  );
});
