/**
 * Testing utilities: push nodes (inputs a test sets by hand), probes (record what a node
 * broadcast and when), and helpers that run cycles until a condition holds.
 *
 * @module
 */

import { Control, ExecutorState } from "./core/control.ts";
import { CapacityError } from "./core/errors.ts";
import type { Executor } from "./core/executor.ts";
import type { Node } from "./core/node.ts";
import { NodeBuilder } from "./core/builder.ts";
import { checkExecutor, checkNodeOf } from "./core/check_node.ts";
import {
  checkFunction,
  checkInteger,
  checkNumber,
  checkOptions,
  checkString,
  describe,
  invalid,
} from "./core/validate.ts";

/** Checks a push node's executor and options; returns the name option. */
function pushArgs(what: string, executor: unknown, options: unknown): string | undefined {
  checkExecutor(executor, `${what}'s executor`);
  const o = checkOptions<PushNodeOptions>(
    options as PushNodeOptions | undefined,
    `${what}'s options`,
    ["name"],
  );
  return o.name === undefined ? undefined : checkString(o.name, `${what}'s name option`);
}

/** Reads a runner's method, turning a throwing getter into a typed error. */
function readKey(rt: unknown, key: keyof CycleRunner, what: string): unknown {
  if (rt === null || typeof rt !== "object") return undefined;
  try {
    return (rt as CycleRunner)[key];
  } catch (cause) {
    throw invalid(`${what}'s runtime could not be read: reading ${key} threw`, cause);
  }
}

/** Checks that a runner has `runOneCycle`. */
function checkRunner(rt: unknown, what: string): CycleRunner {
  const run = readKey(rt, "runOneCycle", what);
  if (typeof run !== "function") {
    throw invalid(`${what} needs a runtime with runOneCycle(), got ${describe(rt)}`);
  }
  return rt as CycleRunner;
}

/**
 * Options for {@linkcode pushNode} and {@linkcode pushBatchNode}.
 *
 * @example A named push node
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0, { name: "price" });
 * if (input.node.name !== "price") throw new Error("the node should carry its name");
 * ```
 */
export interface PushNodeOptions {
  /** Debug name of the node. */
  name?: string;
}

/**
 * The handle returned by {@linkcode pushNode}: the node and a way to feed it.
 *
 * @example Pushing values and checking for a pending one
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { type PushHandle, pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input: PushHandle<string> = pushNode(rt.executor, "");
 * input.push("a");
 * if (!input.hasPending) throw new Error("a pushed value waits for the next cycle");
 * rt.runOneCycle();
 * if (input.hasPending || input.node.value !== "a") throw new Error("expected a delivered 'a'");
 * ```
 */
export interface PushHandle<T> {
  /** The push node (a root, depth 0). */
  readonly node: Node<T>;
  /**
   * Sets the value the node broadcasts in the next cycle. Several pushes before that cycle:
   * the last one wins (one broadcast).
   */
  push(value: T): void;
  /** True if a pushed value waits for the next cycle. */
  readonly hasPending: boolean;
}

/**
 * The handle returned by {@linkcode pushBatchNode}: the node and a way to feed it.
 *
 * @example Collecting a batch
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { type PushBatchHandle, pushBatchNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input: PushBatchHandle<number> = pushBatchNode(rt.executor);
 * input.push(1);
 * input.pushAll([2, 3]);
 * if (input.pendingCount !== 3) throw new Error("three items should wait");
 * rt.runOneCycle();
 * if (input.node.value.join() !== "1,2,3") throw new Error("expected the batch [1, 2, 3]");
 * ```
 */
export interface PushBatchHandle<T> {
  /** The batch node (a root, depth 0); its value is the last delivered batch. */
  readonly node: Node<readonly T[]>;
  /** Appends one item to the batch delivered in the next cycle. */
  push(item: T): void;
  /**
   * Appends items to the batch delivered in the next cycle. `pushAll([])` still makes the
   * node broadcast an empty batch in the next cycle.
   */
  pushAll(items: Iterable<T>): void;
  /** Items waiting for the next cycle. */
  readonly pendingCount: number;
}

