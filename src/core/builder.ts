/**
 * The node builder: collects a node's name, parents and callbacks, then builds it.
 *
 * @module
 */

import { type Control, Relationship } from "./control.ts";
import { BuilderError, ErrorCode, InvalidArgumentError } from "./errors.ts";
import { describe } from "./validate.ts";
import type { ContextPort } from "./hooks.ts";
import { type CycleFn, ExecutionContext } from "./context.ts";
import { Executor, runtimePort } from "./executor.ts";
import { type DropFn, Node } from "./node.ts";
import type { Notifier } from "../drivers/notify.ts";

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
 * A cycle function that gets one more argument: what an {@linkcode Attachment} hands the node
 * (a channel's receiver, for instance).
 */
export type AttachedCycleFn<T, A> = (
  self: Node<T>,
  ctx: ExecutionContext,
  arg: A,
) => Control | boolean | void;

/**
 * Something built together with a node, through {@linkcode NodeBuilder.buildWith}: a feature
 * (channels are one) wraps the node's cycle function to hand it an extra argument, then
 * finishes its setup once the node exists and returns what the caller keeps (a sender).
 *
 * @example A counter that each run hands the node
 * ```ts
 * import { type Attachment, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const runs: Attachment<number, () => number> = {
 *   prepare(fn) {
 *     let n = 0;
 *     return { cycle: (self, ctx) => fn(self, ctx, ++n), attach: () => () => n };
 *   },
 * };
 * const rt = new TestRuntime();
 * const [node, count] = new NodeBuilder(0)
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .buildWith(rt.executor, runs, (self, _ctx, n) => {
 *     self.value = n * 10;
 *   });
 * rt.runOneCycle();
 * if (node.value !== 10 || count() !== 1) throw new Error("one run");
 * ```
 */
export interface Attachment<A, R> {
  /**
   * Called before anything is built (throw here to refuse): wraps `fn` into the node's cycle
   * function, and returns that with the step that finishes the setup once the node exists.
   */
  prepare<T>(fn: AttachedCycleFn<T, A>): {
    /** The node's cycle function. */
    cycle: CycleFn<T>;
    /** Finishes the setup for the built node; what it returns goes to the caller. */
    attach(executor: Executor, node: Node<T>): R;
  };
}

const NO_PARENTS: readonly Node<unknown>[] = Object.freeze([]);
const NO_RELS: readonly Relationship[] = Object.freeze([]);

/** How the executor makes a node's context on its first run (it cannot import the class). */
function makeContext(ex: Executor, port: ContextPort, slot: number): ExecutionContext {
  return new ExecutionContext(ex, port, slot);
}

function checkNode(node: unknown, what: string): asserts node is Node<unknown> {
  if (!(node instanceof Node)) {
    throw new InvalidArgumentError(`${what} must be a Node handle, got ${describe(node)}`);
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
  /** @internal */
  readonly _makeContext: typeof makeContext = makeContext;
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
      throw new BuilderError("Cannot set onInit twice on one builder", {
        code: ErrorCode.OnInitTwice,
      });
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
      throw new BuilderError("Cannot set onDrop twice on one builder", {
        code: ErrorCode.OnDropTwice,
      });
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
    const node = runtimePort(executor).build(this, fn);
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
   * Builds the node with an {@linkcode Attachment} (a channel, for instance): the attachment
   * wraps `fn`, which gets the attachment's argument as its third parameter; what the
   * attachment returns (a sender) comes back with the node. If the attachment's setup fails,
   * the node is removed again.
   *
   * @example A node fed by a local channel
   * ```ts
   * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
   * import { localChannel } from "@wavelet/wavelet/channel";
   *
   * const rt = new TestRuntime();
   * const [sum, tx] = new NodeBuilder(0).buildWith(
   *   rt.executor,
   *   localChannel<number>({ capacity: 16 }),
   *   (self, _ctx, rx) => {
   *     for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) self.value += v;
   *     return true;
   *   },
   * );
   * tx.trySend(2);
   * tx.trySend(3);
   * rt.runOneCycle();
   * if (sum.value !== 5) throw new Error("expected 5");
   * ```
   *
   * @returns The node's handle and what the attachment returned.
   * @throws {InvalidArgumentError} If `attachment` has no `prepare` method or `fn` is not a
   *   function; whatever the attachment throws (nothing is built then).
   */
  buildWith<A, R>(
    executor: Executor,
    attachment: Attachment<A, R>,
    fn: AttachedCycleFn<T, A>,
  ): [Node<T>, R] {
    this.#checkOpen();
    checkExecutor(executor);
    let prepare: unknown;
    try {
      prepare = attachment !== null && typeof attachment === "object"
        ? attachment.prepare
        : undefined;
    } catch {
      // An object whose properties throw is no attachment.
    }
    if (typeof prepare !== "function") {
      throw new InvalidArgumentError(
        `buildWith needs an attachment with a prepare() method, got ${describe(attachment)}`,
      );
    }
    checkFn(fn, "A cycle function");
    const p = attachment.prepare<T>(fn);
    const node = this.build(executor, p.cycle);
    try {
      return [node, p.attach(executor, node)];
    } catch (err) {
      executor.remove(node); // nothing half-built
      throw err;
    }
  }

  #checkOpen(): void {
    if (this.#consumed) {
      throw new BuilderError(
        "Cannot reuse a builder that already built a node",
      );
    }
  }
}

function checkExecutor(executor: unknown): void {
  if (!(executor instanceof Executor)) {
    throw new InvalidArgumentError(
      `Building a node needs an executor, got ${describe(executor)}`,
    );
  }
}

function checkFn(fn: unknown, what: string): void {
  if (typeof fn !== "function") {
    throw new InvalidArgumentError(
      `${what} must be a function, got ${fn === null ? "null" : typeof fn}`,
    );
  }
}
