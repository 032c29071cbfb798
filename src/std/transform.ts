/**
 * Transform nodes. Two kinds of input appear here:
 *
 * - a *value stream*: every cycle in which the parent broadcasts is one event carrying
 *   `parent.value` (`map`, `filter`, `scan`, `distinctUntilChanged`, `windowCount`);
 * - a *batch stream*: the parent holds a `readonly T[]` and every broadcast delivers that batch
 *   (`filterBatch`, `mapBatch`, `accumulate`, `deduplicate`), as in the original crate.
 *
 * Every node here is a Trigger child of its parent, so it runs in the same cycle as the parent
 * broadcasts and never otherwise. Output arrays are always new arrays (never mutated after they
 * were broadcast), so a consumer may keep a reference to a value it saw.
 *
 * @module
 */

import { Control } from "../core/control.ts";
import type { Executor } from "../core/executor.ts";
import type { Node } from "../core/node.ts";
import { NodeBuilder } from "../core/builder.ts";
import { checkExecutor, checkNodeOf } from "../core/check_node.ts";
import { checkFunction, checkInteger, checkOptions, checkString } from "../core/validate.ts";

/**
 * Options shared by the std nodes.
 *
 * @example Naming a std node
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { map, type StdOptions } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 1);
 * const options: StdOptions = { name: "doubled" };
 * const doubled = map(rt.executor, input.node, (x) => x * 2, options);
 * if (doubled.name !== "doubled") throw new Error("the node should carry its name");
 * ```
 */
export interface StdOptions {
  /** Debug name of the node. */
  name?: string;
}

/** @internal A builder with the optional name applied. */
export function builder<T>(
  initial: T,
  options: StdOptions | undefined,
  dflt: string,
): NodeBuilder<T> {
  return new NodeBuilder<T>(initial).named(options?.name ?? dflt);
}

/**
 * @internal Checks a std node's executor and options before anything is built or called:
 * returns a snapshot of the options' `keys` (plus `name`, which must be a string).
 */
export function stdArgs<O extends StdOptions>(
  what: string,
  executor: unknown,
  options: O | undefined,
  keys: readonly (keyof O & string)[] = [],
): O {
  checkExecutor(executor, `${what}'s executor`);
  const o = checkOptions<O>(options, `${what}'s options`, ["name", ...keys]);
  if (o.name !== undefined) checkString(o.name, `${what}'s name option`);
  return o;
}

/**
 * @internal Checks that `node` is a live node of `executor` (the errors a build gives, but
 * before a std node calls any user function at build).
 */
export const needNode: <T>(executor: Executor, node: unknown, what: string) => Node<T> =
  checkNodeOf;

/** @internal Throws unless `fn` is a function. */
export function needFn(fn: unknown, what: string): void {
  checkFunction(fn, what);
}

/** @internal The largest count window (values held per window). */
export const MAX_WINDOW = 1 << 24;

/** @internal Throws unless `n` is a positive safe integer. */
export function needPosInt(n: unknown, what: string): void {
  checkInteger(n, what, 1, Number.MAX_SAFE_INTEGER);
}

/**
 * Options for {@linkcode map}.
 *
 * @example An initial value instead of computing one at build
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { map } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 1);
 * const label = map(rt.executor, input.node, (x) => `#${x}`, { initial: "none" });
 * const before = label.value;
 * input.push(2);
 * rt.runOneCycle();
 * if (before !== "none" || label.value !== "#2") throw new Error("initial, then mapped");
 * ```
 */
export interface MapOptions<U> extends StdOptions {
  /** Value held before the parent's first broadcast. Default: `fn(parent.value)` at build. */
  initial?: U;
}

