/**
 * Node handles and the builder that creates nodes.
 *
 * @module
 */

import { type Control, Relationship } from "./control.ts";
import { BuilderError, ErrorCode, InvalidArgumentError } from "./errors.ts";
import { describe } from "./validate.ts";
import type { ExecutionContext, Executor } from "./executor.ts";
import type { Notifier } from "../drivers/notify.ts";
import {
  type ChannelCycleFn,
  type ChannelOptions,
  makeChannel,
  type ReceiverFor,
  type SenderFor,
} from "../channel/channel.ts";

/**
 * A node's cycle function. It may replace `self.value` or mutate it in place, and returns a
 * {@linkcode Control} (or a boolean: `true` is `Broadcast`, `false`/`undefined` `Unchanged`).
 *
 * @example A cycle function as a value
 * ```ts
 * import { Control, type CycleFn, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * // Runs three times in a row, then stops propagating.
 * const countToThree: CycleFn<number> = (self, ctx) => {
 *   self.value++;
 *   if (self.value < 3) ctx.yieldNow();
 *   return self.value < 3 ? Control.Broadcast : Control.Unchanged;
 * };
 * const rt = new TestRuntime();
 * const node = new NodeBuilder(0)
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, countToThree);
 * rt.runUntilIdle();
 * if (node.value !== 3) throw new Error(`value ${node.value}`);
 * ```
 */
export type CycleFn<T> = (
  self: Node<T>,
  ctx: ExecutionContext,
) => Control | boolean | void;

/**
 * Called once when a node is built, with full executor access (yield, timers, notifiers).
 *
 * @example Starting on a timer
 * ```ts
 * import { type InitFn, ms, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const startAt10ms: InitFn<string> = (executor, self) => {
 *   executor.registerTimerAfter(self, ms(10));
 * };
 * const rt = new TestRuntime();
 * const node = new NodeBuilder("idle").onInit(startAt10ms).build(rt.executor, (self) => {
 *   self.value = "ran";
 * });
 * const seen: string[] = [];
 * rt.runOneCycle();
 * seen.push(node.value);
 * rt.advanceClock(ms(10));
 * rt.runOneCycle();
 * seen.push(node.value);
 * if (seen.join() !== "idle,ran") throw new Error(`seen: ${seen}`);
 * ```
 */
export type InitFn<T> = (executor: Executor, self: Node<T>) => void;

/**
 * Called exactly once when a node leaves the graph; `self.isAlive` is already false.
 *
 * @example Releasing a resource
 * ```ts
 * import { type DropFn, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const closed: string[] = [];
 * const release: DropFn<string> = (self) => {
 *   closed.push(self.value);
 * };
 * const rt = new TestRuntime();
 * const node = new NodeBuilder("conn-1").onDrop(release).build(rt.executor, () => false);
 * node.remove();
 * if (closed.join() !== "conn-1" || node.isAlive) throw new Error("dropped once, on removal");
 * ```
 */
export type DropFn<T> = (self: Node<T>) => void;

/**
 * A handle to a node in an executor's graph. Read another node's state with `value`; a node's
 * own cycle function writes it. Every handle has the same fixed shape.
 *
 * A node stays in the graph until it returns `Control.Sweep`, throws, is poisoned by a removed
 * ancestor, or is removed with {@linkcode Node.remove}. Garbage collection never removes a node.
 * After removal the handle keeps its last `value`, reports `isAlive === false`, and building on
 * it throws {@linkcode NodeRemovedError}.
 *
 * @example
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const counter = new NodeBuilder(0)
 *   .named("counter")
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, (self) => {
 *     self.value += 1;
 *     return true;
 *   });
 * rt.runOneCycle();
 * // counter.value === 1, counter.depth === 0, counter.isAlive === true
 * counter.remove();
 * // counter.isAlive === false, counter.value === 1
 * ```
 */
