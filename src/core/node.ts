/**
 * Node handles: a node's value, identity and place in its executor's table.
 *
 * @module
 */

import type { Relationship } from "./control.ts";

/**
 * @internal What a node needs from the executor that owns it (the executor implements it).
 */
export interface NodeOwner {
  /** Removes the node and its descendants. */
  remove(node: Node<unknown>): void;
}

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

/** The names given with `named()`, by handle. */
const names = new WeakMap<Node<unknown>, string>();

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
  readonly _ex: NodeOwner;
  /** @internal Slot in the node table. */
  readonly _slot: number;
  /** @internal Generation of the slot when this node was created. */
  readonly _gen: number;
  /**
   * @internal Depth (immutable after build) shifted left by one, or'ed with 1 while alive. One
   * field for both keeps the handle small: a million nodes are a million handles.
   */
  _bits: number;

  /** @internal Handles are created by the executor only. */
  constructor(
    ex: NodeOwner,
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
    this._bits = (depth << 1) | 1;
    // Names live beside the handles, not in them: most nodes have none.
    if (name !== undefined) names.set(this, name);
  }

  /** @internal Depth (immutable after build). */
  get _depth(): number {
    return this._bits >>> 1;
  }

  /** @internal The debug name. */
  get _name(): string | undefined {
    return names.get(this);
  }

  /** @internal False once the node has left the graph. */
  get _alive(): boolean {
    return (this._bits & 1) !== 0;
  }

  /** @internal Marks the node as having left the graph. */
  _leave(): void {
    this._bits &= ~1;
  }

  /** 0 for a root; otherwise 1 + the greatest depth of its parents. */
  get depth(): number {
    return this._bits >>> 1;
  }

  /** The name given with `named()`, or `undefined`. */
  get name(): string | undefined {
    return names.get(this);
  }

  /** False once the node has left the graph (removed, swept or poisoned). */
  get isAlive(): boolean {
    return (this._bits & 1) !== 0;
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
    return `${names.get(this) ?? "node"}#${this.id}`;
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
  /** Init callback (typed by the builder). */
  // deno-lint-ignore no-explicit-any
  readonly _onInit: ((executor: any, self: Node<T>) => void) | undefined;
  /** Drop callback. */
  readonly _onDrop: DropFn<T> | undefined;
  /** Whether exceptions escape `cycle()`. */
  readonly _allowPanic: boolean;
  /** Makes the node's context on its first run (the executor cannot import the class). */
  // deno-lint-ignore no-explicit-any
  readonly _makeContext: (executor: any, port: any, slot: number) => unknown;
}