/**
 * Maps a value stream: in every cycle in which `parent` broadcasts, the node takes
 * `fn(parent.value)` and broadcasts (always, even if the result equals the previous one; put
 * {@linkcode distinctUntilChanged} after it for change-only propagation). Before the parent's
 * first broadcast it holds `options.initial`, or `fn(parent.value)` computed once at build.
 * If `fn` throws, the node is removed like any throwing node.
 *
 * @param executor The executor.
 * @param parent The input stream.
 * @param fn The mapping.
 * @param options Initial value and name.
 * @returns The mapped node.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type or range (a
 *   function that is not one fails here, at build, not in the first cycle).
 * @throws {NodeRemovedError} If the parent has left the graph.
 * @throws {ForeignNodeError} If the parent belongs to another executor.
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { map } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 1);
 * const doubled = map(rt.executor, input.node, (x) => x * 2);
 * console.log(doubled.value); // 2 (computed at build)
 * input.push(5);
 * rt.runOneCycle();
 * console.log(doubled.value); // 10
 * ```
 */
export function map<T, U>(
  executor: Executor,
  parent: Node<T>,
  fn: (value: T) => U,
  options?: MapOptions<U>,
): Node<U> {
  if (options === undefined) options = {};
  options = stdArgs("map", executor, options, ["initial"]);
  needNode(executor, parent, "map's parent");
  needFn(fn, "map's function");
  const initial = "initial" in options ? options.initial as U : fn(parent.value);
  return builder(initial, options, "map").triggeredBy(parent).build(executor, (self) => {
    self.value = fn(parent.value);
    return Control.Broadcast;
  });
}

/**
 * Options for {@linkcode filter}.
 *
 * @example A filter with an initial value
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { filter } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const positive = filter(rt.executor, input.node, (x) => x > 0, { initial: -1 });
 * input.push(-5);
 * rt.runOneCycle();
 * const before = positive.value; // nothing passed yet: the initial value
 * input.push(5);
 * rt.runOneCycle();
 * if (before !== -1 || positive.value !== 5) throw new Error("expected -1, then 5");
 * ```
 */
export interface FilterOptions<T> extends StdOptions {
  /** Value held before the first value passes. Default `undefined`. */
  initial?: T;
}

/**
 * Filters a value stream: in a cycle in which `parent` broadcasts and `predicate(parent.value)`
 * holds, the node takes that value and broadcasts; otherwise it stays `Unchanged` and keeps the
 * last value that passed. Before any value passed it holds `options.initial` (default
 * `undefined`).
 *
 * @param executor The executor.
 * @param parent The input stream.
 * @param predicate Which values pass.
 * @param options Initial value and name.
 * @returns The filtered node.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type or range (a
 *   function that is not one fails here, at build, not in the first cycle).
 * @throws {NodeRemovedError} If the parent has left the graph.
 * @throws {ForeignNodeError} If the parent belongs to another executor.
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { filter } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const evens = filter(rt.executor, input.node, (x) => x % 2 === 0);
 * input.push(3);
 * rt.runOneCycle();
 * console.log(evens.value, rt.executor.hasMutated(evens)); // undefined false
 * input.push(4);
 * rt.runOneCycle();
 * console.log(evens.value, rt.executor.hasMutated(evens)); // 4 true
 * ```
 */
export function filter<T>(
  executor: Executor,
  parent: Node<T>,
  predicate: (value: T) => boolean,
  options?: StdOptions,
): Node<T | undefined>;
/**
 * Filters a value stream, holding `options.initial` before the first value passes.
 *
 * @example A filter that is never undefined
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { filter } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, "");
 * const words = filter(rt.executor, input.node, (s) => s.length > 0, { initial: "-" });
 * input.push("hi");
 * rt.runOneCycle();
 * input.push("");
 * rt.runOneCycle();
 * if (words.value.toUpperCase() !== "HI") throw new Error("keeps the last value that passed");
 * ```
 */
export function filter<T>(
  executor: Executor,
  parent: Node<T>,
  predicate: (value: T) => boolean,
  options: FilterOptions<T> & { initial: T },
): Node<T>;
export function filter<T>(
  executor: Executor,
  parent: Node<T>,
  predicate: (value: T) => boolean,
  options?: FilterOptions<T>,
): Node<T | undefined> {
  if (options === undefined) options = {};
  options = stdArgs("filter", executor, options, ["initial"]);
  needNode(executor, parent, "filter's parent");
  needFn(predicate, "filter's predicate");
  return builder<T | undefined>(options.initial, options, "filter").triggeredBy(parent).build(
    executor,
    (self) => {
      const v = parent.value;
      if (!predicate(v)) return Control.Unchanged;
      self.value = v;
      return Control.Broadcast;
    },
  );
}

