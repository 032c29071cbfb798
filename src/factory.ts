/**
 * Factories: memoized graph construction. A factory turns "the node that provides X" into a
 * function of the executor (and of a key), built once and shared by every consumer, so that
 * graph-construction code stays identical while the implementation behind a factory is picked
 * per environment (live, historical, test).
 *
 * Memoization is per executor: one factory may serve several executors (several test runtimes,
 * say), each getting its own node. A cached node that has left the graph is forgotten as it
 * leaves, so the next `get` builds a fresh one instead of returning a dead handle.
 *
 * @module
 */

import { ErrorCode, InvalidArgumentError, WaveletError } from "./core/errors.ts";
import type { Executor } from "./core/executor.ts";
import { Node } from "./core/node.ts";
import { checkExecutor } from "./core/check_node.ts";

/**
 * A factory was misused: `code` says how (`FACTORY_NOT_ATTACHED`, `FACTORY_ALREADY_ATTACHED`,
 * `FACTORY_CYCLE`, `FACTORY_BAD_RESULT`).
 *
 * @example
 * ```ts
 * import { ErrorCode, TestRuntime } from "@wavelet/wavelet";
 * import { FactoryError, SimpleFactory } from "@wavelet/wavelet/std";
 *
 * const f = new SimpleFactory<number>();
 * try {
 *   f.get(new TestRuntime().executor);
 * } catch (e) {
 *   if (e instanceof FactoryError && e.code === ErrorCode.FactoryNotAttached) {
 *     // attach a function first
 *   }
 * }
 * ```
 */
export class FactoryError extends WaveletError {
  /** `FACTORY_BAD_RESULT` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.FactoryBadResult;
}

/**
 * Builds the node of a {@linkcode SimpleFactory}.
 *
 * @example A function chosen per environment
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { SimpleFactory, type SimpleFactoryFn } from "@wavelet/wavelet/std";
 *
 * const live: SimpleFactoryFn<number> = (ex) =>
 *   new NodeBuilder(0).named("rate").build(ex, () => false); // a feed would update it
 * const fixed: SimpleFactoryFn<number> = (ex) =>
 *   new NodeBuilder(1.25).named("rate").build(ex, () => false);
 * const testing = true;
 * const rate = new SimpleFactory<number>(testing ? fixed : live);
 * const rt = new TestRuntime();
 * if (rate.get(rt.executor).value !== 1.25) throw new Error("the fixed rate, built once");
 * ```
 */
export type SimpleFactoryFn<T> = (executor: Executor) => Node<T>;

/**
 * Builds the node of a {@linkcode KeyedFactory} for one key.
 *
 * @example One node per key
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { KeyedFactory, type KeyedFactoryFn } from "@wavelet/wavelet/std";
 *
 * const build: KeyedFactoryFn<string, string> = (ex, key) =>
 *   new NodeBuilder(key.toUpperCase()).named(`upper:${key}`).build(ex, () => false);
 * const upper = new KeyedFactory(build);
 * const rt = new TestRuntime();
 * const a = upper.get(rt.executor, "abc");
 * if (a.value !== "ABC" || upper.get(rt.executor, "abc") !== a) throw new Error("one per key");
 * ```
 */
export type KeyedFactoryFn<K, T> = (executor: Executor, key: K) => Node<T>;

function describeKey(key: unknown): string {
  try {
    const s = typeof key === "string" ? JSON.stringify(key) : String(key);
    return s.length > 60 ? s.slice(0, 57) + "..." : s;
  } catch {
    return typeof key;
  }
}

/** The function to attach, refused when one is attached already or it is not a function. */
function attachOnce<F>(current: F | undefined, fn: F): F {
  if (current !== undefined) {
    throw new FactoryError("Cannot attach a function to a factory twice", {
      code: ErrorCode.FactoryAlreadyAttached,
    });
  }
  if (typeof fn !== "function") {
    throw new InvalidArgumentError(`A factory needs a function, got ${typeof fn}`);
  }
  return fn;
}

function checkResult(result: unknown, ex: Executor, what: string): asserts result is Node<any> {
  if (!(result instanceof Node)) {
    throw new FactoryError(
      `${what} must return a Node handle, got ${result === null ? "null" : typeof result}`,
      { code: ErrorCode.FactoryBadResult },
    );
  }
  if (result._ex !== ex) {
    throw new FactoryError(
      `${what} returned a node of another executor than the one it was given`,
      { code: ErrorCode.FactoryBadResult },
    );
  }
  if (!result.isAlive) {
    throw new FactoryError(`${what} returned a node that has left the graph`, {
      code: ErrorCode.FactoryBadResult,
    });
  }
}

/**
 * A memoized singleton node per executor. The first {@linkcode SimpleFactory.get} on an
 * executor runs the attached function and caches the node; later calls return the same handle
 * while that node is alive. When the node leaves the graph (swept, poisoned, removed), the cache
 * entry is dropped with it and the next `get` builds a new one.
 *
 * If the function throws, nothing is cached and the factory stays usable: the error propagates
 * to the caller of `get` and the next `get` calls the function again. Nodes the function built
 * before throwing (nested `get`s included) are removed again: nothing half-built stays.
 *
 * A `get` on the same factory and executor from inside the function (a dependency cycle) throws
 * {@linkcode FactoryError} with code `FACTORY_CYCLE` instead of recursing.
 *
 * Like any node construction, `get` may not build while nodes are running (use it between
 * cycles, from `onInit`, or from a `ctx.spawnSubgraph` closure).
 *
 * @typeParam T The node's value type.
 *
 * @example One shared source, environment chosen at wiring time
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { SimpleFactory } from "@wavelet/wavelet/std";
 *
 * const prices = new SimpleFactory<number>().attach((ex) =>
 *   new NodeBuilder(100).named("prices").build(ex, () => false)
 * );
 * const rt = new TestRuntime();
 * const a = prices.get(rt.executor);
 * const b = prices.get(rt.executor);
 * console.log(a === b); // true
 * a.remove();
 * console.log(prices.get(rt.executor) === a); // false: rebuilt
 * ```
 */
export class SimpleFactory<T> {
  #fn: SimpleFactoryFn<T> | undefined;
  readonly #cache = new WeakMap<Executor, Node<T>>();
  readonly #building = new WeakSet<Executor>();