/**
 * Builds an input node for tests. `push(value)` makes the node take `value` and broadcast in
 * the next cycle the executor runs (it yields itself, so no timer or clock advance is needed).
 * Several pushes before a cycle: last wins, one broadcast. A cycle without a push leaves the
 * node alone (it neither runs nor broadcasts). Pushing from inside a cycle delivers in the
 * following cycle. Pushing after the node left the graph throws `NodeRemovedError`.
 *
 * @param executor The executor to build into.
 * @param initial The node's value before the first push.
 * @param options Name.
 * @returns The node and its `push`.
 * @throws {InvalidArgumentError} If the executor is not one or an option has the wrong type.
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * input.push(1);
 * input.push(2);
 * rt.runOneCycle();
 * console.log(input.node.value, rt.executor.hasMutated(input.node)); // 2 true
 * ```
 */
export function pushNode<T>(
  executor: Executor,
  initial: T,
  options?: PushNodeOptions,
): PushHandle<T> {
  if (options === undefined) options = {};
  const name = pushArgs("pushNode", executor, options);
  let pending = false;
  let next: T = initial;
  const b = new NodeBuilder<T>(initial);
  if (name !== undefined) b.named(name);
  const node = b.build(executor, (self) => {
    if (!pending) return Control.Unchanged;
    self.value = next;
    pending = false;
    next = undefined as T; // do not retain the pushed value twice
    return Control.Broadcast;
  });
  return {
    node,
    push(value: T): void {
      executor.yieldNow(node);
      next = value;
      pending = true;
    },
    get hasPending(): boolean {
      return pending;
    },
  };
}

/**
 * Builds a batch input node for tests: every `push(item)` before a cycle is collected, and in
 * that cycle the node's value becomes a new array of those items (in push order) and it
 * broadcasts. A cycle with no push leaves the node alone; its value stays the last batch.
 *
 * @param executor The executor to build into.
 * @param options Name.
 * @returns The node and its `push` / `pushAll`.
 * @throws {InvalidArgumentError} If the executor is not one or an option has the wrong type.
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { pushBatchNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushBatchNode<number>(rt.executor);
 * input.push(1);
 * input.pushAll([2, 3]);
 * rt.runOneCycle();
 * console.log(input.node.value); // [1, 2, 3]
 * ```
 */
export function pushBatchNode<T>(
  executor: Executor,
  options?: PushNodeOptions,
): PushBatchHandle<T> {
  if (options === undefined) options = {};
  const name = pushArgs("pushBatchNode", executor, options);
  let pending = false;
  let batch: T[] = [];
  const b = new NodeBuilder<readonly T[]>([]);
  if (name !== undefined) b.named(name);
  const node = b.build(executor, (self) => {
    if (!pending) return Control.Unchanged;
    self.value = batch;
    batch = [];
    pending = false;
    return Control.Broadcast;
  });
  return {
    node,
    push(item: T): void {
      executor.yieldNow(node);
      batch.push(item);
      pending = true;
    },
    pushAll(items: Iterable<T>): void {
      let iter: unknown;
      try {
        iter = items == null ? undefined : (items as Iterable<T>)[Symbol.iterator];
      } catch (cause) {
        throw invalid("pushAll's items could not be read", cause);
      }
      if (typeof iter !== "function") {
        throw invalid(`pushAll needs an iterable of items, got ${describe(items)}`);
      }
      // Collected first: an iterator that throws half-way leaves the batch as it was.
      const add = Array.from(items);
      executor.yieldNow(node);
      for (let i = 0; i < add.length; i++) batch.push(add[i]);
      pending = true;
    },
    get pendingCount(): number {
      return batch.length;
    },
  };
}

/**
 * One broadcast seen by a {@linkcode Probe}.
 *
 * @example Reading the records of a probe
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { probe, type ProbeRecord, pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const p = probe(rt.executor, input.node);
 * input.push(7);
 * rt.runOneCycle();
 * const rec: ProbeRecord<number> = p.records[0];
 * if (rec.value !== 7 || rec.epoch !== 1) throw new Error("expected value 7 in epoch 1");
 * if (typeof rec.timeNs !== "number") throw new Error("a record carries the cycle time");
 * ```
 */
export interface ProbeRecord<T> {
  /** The executor's epoch (cycle number) of the broadcast. */
  readonly epoch: number;
  /** The cycle's monotonic time in ns. */
  readonly timeNs: number;
  /** The node's value right after it broadcast (see {@linkcode ProbeOptions.copy}). */
  readonly value: T;
}