/**
 * Folds a value stream: starts at `initial`; in every cycle in which `parent` broadcasts,
 * `value = fold(value, parent.value)` and the node broadcasts (always). `fold` should return a
 * new accumulator rather than mutate the old one if consumers keep references.
 *
 * @param executor The executor.
 * @param parent The input stream.
 * @param initial The starting accumulator.
 * @param fold Combines the accumulator and one value.
 * @param options Name.
 * @returns The accumulator node.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type or range (a
 *   function that is not one fails here, at build, not in the first cycle).
 * @throws {NodeRemovedError} If the parent has left the graph.
 * @throws {ForeignNodeError} If the parent belongs to another executor.
 *
 * @example Running sum
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { scan } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const sum = scan(rt.executor, input.node, 0, (acc, x) => acc + x);
 * for (const x of [1, 2, 3]) {
 *   input.push(x);
 *   rt.runOneCycle();
 * }
 * console.log(sum.value); // 6
 * ```
 */
export function scan<T, A>(
  executor: Executor,
  parent: Node<T>,
  initial: A,
  fold: (acc: A, value: T) => A,
  options?: StdOptions,
): Node<A> {
  options = stdArgs("scan", executor, options);
  needNode(executor, parent, "scan's parent");
  needFn(fold, "scan's fold");
  return builder(initial, options, "scan").triggeredBy(parent).build(executor, (self) => {
    self.value = fold(self.value, parent.value);
    return Control.Broadcast;
  });
}

/**
 * Options for {@linkcode distinctUntilChanged}.
 *
 * @example Deduplicating by a key
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { distinctUntilChanged } from "@wavelet/wavelet/std";
 * import { probe, pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, "");
 * const d = distinctUntilChanged(rt.executor, input.node, {
 *   key: (s: string) => s.toLowerCase(),
 *   equals: (a, b) => a === b,
 * });
 * const p = probe(rt.executor, d);
 * for (const s of ["a", "A", "b", "B", "a"]) {
 *   input.push(s);
 *   rt.runOneCycle();
 * }
 * if (p.values().join() !== "a,b,a") throw new Error(`got ${p.values()}`);
 * ```
 */
export interface DistinctOptions<T, K> extends StdOptions {
  /** The key compared between values. Default: the value itself. */
  key?: (value: T) => K;
  /** Key equality. Default `Object.is`. */
  equals?: (a: K, b: K) => boolean;
}

/**
 * Change-only propagation of a value stream: in a cycle in which `parent` broadcasts, the node
 * takes `parent.value` and broadcasts only if its key differs from the key of the value it
 * broadcast last (the first value always passes). Holds `parent.value` as of build until then.
 *
 * @param executor The executor.
 * @param parent The input stream.
 * @param options Key function, equality and name.
 * @returns The deduplicated stream.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type or range (a
 *   function that is not one fails here, at build, not in the first cycle).
 * @throws {NodeRemovedError} If the parent has left the graph.
 * @throws {ForeignNodeError} If the parent belongs to another executor.
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { distinctUntilChanged } from "@wavelet/wavelet/std";
 * import { probe, pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const d = distinctUntilChanged(rt.executor, input.node);
 * const p = probe(rt.executor, d);
 * for (const x of [1, 1, 2, 2, 1]) {
 *   input.push(x);
 *   rt.runOneCycle();
 * }
 * console.log(p.values()); // [1, 2, 1]
 * ```
 */