  /**
   * Creates a factory, optionally with its function (otherwise use
   * {@linkcode SimpleFactory.attach}).
   *
   * @param fn Builds the node on the executor it receives.
   */
  constructor(fn?: SimpleFactoryFn<T>) {
    if (fn !== undefined) this.attach(fn);
  }

  /** True once a function is attached. */
  get isAttached(): boolean {
    return this.#fn !== undefined;
  }

  /**
   * Attaches the building function (at most once).
   *
   * @param fn Builds the node on the executor it receives.
   * @returns This factory, for chaining.
   * @throws {FactoryError} `FACTORY_ALREADY_ATTACHED` if a function is attached already.
   * @throws {InvalidArgumentError} If `fn` is not a function.
   */
  attach(fn: SimpleFactoryFn<T>): this {
    this.#fn = attachOnce(this.#fn, fn);
    return this;
  }

  /**
   * The node for `executor`: the cached one while it is alive, else a freshly built one.
   *
   * @param executor The executor to build into.
   * @returns The shared node.
   * @throws {InvalidArgumentError} If `executor` is not an Executor.
   * @throws {FactoryError} `FACTORY_NOT_ATTACHED`, `FACTORY_CYCLE` or `FACTORY_BAD_RESULT`.
   * @throws Whatever the function throws (nothing is cached then).
   */
  get(executor: Executor): Node<T> {
    checkExecutor(executor, "A factory's executor");
    const cached = this.#cache.get(executor);
    if (cached !== undefined && cached.isAlive) return cached;
    const fn = this.#fn;
    if (fn === undefined) {
      throw new FactoryError("Cannot get from a factory with no function attached", {
        code: ErrorCode.FactoryNotAttached,
      });
    }
    if (this.#building.has(executor)) {
      throw new FactoryError(
        "Cannot get a factory's node from inside its own function (dependency cycle)",
        { code: ErrorCode.FactoryCycle },
      );
    }
    this.#building.add(executor);
    const mark = executor.nextNodeId;
    let node: Node<T>;
    try {
      node = fn(executor);
      checkResult(node, executor, "A factory function");
    } catch (err) {
      executor.removeBuiltSince(mark); // nothing half-built stays in the graph
      throw err;
    } finally {
      this.#building.delete(executor);
    }
    this.#cache.set(executor, node);
    executor.own(node, () => {
      if (this.#cache.get(executor) === node) this.#cache.delete(executor);
    });
    return node;
  }

  /**
   * The cached live node for `executor`, without building; `undefined` if there is none.
   *
   * @throws {InvalidArgumentError} If `executor` is not an Executor.
   */
  peek(executor: Executor): Node<T> | undefined {
    checkExecutor(executor, "A factory's executor");
    const n = this.#cache.get(executor);
    return n !== undefined && n.isAlive ? n : undefined;
  }
}

/**
 * A memoized node per key (and per executor). `get(ex, key)` returns the cached node for `key`
 * while it is alive, else calls the attached function with the key and caches the result.
 * Keys are compared like `Map` keys (SameValueZero: objects by identity).
 *
 * A node that leaves the graph is dropped from the cache as it leaves (no dead handles, no
 * unbounded growth from removed keys); the next `get` for its key builds a new one.
 *
 * The function may `get` other keys of the same factory (a key built from other keys); asking
 * for a key that is being built further up the stack is a dependency cycle and throws
 * {@linkcode FactoryError} with code `FACTORY_CYCLE`. If the function throws, nothing is cached for
 * that key, the key is no longer marked as being built, the error reaches the caller, and every
 * node built during the failed call is removed again, nested keys included (they are rebuilt
 * on their next `get`): nothing half-built stays.
 *
 * @typeParam K The key type.
 * @typeParam T The nodes' value type.
 *
 * @example One feed node per symbol
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { KeyedFactory } from "@wavelet/wavelet/std";
 *
 * const feeds = new KeyedFactory<string, number>().attach((ex, symbol) =>
 *   new NodeBuilder(0).named(`feed:${symbol}`).build(ex, () => false)
 * );
 * const rt = new TestRuntime();
 * const aapl = feeds.get(rt.executor, "AAPL");
 * console.log(feeds.get(rt.executor, "AAPL") === aapl, feeds.size(rt.executor)); // true 1
 * ```
 */
export class KeyedFactory<K, T> {
  #fn: KeyedFactoryFn<K, T> | undefined;
  readonly #caches = new WeakMap<Executor, Map<K, Node<T>>>();
  readonly #building = new WeakMap<Executor, Set<K>>();