/**
 * Options for {@linkcode probe}.
 *
 * @example Copying a value that is mutated in place
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { probe, type ProbeOptions } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const list = new NodeBuilder<number[]>([])
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, (self, ctx) => {
 *     self.value.push(self.value.length);
 *     if (self.value.length < 2) ctx.yieldNow(self);
 *     return true;
 *   });
 * const options: ProbeOptions<number[]> = { copy: (v) => [...v], name: "list-probe" };
 * const p = probe(rt.executor, list, options);
 * rt.runOneCycle();
 * rt.runOneCycle();
 * if (JSON.stringify(p.values()) !== "[[0],[0,1]]") throw new Error("each record is a copy");
 * ```
 */
export interface ProbeOptions<T> {
  /**
   * Makes the recorded value from the node's value. Default: the value itself (a reference).
   * Nodes that replace their value each broadcast (every std node does) are recorded
   * faithfully that way; for a node that mutates one object in place pass a copy function
   * such as `structuredClone` or `(v) => [...v]`, or every record shows the latest state.
   */
  copy?: (value: T) => T;
  /** Debug name of the probe node. */
  name?: string;
}

/**
 * Records every broadcast of one node; see {@linkcode probe}.
 *
 * @example Using a probe
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { type Probe, probe, pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const p: Probe<number> = probe(rt.executor, input.node);
 * input.push(1);
 * rt.runOneCycle();
 * input.push(2);
 * rt.runOneCycle();
 * if (p.last() !== 2 || p.node.value !== 2) throw new Error("two records, the last one 2");
 * if (p.epochs().join() !== "1,2") throw new Error("recorded in epochs 1 and 2");
 * p.clear();
 * if (p.values().length !== 0) throw new Error("clear() forgets the records");
 * ```
 */
export interface Probe<T> {
  /** The probe node (a Trigger child of the probed node; removed with it). */
  readonly node: Node<number>;
  /** Every broadcast, oldest first. */
  readonly records: readonly ProbeRecord<T>[];
  /** The recorded values, oldest first (a new array). */
  values(): T[];
  /** The epochs of the recorded broadcasts, oldest first (a new array). */
  epochs(): number[];
  /** The last recorded value, or `undefined` if none. */
  last(): T | undefined;
  /** Forgets the records. */
  clear(): void;
}

/**
 * Attaches a probe to `target`: a Trigger child that records, for every cycle in which `target`
 * broadcast, the epoch, the cycle time and the target's value (after the broadcast, as its
 * children see it). The probe's own value is the number of records; it never broadcasts.
 * Values are recorded by reference unless `options.copy` is given.
 *
 * @param executor The executor `target` lives in.
 * @param target The node to watch.
 * @param options Copy function and name.
 * @returns The probe.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type.
 * @throws {NodeRemovedError} If `target` has left the graph.
 * @throws {ForeignNodeError} If `target` belongs to another executor.
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { probe, pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const p = probe(rt.executor, input.node);
 * input.push(5);
 * rt.runOneCycle();
 * rt.runOneCycle();
 * input.push(6);
 * rt.runOneCycle();
 * console.log(p.values(), p.epochs()); // [5, 6] [1, 3]
 * ```
 */
export function probe<T>(
  executor: Executor,
  target: Node<T>,
  options?: ProbeOptions<T>,
): Probe<T> {
  if (options === undefined) options = {};
  checkExecutor(executor, "probe's executor");
  checkNodeOf(executor, target, "probe's target");
  const o = checkOptions<ProbeOptions<T>>(options, "probe's options", ["copy", "name"]);
  const records: ProbeRecord<T>[] = [];
  const copy = o.copy === undefined
    ? undefined
    : checkFunction<(value: T) => T>(o.copy, "probe's copy option");
  const name = o.name === undefined ? undefined : checkString(o.name, "probe's name option");
  const b = new NodeBuilder(0).triggeredBy(target);
  b.named(name ?? `probe(${target.toString()})`);
  const node = b.build(executor, (self, ctx) => {
    const v = target.value;
    records.push({
      epoch: ctx.epoch,
      timeNs: ctx.time.monotonicNs,
      value: copy === undefined ? v : copy(v),
    });
    self.value = records.length;
    return Control.Unchanged;
  });
  return {
    node,
    records,
    values: () => records.map((r) => r.value),
    epochs: () => records.map((r) => r.epoch),
    last: () => (records.length === 0 ? undefined : records[records.length - 1].value),
    clear: () => {
      records.length = 0;
    },
  };
}