export function distinctUntilChanged<T, K = T>(
  executor: Executor,
  parent: Node<T>,
  options?: DistinctOptions<T, K>,
): Node<T> {
  if (options === undefined) options = {};
  options = stdArgs("distinctUntilChanged", executor, options, ["key", "equals"]);
  needNode(executor, parent, "distinctUntilChanged's parent");
  const key = options.key === undefined
    ? ((v: T) => v as unknown as K)
    : checkFunction<(value: T) => K>(options.key, "distinctUntilChanged's key option");
  const equals = options.equals === undefined ? Object.is : checkFunction<(a: K, b: K) => boolean>(
    options.equals,
    "distinctUntilChanged's equals option",
  );
  let seen = false;
  let lastKey: K = undefined as K;
  return builder(parent.value, options, "distinctUntilChanged").triggeredBy(parent).build(
    executor,
    (self) => {
      const v = parent.value;
      const k = key(v);
      if (seen && equals(lastKey, k)) return Control.Unchanged;
      seen = true;
      lastKey = k;
      self.value = v;
      return Control.Broadcast;
    },
  );
}

/**
 * Filters a batch stream: in every cycle in which `parent` broadcasts, the node's value becomes
 * a new array of the batch's items that satisfy `predicate`, in order; it broadcasts iff that
 * array is non-empty (an empty result still replaces the previous value). Starts as `[]`.
 *
 * @param executor The executor.
 * @param parent The input batches.
 * @param predicate Which items pass.
 * @param options Name.
 * @returns The filtered batches.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type or range (a
 *   function that is not one fails here, at build, not in the first cycle).
 * @throws {NodeRemovedError} If the parent has left the graph.
 * @throws {ForeignNodeError} If the parent belongs to another executor.
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { filterBatch } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode<number[]>(rt.executor, []);
 * const evens = filterBatch(rt.executor, input.node, (x) => x % 2 === 0);
 * input.push([1, 2, 3, 4, 5]);
 * rt.runOneCycle();
 * console.log(evens.value); // [2, 4]
 * ```
 */
export function filterBatch<T>(
  executor: Executor,
  parent: Node<readonly T[]>,
  predicate: (item: T) => boolean,
  options?: StdOptions,
): Node<readonly T[]> {
  options = stdArgs("filterBatch", executor, options);
  needNode(executor, parent, "filterBatch's parent");
  needFn(predicate, "filterBatch's predicate");
  return builder<readonly T[]>([], options, "filterBatch").triggeredBy(parent).build(
    executor,
    (self) => {
      const out: T[] = [];
      for (const item of parent.value) if (predicate(item)) out.push(item);
      self.value = out;
      return out.length > 0 ? Control.Broadcast : Control.Unchanged;
    },
  );
}

/**
 * Maps a batch stream: in every cycle in which `parent` broadcasts, the node's value becomes a
 * new array of `fn(item)` for each item, in order; it broadcasts iff that array is non-empty.
 * Starts as `[]`.
 *
 * @param executor The executor.
 * @param parent The input batches.
 * @param fn The per-item mapping.
 * @param options Name.
 * @returns The mapped batches.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type or range (a
 *   function that is not one fails here, at build, not in the first cycle).
 * @throws {NodeRemovedError} If the parent has left the graph.
 * @throws {ForeignNodeError} If the parent belongs to another executor.
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { mapBatch } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode<number[]>(rt.executor, []);
 * const squares = mapBatch(rt.executor, input.node, (x) => x * x);
 * input.push([1, 2, 3]);
 * rt.runOneCycle();
 * console.log(squares.value); // [1, 4, 9]
 * ```
 */
export function mapBatch<T, U>(
  executor: Executor,
  parent: Node<readonly T[]>,
  fn: (item: T) => U,
  options?: StdOptions,
): Node<readonly U[]> {
  options = stdArgs("mapBatch", executor, options);
  needNode(executor, parent, "mapBatch's parent");
  needFn(fn, "mapBatch's function");
  return builder<readonly U[]>([], options, "mapBatch").triggeredBy(parent).build(
    executor,
    (self) => {
      const src = parent.value;
      const out = new Array<U>(src.length);
      for (let i = 0; i < src.length; i++) out[i] = fn(src[i]);
      self.value = out;
      return out.length > 0 ? Control.Broadcast : Control.Unchanged;
    },
  );
}