  /**
   * Creates a factory, optionally with its function (otherwise use
   * {@linkcode KeyedFactory.attach}).
   *
   * @param fn Builds the node for one key.
   */
  constructor(fn?: KeyedFactoryFn<K, T>) {
    if (fn !== undefined) this.attach(fn);
  }

  /** True once a function is attached. */
  get isAttached(): boolean {
    return this.#fn !== undefined;
  }

  /**
   * Attaches the building function (at most once).
   *
   * @param fn Builds the node for one key.
   * @returns This factory, for chaining.
   * @throws {FactoryError} `FACTORY_ALREADY_ATTACHED` if a function is attached already.
   * @throws {InvalidArgumentError} If `fn` is not a function.
   */
  attach(fn: KeyedFactoryFn<K, T>): this {
    this.#fn = attachOnce(this.#fn, fn);
    return this;
  }

  /**
   * The node for `key` on `executor`: the cached one while it is alive, else a fresh one.
   *
   * @param executor The executor to build into.
   * @param key The key.
   * @returns The node for `key`.
   * @throws {InvalidArgumentError} If `executor` is not an Executor.
   * @throws {FactoryError} `FACTORY_NOT_ATTACHED`, `FACTORY_CYCLE` or `FACTORY_BAD_RESULT`.
   * @throws Whatever the function throws (nothing is cached for the key then).
   */
  get(executor: Executor, key: K): Node<T> {
    checkExecutor(executor, "A factory's executor");
    const cached = this.#caches.get(executor)?.get(key);
    if (cached !== undefined && cached.isAlive) return cached;
    const fn = this.#fn;
    if (fn === undefined) {
      throw new FactoryError("Cannot get from a factory with no function attached", {
        code: ErrorCode.FactoryNotAttached,
      });
    }
    let building = this.#building.get(executor);
    if (building === undefined) {
      building = new Set();
      this.#building.set(executor, building);
    }
    if (building.has(key)) {
      throw new FactoryError(
        `Cannot get key ${describeKey(key)} from inside its own construction (dependency cycle)`,
        { code: ErrorCode.FactoryCycle },
      );
    }
    building.add(key);
    const mark = executor.nextNodeId;
    let node: Node<T>;
    try {
      node = fn(executor, key);
      checkResult(node, executor, `The factory function for key ${describeKey(key)}`);
    } catch (err) {
      executor.removeBuiltSince(mark); // nothing half-built stays in the graph
      throw err;
    } finally {
      building.delete(key);
    }
    // Re-read: nested gets (other keys) may have created the map meanwhile.
    let cache = this.#caches.get(executor);
    if (cache === undefined) {
      cache = new Map();
      this.#caches.set(executor, cache);
    }
    cache.set(key, node);
    const c = cache;
    executor.own(node, () => {
      if (c.get(key) === node) c.delete(key);
    });
    return node;
  }

  /**
   * The cached live node for `key`, without building; `undefined` if there is none.
   *
   * @throws {InvalidArgumentError} If `executor` is not an Executor.
   */
  peek(executor: Executor, key: K): Node<T> | undefined {
    checkExecutor(executor, "A factory's executor");
    const n = this.#caches.get(executor)?.get(key);
    return n !== undefined && n.isAlive ? n : undefined;
  }

  /** True if a live node is cached for `key`. */
  has(executor: Executor, key: K): boolean {
    return this.peek(executor, key) !== undefined;
  }

  /** The number of live cached nodes on `executor`. */
  size(executor: Executor): number {
    checkExecutor(executor, "A factory's executor");
    return this.#caches.get(executor)?.size ?? 0;
  }

  /** The keys with a live cached node on `executor`, in insertion order. */
  keys(executor: Executor): K[] {
    checkExecutor(executor, "A factory's executor");
    return [...(this.#caches.get(executor)?.keys() ?? [])];
  }
}
