/**
 * Control-flow nodes: combine several inputs, switch between inputs, route items by key.
 *
 * @module
 */

import { Control } from "../core/control.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { Executor } from "../core/executor.ts";
import { Node } from "../core/node.ts";
import { NodeBuilder } from "../core/builder.ts";
import { checkBoolean, checkInstance, checkString, describe } from "../core/validate.ts";
import { builder, needFn, needNode, stdArgs, type StdOptions } from "./transform.ts";

/**
 * Options for {@linkcode combineLatest}.
 *
 * @example Emitting before every parent has broadcast
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { combineLatest } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const a = pushNode(rt.executor, 0);
 * const b = pushNode(rt.executor, "x");
 * const both = combineLatest(rt.executor, [a.node, b.node] as const, { requireAll: false });
 * a.push(1);
 * rt.runOneCycle();
 * if (both.value[0] !== 1 || both.value[1] !== "x") throw new Error("expected [1, 'x']");
 * ```
 */
export interface CombineLatestOptions extends StdOptions {
  /**
   * Wait until every parent has broadcast at least once (since build) before the first
   * emission. Default `true`. With `false`, the first broadcast of any parent emits, using
   * the other parents' current values.
   */
  requireAll?: boolean;
}

/**
 * Maps a tuple of value types to a tuple of node handles.
 *
 * @example A typed tuple of parents
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { combineLatest, type NodesOf } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const price = pushNode(rt.executor, 0);
 * const venue = pushNode(rt.executor, "");
 * const parents: NodesOf<[number, string]> = [price.node, venue.node];
 * const quote = combineLatest(rt.executor, parents);
 * price.push(101);
 * venue.push("XNAS");
 * rt.runOneCycle();
 * const [p, v] = quote.value;
 * if (p !== 101 || v !== "XNAS") throw new Error("expected [101, 'XNAS']");
 * ```
 */
export type NodesOf<T extends readonly unknown[]> = { readonly [K in keyof T]: Node<T[K]> };

/**
 * Combines the latest values of several parents. Triggered by all of them: in every cycle in
 * which at least one parent broadcasts (once per cycle, however many did), the node's value
 * becomes a new array of every parent's current value, in parent order, and it broadcasts,
 * provided every parent has broadcast at least once since build (`requireAll`, the default;
 * a parent that never broadcasts, such as a plain {@linkcode constant}, then blocks it
 * forever). Before the first emission it holds the parents' values as of build.
 *
 * @param executor The executor.
 * @param parents The inputs (at least one).
 * @param options `requireAll` and name.
 * @returns The combined node.
 * @throws {InvalidArgumentError} If `parents` is not a non-empty array of nodes, or an option
 *   has the wrong type.
 * @throws {NodeRemovedError} If a parent has left the graph.
 * @throws {ForeignNodeError} If a parent belongs to another executor.
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { combineLatest } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const a = pushNode(rt.executor, 0);
 * const b = pushNode(rt.executor, "x");
 * const both = combineLatest(rt.executor, [a.node, b.node] as const);
 * a.push(1);
 * rt.runOneCycle();
 * console.log(rt.executor.hasMutated(both)); // false: b has not broadcast yet
 * b.push("y");
 * rt.runOneCycle();
 * console.log(both.value); // [1, "y"]
 * ```
 */
export function combineLatest<T extends readonly unknown[]>(
  executor: Executor,
  parents: NodesOf<T>,
  options?: CombineLatestOptions,
): Node<T> {
  if (options === undefined) options = {};
  options = stdArgs("combineLatest", executor, options, ["requireAll"]);
  if (!Array.isArray(parents)) {
    throw new InvalidArgumentError(
      `combineLatest's parents must be an array of nodes, got ${describe(parents)}`,
    );
  }
  const ps = [...parents] as Node<unknown>[];
  if (ps.length === 0) {
    throw new InvalidArgumentError(
      "combineLatest needs at least one parent",
    );
  }
  for (let i = 0; i < ps.length; i++) needNode(executor, ps[i], `combineLatest's parent ${i}`);
  const requireAll = options.requireAll === undefined
    ? true
    : checkBoolean(options.requireAll, "combineLatest's requireAll option");
  const seen = new Array<boolean>(ps.length).fill(false);
  let missing = requireAll ? ps.length : 0;
  const snapshot = () => ps.map((p) => p.value) as unknown as T;
  return builder(snapshot(), options, "combineLatest").triggeredBy(...ps).build(
    executor,
    (self, ctx) => {
      if (missing > 0) {
        for (let i = 0; i < ps.length; i++) {
          if (!seen[i] && ctx.hasMutated(ps[i])) {
            seen[i] = true;
            missing--;
          }
        }
        if (missing > 0) return Control.Unchanged;
      }
      self.value = snapshot();
      return Control.Broadcast;
    },
  );
}