/**
 * Options for {@linkcode accumulate}.
 *
 * @example A per-batch maximum
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { accumulate } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode<number[]>(rt.executor, []);
 * const max = accumulate(rt.executor, input.node, -Infinity, Math.max, {
 *   reset: () => -Infinity,
 * });
 * input.push([3, 9, 4]);
 * rt.runOneCycle();
 * input.push([1, 2]);
 * rt.runOneCycle();
 * if (max.value !== 2) throw new Error("the maximum of the last batch alone");
 * ```
 */
export interface AccumulateOptions<A> extends StdOptions {
  /**
   * When given, the accumulator restarts from `reset()` at the start of every run, so the
   * node's value is the fold of the current batch alone (a per-batch aggregate).
   */
  reset?: () => A;
}

/**
 * Folds a batch stream. In every cycle in which `parent` broadcasts, each item of the batch is
 * folded into the accumulator in order (`acc = fold(acc, item)`) and the node broadcasts,
 * **always**, even for an empty batch. Without `options.reset` the accumulator persists across
 * batches (a running aggregate starting at `initial`); with it, every run starts from
 * `reset()` (a per-batch aggregate; `initial` is only the value before the first batch).
 *
 * @param executor The executor.
 * @param parent The input batches.
 * @param initial The value before the first batch (and the running start).
 * @param fold Combines the accumulator and one item.
 * @param options Per-batch reset and name.
 * @returns The accumulator node.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type or range (a
 *   function that is not one fails here, at build, not in the first cycle).
 * @throws {NodeRemovedError} If the parent has left the graph.
 * @throws {ForeignNodeError} If the parent belongs to another executor.
 *
 * @example Running and per-batch sums
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { accumulate } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode<number[]>(rt.executor, []);
 * const total = accumulate(rt.executor, input.node, 0, (a, x) => a + x);
 * const perBatch = accumulate(rt.executor, input.node, 0, (a, x) => a + x, { reset: () => 0 });
 * input.push([1, 2, 3]);
 * rt.runOneCycle();
 * input.push([4, 5]);
 * rt.runOneCycle();
 * console.log(total.value, perBatch.value); // 15 9
 * ```
 */
export function accumulate<T, A>(
  executor: Executor,
  parent: Node<readonly T[]>,
  initial: A,
  fold: (acc: A, item: T) => A,
  options?: AccumulateOptions<A>,
): Node<A> {
  if (options === undefined) options = {};
  options = stdArgs("accumulate", executor, options, ["reset"]);
  needNode(executor, parent, "accumulate's parent");
  needFn(fold, "accumulate's fold");
  const reset = options.reset;
  if (reset !== undefined) needFn(reset, "accumulate's reset");
  return builder(initial, options, "accumulate").triggeredBy(parent).build(executor, (self) => {
    let acc = reset === undefined ? self.value : reset();
    for (const item of parent.value) acc = fold(acc, item);
    self.value = acc;
    return Control.Broadcast;
  });
}

/**
 * Deduplicates within each batch: in every cycle in which `parent` broadcasts, the node's
 * value becomes a new array holding the first item of each distinct key of the batch, in
 * order. Keys are compared like `Map` keys (SameValueZero) and forgotten after each batch, so
 * an item equal to one of an earlier batch passes again. Broadcasts iff the result is
 * non-empty (an empty result still replaces the value). Starts as `[]`.
 *
 * @param executor The executor.
 * @param parent The input batches.
 * @param key The key of an item. Default: the item itself.
 * @param options Name.
 * @returns The deduplicated batches.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type or range (a
 *   function that is not one fails here, at build, not in the first cycle).
 * @throws {NodeRemovedError} If the parent has left the graph.
 * @throws {ForeignNodeError} If the parent belongs to another executor.
 *
 * @example By key
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { deduplicate } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const trades = pushNode<{ sym: string; px: number }[]>(rt.executor, []);
 * const firstPerSymbol = deduplicate(rt.executor, trades.node, (t) => t.sym);
 * trades.push([{ sym: "A", px: 1 }, { sym: "B", px: 2 }, { sym: "A", px: 3 }]);
 * rt.runOneCycle();
 * console.log(firstPerSymbol.value.map((t) => t.px)); // [1, 2]
 * ```
 */