export class Node<T> {
  /** The node's state. Written by its own cycle function; read by anyone. */
  value: T;
  /** A number unique within the executor, never reused (creation order, from 0). */
  readonly id: number;
  /** @internal The executor that owns the node. */
  readonly _ex: Executor;
  /** @internal Slot in the node table. */
  readonly _slot: number;
  /** @internal Generation of the slot when this node was created. */
  readonly _gen: number;
  /** @internal Depth (immutable after build). */
  readonly _depth: number;
  /** @internal Debug name. */
  readonly _name: string | undefined;
  /** @internal False once the node has left the graph. */
  _alive: boolean;

  /** @internal Handles are created by the executor only. */
  constructor(
    ex: Executor,
    value: T,
    id: number,
    slot: number,
    gen: number,
    depth: number,
    name: string | undefined,
  ) {
    this.value = value;
    this.id = id;
    this._ex = ex;
    this._slot = slot;
    this._gen = gen;
    this._depth = depth;
    this._name = name;
    this._alive = true;
  }

  /** 0 for a root; otherwise 1 + the greatest depth of its parents. */
  get depth(): number {
    return this._depth;
  }

  /** The name given with `named()`, or `undefined`. */
  get name(): string | undefined {
    return this._name;
  }

  /** The executor that owns this node. */
  get executor(): Executor {
    return this._ex;
  }

  /** False once the node has left the graph (removed, swept or poisoned). */
  get isAlive(): boolean {
    return this._alive;
  }

  /**
   * Removes the node and all its descendants from the graph: at once between cycles, at the end
   * of the cycle (sweep phase) when called while nodes run. Removing a removed node is a no-op.
   */
  remove(): void {
    this._ex.remove(this);
  }

  /** `name#id`, or `node#id` without a name. */
  toString(): string {
    return `${this._name ?? "node"}#${this.id}`;
  }
}

/** The options and parents a builder collected, read by the executor. @internal */
export interface NodeSpec<T> {
  /** Initial value. */
  readonly _initial: T;
  /** Debug name. */
  readonly _name: string | undefined;
  /** Parents, one entry per distinct node. */
  readonly _parents: readonly Node<unknown>[];
  /** Relationship per parent (parallel to `_parents`). */
  readonly _rels: readonly Relationship[];
  /** Init callback. */
  readonly _onInit: InitFn<T> | undefined;
  /** Drop callback. */
  readonly _onDrop: DropFn<T> | undefined;
  /** Whether exceptions escape `cycle()`. */
  readonly _allowPanic: boolean;
}

const NO_PARENTS: readonly Node<unknown>[] = Object.freeze([]);
const NO_RELS: readonly Relationship[] = Object.freeze([]);

function checkNode(node: unknown, what: string): asserts node is Node<unknown> {
  if (!(node instanceof Node)) {
    throw new InvalidArgumentError(
      ErrorCode.InvalidArgument,
      `${what} must be a Node handle, got ${node === null ? "null" : typeof node}`,
    );
  }
}

/**
 * Builds one node: collect its name, parents and callbacks, then call a terminal method
 * (`build` or `spawn`). A builder builds exactly one node.
 *
 * Relationships are merged per parent: naming a parent twice keeps one edge, and `Trigger` wins
 * over `Observe`. Parents must be live nodes of the same executor; otherwise the terminal
 * method throws and nothing is built.
 *
 * @example A source and a derived node
 * ```ts
 * import { Control, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const src = new NodeBuilder(0)
 *   .named("src")
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, (self) => {
 *     self.value += 1;
 *     return Control.Broadcast;
 *   });
 * const doubled = new NodeBuilder(0)
 *   .triggeredBy(src)
 *   .build(rt.executor, (self) => {
 *     self.value = src.value * 2;
 *     return Control.Broadcast;
 *   });
 * rt.runOneCycle();
 * // doubled.value === 2, rt.executor.hasMutated(doubled) === true
 * ```
 */