/**
 * Switches between two value inputs. Triggered by `primary`, `secondary` and `selector`; the
 * selection starts from `selector.value` at build (`true` selects `primary`). When run:
 *
 * 1. if `selector` broadcast this cycle, the selection is re-read from it and the node takes
 *    the newly selected input's current value (even if that input did not change) and
 *    broadcasts;
 * 2. else if the selected input broadcast, the node takes its value and broadcasts;
 * 3. else (only the unselected input changed) it stays `Unchanged`.
 *
 * It broadcasts in cases 1 and 2 even if the value is equal to the previous one. Before any of
 * that it holds `initial`.
 *
 * @param executor The executor.
 * @param primary Selected while the selector is true.
 * @param secondary Selected while the selector is false.
 * @param selector The switch.
 * @param initial The value before the first switch or selected-input broadcast.
 * @param options Name.
 * @returns The switched value.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type.
 * @throws {NodeRemovedError} If an input has left the graph.
 * @throws {ForeignNodeError} If an input belongs to another executor.
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { switchValue } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const live = pushNode(rt.executor, 1);
 * const fallback = pushNode(rt.executor, 20);
 * const useLive = pushNode(rt.executor, true);
 * const out = switchValue(rt.executor, live.node, fallback.node, useLive.node, 0);
 * useLive.push(false);
 * rt.runOneCycle();
 * console.log(out.value); // 20
 * ```
 */
export function switchValue<T>(
  executor: Executor,
  primary: Node<T>,
  secondary: Node<T>,
  selector: Node<boolean>,
  initial: T,
  options?: StdOptions,
): Node<T> {
  options = stdArgs("switchValue", executor, options);
  needNode(executor, primary, "switchValue's primary");
  needNode(executor, secondary, "switchValue's secondary");
  needNode(executor, selector, "switchValue's selector");
  let usePrimary = Boolean(selector.value);
  return builder(initial, options, "switchValue").triggeredBy(primary, secondary, selector).build(
    executor,
    (self, ctx) => {
      if (ctx.hasMutated(selector)) {
        usePrimary = Boolean(selector.value);
      } else if (!ctx.hasMutated(usePrimary ? primary : secondary)) {
        return Control.Unchanged;
      }
      self.value = (usePrimary ? primary : secondary).value;
      return Control.Broadcast;
    },
  );
}

/**
 * Switches between two batch inputs. Same selection rules as {@linkcode switchValue}, but the
 * node's value becomes a new array copied from the selected input's batch (the inputs keep
 * their data), and it broadcasts iff that copy is non-empty. When only the unselected input
 * broadcast, the output is left as it is. Starts as `[]`.
 *
 * @param executor The executor.
 * @param primary Selected while the selector is true.
 * @param secondary Selected while the selector is false.
 * @param selector The switch.
 * @param options Name.
 * @returns The switched batches.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type.
 * @throws {NodeRemovedError} If an input has left the graph.
 * @throws {ForeignNodeError} If an input belongs to another executor.
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { switchStream } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const left = pushNode<number[]>(rt.executor, []);
 * const right = pushNode<number[]>(rt.executor, []);
 * const sel = pushNode(rt.executor, true);
 * const out = switchStream(rt.executor, left.node, right.node, sel.node);
 * left.push([1, 2]);
 * right.push([10]);
 * rt.runOneCycle();
 * console.log(out.value); // [1, 2]
 * sel.push(false);
 * rt.runOneCycle();
 * console.log(out.value); // [10]
 * ```
 */
export function switchStream<T>(
  executor: Executor,
  primary: Node<readonly T[]>,
  secondary: Node<readonly T[]>,
  selector: Node<boolean>,
  options?: StdOptions,
): Node<readonly T[]> {
  options = stdArgs("switchStream", executor, options);
  needNode(executor, primary, "switchStream's primary");
  needNode(executor, secondary, "switchStream's secondary");
  needNode(executor, selector, "switchStream's selector");
  let usePrimary = Boolean(selector.value);
  return builder<readonly T[]>([], options, "switchStream")
    .triggeredBy(primary, secondary, selector)
    .build(executor, (self, ctx) => {
      if (ctx.hasMutated(selector)) {
        usePrimary = Boolean(selector.value);
      } else if (!ctx.hasMutated(usePrimary ? primary : secondary)) {
        return Control.Unchanged;
      }
      const out = (usePrimary ? primary : secondary).value.slice();
      self.value = out;
      return out.length > 0 ? Control.Broadcast : Control.Unchanged;
    });
}

/** A key as text for a node name; never throws (a symbol, a null-prototype object). */
function keyName(key: unknown): string {
  if (typeof key === "string") return key;
  const t = typeof key;
  if (t === "number" || t === "bigint" || t === "boolean" || t === "symbol" || key == null) {
    return String(key);
  }
  return describe(key);
}

interface RouteEntry<T> {
  node: Node<readonly T[]>;
  /** Items routed to the output this cycle, or null when none. */
  buf: T[] | null;
}

