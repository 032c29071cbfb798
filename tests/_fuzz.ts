/**
 * Shared pieces of the public-API fuzz suite (`tests/fuzz_api_*_test.ts`): arbitraries of bad
 * argument values, and a graph that checks the rule every entry point must keep: a call either
 * succeeds or throws a `WaveletError` with a string code (never a bare TypeError or RangeError,
 * never a hang), and afterwards the executor still works (a node queued before the call and a
 * node built after it both run in the next cycle).
 *
 * @module
 */

import fc from "fast-check";
import { AssertionError, test } from "./_harness.ts";
import { Control } from "../src/core/control.ts";
import type { Executor } from "../src/core/executor.ts";
import type { Node } from "../src/core/node.ts";
import { NodeBuilder } from "../src/core/builder.ts";
import { TestRuntime } from "../src/runtime/test_runtime.ts";
import { WaveletError } from "../src/core/errors.ts";

// Failures print the error's message in the report itself (Bun shows no `cause`).
fc.configureGlobal({ includeErrorInReport: true });

/** Runs per property: enough to hit every kind of bad value, few enough to run in seconds. */
export const RUNS = 120;

/** Stands for "the valid value of this argument" in a generated argument list. */
export const VALID: unique symbol = Symbol("valid");

/**
 * An object whose every property read and `in` test throws: the worst "object with throwing
 * getters" (an options object, a runtime, a buffer). fast-check can still print it.
 */
export function throwingObject(): object {
  // fast-check's own symbols answer normally, so that it can clone and print the value.
  const own = new Set<PropertyKey>([fc.cloneMethod, fc.toStringMethod, fc.asyncToStringMethod]);
  return new Proxy({}, {
    get(_t, key) {
      if (key === fc.toStringMethod) return () => "throwingObject()";
      if (own.has(key)) return undefined;
      throw new Error(`reading ${String(key)} threw on purpose`);
    },
    has(_t, key) {
      if (own.has(key)) return key === fc.toStringMethod;
      throw new Error("an `in` test threw on purpose");
    },
  });
}

/** An object with one throwing getter, at `key`. */
export function throwingGetter(key: string): object {
  const o = {};
  Object.defineProperty(o, key, {
    enumerable: true,
    get() {
      throw new Error(`the ${key} getter threw on purpose`);
    },
  });
  Object.defineProperty(o, fc.toStringMethod, { value: () => `throwingGetter(${key})` });
  return o;
}

const SPECIAL_NUMBERS = [
  NaN,
  Infinity,
  -Infinity,
  -1,
  0,
  -0,
  0.5,
  1.5,
  -2.5,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  1e300,
  -1e300,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.MAX_SAFE_INTEGER,
];

/** Numbers that break most numeric arguments: NaN, infinities, negatives, fractions, huge. */
export const badNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(...SPECIAL_NUMBERS),
  fc.double(),
  fc.integer(),
);

/** Values of the wrong kind for most arguments, plus the usual suspects of each kind. */
export const badValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.anything() },
  { weight: 3, arbitrary: badNumber },
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      null,
      undefined,
      "",
      "x",
      "1",
      true,
      false,
      0n,
      -1n,
      Symbol("bad"),
      [],
      {},
      [1, 2],
    ),
  },
  { weight: 1, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.bigInt() },
  { weight: 1, arbitrary: fc.func(fc.anything()) },
  { weight: 1, arbitrary: fc.constant(null).map(() => throwingObject()) },
  { weight: 1, arbitrary: fc.constant(null).map(() => new Uint8Array(3)) },
);

/** The valid value (as {@linkcode VALID}) or a bad one. */
export function arg(bad: fc.Arbitrary<unknown> = badValue): fc.Arbitrary<unknown> {
  return fc.oneof(fc.constant(VALID), bad);
}

/**
 * Bad options: not an object at all, an object whose listed keys hold bad values (or valid ones
 * given in `good`), or one whose key has a throwing getter.
 */
export function badOptions(
  keys: readonly string[],
  good: Record<string, fc.Arbitrary<unknown>> = {},
): fc.Arbitrary<unknown> {
  const field = (k: string) => good[k] === undefined ? badValue : fc.oneof(badValue, good[k]);
  const rec = fc.record(Object.fromEntries(keys.map((k) => [k, field(k)])), {
    requiredKeys: [],
  });
  const arbs: fc.Arbitrary<unknown>[] = [badValue, rec, rec, rec];
  if (keys.length > 0) arbs.push(fc.constantFrom(...keys).map(throwingGetter));
  return fc.oneof(...arbs);
}