/**
 * The most cycles one call of a run helper may run (2^24, a quarter of a second of idle cycles):
 * a count far beyond it is a mistake that would hold the thread for minutes or forever.
 */
const MAX_RUN_CYCLES = 2 ** 24;

/**
 * What the run helpers need from a runtime ({@linkcode TestRuntime} has it all).
 *
 * @example A hand-written runner
 * ```ts
 * import { ExecutorState } from "@wavelet/wavelet";
 * import { type CycleRunner, runCycles } from "@wavelet/wavelet/testing";
 *
 * let cycles = 0;
 * const runner: CycleRunner = {
 *   runOneCycle: () => ++cycles < 3 ? ExecutorState.Running : ExecutorState.Terminated,
 * };
 * const ran = runCycles(runner, 10);
 * if (ran !== 3 || cycles !== 3) throw new Error("runCycles stops after Terminated");
 * ```
 */
export interface CycleRunner {
  /** Runs one cycle. */
  runOneCycle(): ExecutorState;
  /** Moves the runtime's clock forward (needed only when asked to advance). */
  advanceClock?(durationNs: number): void;
}

/**
 * Runs up to `n` cycles, stopping early after a cycle that returns `Terminated`.
 *
 * @param rt The runtime.
 * @param n Cycles to run (an integer in [0, 2^24]).
 * @returns The number of cycles run.
 * @throws {InvalidArgumentError} If `rt` has no `runOneCycle` or `n` is not an integer in
 *   [0, 2^24].
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { runCycles } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * console.log(runCycles(rt, 3), rt.executor.epoch); // 3 3
 * ```
 */
export function runCycles(rt: CycleRunner, n: number): number {
  checkRunner(rt, "runCycles");
  checkInteger(n, "runCycles's cycle count", 0, MAX_RUN_CYCLES);
  for (let i = 0; i < n; i++) {
    if (rt.runOneCycle() === ExecutorState.Terminated) return i + 1;
  }
  return n;
}

/**
 * Runs cycles until `predicate()` returns true. The predicate is checked first (if it holds
 * already, no cycle runs) and after every cycle. With `advanceNs > 0` the clock is moved by
 * that much before each cycle, so time-driven nodes (timers, throttle, periodic) make progress.
 *
 * @param rt The runtime.
 * @param predicate The condition to reach.
 * @param maxCycles Most cycles to run (default 10 000; at most 2^24).
 * @param advanceNs Clock advance before each cycle (default 0; needs `rt.advanceClock`).
 * @returns The number of cycles run.
 * @throws {InvalidArgumentError} If `rt` has no `runOneCycle` (or no `advanceClock` when one
 *   is needed), `predicate` is not a function, `maxCycles` is not an integer in [0, 2^24],
 *   or `advanceNs` is not a finite number >= 0.
 * @throws {CapacityError} If the predicate still fails after `maxCycles` cycles, or a cycle
 *   returned `Terminated` while it fails.
 *
 * @example
 * ```ts
 * import { ms, TestRuntime } from "@wavelet/wavelet";
 * import { periodic } from "@wavelet/wavelet/std";
 * import { runUntil } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const tick = periodic(rt.executor, ms(10));
 * runUntil(rt, () => tick.value >= 3, 100, ms(10));
 * console.log(tick.value); // 3
 * ```
 */
export function runUntil(
  rt: CycleRunner,
  predicate: () => boolean,
  maxCycles = 10_000,
  advanceNs = 0,
): number {
  checkRunner(rt, "runUntil");
  checkFunction(predicate, "runUntil's predicate");
  checkInteger(maxCycles, "runUntil's maxCycles", 0, MAX_RUN_CYCLES);
  checkNumber(advanceNs, "runUntil's advanceNs", 0, Infinity);
  if (advanceNs !== 0 && typeof readKey(rt, "advanceClock", "runUntil") !== "function") {
    throw invalid("runUntil cannot advance the clock of a runtime without advanceClock");
  }
  let n = 0;
  while (!predicate()) {
    if (n >= maxCycles) {
      throw new CapacityError(
        `The condition still did not hold after ${maxCycles} cycles`,
      );
    }
    if (advanceNs !== 0) rt.advanceClock!(advanceNs);
    n++;
    if (rt.runOneCycle() === ExecutorState.Terminated && !predicate()) {
      throw new CapacityError(
        `The executor terminated after ${n} cycles before the condition held`,
      );
    }
  }
  return n;
}
