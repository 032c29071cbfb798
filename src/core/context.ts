/**
 * The execution context: the second argument of every cycle function, the node's view of the
 * cycle it runs in.
 *
 * @module
 */

import type { Control } from "./control.ts";
import { ContextError, InvalidArgumentError } from "./errors.ts";
import type { Executor } from "./executor.ts";
import type { Node } from "./node.ts";
import type { CycleTime } from "./time.ts";
import type { ContextPort } from "./hooks.ts";
import type { TimerHandle } from "../drivers/timer.ts";
import type { IoHandle } from "../drivers/io.ts";
import { describe } from "./validate.ts";

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
 * The second argument of every cycle function: the node's view of the cycle it runs in. Each
 * node has its own context (made the first time it runs and reused after), valid only while
 * that node runs; using it at any other time (between cycles, or from another node's run) throws
 * {@linkcode ContextError}.
 *
 * @example Reading the cycle and scheduling a timer
 * ```ts
 * import { NodeBuilder, TestRuntime, ms } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const ticker = new NodeBuilder(0)
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, (self, ctx) => {
 *     self.value += 1;
 *     ctx.registerTimer(self, ctx.time.monotonicNs + ms(100));
 *     return true;
 *   });
 * rt.runOneCycle(); // ticker.value === 1
 * rt.advanceClock(ms(100));
 * rt.runOneCycle(); // ticker.value === 2
 * ```
 */
export class ExecutionContext {
  readonly #ex: Executor;
  readonly #port: ContextPort;
  readonly #slot: number;

  /** @internal Contexts are made by the executor, one per node, on the node's first run. */
  constructor(ex: Executor, port: ContextPort, slot: number) {
    let ok = false;
    try {
      ok = port !== null && typeof port === "object" && typeof port.isRunning === "function";
    } catch {
      // A port whose properties throw is no port.
    }
    if (!ok) {
      throw new InvalidArgumentError(
        "Contexts are made by the executor for its nodes; a cycle function receives its own",
      );
    }
    this.#ex = ex;
    this.#port = port;
    this.#slot = slot;
  }

  // A context belongs to one node and is valid only while that node runs: a context saved and
  // used later (between cycles, or while another node runs) throws instead of acting on
  // whichever node happens to be current.
  #check(what: string): void {
    if (!this.#port.isRunning(this.#slot, this)) {
      throw new ContextError(
        `Cannot use ctx.${what} outside the run of the node it was handed to`,
      );
    }
  }

  /** The node being run. */
  get current(): Node<unknown> {
    this.#check("current");
    return this.#port.node(this.#slot);
  }

  /** The executor's epoch: the number of the cycle being run (the first cycle is 1). */
  get epoch(): number {
    this.#check("epoch");
    return this.#ex.epoch;
  }

  /** The cycle's time, sampled once per cycle and shared by every node. */
  get time(): CycleTime {
    this.#check("time");
    return this.#port.time();
  }

  /** The executor, for reading its state. Building nodes while they run throws. */
  get executor(): Executor {
    this.#check("executor");
    return this.#ex;
  }

  /** True if `node` broadcast earlier in this cycle. */
  hasMutated(node: Node<unknown>): boolean {
    this.#check("hasMutated");
    return this.#ex.hasMutated(node);
  }

  /** Schedules `node` (default: the current node) to run in the next cycle. */
  yieldNow(node?: Node<unknown>): void {
    this.#check("yieldNow");
    this.#ex.yieldNow(node === undefined ? this.#port.node(this.#slot) : node);
  }

  /**
   * Schedules `node` to run later in this cycle. A node at the depth being run or deeper is
   * accepted; one that already ran or is queued this cycle is not queued again.
   *
   * @throws {SchedulerError} If the node's depth is below the depth being run.
   * @throws {NodeRemovedError} If the node has left the graph.
   */
  scheduleNode(node: Node<unknown>): void {
    this.#check("scheduleNode");
    this.#port.schedule(node);
  }

  /**
   * Registers a one-shot timer: `node` runs in the first cycle whose time is at or after
   * `deadlineNs` (monotonic). Timers with equal deadlines fire in registration order. The timer
   * is cancelled if the node leaves the graph.
   *
   * @throws {InvalidArgumentError} If the deadline is negative, NaN or infinite.
   */
  registerTimer(node: Node<unknown>, deadlineNs: number): TimerHandle {
    this.#check("registerTimer");
    return this.#ex.registerTimer(node, deadlineNs);
  }

  /**
   * Registers a one-shot timer that falls due `delayNs` after this cycle's time (the relative
   * form of {@linkcode ExecutionContext.registerTimer}).
   *
   * @throws {InvalidArgumentError} If the delay is negative, NaN or infinite.
   */
  registerTimerAfter(node: Node<unknown>, delayNs: number): TimerHandle {
    this.#check("registerTimerAfter");
    return this.#ex.registerTimerAfter(node, delayNs);
  }

  /** Cancels a pending timer; returns false if it already fired or was cancelled. */
  cancelTimer(handle: TimerHandle): boolean {
    this.#check("cancelTimer");
    return this.#ex.cancelTimer(handle);
  }

  /** Registers `fd` for readiness on `node`; see {@linkcode Executor.registerIo}. */
  registerIo(fd: number, node: Node<unknown>, interest: number): IoHandle {
    this.#check("registerIo");
    return this.#ex.registerIo(fd, node, interest);
  }

  /** Changes the interest of an I/O registration. */
  reregisterIo(handle: IoHandle, interest: number): void {
    this.#check("reregisterIo");
    this.#ex.reregisterIo(handle, interest);
  }

  /** Removes an I/O registration; returns false if it was not registered. */
  deregisterIo(handle: IoHandle): boolean {
    this.#check("deregisterIo");
    return this.#ex.deregisterIo(handle);
  }

  /** The readiness bits (`Readiness.*`) the registration got in this cycle; 0 if none. */
  ioReadiness(handle: IoHandle): number {
    this.#check("ioReadiness");
    return this.#ex.ioReadiness(handle);
  }

  /**
   * Queues `fn` to run with full executor access at the end of this cycle, after the sweep
   * phase. Nodes it builds first run in the next cycle at the earliest.
   */
  spawnSubgraph(fn: (executor: Executor) => void): void {
    this.#check("spawnSubgraph");
    if (typeof fn !== "function") {
      throw new InvalidArgumentError(`spawnSubgraph needs a function, got ${describe(fn)}`);
    }
    this.#port.spawn(fn);
  }
}