/**
 * A keyed router over a batch stream; see {@linkcode router}. `node` is the router itself;
 * {@linkcode Router.route} gives the output for a key.
 *
 * @example Outputs, keys and removal
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { type Router, router } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode<string[]>(rt.executor, []);
 * const byFirst: Router<string, string> = router(rt.executor, input.node, (s) => s[0]);
 * const a = byFirst.route("a");
 * byFirst.route("b");
 * input.push(["apple", "avocado", "cherry"]);
 * rt.runOneCycle();
 * if (a.value.join() !== "apple,avocado") throw new Error("the 'a' output got its items");
 * if (byFirst.node.value !== 2) throw new Error("two items were routed ('c' has no output)");
 * if (byFirst.size !== 2 || byFirst.keys().join() !== "a,b") throw new Error("two outputs");
 * byFirst.remove();
 * if (a.isAlive) throw new Error("outputs leave with the router");
 * ```
 */
export class Router<K, T> {
  /** The router node; its value is the number of items it routed in its last run. */
  readonly node: Node<number>;
  readonly #ex: Executor;
  readonly #entries: Map<K, RouteEntry<T>>;
  readonly #name: string;

  /** @internal Built by {@linkcode router}. */
  constructor(ex: Executor, node: Node<number>, entries: Map<K, RouteEntry<T>>, name: string) {
    checkInstance(ex, Executor, "A router's executor");
    checkInstance(node, Node, "A router's node");
    checkInstance(entries, Map, "A router's entries");
    checkString(name, "A router's name");
    this.#ex = ex;
    this.node = node;
    this.#entries = entries;
    this.#name = name;
  }

  /**
   * The output node for `key`: the live one if it exists, else a new one. A new output starts
   * as `[]` and receives only items routed after it was created. Like any build, this may not
   * be called while nodes are running.
   *
   * @param key The key.
   * @returns The output for `key`.
   * @throws {NodeRemovedError} If the router has left the graph.
   */
  route(key: K): Node<readonly T[]> {
    const e = this.#entries.get(key);
    if (e !== undefined && e.node.isAlive) return e.node;
    const entries = this.#entries;
    const entry: RouteEntry<T> = { node: null as unknown as Node<readonly T[]>, buf: null };
    entry.node = new NodeBuilder<readonly T[]>([])
      .named(`${this.#name}[${keyName(key)}]`)
      .observerOf(this.node)
      .onDrop(() => {
        if (entries.get(key) === entry) entries.delete(key);
      })
      .build(this.#ex, (self) => {
        const buf = entry.buf;
        if (buf === null) return Control.Unchanged;
        entry.buf = null;
        self.value = buf;
        return Control.Broadcast;
      });
    entries.set(key, entry);
    return entry.node;
  }

  /** The number of live outputs. */
  get size(): number {
    return this.#entries.size;
  }

  /** The keys of the live outputs, in creation order. */
  keys(): K[] {
    return [...this.#entries.keys()];
  }

  /** Removes the router and, with it, every output. */
  remove(): void {
    this.node.remove();
  }
}

/**
 * Routes the items of a batch stream to per-key output nodes. Triggered by `source`: in every
 * cycle in which it broadcasts, each item goes, in order, to the output of `key(item)` if
 * {@linkcode Router.route} created one and it is alive; items with no output are dropped. Each
 * output that received items runs later in the same cycle, takes a new array of exactly this
 * cycle's items (the previous batch is replaced, not appended to) and broadcasts; outputs that
 * received nothing do not run and keep their previous value. The source's batch is not
 * modified.
 *
 * Outputs are Observe children of the router, one depth below it (the router schedules the
 * ones that received items with `ctx.scheduleNode`), so they are removed with the router, and
 * an output removed on its own leaves the router, which then drops that key's items until
 * `route(key)` builds a new output. The router node's value is the number of items routed in
 * its last run; it broadcasts iff that is positive.
 *
 * @param executor The executor.
 * @param source The input batches.
 * @param key The routing key of an item (compared like `Map` keys).
 * @param options Name (outputs are named `name[key]`).
 * @returns The router.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type.
 * @throws {NodeRemovedError} If an input has left the graph.
 * @throws {ForeignNodeError} If an input belongs to another executor.
 *
 * @example Odd and even
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { router } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode<number[]>(rt.executor, []);
 * const byParity = router(rt.executor, input.node, (x: number) => x % 2);
 * const even = byParity.route(0);
 * const odd = byParity.route(1);
 * input.push([2, 3, 5]);
 * rt.runOneCycle();
 * console.log(even.value, odd.value); // [2] [3, 5]
 * ```
 */
export function router<K, T>(
  executor: Executor,
  source: Node<readonly T[]>,
  key: (item: T) => K,
  options?: StdOptions,
): Router<K, T> {
  options = stdArgs("router", executor, options);
  needNode(executor, source, "router's source");
  needFn(key, "router's key");
  const entries = new Map<K, RouteEntry<T>>();
  const name = options?.name ?? "router";
  const node = builder(0, options, "router").triggeredBy(source).build(executor, (self, ctx) => {
    let routed = 0;
    for (const item of source.value) {
      const e = entries.get(key(item));
      if (e === undefined) continue;
      if (e.buf === null) {
        e.buf = [];
        ctx.scheduleNode(e.node);
      }
      e.buf.push(item);
      routed++;
    }
    self.value = routed;
    return routed > 0 ? Control.Broadcast : Control.Unchanged;
  });
  return new Router<K, T>(executor, node, entries, name);
}