export class NodeBuilder<T> {
  // The builder is itself the spec the executor reads (no per-build allocation beyond it); it
  // matches NodeSpec structurally (no `implements`: NodeSpec is internal, not in the docs).
  /** @internal */
  _initial: T;
  /** @internal */
  _name: string | undefined = undefined;
  /** @internal */
  _parents: readonly Node<unknown>[] = NO_PARENTS;
  /** @internal */
  _rels: readonly Relationship[] = NO_RELS;
  /** @internal */
  _onInit: InitFn<T> | undefined = undefined;
  /** @internal */
  _onDrop: DropFn<T> | undefined = undefined;
  /** @internal */
  _allowPanic = false;
  #consumed = false;

  /**
   * Starts a builder.
   *
   * @param initial The node's initial value.
   */
  constructor(initial: T) {
    this._initial = initial;
  }

  /** Sets the debug name (used in errors, stats and graph exports). */
  named(name: string): this {
    this.#checkOpen();
    if (typeof name !== "string") {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        `A node name must be a string, got ${typeof name}`,
      );
    }
    this._name = name;
    return this;
  }

  /** Adds Trigger parents: the node runs in any cycle in which one of them broadcasts. */
  triggeredBy(...parents: Node<unknown>[]): this {
    for (const p of parents) this.addRelationship(p, Relationship.Trigger);
    return this;
  }

  /** Adds Observe parents: the node may read them and ask `hasMutated`, but they never schedule it. */
  observerOf(...parents: Node<unknown>[]): this {
    for (const p of parents) this.addRelationship(p, Relationship.Observe);
    return this;
  }

  /**
   * Adds one parent with a relationship. A parent already present keeps one edge; `Trigger`
   * wins over `Observe`.
   *
   * @throws {InvalidArgumentError} If `parent` is not a node or `rel` is not a Relationship.
   */
  addRelationship(parent: Node<unknown>, rel: Relationship): this {
    this.#checkOpen();
    checkNode(parent, "A parent");
    if (rel !== Relationship.Trigger && rel !== Relationship.Observe) {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        `A relationship must be Relationship.Trigger or Relationship.Observe, got ${describe(rel)}`,
      );
    }
    const i = this._parents.indexOf(parent);
    if (i === -1) {
      if (this._parents === NO_PARENTS) {
        this._parents = [parent];
        this._rels = [rel];
      } else {
        (this._parents as Node<unknown>[]).push(parent);
        (this._rels as Relationship[]).push(rel);
      }
    } else if (rel === Relationship.Trigger) {
      (this._rels as Relationship[])[i] = Relationship.Trigger;
    }
    return this;
  }

  /**
   * Sets the callback run once when the node is built, with the executor and the node. The usual
   * bootstrap is `ex.yieldNow(self)` so the node runs in the next cycle.
   *
   * @throws {BuilderError} If an init callback was already set.
   */
  onInit(fn: InitFn<T>): this {
    this.#checkOpen();
    if (this._onInit !== undefined) {
      throw new BuilderError(ErrorCode.OnInitTwice, "Cannot set onInit twice on one builder");
    }
    checkFn(fn, "onInit");
    this._onInit = fn;
    return this;
  }

  /**
   * Sets the callback run exactly once when the node leaves the graph.
   *
   * @throws {BuilderError} If a drop callback was already set.
   */
  onDrop(fn: DropFn<T>): this {
    this.#checkOpen();
    if (this._onDrop !== undefined) {
      throw new BuilderError(ErrorCode.OnDropTwice, "Cannot set onDrop twice on one builder");
    }
    checkFn(fn, "onDrop");
    this._onDrop = fn;
    return this;
  }

  /**
   * When true, an exception from the cycle function escapes `cycle()` (after the sweep phase;
   * nodes still queued run in the next cycle) instead of removing the node.
   */
  allowPanic(allow = true): this {
    this.#checkOpen();
    this._allowPanic = Boolean(allow);
    return this;
  }

  /**
   * Builds the node into `executor` and returns its handle.
   *
   * @param executor The executor to build into.
   * @param fn The cycle function.
   * @returns The node's handle.
   * @throws {InvalidArgumentError} If `fn` is not a function.
   * @throws {NodeRemovedError} If a parent has left the graph.
   * @throws {ForeignNodeError} If a parent belongs to another executor.
   * @throws {BuilderError} If the builder was already used, or nodes are running right now.
   */
  build(executor: Executor, fn: CycleFn<T>): Node<T> {
    this.#checkOpen();
    checkExecutor(executor);
    const node = executor._build(this, fn);
    this.#consumed = true;
    return node;
  }

  /**
   * Builds a fire-and-forget node: like {@linkcode NodeBuilder.build} but no handle is returned;
   * the node lives until it sweeps itself, throws, or is poisoned.
   */
  spawn(executor: Executor, fn: CycleFn<T>): void {
    this.build(executor, fn);
  }

  /**
   * Builds the node and registers a {@linkcode Notifier} for it: `notify()` from any thread runs
   * the node in the next cycle.
   *
   * @returns The node's handle and its notifier.
   */
  buildWithNotifier(executor: Executor, fn: CycleFn<T>): [Node<T>, Notifier] {
    const node = this.build(executor, fn);
    try {
      return [node, executor.registerNotifier(node)];
    } catch (err) {
      executor.remove(node); // nothing half-built
      throw err;
    }
  }

  /**
   * Builds a node fed by a channel: the cycle function gets the receiver as a third argument,
   * and the sender is returned. The node runs in the cycle after items arrive (once, however
   * many), and again in the next cycle if it returns with items left. The channel closes for
   * senders when the node leaves the graph.
   *
   * @param executor The executor to build into.
   * @param options `{ kind: "ring", record, capacity, overflow? }`,
   *   `{ kind: "value", capacity, maxItemBytes?, overflow? }` or
   *   `{ kind: "local", capacity, overflow? }`.
   * @param fn The cycle function `(self, ctx, rx)`.
   * @returns The node and the channel's sender.
   *
   * @example A local channel fed from a host callback
   * ```ts
   * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
   *
   * const rt = new TestRuntime();
   * const [sum, tx] = new NodeBuilder(0).buildWithChannel(
   *   rt.executor,
   *   { kind: "local", capacity: 16 },
   *   (self, _ctx, rx) => {
   *     for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) self.value += v as number;
   *     return true;
   *   },
   * );
   * tx.trySend(2);
   * tx.trySend(3);
   * rt.runOneCycle(); // sum.value === 5
   * ```
   */
  buildWithChannel<O extends ChannelOptions, V = unknown>(
    executor: Executor,
    options: O,
    fn: ChannelCycleFn<T, ReceiverFor<O, V>>,
  ): [Node<T>, SenderFor<O, V>] {
    const ch = makeChannel<T>(options, fn);
    const node = this.build(executor, ch.cycle);
    try {
      return [node, ch.attach(executor, node)];
    } catch (err) {
      executor.remove(node); // nothing half-built
      throw err;
    }
  }

  #checkOpen(): void {
    if (this.#consumed) {
      throw new BuilderError(
        ErrorCode.BuilderConsumed,
        "Cannot reuse a builder that already built a node",
      );
    }
  }
}

/** An executor is recognized by its build entry (node.ts cannot import the class: a circle). */
function checkExecutor(executor: unknown): void {
  let ok = false;
  try {
    ok = executor !== null && typeof executor === "object" &&
      typeof (executor as { _build?: unknown })._build === "function";
  } catch {
    // An object whose properties throw is no executor.
  }
  if (!ok) {
    throw new InvalidArgumentError(
      ErrorCode.InvalidArgument,
      `Building a node needs an executor, got ${describe(executor)}`,
    );
  }
}

function checkFn(fn: unknown, what: string): void {
  if (typeof fn !== "function") {
    throw new InvalidArgumentError(
      ErrorCode.InvalidArgument,
      `${what} must be a function, got ${fn === null ? "null" : typeof fn}`,
    );
  }
}