/** An options argument: valid (as {@linkcode VALID}, usually `{}`) or bad. */
export function opts(
  keys: readonly string[],
  good: Record<string, fc.Arbitrary<unknown>> = {},
): fc.Arbitrary<unknown> {
  return arg(badOptions(keys, good));
}

/** `v`, or the valid value when `v` is {@linkcode VALID}. */
// deno-lint-ignore no-explicit-any
export function pick(v: unknown, valid: () => unknown): any {
  return v === VALID ? valid() : v;
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}`;
  try {
    return `a thrown ${typeof e}: ${String(e)}`;
  } catch {
    return `a thrown ${typeof e}`;
  }
}

/** Throws unless `e` is a WaveletError with a non-empty string code and a proper message. */
export function assertTyped(what: string, e: unknown): void {
  if (e instanceof AssertionError) throw e; // a nested check failed: report it as it is
  if (!(e instanceof WaveletError) || typeof e.code !== "string" || e.code.length === 0) {
    throw new AssertionError(
      `${what} threw ${describeError(e)}, not a WaveletError with a code`,
    );
  }
  if (e.message.length === 0 || e.message.endsWith(".")) {
    throw new AssertionError(`${what} threw a message that is not a sentence: "${e.message}"`);
  }
}

/** Calls `fn`; returns what it returned, or undefined when it threw a typed error. */
export function expectTyped(what: string, fn: () => unknown): unknown {
  try {
    return fn();
  } catch (e) {
    assertTyped(what, e);
    return undefined;
  }
}

/** Async variant of {@linkcode expectTyped}. */
export async function expectTypedAsync(what: string, fn: () => unknown): Promise<unknown> {
  try {
    return await fn();
  } catch (e) {
    assertTyped(what, e);
    return undefined;
  }
}

/** A node that counts its runs and yields itself once at build, so it runs next cycle. */
export function counter(ex: Executor, name: string): Node<number> {
  return new NodeBuilder(0)
    .named(name)
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (self) => {
      self.value++;
      return Control.Unchanged;
    });
}

/**
 * A test runtime with a node queued for the next cycle, to check that a bad call leaves the
 * executor working and loses nothing queued.
 */
export class Graph {
  /** The runtime. */
  readonly rt: TestRuntime = new TestRuntime();
  /** Errors reported to `onError` (a succeeded call may build nodes that fail later). */
  readonly errors: unknown[] = [];
  /** Queued before the call; must run in the next cycle. */
  readonly queued: Node<number>;

  constructor() {
    this.rt.executor.onError = (e) => {
      this.errors.push(e);
    };
    this.queued = counter(this.rt.executor, "queued");
  }

  /** The executor. */
  get ex(): Executor {
    return this.rt.executor;
  }

  /** A live root of this executor that nothing schedules, holding `value`. */
  node<T>(value: T, name = "input"): Node<T> {
    return new NodeBuilder(value).named(name).build(this.ex, () => Control.Unchanged);
  }

  /** Runs the next cycle and checks that the queued node and a fresh one both ran. */
  assertStillWorks(what: string): void {
    const ranBefore = this.queued.value;
    const fresh = counter(this.ex, "fresh");
    this.rt.runOneCycle();
    if (!(this.queued.value >= 1 && this.queued.value >= ranBefore)) {
      throw new AssertionError(`after ${what}, the node queued before the call did not run`);
    }
    if (fresh.value !== 1) {
      throw new AssertionError(`after ${what}, a node built after the call did not run`);
    }
  }
}

/**
 * One property over a graph: for generated arguments, `call(g, args)` either succeeds or throws
 * a typed error, and the graph still works afterwards. `after` may check more (a succeeded
 * call's result) and must release what the call created.
 */
export function fuzzCall(
  name: string,
  args: fc.Arbitrary<unknown>[],
  // deno-lint-ignore no-explicit-any
  call: (g: Graph, a: unknown[]) => any,
  runs = RUNS,
): void {
  test(`fuzz: ${name} gives a typed error or works, and the graph still runs`, () => {
    fc.assert(
      fc.property(fc.tuple(...args), (a) => {
        const g = new Graph();
        expectTyped(name, () => call(g, a));
        g.assertStillWorks(name);
      }),
      { numRuns: runs },
    );
  });
}