export function deduplicate<T, K = T>(
  executor: Executor,
  parent: Node<readonly T[]>,
  key?: (item: T) => K,
  options?: StdOptions,
): Node<readonly T[]> {
  options = stdArgs("deduplicate", executor, options);
  needNode(executor, parent, "deduplicate's parent");
  if (key !== undefined) needFn(key, "deduplicate's key");
  const seen = new Set<unknown>();
  return builder<readonly T[]>([], options, "deduplicate").triggeredBy(parent).build(
    executor,
    (self) => {
      const out: T[] = [];
      seen.clear();
      for (const item of parent.value) {
        const k = key === undefined ? item : key(item);
        if (!seen.has(k)) {
          seen.add(k);
          out.push(item);
        }
      }
      seen.clear();
      self.value = out;
      return out.length > 0 ? Control.Broadcast : Control.Unchanged;
    },
  );
}

/**
 * Options for {@linkcode windowCount}.
 *
 * @example Sliding windows
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { windowCount } from "@wavelet/wavelet/std";
 * import { probe, pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const w = probe(rt.executor, windowCount(rt.executor, input.node, 3, { step: 1 }));
 * for (const x of [1, 2, 3, 4]) {
 *   input.push(x);
 *   rt.runOneCycle();
 * }
 * if (JSON.stringify(w.values()) !== "[[1,2,3],[2,3,4]]") throw new Error("windows overlap");
 * ```
 */
export interface WindowCountOptions extends StdOptions {
  /** Values between the starts of consecutive windows (a positive integer). Default `size`. */
  step?: number;
}

/**
 * Count windows over a value stream. Every broadcast of `parent` is one value. Once `size`
 * values have been seen, and then after every further `step` values, the node's value becomes
 * a new array of the last `size` values (oldest first) and it broadcasts; in other cycles it
 * is `Unchanged`. With `step === size` (default) windows tumble (disjoint); with `step < size`
 * they slide (overlap); with `step > size` values between windows are skipped. Starts as `[]`.
 *
 * @param executor The executor.
 * @param parent The input stream.
 * @param size Values per window (an integer in [1, 2^24]).
 * @param options Step and name.
 * @returns The windows.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type or range (a
 *   function that is not one fails here, at build, not in the first cycle).
 * @throws {NodeRemovedError} If the parent has left the graph.
 * @throws {ForeignNodeError} If the parent belongs to another executor.
 *
 * @example Tumbling pairs
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { windowCount } from "@wavelet/wavelet/std";
 * import { probe, pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const pairs = probe(rt.executor, windowCount(rt.executor, input.node, 2));
 * for (const x of [1, 2, 3, 4, 5]) {
 *   input.push(x);
 *   rt.runOneCycle();
 * }
 * console.log(pairs.values()); // [[1, 2], [3, 4]]
 * ```
 */
export function windowCount<T>(
  executor: Executor,
  parent: Node<T>,
  size: number,
  options?: WindowCountOptions,
): Node<readonly T[]> {
  if (options === undefined) options = {};
  options = stdArgs("windowCount", executor, options, ["step"]);
  needNode(executor, parent, "windowCount's parent");
  checkInteger(size, "windowCount's size", 1, MAX_WINDOW);
  const step = options.step === undefined ? size : options.step;
  needPosInt(step, "windowCount's step option");
  // A ring of the last `size` values; `count` values seen; next emission at `due`.
  const ring = new Array<T>(size);
  let count = 0;
  let due = size;
  return builder<readonly T[]>([], options, "windowCount").triggeredBy(parent).build(
    executor,
    (self) => {
      ring[count % size] = parent.value;
      count++;
      if (count < due) return Control.Unchanged;
      due += step;
      const out = new Array<T>(size);
      for (let i = 0; i < size; i++) out[i] = ring[(count - size + i) % size];
      self.value = out;
      return Control.Broadcast;
    },
  );
}
