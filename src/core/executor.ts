/**
 * The executor: the node table, the scheduler and the cycle.
 *
 * A cycle (1) advances the epoch, (2) collects stimuli (yields from the previous cycle, expired
 * timers, and whatever a runtime's poller brings), (3) drains the scheduler in ascending depth,
 * FIFO within a depth, running each scheduled node at most once and scheduling the Trigger
 * children of nodes that broadcast, (4) removes the nodes that left the graph (sweep phase),
 * running their `onDrop`, and (5) builds the subgraphs queued with `ctx.spawnSubgraph`.
 *
 * @module
 */

import { ExecutorState, Relationship } from "./control.ts";
import {
  BuilderError,
  ContextError,
  ErrorCode,
  ForeignNodeError,
  InvalidArgumentError,
  NodeRemovedError,
  SchedulerError,
  WaveletError,
} from "./errors.ts";
import {
  DEPTH,
  EdgePool,
  F_ALIVE,
  F_ALLOW_PANIC,
  F_COMPACT,
  F_DOOMED,
  F_HAS_EXTRA,
  FLAGS,
  GEN,
  MUT,
  NEVER,
  NEXT,
  OB_CAP,
  OB_COUNT,
  OB_START,
  P_COUNT,
  P_START,
  RUNS,
  SCHED,
  SHIFT,
  STRIDE,
  TIMERS,
  TK_CAP,
  TK_COUNT,
  TK_START,
} from "./graph.ts";
import { type CycleFn, type DropFn, Node, type NodeSpec } from "./node.ts";
import { nextNonEmpty, Scheduler } from "./scheduler.ts";
import { TimerHandle, TimerHeap } from "../drivers/timer.ts";
import { CycleTime } from "./time.ts";
import { AtomicsWaker, Notifier, NotifyQueue, type Waker } from "../drivers/notify.ts";
import { type IoDriver, IoHandle } from "../drivers/io.ts";
import type { Tap } from "../replay/tap.ts";
import { Histogram, type HistogramSnapshot } from "../observe/histogram.ts";
import { checkOptions, describe as describeAny, invalid } from "./validate.ts";
import type { Clock } from "../clock/clock.ts";

// Control values as literals for the hot loop (a property load of `Control.X` is not always
// folded to a constant).
const BROADCAST = 1;
const SWEEP = 2;
const TERMINATE = 3;

const PHASE_IDLE = 0;
const PHASE_POLL = 1;
const PHASE_RUN = 2;
const PHASE_SWEEP = 3;
const PHASE_SPAWN = 4;

/** Ticks wrap well before Int32 overflow; the epoch columns are then reset (see `#renormalize`). */
const TICK_LIMIT = 0x7ffffff0;

/**
 * Where an error reported to {@linkcode Executor.onError} came from.
 *
 * @example Telling init errors from drop errors
 * ```ts
 * import { type ErrorPhase, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const phases: ErrorPhase[] = [];
 * rt.executor.onError = (_error, report) => phases.push(report.phase);
 * new NodeBuilder(0)
 *   .onInit(() => {
 *     throw new Error("bad init");
 *   })
 *   .build(rt.executor, () => false);
 * new NodeBuilder(0)
 *   .onDrop(() => {
 *     throw new Error("bad drop");
 *   })
 *   .build(rt.executor, () => false)
 *   .remove();
 * if (phases.join() !== "init,drop") throw new Error(`phases: ${phases}`);
 * ```
 */
export type ErrorPhase = "cycle" | "init" | "drop" | "spawn" | "release" | "source" | "sink";

/**
 * Context of an error reported to {@linkcode Executor.onError}.
 *
 * @example Which node threw
 * ```ts
 * import { type ErrorReport, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const reports: ErrorReport[] = [];
 * rt.executor.onError = (_error, report) => reports.push(report);
 * const bad = new NodeBuilder(0)
 *   .named("bad")
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, () => {
 *     throw new Error("boom");
 *   });
 * rt.runOneCycle();
 * if (reports[0].node !== bad || reports[0].phase !== "cycle") throw new Error("bad threw");
 * if (bad.isAlive) throw new Error("a node that throws is removed");
 * ```
 */
export interface ErrorReport {
  /** The node whose callback threw, if any (a spawn closure has none). */
  node: Node<unknown> | undefined;
  /** Which callback threw. */
  phase: ErrorPhase;
}

/**
 * Receives errors that the executor isolated (the node was removed, the runtime goes on).
 *
 * @example Collecting errors instead of printing them
 * ```ts
 * import { type ErrorHandler, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const messages: string[] = [];
 * const collect: ErrorHandler = (error, report) => {
 *   messages.push(`${report.node?.name}: ${(error as Error).message}`);
 * };
 * const rt = new TestRuntime();
 * rt.executor.onError = collect;
 * new NodeBuilder(0)
 *   .named("parser")
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, () => {
 *     throw new Error("bad input");
 *   });
 * rt.runOneCycle();
 * if (messages.join() !== "parser: bad input") throw new Error(`got ${messages}`);
 * ```
 */
export type ErrorHandler = (error: unknown, report: ErrorReport) => void;

/**
 * A source of external stimuli that a runtime attaches to its executor (OS events, cross-thread
 * notifications). The executor calls `poll` once per cycle, after yields and timers, with the
 * longest time it may wait: 0 when work is already queued.
 *
 * @example Implementing the contract
 * ```ts
 * import { Executor, type Poller } from "@wavelet/wavelet";
 *
 * // A poller that only records the waits it is offered; a runtime's poller would wait in the
 * // OS for at most `timeoutNs` and schedule the nodes whose events arrived.
 * class RecordingPoller implements Poller {
 *   readonly waits: number[] = [];
 *   poll(_executor: Executor, timeoutNs: number): void {
 *     this.waits.push(timeoutNs);
 *   }
 * }
 * const poller = new RecordingPoller();
 * const ex = new Executor();
 * poller.poll(ex, 0);
 * poller.poll(ex, Infinity);
 * if (poller.waits.join() !== "0,Infinity") throw new Error(`waits: ${poller.waits}`);
 * ```
 */
export interface Poller {
  /**
   * Collects ready events and schedules their nodes (through `Executor.scheduleStimulus`).
   *
   * @param executor The executor being cycled.
   * @param timeoutNs Longest wait in ns: 0 never waits, `Infinity` may wait indefinitely.
   */
  poll(executor: Executor, timeoutNs: number): void;
}

/** Why a node was scheduled, beyond its Trigger parents (bits of the trace cause column). */
const CAUSE_YIELD = 1;
const CAUSE_TIMER = 2;
/** A notifier woke the node. */
export const CAUSE_NOTIFY = 4;
/** I/O readiness woke the node. */
export const CAUSE_IO = 8;
const CAUSE_SCHEDULE = 16;

/**
 * Options of {@linkcode Executor.enableProfiling}.
 *
 * @example Node times on a fake clock
 * ```ts
 * import { NodeBuilder, type ProfilingOptions, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * let fakeNow = 0;
 * const options: ProfilingOptions = {
 *   nodeTime: true,
 *   cycleTime: false,
 *   nowNs: () => (fakeNow += 1000), // every reading 1 us after the previous one
 * };
 * rt.executor.enableProfiling(options);
 * new NodeBuilder(0)
 *   .named("work")
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, () => false);
 * rt.runOneCycle();
 * const stats = rt.executor.stats();
 * if (stats.cycleTime !== undefined) throw new Error("cycle times were not asked for");
 * if (!((stats.nodes[0].timeNs ?? 0) > 0)) throw new Error("node time is measured");
 * ```
 */
export interface ProfilingOptions {
  /** Measure the time spent in each node's cycle function (default true). */
  nodeTime?: boolean;
  /** Record every cycle's duration in a histogram (default true). */
  cycleTime?: boolean;
  /** The clock, in nanoseconds (default `performance.now()`; runtimes pass their own). */
  nowNs?: () => number;
}

/**
 * One entry of a "why did this node run" trace.
 *
 * @example Why a node ran
 * ```ts
 * import { NodeBuilder, TestRuntime, type TraceEntry } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * new NodeBuilder(0)
 *   .named("tick")
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, () => false);
 * rt.executor.startTrace();
 * rt.runOneCycle();
 * const entries: TraceEntry[] = rt.executor.takeTrace();
 * rt.executor.stopTrace();
 * const e = entries[0];
 * if (e.epoch !== 1 || e.name !== "tick" || e.reasons.join() !== "yield") {
 *   throw new Error(`unexpected entry ${JSON.stringify(e)}`);
 * }
 * ```
 */
export interface TraceEntry {
  /** The cycle. */
  epoch: number;
  /** The node's id. */
  nodeId: number;
  /** The node's name, if any. */
  name: string | undefined;
  /**
   * Why it ran: `"trigger <parent>"` for each Trigger parent that broadcast this cycle,
   * `"yield"`, `"timer"`, `"notify"`, `"io"`, `"scheduled by <node>"`.
   */
  reasons: string[];
}

/**
 * Per-node counters in {@linkcode ExecutorStats}.
 *
 * @example Run count of one node
 * ```ts
 * import { NodeBuilder, type NodeStats, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * new NodeBuilder(0)
 *   .named("a")
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, () => true);
 * rt.runOneCycle();
 * const a: NodeStats | undefined = rt.executor.stats().nodes.find((n) => n.name === "a");
 * if (a === undefined || a.runs !== 1 || a.depth !== 0) throw new Error("a ran once");
 * ```
 */
export interface NodeStats {
  /** The node's id. */
  id: number;
  /** The node's name, if any. */
  name: string | undefined;
  /** The node's depth. */
  depth: number;
  /** How many times its cycle function ran. */
  runs: number;
  /** Time spent in its cycle function, in ns (only while profiling with `nodeTime`). */
  timeNs?: number;
}

/**
 * A snapshot of executor counters from {@linkcode Executor.stats}.
 *
 * @example Counters after one cycle
 * ```ts
 * import { type ExecutorStats, ms, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * new NodeBuilder(0)
 *   .onInit((ex, self) => {
 *     ex.yieldNow(self);
 *     ex.registerTimerAfter(self, ms(10));
 *   })
 *   .build(rt.executor, () => false);
 * rt.runOneCycle();
 * const s: ExecutorStats = rt.executor.stats();
 * if (s.cycles !== 1 || s.nodeRuns !== 1 || s.nodeCount !== 1 || s.pendingTimers !== 1) {
 *   throw new Error(`unexpected stats ${JSON.stringify(s)}`);
 * }
 * ```
 */
export interface ExecutorStats {
  /** Cycles run (the epoch). */
  cycles: number;
  /** Cycle-function calls, including those of nodes removed since. */
  nodeRuns: number;
  /** Live nodes. */
  nodeCount: number;
  /** Pending timers. */
  pendingTimers: number;
  /** Per live node, in id order. */
  nodes: NodeStats[];
  /** Cycle durations (only while profiling with `cycleTime`). */
  cycleTime?: HistogramSnapshot;
}

/** Rarely used per-node data, kept off the hot arrays. */
interface Extra {
  onDrop: DropFn<unknown> | undefined;
  releases: (() => void)[] | undefined;
  /** The ids of the node's I/O registrations. */
  io: number[] | undefined;
}

function describe(node: Node<unknown> | undefined): string {
  return node === undefined
    ? "a spawn closure"
    : `node "${node.name ?? "unnamed"}" (id ${node.id})`;
}

/**
 * The default error handler: one line on stderr with the node's name and id, then the error.
 *
 * @example Printing, then counting
 * ```ts
 * import { NodeBuilder, printError, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * if (rt.executor.onError !== printError) throw new Error("printError is the default");
 * let count = 0;
 * rt.executor.onError = (error, report) => {
 *   count++;
 *   printError(error, report); // wavelet: node "flaky" (id 0) threw during cycle: Error: ...
 * };
 * new NodeBuilder(0)
 *   .named("flaky")
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, () => {
 *     throw new Error("flaky");
 *   });
 * rt.runOneCycle();
 * if (count !== 1) throw new Error("one error reported");
 * ```
 */
export function printError(error: unknown, report: ErrorReport): void {
  // A handler of last resort: whatever it is given, it prints and never throws.
  let node: unknown, phase: unknown;
  try {
    node = report?.node;
    phase = report?.phase;
  } catch {
    node = phase = undefined;
  }
  const who = node instanceof Node ? describe(node) : node === undefined ? "a spawn closure" : "?";
  console.error(`wavelet: ${who} threw during ${typeof phase === "string" ? phase : "?"}:`, error);
}

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
  /** @internal */
  readonly _ex: Executor;
  /** @internal The slot of the node this context was handed to. */
  readonly _slot: number;

  /** @internal */
  constructor(ex: Executor, slot: number) {
    if (!(ex instanceof Executor) || typeof slot !== "number") {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        "Contexts are made by the executor and handed to cycle functions; do not construct one",
      );
    }
    this._ex = ex;
    this._slot = slot;
  }

  // A context belongs to one node and is valid only while that node runs: a context saved and
  // used later (between cycles, or while another node runs) throws instead of acting on
  // whichever node happens to be current.
  #check(what: string): void {
    const ex = this._ex;
    if (ex._cur !== this._slot || ex._ctxs[this._slot] !== this) {
      throw new ContextError(
        ErrorCode.ContextExpired,
        `Cannot use ctx.${what} outside the run of the node it was handed to`,
      );
    }
  }

  /** The node being run. */
  get current(): Node<unknown> {
    this.#check("current");
    return this._ex._nodes[this._slot]!;
  }

  /** The executor's epoch: the number of the cycle being run (the first cycle is 1). */
  get epoch(): number {
    this.#check("epoch");
    return this._ex.epoch;
  }

  /** The cycle's time, sampled once per cycle and shared by every node. */
  get time(): CycleTime {
    this.#check("time");
    return this._ex._cycleTime();
  }

  /** The executor, for reading its state. Building nodes while they run throws. */
  get executor(): Executor {
    this.#check("executor");
    return this._ex;
  }

  /** True if `node` broadcast earlier in this cycle. */
  hasMutated(node: Node<unknown>): boolean {
    this.#check("hasMutated");
    return this._ex.hasMutated(node);
  }

  /** Schedules `node` (default: the current node) to run in the next cycle. */
  yieldNow(node?: Node<unknown>): void {
    this.#check("yieldNow");
    this._ex.yieldNow(node === undefined ? this._ex._nodes[this._slot]! : node);
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
    this._ex._scheduleInCycle(node);
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
    return this._ex.registerTimer(node, deadlineNs);
  }

  /**
   * Registers a one-shot timer that falls due `delayNs` after this cycle's time (the relative
   * form of {@linkcode ExecutionContext.registerTimer}).
   *
   * @throws {InvalidArgumentError} If the delay is negative, NaN or infinite.
   */
  registerTimerAfter(node: Node<unknown>, delayNs: number): TimerHandle {
    this.#check("registerTimerAfter");
    return this._ex.registerTimerAfter(node, delayNs);
  }

  /** Cancels a pending timer; returns false if it already fired or was cancelled. */
  cancelTimer(handle: TimerHandle): boolean {
    this.#check("cancelTimer");
    return this._ex.cancelTimer(handle);
  }

  /** Registers `fd` for readiness on `node`; see {@linkcode Executor.registerIo}. */
  registerIo(fd: number, node: Node<unknown>, interest: number): IoHandle {
    this.#check("registerIo");
    return this._ex.registerIo(fd, node, interest);
  }

  /** Changes the interest of an I/O registration. */
  reregisterIo(handle: IoHandle, interest: number): void {
    this.#check("reregisterIo");
    this._ex.reregisterIo(handle, interest);
  }

  /** Removes an I/O registration; returns false if it was not registered. */
  deregisterIo(handle: IoHandle): boolean {
    this.#check("deregisterIo");
    return this._ex.deregisterIo(handle);
  }

  /** The readiness bits (`Readiness.*`) the registration got in this cycle; 0 if none. */
  ioReadiness(handle: IoHandle): number {
    this.#check("ioReadiness");
    return this._ex.ioReadiness(handle);
  }

  /**
   * Queues `fn` to run with full executor access at the end of this cycle, after the sweep
   * phase. Nodes it builds first run in the next cycle at the earliest.
   */
  spawnSubgraph(fn: (executor: Executor) => void): void {
    this.#check("spawnSubgraph");
    if (typeof fn !== "function") {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        `spawnSubgraph needs a function, got ${typeof fn}`,
      );
    }
    this._ex._spawns.push(fn);
  }
}

/**
 * Options of {@linkcode Executor}.
 *
 * @example An executor with room for many nodes
 * ```ts
 * import { Executor, type ExecutorOptions, TestClock } from "@wavelet/wavelet";
 *
 * const options: ExecutorOptions = { initialCapacity: 100_000, clock: new TestClock() };
 * const ex = new Executor(options);
 * if (ex.nodeCount !== 0) throw new Error("empty");
 * ```
 */
export interface ExecutorOptions {
  /** Node slots to reserve up front: an integer in [0, 2^24] (default 64; grown by doubling). */
  initialCapacity?: number;
  /** Most live notifiers at once: an integer in [1, 2^24] (default 4096). */
  notifierCapacity?: number;
  /**
   * The clock relative timers registered between cycles count from (runtimes pass theirs).
   * Default: the clock of the last cycle.
   */
  clock?: Clock;
}

function checkInt(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(
      ErrorCode.InvalidArgument,
      `${name} must be an integer in [${min}, ${max}], got ${describeValue(v)}`,
    );
  }
  return v;
}

const describeValue = describeAny;

function isClock(c: unknown): c is Clock {
  if (c === null || typeof c !== "object") return false;
  try {
    return typeof (c as Clock).sample === "function" && typeof (c as Clock).nowNs === "function";
  } catch {
    return false; // an object whose properties throw is no clock
  }
}

/**
 * Runs a graph of nodes in deterministic, depth-ordered, glitch-free cycles. Usually obtained
 * from a runtime (`rt.executor`); it can also be driven by hand with any {@linkcode Clock}.
 *
 * @example Driving an executor by hand
 * ```ts
 * import { Executor, ExecutorState, NodeBuilder, TestClock } from "@wavelet/wavelet";
 *
 * const ex = new Executor();
 * const clock = new TestClock();
 * const n = new NodeBuilder(0)
 *   .onInit((e, self) => e.yieldNow(self))
 *   .build(ex, (self) => {
 *     self.value++;
 *     return true;
 *   });
 * const state = ex.cycle(clock); // ExecutorState.Running
 * // n.value === 1, ex.epoch === 1, ex.hasMutated(n) === true
 * ```
 */
export class Executor {
  /** Receives isolated errors. Default: {@linkcode printError} (stderr). */
  onError: ErrorHandler = printError;

  /** @internal Node metadata, STRIDE Int32 columns per slot. */
  _meta: Int32Array;
  /** @internal Edge lists. */
  readonly _pool: EdgePool = new EdgePool();
  /** @internal Handles per slot. */
  readonly _nodes: (Node<any> | null)[] = [];
  /** @internal Cycle functions per slot. */
  readonly _fns: (CycleFn<any> | null)[] = [];
  /** @internal onDrop and owned resources, only for the slots that have any (F_HAS_EXTRA). */
  readonly _extra: Map<number, Extra> = new Map();
  /** @internal The scheduler. */
  readonly _sched: Scheduler = new Scheduler();
  /** @internal Pending timers. */
  readonly _timers: TimerHeap = new TimerHeap();
  /** @internal Queued spawn closures. */
  readonly _spawns: ((executor: Executor) => void)[] = [];
  /** @internal Slot of the node being run, -1 otherwise. */
  _cur = -1;
  /** @internal Current tick (epoch modulo renormalization) used for SCHED/MUT stamps. */
  _tick = 0;

  #epoch = 0;
  #phase = PHASE_IDLE;
  #freeSlots: number[] = [];
  #slotTop = 0;
  #nodeCount = 0;
  #nextId = 0;
  #removedRuns = 0;
  #clock: Clock | null = null;
  #time = new CycleTime();
  #timeValid = false;
  #yields: Int32Array = new Int32Array(64);
  #yieldCount = 0;
  #gc: Int32Array = new Int32Array(64);
  #gcCount = 0;
  /** Parents whose child lists still name removed children (see #flushRemovals). */
  readonly #dirty: number[] = [];
  /** Slots of removed nodes, freed for reuse once their parents' lists are compacted. */
  readonly #limbo: number[] = [];
  /** Child-list entries #flushRemovals would scan now. */
  #dirtyWork = 0;
  #leftover = false;
  #panic: unknown = undefined;
  #hasPanic = false;
  #poller: Poller | null = null;
  #profile: Required<ProfilingOptions> | null = null;
  #nodeTime: Float64Array | null = null;
  #cycleHist: Histogram | null = null;
  #trace: TraceEntry[] | null = null;
  #traceLimit = 0;
  #causeBits: Int32Array | null = null;
  #causeTick: Int32Array | null = null;
  #causeBy: Int32Array | null = null;
  readonly #origFns = new Map<number, CycleFn<any>>();
  /** Parent whose Trigger children the drain loop is running directly, or -1. */
  #sibParent = -1;
  /** Index of the next child in that direct run. */
  #sibNext = 0;
  #notify: NotifyQueue | null = null;
  readonly #notifierCapacity: number;
  /** @internal Each node's execution context, made the first time the node runs. */
  readonly _ctxs: (ExecutionContext | null)[] = [];
  #waker: Waker | null = null;
  /** @internal The recorder or replayer attached to this executor, if any. */
  _tap: Tap | null = null;
  /** @internal The I/O driver, when the runtime has one (native backend). */
  _io: IoDriver | null = null;
  #wakeFd = -1;
  readonly #scheduleFromNotify = (slot: number, gen: number): boolean => {
    const tap = this._tap;
    if (tap === null) return this.scheduleStimulus(slot, gen);
    // Replaying: the log says which notifications happened; live ones are ignored.
    if (!tap.recording) return false;
    const ok = this.scheduleStimulus(slot, gen);
    if (ok) tap.notify(slot);
    return ok;
  };

  /**
   * Creates an empty executor.
   *
   * @param options `initialCapacity`: node slots to reserve up front (an integer in
   *   [0, 2^24]; grown by doubling); `notifierCapacity`: most live notifiers at once (an integer
   *   in [1, 2^24], default 4096); `clock`: the clock that relative timers registered between
   *   cycles count from (runtimes pass theirs; default: the clock of the last cycle).
   * @throws {InvalidArgumentError} If an option is out of range or not of its type.
   */
  constructor(options: ExecutorOptions = {}) {
    const o = checkOptions(options, "Executor options", [
      "initialCapacity",
      "notifierCapacity",
      "clock",
    ]);
    const cap = checkInt(o.initialCapacity ?? 64, "initialCapacity", 0, 1 << 24);
    this.#notifierCapacity = checkInt(o.notifierCapacity ?? 4096, "notifierCapacity", 1, 1 << 24);
    const clock = o.clock;
    if (clock !== undefined && !isClock(clock)) {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        "The clock option must have sample() and nowNs() methods",
      );
    }
    this.#clock = clock ?? null;
    this._meta = new Int32Array(Math.max(16, cap) * STRIDE);
  }

  /** @internal The notification area, created on first use. */
  _notifications(): NotifyQueue {
    return this.#notify ??= new NotifyQueue(this.#notifierCapacity);
  }

  /** @internal True if the notification area exists and holds a notification. */
  _hasNotifications(): boolean {
    return this.#notify !== null && this.#notify.hasPending();
  }

  /**
   * @internal Sets how notifiers wake this executor when it is parked: a waker for this
   * thread and an eventfd number that Workers write (-1: Atomics on the area).
   */
  _setWake(waker: Waker | null, fd: number): void {
    this.#waker = waker;
    this.#wakeFd = fd;
  }

  /**
   * Creates a {@linkcode Notifier} for `node`: calling `notify()` from any thread (or from a
   * host callback) runs the node in the next cycle, once however many notifications arrived.
   * The notifier is released with the node; notifying a removed node does nothing.
   *
   * @throws {NodeRemovedError} If the node has left the graph.
   * @throws {CapacityError} If the executor's notifier capacity is used up.
   */
  registerNotifier(node: Node<unknown>): Notifier {
    this.#checkLive(node, "register a notifier for");
    const q = this._notifications();
    const [index, gen] = q.allocate(node._slot, node._gen);
    this.own(node, () => q.release(index));
    const fallback = new AtomicsWaker(q.sab);
    const waker: Waker = { wake: () => (this.#waker ?? fallback).wake() };
    return new Notifier(q.sab, index, gen, waker, this.#wakeFd);
  }

  /** The number of the last cycle started (0 before the first cycle). Never wraps. */
  get epoch(): number {
    return this.#epoch;
  }

  /** The id the next built node will get (ids are handed out in creation order). */
  get nextNodeId(): number {
    return this.#nextId;
  }

  /**
   * Removes every live node built since `nextNodeId` was `mark` (with their descendants):
   * undoes a construction that failed half-way.
   *
   * @param mark A value `nextNodeId` had before the construction.
   * @returns How many nodes were removed directly (descendants not counted).
   */
  removeBuiltSince(mark: number): number {
    if (typeof mark !== "number" || !Number.isInteger(mark) || mark < 0) {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        `removeBuiltSince needs a mark from nextNodeId (an integer >= 0), got ${
          describeValue(mark)
        }`,
      );
    }
    let n = 0;
    for (const node of this.liveNodes()) {
      if (node.id >= mark && node._alive) {
        this.remove(node);
        n++;
      }
    }
    return n;
  }

  /** Live nodes in the graph (nodes removed this cycle count until the sweep phase). */
  get nodeCount(): number {
    return this.#nodeCount;
  }

  /** True while a cycle is in progress. */
  get inCycle(): boolean {
    return this.#phase !== PHASE_IDLE;
  }

  /** The earliest pending timer deadline (monotonic ns), or `Infinity` if none. */
  nextTimerDeadline(): number {
    return this._timers.nextDeadline();
  }

  /**
   * True when a cycle run now would run a node regardless of time: a yield is pending, or nodes
   * are queued from an interrupted cycle. Expired timers are not included (see
   * {@linkcode Executor.nextTimerDeadline}).
   */
  hasScheduledWork(): boolean {
    return this.#yieldCount !== 0 || this._sched.pending !== 0 || this._hasNotifications();
  }

  /** @internal Attaches the runtime's poller (at most one). */
  _setPoller(poller: Poller | null): void {
    this.#poller = poller;
  }

  /** @internal True while a live runtime's poller is attached (the executor is owned). */
  get _hasPoller(): boolean {
    return this.#poller !== null;
  }

  /** @internal True in the poll phase of a cycle: the only time the poller may be called. */
  get _polling(): boolean {
    return this.#phase === PHASE_POLL;
  }

  /**
   * Runs one cycle.
   *
   * @param clock The clock to sample for this cycle's time.
   * @param timeoutNs Longest time the attached poller may wait for stimuli when no work is
   *   queued: 0 (default) never waits, `Infinity` may wait indefinitely.
   * @returns `ExecutorState.Terminated` if a node returned `Control.Terminate`, else `Running`.
   * @throws {WaveletError} On a reentrant call or an invalid timeout.
   * @throws The error of a node built with `allowPanic(true)`, after the cycle's sweep phase.
   */
  cycle(clock: Clock, timeoutNs = 0): ExecutorState {
    if (this.#phase !== PHASE_IDLE) {
      throw new WaveletError(
        ErrorCode.ReentrantCycle,
        "Cannot start a cycle while another cycle of the same executor is running",
      );
    }
    if ((clock !== this.#clock || clock === null) && !isClock(clock)) {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        `A cycle needs a clock with sample() and nowNs(), got ${describeValue(clock)}`,
      );
    }
    if (timeoutNs !== 0 && !(typeof timeoutNs === "number" && timeoutNs > 0)) {
      throw new InvalidArgumentError(
        ErrorCode.InvalidTimeout,
        `A timeout must be a non-negative number of nanoseconds, got ${describeValue(timeoutNs)}`,
      );
    }
    if (this._tap !== null) this._tap.begin(this); // the recorder fingerprints the graph here
    this.#clock = clock;
    this.#timeValid = false;
    const hist = this.#cycleHist;
    const t0 = hist === null ? 0 : this.#profile!.nowNs();
    let tick = this._tick + 1;
    if (tick >= TICK_LIMIT) tick = this.#renormalize();
    this._tick = tick;
    this.#epoch++;
    this.#phase = PHASE_POLL;
    const sched = this._sched;
    const tap = this._tap;
    let state: ExecutorState = ExecutorState.Running;
    let ranAny = false;
    try {
      if (this.#limbo.length !== 0) this.#flushRemovals();
      if (this.#leftover) this.#restamp();
      if (this.#yieldCount !== 0) this.#pollYields();
      if (this._timers.size !== 0) this.#pollTimers();
      if (this.#notify !== null && this.#notify.hasPending()) {
        this.#notify.drain(this.#scheduleFromNotify);
      }
      if (this.#poller !== null) {
        this.#poller.poll(this, sched.pending === 0 ? timeoutNs : 0);
      }
      if (tap !== null) {
        if (!tap.recording) tap.inject(this);
        this._cycleTime(); // a recorded cycle always has its time
      }
      ranAny = sched.pending !== 0;
      if (ranAny) {
        this.#phase = PHASE_RUN;
        state = this.#drain();
      }
      if (this.#gcCount !== 0) this.#sweep();
      if (this._spawns.length !== 0) this.#runSpawns();
    } catch (err) {
      // Whatever failed (a clock, a poller, the OS), the executor goes back to idle and keeps
      // what was queued: the nodes run in the next cycle.
      this._cur = -1;
      if (sched.pending !== 0) this.#leftover = true;
      this.#phase = PHASE_IDLE;
      throw err;
    }
    this.#phase = PHASE_IDLE;
    if (tap !== null) {
      if (tap.recording) tap.endCycle(this.#epoch, this.#time, ranAny);
      else tap.end();
    }
    if (hist !== null) {
      const d = this.#profile!.nowNs() - t0;
      if (Number.isFinite(d)) hist.record(d);
    }
    if (this.#hasPanic) {
      const err = this.#panic;
      this.#panic = undefined;
      this.#hasPanic = false;
      throw err;
    }
    return state;
  }

  /**
   * True if `node` broadcast in the current cycle, or, between cycles, in the cycle that just
   * finished. False before the first cycle and for removed nodes.
   *
   * @throws {ForeignNodeError} If the node belongs to another executor.
   */
  hasMutated(node: Node<unknown>): boolean {
    if (!(node instanceof Node) || node._ex !== this) this.#foreign(node);
    const b = node._slot << SHIFT;
    const meta = this._meta;
    return meta[b + MUT] === this._tick && meta[b + GEN] === node._gen;
  }

  /**
   * Schedules `node` to run in the next cycle (the bootstrap idiom is to call this from
   * `onInit`). Several yields of one node before that cycle run it once.
   *
   * @throws {NodeRemovedError} If the node has left the graph.
   */
  yieldNow(node: Node<unknown>): void {
    this.#checkLive(node, "yield to");
    let n = this.#yieldCount;
    if (2 * n + 2 > this.#yields.length) this.#yields = grow(this.#yields);
    this.#yields[2 * n] = node._slot;
    this.#yields[2 * n + 1] = node._gen;
    this.#yieldCount = ++n;
  }

  /**
   * Removes `node` and all its descendants: at once between cycles, or in the sweep phase when
   * called while nodes run. Each removed node's `onDrop` runs exactly once. Removing a node that
   * is already gone does nothing.
   *
   * @throws {ForeignNodeError} If the node belongs to another executor.
   */
  remove(node: Node<unknown>): void {
    if (!(node instanceof Node)) {
      throw new InvalidArgumentError(ErrorCode.InvalidArgument, "remove() needs a Node handle");
    }
    if (node._ex !== this) this.#foreign(node);
    if (!node._alive) return;
    this.#doom(node._slot);
    if (this.#phase !== PHASE_RUN && this.#phase !== PHASE_SWEEP) this.#sweep();
  }

  /**
   * Registers `fd` for readiness: when it becomes ready for `interest`
   * (`Readiness.Readable` and/or `Readiness.Writable`, level-triggered unless
   * `Readiness.EdgeTriggered` is added) the node runs; ask `ctx.ioReadiness(handle)` what it
   * got. The registration is removed with the node; the fd stays the caller's to close.
   *
   * @throws {WaveletError} With code `UNSUPPORTED` when the runtime has no I/O driver (test
   *   runtime, pure-JS backend).
   * @throws {NativeError} If epoll rejects the fd (closed: EBADF; a regular file: EPERM).
   */
  registerIo(fd: number, node: Node<unknown>, interest: number): IoHandle {
    this.#checkLive(node, "register I/O for");
    const io = this.#requireIo();
    const id = io.register(fd, node._slot, node._gen, interest);
    (this.#extraOf(node._slot).io ??= []).push(id);
    return new IoHandle(this, id);
  }

  /**
   * Changes the interest of an I/O registration.
   *
   * @throws {InvalidArgumentError} If `handle` is not an I/O handle, or no longer registered.
   * @throws {ForeignNodeError} If the handle belongs to another executor.
   */
  reregisterIo(handle: IoHandle, interest: number): void {
    this.#ioId(handle);
    this.#requireIo().reregister(handle._id, interest);
  }

  /**
   * Removes an I/O registration; returns false if it was not registered.
   *
   * @throws {InvalidArgumentError} If `handle` is not an I/O handle.
   * @throws {ForeignNodeError} If the handle belongs to another executor.
   */
  deregisterIo(handle: IoHandle): boolean {
    const id = this.#ioId(handle);
    const io = this._io;
    if (io === null) return false;
    const slot = io.slotOf(id);
    if (slot < 0) return false;
    const list = this._extra.get(slot)?.io;
    if (list !== undefined) {
      const i = list.indexOf(id);
      if (i >= 0) list.splice(i, 1);
    }
    return io.deregister(id);
  }

  /**
   * The readiness bits a registration got in the current (or just finished) cycle.
   *
   * @throws {InvalidArgumentError} If `handle` is not an I/O handle.
   * @throws {ForeignNodeError} If the handle belongs to another executor.
   */
  ioReadiness(handle: IoHandle): number {
    const id = this.#ioId(handle);
    return this._io === null ? 0 : this._io.readiness(id, this._tick);
  }

  #ioId(handle: IoHandle): number {
    if (!(handle instanceof IoHandle)) {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        `Expected an I/O handle from registerIo, got ${describeValue(handle)}`,
      );
    }
    if (handle._owner !== this) {
      throw new ForeignNodeError(
        ErrorCode.ForeignNode,
        "Cannot use an I/O handle of another executor",
      );
    }
    return handle._id;
  }

  #requireIo(): IoDriver {
    if (this._io === null) {
      throw new WaveletError(
        ErrorCode.Unsupported,
        "I/O registration needs a RealtimeRuntime on the native backend (epoll)",
      );
    }
    return this._io;
  }

  #extraOf(slot: number): Extra {
    let x = this._extra.get(slot);
    if (x === undefined) {
      x = { onDrop: undefined, releases: undefined, io: undefined };
      this._extra.set(slot, x);
      this._meta[(slot << SHIFT) + FLAGS] |= F_HAS_EXTRA;
    }
    return x;
  }

  /**
   * Removes every node (each `onDrop` runs once): at once between cycles, in the sweep phase
   * when called while nodes run. Used by runtimes on shutdown.
   */
  removeAll(): void {
    const meta = this._meta;
    for (let s = 0; s < this.#slotTop; s++) {
      if ((meta[(s << SHIFT) + FLAGS] & F_ALIVE) !== 0) this.#doom(s);
    }
    if (this.#phase !== PHASE_RUN && this.#phase !== PHASE_SWEEP) this.#sweep();
  }

  /**
   * @internal Called by a poller right after a blocking wait, so that the same cycle handles
   * what woke it: the time is sampled again, expired timers and notifications are collected.
   */
  _afterWait(): void {
    this.#timeValid = false;
    if (this._timers.size !== 0) this.#pollTimers();
    if (this.#notify !== null && this.#notify.hasPending()) {
      this.#notify.drain(this.#scheduleFromNotify);
    }
  }

  /**
   * Registers a one-shot timer for `node` at the monotonic instant `deadlineNs`. Usable from
   * `onInit` and between cycles; inside a cycle `ctx.registerTimer` is the same.
   *
   * @throws {InvalidArgumentError} If the deadline is negative, NaN or infinite.
   * @throws {NodeRemovedError} If the node has left the graph.
   */
  registerTimer(node: Node<unknown>, deadlineNs: number): TimerHandle {
    if (typeof deadlineNs !== "number" || !(deadlineNs >= 0) || deadlineNs === Infinity) {
      throw new InvalidArgumentError(
        ErrorCode.InvalidDeadline,
        `A timer deadline must be a finite, non-negative number of nanoseconds, got ${
          describeValue(deadlineNs)
        }`,
      );
    }
    this.#checkLive(node, "register a timer for");
    const id = this._timers.add(node._slot, node._gen, deadlineNs);
    this._meta[(node._slot << SHIFT) + TIMERS]++;
    return new TimerHandle(this, id);
  }

  /**
   * Registers a one-shot timer for `node` that falls due `delayNs` after now: after the cycle's
   * time when called while nodes run, after the clock's current time between cycles. The
   * relative form of {@linkcode Executor.registerTimer}.
   *
   * @throws {InvalidArgumentError} If the delay is negative, NaN or infinite.
   * @throws {NodeRemovedError} If the node has left the graph.
   * @throws {ContextError} Between cycles, if the executor has no clock yet (pass `clock` to
   *   the constructor, or run a cycle first; every runtime's executor has one).
   *
   * @example A heartbeat every 100 ms
   * ```ts
   * import { ms, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
   *
   * const rt = new TestRuntime();
   * const beat = new NodeBuilder(0)
   *   .onInit((ex, self) => {
   *     ex.registerTimerAfter(self, ms(100));
   *   })
   *   .build(rt.executor, (self, ctx) => {
   *     self.value++;
   *     ctx.registerTimerAfter(self, ms(100));
   *     return true;
   *   });
   * rt.advanceClock(ms(250));
   * rt.runUntilIdle();
   * if (beat.value !== 1) throw new Error("the first beat is due at 100 ms");
   * ```
   */
  registerTimerAfter(node: Node<unknown>, delayNs: number): TimerHandle {
    if (typeof delayNs !== "number" || !(delayNs >= 0) || delayNs === Infinity) {
      throw new InvalidArgumentError(
        ErrorCode.InvalidDeadline,
        `A timer delay must be a finite, non-negative number of nanoseconds, got ${
          describeValue(delayNs)
        }`,
      );
    }
    this.#checkLive(node, "register a timer for");
    let now: number;
    if (this.#phase !== PHASE_IDLE) now = this._cycleTime().monotonicNs;
    else if (this.#clock !== null) now = this.#clock.nowNs();
    else {
      throw new ContextError(
        ErrorCode.ContextExpired,
        "Cannot register a relative timer before the executor has a clock; pass clock to the " +
          "Executor or run a cycle first",
      );
    }
    return this.registerTimer(node, now + delayNs);
  }

  /**
   * Cancels a pending timer; returns false if it already fired or was cancelled.
   *
   * @throws {InvalidArgumentError} If `handle` is not a timer handle.
   * @throws {ForeignNodeError} If the handle belongs to another executor.
   */
  cancelTimer(handle: TimerHandle): boolean {
    if (!(handle instanceof TimerHandle)) {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        `Expected a timer handle from registerTimer, got ${describeValue(handle)}`,
      );
    }
    if (handle._owner !== this) {
      throw new ForeignNodeError(
        ErrorCode.ForeignNode,
        "Cannot cancel a timer of another executor",
      );
    }
    const slot = this._timers.slotOf(handle._id);
    if (slot < 0) return false;
    this._timers.cancel(handle._id);
    this._meta[(slot << SHIFT) + TIMERS]--;
    return true;
  }

  /**
   * Ties a resource to `node`: `release` runs once when the node leaves the graph (before its
   * `onDrop`). Used by notifiers, channels and sockets owned by a node.
   *
   * @throws {NodeRemovedError} If the node has left the graph.
   */
  own(node: Node<unknown>, release: () => void): void {
    if (typeof release !== "function") {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        `own() needs a release function, got ${describeValue(release)}`,
      );
    }
    this.#checkLive(node, "attach a resource to");
    (this.#extraOf(node._slot).releases ??= []).push(release);
  }

  /**
   * Schedules `node` for the current cycle from a poller (an external stimulus). Stale
   * generations and removed nodes are ignored; returns whether the node was queued.
   *
   * @param slot The node's slot.
   * @param gen The generation the stimulus was registered with.
   * @param cause What woke it, for traces (`CAUSE_NOTIFY` or `CAUSE_IO`).
   */
  scheduleStimulus(slot: number, gen: number, cause: number = CAUSE_NOTIFY): boolean {
    if (
      typeof slot !== "number" || typeof gen !== "number" || typeof cause !== "number" ||
      (slot | 0) !== slot || (gen | 0) !== gen
    ) {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        "scheduleStimulus needs a slot and a generation (int32) and a cause number",
      );
    }
    const meta = this._meta;
    const b = slot << SHIFT;
    if (
      slot < 0 || slot >= this.#slotTop || meta[b + GEN] !== gen ||
      (meta[b + FLAGS] & (F_ALIVE | F_DOOMED)) !== F_ALIVE
    ) return false;
    if (this.#trace !== null) this.#noteCause(slot, cause, -1);
    if (meta[b + SCHED] === this._tick) return false;
    meta[b + SCHED] = this._tick;
    this._sched.push(meta, slot, meta[b + DEPTH]);
    return true;
  }

  /** Live node handles in id (creation) order. */
  liveNodes(): Node<unknown>[] {
    const out: Node<unknown>[] = [];
    for (const n of this._nodes) if (n !== null && n._alive) out.push(n);
    return out.sort((a, b) => a.id - b.id);
  }

  /** The parents of a live node with their relationships, in the order they were added. */
  parentsOf(node: Node<unknown>): { node: Node<unknown>; relationship: Relationship }[] {
    this.#checkLive(node, "list the parents of");
    const meta = this._meta, buf = this._pool.buf, b = node._slot << SHIFT;
    const out: { node: Node<unknown>; relationship: Relationship }[] = [];
    for (let i = 0; i < meta[b + P_COUNT]; i++) {
      const e = buf[meta[b + P_START] + i];
      out.push({ node: this._nodes[e >> 1]!, relationship: (e & 1) as Relationship });
    }
    return out;
  }

  /** The Trigger children of a live node, in creation order. */
  triggerChildrenOf(node: Node<unknown>): Node<unknown>[] {
    this.#checkLive(node, "list the children of");
    const meta = this._meta, buf = this._pool.buf, b = node._slot << SHIFT;
    const out: Node<unknown>[] = [];
    for (let i = 0; i < meta[b + TK_COUNT]; i++) {
      const c = buf[meta[b + TK_START] + 2 * i];
      if ((meta[(c << SHIFT) + FLAGS] & F_ALIVE) !== 0) out.push(this._nodes[c]!);
    }
    return out;
  }

  /** The Observe children of a live node, in creation order. */
  observerChildrenOf(node: Node<unknown>): Node<unknown>[] {
    this.#checkLive(node, "list the observers of");
    const meta = this._meta, buf = this._pool.buf, b = node._slot << SHIFT;
    const out: Node<unknown>[] = [];
    for (let i = 0; i < meta[b + OB_COUNT]; i++) {
      const c = buf[meta[b + OB_START] + i];
      if ((meta[(c << SHIFT) + FLAGS] & F_ALIVE) !== 0) out.push(this._nodes[c]!);
    }
    return out;
  }

  /** How many times the node's cycle function ran (0 for a removed node). */
  runCount(node: Node<unknown>): number {
    if (!(node instanceof Node) || node._ex !== this) this.#foreign(node);
    const b = node._slot << SHIFT;
    if (this._meta[b + GEN] !== node._gen) return 0;
    return this._meta[b + RUNS] >>> 0;
  }

  /** Counters: cycles, node runs, live nodes, pending timers, per-node run counts. */
  stats(): ExecutorStats {
    let total = this.#removedRuns;
    const nodes: NodeStats[] = [];
    for (const n of this.liveNodes()) {
      const runs = this._meta[(n._slot << SHIFT) + RUNS] >>> 0;
      total += runs;
      const entry: NodeStats = { id: n.id, name: n.name, depth: n.depth, runs };
      if (this.#nodeTime !== null) entry.timeNs = this.#nodeTime[n._slot] ?? 0;
      nodes.push(entry);
    }
    const out: ExecutorStats = {
      cycles: this.#epoch,
      nodeRuns: total,
      nodeCount: this.#nodeCount,
      pendingTimers: this._timers.size,
      nodes,
    };
    if (this.#cycleHist !== null) out.cycleTime = this.#cycleHist.snapshot();
    return out;
  }

  /**
   * Starts measuring: time per node (added to `stats().nodes[i].timeNs`) and a histogram of
   * cycle durations (`stats().cycleTime`). Costs a clock read around every node run and every
   * cycle, so it is off by default; the hot loop is untouched when it is off (nodes are
   * wrapped, not tested). Calling it again resets the counters.
   *
   * @example
   * ```ts
   * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
   * const rt = new TestRuntime();
   * rt.executor.enableProfiling();
   * new NodeBuilder(0).onInit((ex, self) => ex.yieldNow(self)).build(rt.executor, () => false);
   * rt.runOneCycle();
   * const s = rt.executor.stats(); // s.cycleTime.count === 1, s.nodes[0].timeNs >= 0
   * ```
   */
  enableProfiling(options: ProfilingOptions = {}): void {
    const o = checkOptions(options, "Profiling options", ["nodeTime", "cycleTime", "nowNs"]);
    if (o.nodeTime !== undefined && typeof o.nodeTime !== "boolean") {
      throw invalid(`nodeTime must be a boolean, got ${describeValue(o.nodeTime)}`);
    }
    if (o.cycleTime !== undefined && typeof o.cycleTime !== "boolean") {
      throw invalid(`cycleTime must be a boolean, got ${describeValue(o.cycleTime)}`);
    }
    const clock = o.nowNs;
    if (clock !== undefined && typeof clock !== "function") {
      throw invalid(`nowNs must be a function, got ${describeValue(clock)}`);
    }
    if (clock !== undefined) {
      // One reading up front: a clock that fails or answers something else is refused now.
      let t: unknown;
      try {
        t = clock();
      } catch (cause) {
        throw invalid("nowNs threw when read", cause);
      }
      if (typeof t !== "number" || !Number.isFinite(t)) {
        throw invalid(`nowNs must return a finite number of nanoseconds, got ${describeValue(t)}`);
      }
    }
    this.#profile = {
      nodeTime: o.nodeTime ?? true,
      cycleTime: o.cycleTime ?? true,
      // A later reading that is not a number becomes NaN, and a NaN duration is not recorded.
      nowNs: clock === undefined ? () => performance.now() * 1e6 : () => {
        const t = clock();
        return typeof t === "number" ? t : NaN;
      },
    };
    this.#nodeTime = this.#profile.nodeTime ? new Float64Array(this.#slotTop + 16) : null;
    this.#cycleHist = this.#profile.cycleTime ? new Histogram() : null;
    this.#reinstrument();
  }

  /** Stops measuring (counters are dropped). */
  disableProfiling(): void {
    this.#profile = null;
    this.#nodeTime = null;
    this.#cycleHist = null;
    this.#reinstrument();
  }

  /**
   * Starts a "why did this node run" trace: every node run from now on is logged with its
   * reasons (Trigger parents that broadcast, yield, timer, notify, I/O, `scheduleNode`). Read
   * it with {@linkcode Executor.takeTrace}. Like profiling, it wraps nodes and leaves the hot
   * loop alone when off.
   *
   * @param limit Most entries kept (oldest dropped first); default 100 000.
   *
   * @example
   * ```ts
   * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
   * const rt = new TestRuntime();
   * const a = new NodeBuilder(0).named("a").onInit((ex, s) => ex.yieldNow(s))
   *   .build(rt.executor, () => true);
   * new NodeBuilder(0).named("b").triggeredBy(a).build(rt.executor, () => false);
   * rt.executor.startTrace();
   * rt.runOneCycle();
   * rt.executor.takeTrace().map((e) => `${e.name}: ${e.reasons}`); // ["a: yield", "b: trigger a#0"]
   * ```
   */
  startTrace(limit = 100_000): void {
    checkInt(limit, "The trace limit", 1, 2 ** 31 - 1);
    this.#trace = [];
    this.#traceLimit = limit;
    const n = this.#slotTop + 16;
    this.#causeBits = new Int32Array(n);
    this.#causeTick = new Int32Array(n).fill(-1);
    this.#causeBy = new Int32Array(n).fill(-1);
    this.#reinstrument();
  }

  /** Returns and clears the trace collected so far. */
  takeTrace(): TraceEntry[] {
    const t = this.#trace ?? [];
    if (this.#trace !== null) this.#trace = [];
    return t;
  }

  /** Stops tracing. */
  stopTrace(): void {
    this.#trace = null;
    this.#causeBits = this.#causeTick = this.#causeBy = null;
    this.#reinstrument();
  }

  #noteCause(slot: number, bit: number, by: number): void {
    if (slot >= this.#causeBits!.length) {
      const n = Math.max(slot + 1, this.#causeBits!.length * 2);
      const grow32 = (a: Int32Array, fill: number) => {
        const x = new Int32Array(n).fill(fill);
        x.set(a);
        return x;
      };
      this.#causeBits = grow32(this.#causeBits!, 0);
      this.#causeTick = grow32(this.#causeTick!, -1);
      this.#causeBy = grow32(this.#causeBy!, -1);
    }
    if (this.#causeTick![slot] !== this._tick) {
      this.#causeTick![slot] = this._tick;
      this.#causeBits![slot] = 0;
    }
    this.#causeBits![slot] |= bit;
    if (by >= 0) this.#causeBy![slot] = by;
  }

  /** Restores every original cycle function, then wraps them per the current settings. */
  #reinstrument(): void {
    for (const [slot, fn] of this.#origFns) this._fns[slot] = fn;
    this.#origFns.clear();
    if (this.#profile === null && this.#trace === null) return;
    for (let s = 0; s < this.#slotTop; s++) if (this._fns[s] !== null) this.#instrument(s);
  }

  #instrument(slot: number): void {
    const orig = this._fns[slot]!;
    this.#origFns.set(slot, orig);
    let fn: CycleFn<any> = orig;
    const prof = this.#profile;
    if (prof !== null && prof.nodeTime) {
      const inner = fn, now = prof.nowNs;
      fn = (self, ctx) => {
        const t0 = now();
        try {
          return inner(self, ctx);
        } finally {
          const times = this.#nodeTime;
          if (times !== null) {
            if (slot >= times.length) {
              const g = new Float64Array(Math.max(slot + 1, times.length * 2));
              g.set(times);
              this.#nodeTime = g;
            }
            const d = now() - t0;
            if (Number.isFinite(d)) this.#nodeTime![slot] += d;
          }
        }
      };
    }
    if (this.#trace !== null) {
      const inner = fn;
      fn = (self, ctx) => {
        this.#logRun(slot);
        return inner(self, ctx);
      };
    }
    this._fns[slot] = fn;
  }

  #logRun(slot: number): void {
    const trace = this.#trace;
    if (trace === null) return;
    const meta = this._meta, buf = this._pool.buf, b = slot << SHIFT, tick = this._tick;
    const reasons: string[] = [];
    for (let i = 0; i < meta[b + P_COUNT]; i++) {
      const e = buf[meta[b + P_START] + i], p = e >> 1;
      if ((e & 1) === Relationship.Trigger && meta[(p << SHIFT) + MUT] === tick) {
        reasons.push(`trigger ${this._nodes[p]}`);
      }
    }
    if (
      this.#causeTick !== null && slot < this.#causeTick.length && this.#causeTick[slot] === tick
    ) {
      const bits = this.#causeBits![slot];
      if (bits & CAUSE_YIELD) reasons.push("yield");
      if (bits & CAUSE_TIMER) reasons.push("timer");
      if (bits & CAUSE_NOTIFY) reasons.push("notify");
      if (bits & CAUSE_IO) reasons.push("io");
      if (bits & CAUSE_SCHEDULE) {
        const by = this.#causeBy![slot];
        reasons.push(`scheduled by ${by >= 0 ? this._nodes[by] : "?"}`);
      }
    }
    const node = this._nodes[slot]!;
    trace.push({ epoch: this.#epoch, nodeId: node.id, name: node.name, reasons });
    if (trace.length > this.#traceLimit) trace.splice(0, trace.length - this.#traceLimit);
  }

  /** The graph in Graphviz DOT: nodes by name and id, Observe edges dashed. */
  toDot(): string {
    const lines = ["digraph wavelet {", "  rankdir=LR;", "  node [shape=box];"];
    for (const n of this.liveNodes()) {
      lines.push(`  n${n.id} [label=${JSON.stringify(`${n.name ?? "node"}#${n.id}`)}];`);
    }
    for (const n of this.liveNodes()) {
      for (const p of this.parentsOf(n)) {
        const style = p.relationship === Relationship.Observe ? " [style=dashed]" : "";
        lines.push(`  n${p.node.id} -> n${n.id}${style};`);
      }
    }
    lines.push("}");
    return lines.join("\n") + "\n";
  }

  /** The graph as a Mermaid flowchart: Trigger edges solid, Observe edges dotted. */
  toMermaid(): string {
    const lines = ["flowchart LR"];
    const esc = (s: string) => s.replace(/"/g, "#quot;");
    for (const n of this.liveNodes()) {
      lines.push(`  n${n.id}["${esc(`${n.name ?? "node"}#${n.id}`)}"]`);
    }
    for (const n of this.liveNodes()) {
      for (const p of this.parentsOf(n)) {
        const arrow = p.relationship === Relationship.Observe ? "-.->" : "-->";
        lines.push(`  n${p.node.id} ${arrow} n${n.id}`);
      }
    }
    return lines.join("\n") + "\n";
  }

  // ---------------------------------------------------------------- building

  /** @internal Builds a node from a builder's spec. */
  _build<T>(spec: NodeSpec<T>, fn: CycleFn<T>): Node<T> {
    if (this.#phase === PHASE_RUN) {
      throw new BuilderError(
        ErrorCode.BuildDuringCycle,
        "Cannot build a node while nodes are running; use ctx.spawnSubgraph",
      );
    }
    if (typeof fn !== "function") {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        `A cycle function must be a function, got ${fn === null ? "null" : typeof fn}`,
      );
    }
    const parents = spec._parents, rels = spec._rels;
    let depth = 0;
    for (let i = 0; i < parents.length; i++) {
      const p = parents[i];
      if (p._ex !== this) this.#foreign(p);
      if (!p._alive || (this._meta[(p._slot << SHIFT) + FLAGS] & F_DOOMED) !== 0) {
        throw new NodeRemovedError(
          ErrorCode.NodeRemoved,
          `Cannot build on ${describe(p)}: it has left the graph`,
        );
      }
      if (p._depth + 1 > depth) depth = p._depth + 1;
    }
    this._sched.ensureDepth(depth);
    const slot = this.#allocSlot();
    let meta = this._meta;
    const b = slot << SHIFT;
    const gen = meta[b + GEN];
    meta[b + DEPTH] = depth;
    meta[b + SCHED] = NEVER;
    meta[b + MUT] = NEVER;
    meta[b + FLAGS] = F_ALIVE | (spec._allowPanic ? F_ALLOW_PANIC : 0) |
      (spec._onDrop !== undefined ? F_HAS_EXTRA : 0);
    meta[b + NEXT] = -1;
    meta[b + TK_START] = 0;
    meta[b + TK_COUNT] = 0;
    meta[b + TK_CAP] = 0;
    meta[b + OB_START] = 0;
    meta[b + OB_COUNT] = 0;
    meta[b + OB_CAP] = 0;
    meta[b + P_START] = 0;
    meta[b + P_COUNT] = parents.length;
    meta[b + TIMERS] = 0;
    meta[b + RUNS] = 0;
    if (parents.length > 0) {
      const ps = this._pool.alloc(parents.length);
      meta[b + P_START] = ps;
      for (let i = 0; i < parents.length; i++) {
        const p = parents[i]._slot;
        this._pool.buf[ps + i] = p * 2 + rels[i];
        if (rels[i] === Relationship.Trigger) this.#addTriggerChild(p, slot, depth);
        else this.#addObserverChild(p, slot);
      }
      meta = this._meta;
    }
    const node = new Node<T>(this, spec._initial, this.#nextId++, slot, gen, depth, spec._name);
    this._nodes[slot] = node;
    this._fns[slot] = fn;
    if (this.#profile !== null || this.#trace !== null) this.#instrument(slot);
    if (spec._onDrop !== undefined) {
      this._extra.set(slot, {
        onDrop: spec._onDrop as DropFn<unknown>,
        releases: undefined,
        io: undefined,
      });
    }
    this.#nodeCount++;
    if (spec._onInit !== undefined) {
      try {
        spec._onInit(this, node);
      } catch (err) {
        if (!spec._allowPanic) this.#report(err, node, "init");
        this.#doom(slot);
        if (this.#phase !== PHASE_SWEEP) this.#sweep();
        if (spec._allowPanic) throw err;
      }
    }
    return node;
  }

  #allocSlot(): number {
    // Removed slots come back once their parents' lists are compacted: at once when that is
    // cheap compared with the number of removed nodes, else in batches large enough to keep
    // the compaction amortized O(1) per removal.
    const limbo = this.#limbo.length;
    if (
      this.#freeSlots.length === 0 && limbo !== 0 &&
      (this.#dirtyWork <= 4 * limbo + 64 || limbo >= this.#slotTop >> 2)
    ) {
      this.#flushRemovals();
    }
    if (this.#freeSlots.length > 0) return this.#freeSlots.pop()!;
    const slot = this.#slotTop++;
    if ((slot + 1) * STRIDE > this._meta.length) {
      const next = new Int32Array(this._meta.length * 2);
      next.set(this._meta);
      this._meta = next;
    }
    this._nodes.push(null);
    this._fns.push(null);
    this._ctxs.push(null);
    return slot;
  }

  #addTriggerChild(parent: number, child: number, depth: number): void {
    const meta = this._meta, pool = this._pool, b = parent << SHIFT;
    const n = meta[b + TK_COUNT], cap = meta[b + TK_CAP];
    if (n === cap) {
      const ncap = cap === 0 ? 1 : cap * 2;
      const start = pool.alloc(ncap * 2);
      const old = meta[b + TK_START];
      pool.buf.copyWithin(start, old, old + n * 2);
      if (cap > 0) pool.free(old, cap * 2);
      meta[b + TK_START] = start;
      meta[b + TK_CAP] = ncap;
    }
    const at = meta[b + TK_START] + n * 2;
    pool.buf[at] = child;
    pool.buf[at + 1] = depth;
    meta[b + TK_COUNT] = n + 1;
  }

  #addObserverChild(parent: number, child: number): void {
    const meta = this._meta, pool = this._pool, b = parent << SHIFT;
    const n = meta[b + OB_COUNT], cap = meta[b + OB_CAP];
    if (n === cap) {
      const ncap = cap === 0 ? 2 : cap * 2;
      const start = pool.alloc(ncap);
      const old = meta[b + OB_START];
      pool.buf.copyWithin(start, old, old + n);
      if (cap > 0) pool.free(old, cap);
      meta[b + OB_START] = start;
      meta[b + OB_CAP] = ncap;
    }
    pool.buf[meta[b + OB_START] + n] = child;
    meta[b + OB_COUNT] = n + 1;
  }

  // ---------------------------------------------------------------- the cycle

  /** @internal The cycle time, sampled on first use in a cycle. */
  _cycleTime(): CycleTime {
    if (!this.#timeValid) {
      this.#clock!.sample(this.#time);
      this.#timeValid = true;
    }
    return this.#time;
  }

  #pollYields(): void {
    const meta = this._meta, y = this.#yields, n = this.#yieldCount, tick = this._tick;
    this.#yieldCount = 0;
    for (let i = 0; i < n; i++) {
      const slot = y[2 * i], b = slot << SHIFT;
      if (
        this.#trace !== null && meta[b + GEN] === y[2 * i + 1] &&
        (meta[b + FLAGS] & F_ALIVE) !== 0
      ) this.#noteCause(slot, CAUSE_YIELD, -1);
      if (
        meta[b + GEN] === y[2 * i + 1] && (meta[b + FLAGS] & (F_ALIVE | F_DOOMED)) === F_ALIVE &&
        meta[b + SCHED] !== tick
      ) {
        meta[b + SCHED] = tick;
        this._sched.push(meta, slot, meta[b + DEPTH]);
      }
    }
  }

  #pollTimers(): void {
    const now = this._cycleTime().monotonicNs;
    const timers = this._timers, meta = this._meta, tick = this._tick;
    while (timers.size !== 0 && timers.nextDeadline() <= now) {
      const slot = timers.topSlot(), gen = timers.topGen(), b = slot << SHIFT;
      timers.popTop();
      if (meta[b + GEN] !== gen) continue;
      meta[b + TIMERS]--;
      if (this.#trace !== null) this.#noteCause(slot, CAUSE_TIMER, -1);
      if ((meta[b + FLAGS] & (F_ALIVE | F_DOOMED)) === F_ALIVE && meta[b + SCHED] !== tick) {
        meta[b + SCHED] = tick;
        this._sched.push(meta, slot, meta[b + DEPTH]);
      }
    }
  }

  /** Runs the drain loop, resuming after each isolated exception. */
  #drain(): ExecutorState {
    this._sched.cursor = 0;
    for (;;) {
      try {
        return this.#drainLoop();
      } catch (err) {
        const slot = this._cur;
        this._cur = -1;
        if (this.#sibParent >= 0) this.#requeueSiblings();
        // Not a node's exception: cycle() keeps the queue for the next cycle and surfaces it.
        if (slot < 0) throw err;
        if ((this._meta[(slot << SHIFT) + FLAGS] & F_ALLOW_PANIC) !== 0) {
          this.#hasPanic = true;
          this.#panic = err;
          if (this._sched.pending !== 0) this.#leftover = true;
          return ExecutorState.Running;
        }
        this.#report(err, this._nodes[slot]!, "cycle");
        this.#doom(slot);
      }
    }
  }

  /**
   * The hot loop. Scheduler push/pop are inlined on locals. Two shortcuts keep the queue out
   * of the common shapes, without changing the order: when a node broadcasts while nothing else
   * is queued, a lone Trigger child runs at once (it is next anyway), and several Trigger
   * children of one depth run straight from the parent's child list (they would be queued and
   * popped in exactly that order). Their grandchildren go through the queue as usual.
   */
  #drainLoop(): ExecutorState {
    const meta = this._meta, edges = this._pool.buf, nodes = this._nodes, fns = this._fns;
    const ctxs = this._ctxs, s = this._sched, head = s.head, bits = s.bits;
    const tick = this._tick;
    let slot = -1;
    for (;;) {
      if (slot === -1) {
        if (s.pending === 0) {
          this._cur = -1;
          return ExecutorState.Running;
        }
        let d = s.cursor;
        if (head[d] === -1) {
          d = nextNonEmpty(bits, d);
          s.cursor = d;
        }
        slot = head[d];
        const nx = meta[(slot << SHIFT) + NEXT];
        head[d] = nx;
        if (nx === -1) {
          s.tail[d] = -1;
          bits[d >>> 5] &= ~(1 << (d & 31));
        }
        s.pending--;
      }
      const b = slot << SHIFT;
      if ((meta[b + FLAGS] & F_DOOMED) !== 0) {
        slot = -1;
        continue;
      }
      this._cur = slot;
      meta[b + RUNS]++;
      const r = fns[slot]!(nodes[slot]!, ctxs[slot] ?? this.#newCtx(slot));
      if (r === BROADCAST || r === true) {
        meta[b + MUT] = tick;
        const n = meta[b + TK_COUNT];
        if (n !== 0) {
          const e = meta[b + TK_START];
          if (s.pending === 0) {
            if (n === 1) {
              const c = edges[e];
              if (meta[(c << SHIFT) + SCHED] !== tick) {
                // The cursor stays behind (pops scan up from it; scheduleNode checks the
                // running node's own depth), saving a store per node on chains.
                meta[(c << SHIFT) + SCHED] = tick;
                slot = c;
                continue;
              }
            } else if (this.#sameDepthUnscheduled(e, n, tick)) {
              const st = this.#runSiblings(slot, e, n, tick);
              if (st !== ExecutorState.Running) return st;
            } else {
              this.#pushChildren(e, n, tick);
            }
          } else {
            this.#pushChildren(e, n, tick);
          }
        }
      } else if (r === SWEEP) {
        this.#doom(slot);
      } else if (r === TERMINATE) {
        this._cur = -1;
        s.clear();
        return ExecutorState.Terminated;
      }
      slot = -1;
    }
  }

  /** The context of the node in `slot`, made on its first run. */
  #newCtx(slot: number): ExecutionContext {
    return this._ctxs[slot] = new ExecutionContext(this, slot);
  }

  /** Queues the not-yet-scheduled Trigger children in edges[e .. e + 2n). */
  #pushChildren(e: number, n: number, tick: number): void {
    const meta = this._meta, edges = this._pool.buf, s = this._sched;
    const head = s.head, tail = s.tail, bits = s.bits;
    const end = e + 2 * n;
    let added = 0;
    for (; e < end; e += 2) {
      const c = edges[e], cb = c << SHIFT;
      if (meta[cb + SCHED] !== tick) {
        meta[cb + SCHED] = tick;
        meta[cb + NEXT] = -1;
        const d = edges[e + 1];
        const t = tail[d];
        if (t === -1) {
          head[d] = c;
          bits[d >>> 5] |= 1 << (d & 31);
        } else {
          meta[(t << SHIFT) + NEXT] = c;
        }
        tail[d] = c;
        added++;
      }
    }
    s.pending += added;
  }

  /** True if the n children at edges[e] share one depth and none is scheduled this tick. */
  #sameDepthUnscheduled(e: number, n: number, tick: number): boolean {
    const meta = this._meta, edges = this._pool.buf;
    const d = edges[e + 1], end = e + 2 * n;
    for (; e < end; e += 2) {
      if (edges[e + 1] !== d || meta[(edges[e] << SHIFT) + SCHED] === tick) return false;
    }
    return true;
  }

  /**
   * Runs the n Trigger children at edges[e] of `parent` in order, as if they had been queued
   * (all are stamped first, so scheduling one of them again is a no-op, as it would be). If
   * one throws, #drain's handler queues the ones not yet run (#requeueSiblings).
   */
  #runSiblings(parent: number, e: number, n: number, tick: number): ExecutorState {
    const meta = this._meta, edges = this._pool.buf, nodes = this._nodes, fns = this._fns;
    const ctxs = this._ctxs, s = this._sched;
    const end = e + 2 * n;
    for (let k = e; k < end; k += 2) meta[(edges[k] << SHIFT) + SCHED] = tick;
    s.cursor = edges[e + 1];
    this.#sibParent = parent;
    for (let k = e; k < end; k += 2) {
      const c = edges[k], cb = c << SHIFT;
      this.#sibNext = k + 2;
      if ((meta[cb + FLAGS] & F_DOOMED) !== 0) continue;
      this._cur = c;
      meta[cb + RUNS]++;
      const r = fns[c]!(nodes[c]!, ctxs[c] ?? this.#newCtx(c));
      if (r === BROADCAST || r === true) {
        meta[cb + MUT] = tick;
        const cn = meta[cb + TK_COUNT];
        if (cn !== 0) this.#pushChildren(meta[cb + TK_START], cn, tick);
      } else if (r === SWEEP) {
        this.#doom(c);
      } else if (r === TERMINATE) {
        this.#sibParent = -1;
        this._cur = -1;
        s.clear();
        return ExecutorState.Terminated;
      }
    }
    this.#sibParent = -1;
    return ExecutorState.Running;
  }

  /**
   * After a throw inside #runSiblings: queue the children that had not run yet, in order and
   * AHEAD of anything queued at their depth during the direct run (they were scheduled first;
   * the queue at that depth was empty when the direct run began).
   */
  #requeueSiblings(): void {
    const parent = this.#sibParent;
    this.#sibParent = -1;
    const meta = this._meta, edges = this._pool.buf, b = parent << SHIFT, s = this._sched;
    const end = meta[b + TK_START] + 2 * meta[b + TK_COUNT];
    const tick = this._tick;
    let first = -1, last = -1, count = 0, d = -1;
    for (let k = this.#sibNext; k < end; k += 2) {
      const c = edges[k];
      if (meta[(c << SHIFT) + SCHED] !== tick || (meta[(c << SHIFT) + FLAGS] & F_DOOMED) !== 0) {
        continue;
      }
      d = edges[k + 1];
      if (first === -1) first = c;
      else meta[(last << SHIFT) + NEXT] = c;
      last = c;
      count++;
    }
    if (count === 0) return;
    meta[(last << SHIFT) + NEXT] = s.head[d];
    if (s.head[d] === -1) {
      s.tail[d] = last;
      s.bits[d >>> 5] |= 1 << (d & 31);
    }
    s.head[d] = first;
    s.pending += count;
    if (d < s.cursor) s.cursor = d;
  }

  /** @internal ctx.scheduleNode. */
  _scheduleInCycle(node: Node<unknown>): void {
    this.#checkLive(node, "schedule");
    const s = this._sched;
    const running = this._cur >= 0 ? this._meta[(this._cur << SHIFT) + DEPTH] : s.cursor;
    if (node._depth < running) {
      throw new SchedulerError(
        ErrorCode.ScheduleLowerDepth,
        `Cannot schedule ${describe(node)} at depth ${node._depth} while depth ${running} runs`,
      );
    }
    const meta = this._meta, b = node._slot << SHIFT;
    if (this.#trace !== null) this.#noteCause(node._slot, CAUSE_SCHEDULE, this._cur);
    if ((meta[b + FLAGS] & F_DOOMED) !== 0 || meta[b + SCHED] === this._tick) return;
    meta[b + SCHED] = this._tick;
    s.push(meta, node._slot, node._depth);
  }

  // ------------------------------------------------------- removal (sweep)

  /** Marks `slot` and every descendant as leaving, and queues them for the sweep phase. */
  #doom(slot: number): void {
    const meta = this._meta, buf = this._pool.buf;
    if ((meta[(slot << SHIFT) + FLAGS] & F_DOOMED) !== 0) return;
    meta[(slot << SHIFT) + FLAGS] |= F_DOOMED;
    const stack = [slot];
    while (stack.length > 0) {
      const s = stack.pop()!, b = s << SHIFT;
      this.#gcPush(s, meta[b + GEN]);
      const ts = meta[b + TK_START], te = ts + 2 * meta[b + TK_COUNT];
      for (let e = ts; e < te; e += 2) {
        const cb = buf[e] << SHIFT;
        if ((meta[cb + FLAGS] & F_DOOMED) === 0) {
          meta[cb + FLAGS] |= F_DOOMED;
          stack.push(buf[e]);
        }
      }
      const os = meta[b + OB_START], oe = os + meta[b + OB_COUNT];
      for (let e = os; e < oe; e++) {
        const cb = buf[e] << SHIFT;
        if ((meta[cb + FLAGS] & F_DOOMED) === 0) {
          meta[cb + FLAGS] |= F_DOOMED;
          stack.push(buf[e]);
        }
      }
    }
  }

  #gcPush(slot: number, gen: number): void {
    if (2 * this.#gcCount + 2 > this.#gc.length) this.#gc = grow(this.#gc);
    this.#gc[2 * this.#gcCount] = slot;
    this.#gc[2 * this.#gcCount + 1] = gen;
    this.#gcCount++;
  }

  #sweep(): void {
    const prev = this.#phase;
    this.#phase = PHASE_SWEEP;
    if (this._sched.pending !== 0) {
      // Only an interrupted cycle leaves entries queued: drop the ones that are leaving.
      const meta = this._meta;
      this._sched.filter(meta, (s) => (meta[(s << SHIFT) + FLAGS] & F_DOOMED) !== 0);
    }
    // onDrop callbacks may remove more nodes, which appends to the gc list.
    for (let i = 0; i < this.#gcCount; i++) {
      const slot = this.#gc[2 * i], b = slot << SHIFT;
      if (this._meta[b + GEN] === this.#gc[2 * i + 1] && (this._meta[b + FLAGS] & F_ALIVE) !== 0) {
        this.#removeSlot(slot);
      }
    }
    this.#gcCount = 0;
    this.#phase = prev;
  }

  /**
   * Finishes removals: drops the removed nodes from the child lists of the parents that stay
   * (each parent's lists filtered once however many of its children left, so removing n
   * children costs O(n), not O(n) per child), then frees their slots for reuse. Until then a
   * removed node's slot is flagged doomed, which every scheduling path already skips. Runs at the
   * start of each cycle and before the graph is inspected.
   */
  #flushRemovals(): void {
    const meta = this._meta, buf = this._pool.buf, dirty = this.#dirty;
    for (let k = 0; k < dirty.length; k++) {
      const pb = dirty[k] << SHIFT;
      if ((meta[pb + FLAGS] & (F_ALIVE | F_COMPACT)) !== (F_ALIVE | F_COMPACT)) continue;
      meta[pb + FLAGS] &= ~F_COMPACT;
      // Trigger children are (slot, depth) pairs; observers single slots. Order is kept.
      let w = meta[pb + TK_START];
      const ts = w, te = ts + 2 * meta[pb + TK_COUNT];
      for (let e = ts; e < te; e += 2) {
        if ((meta[(buf[e] << SHIFT) + FLAGS] & F_DOOMED) !== 0) continue;
        buf[w] = buf[e];
        buf[w + 1] = buf[e + 1];
        w += 2;
      }
      meta[pb + TK_COUNT] = (w - ts) >> 1;
      w = meta[pb + OB_START];
      const os = w, oe = os + meta[pb + OB_COUNT];
      for (let e = os; e < oe; e++) {
        if ((meta[(buf[e] << SHIFT) + FLAGS] & F_DOOMED) !== 0) continue;
        buf[w++] = buf[e];
      }
      meta[pb + OB_COUNT] = w - os;
    }
    dirty.length = 0;
    this.#dirtyWork = 0;
    const limbo = this.#limbo;
    for (let k = 0; k < limbo.length; k++) {
      meta[(limbo[k] << SHIFT) + FLAGS] = 0;
      this.#freeSlots.push(limbo[k]);
    }
    limbo.length = 0;
  }

  #removeSlot(slot: number): void {
    const meta = this._meta, pool = this._pool, b = slot << SHIFT;
    const extra = (meta[b + FLAGS] & F_HAS_EXTRA) !== 0 ? this._extra.get(slot) : undefined;
    const node = this._nodes[slot]!;
    const buf = pool.buf, ps = meta[b + P_START], pc = meta[b + P_COUNT];
    for (let i = 0; i < pc; i++) {
      // The parent's list is compacted later, once for all its children that left.
      const pb = (buf[ps + i] >> 1) << SHIFT;
      if ((meta[pb + FLAGS] & (F_ALIVE | F_DOOMED | F_COMPACT)) !== F_ALIVE) continue;
      meta[pb + FLAGS] |= F_COMPACT;
      this.#dirty.push(buf[ps + i] >> 1);
      this.#dirtyWork += meta[pb + TK_COUNT] + meta[pb + OB_COUNT];
    }
    if (pc > 0) pool.free(ps, pc);
    if (meta[b + TK_CAP] > 0) pool.free(meta[b + TK_START], meta[b + TK_CAP] * 2);
    if (meta[b + OB_CAP] > 0) pool.free(meta[b + OB_START], meta[b + OB_CAP]);
    const gen = meta[b + GEN];
    if (meta[b + TIMERS] > 0) this._timers.removeNode(slot, gen);
    this.#removedRuns += meta[b + RUNS] >>> 0;
    meta[b + GEN] = (gen + 1) | 0;
    meta[b + FLAGS] = F_DOOMED; // dead until #flushRemovals frees the slot
    meta[b + SCHED] = NEVER;
    meta[b + MUT] = NEVER;
    meta[b + TK_COUNT] =
      meta[b + TK_CAP] =
      meta[b + OB_COUNT] =
      meta[b + OB_CAP] =
        0;
    meta[b + P_COUNT] = meta[b + TIMERS] = meta[b + RUNS] = 0;
    this._nodes[slot] = null;
    this._fns[slot] = null;
    this._ctxs[slot] = null;
    this.#origFns.delete(slot);
    if (this.#nodeTime !== null) this.#nodeTime[slot] = 0;
    if (extra !== undefined) this._extra.delete(slot);
    this.#limbo.push(slot);
    this.#nodeCount--;
    node._alive = false;
    if (extra !== undefined) {
      if (extra.io !== undefined && this._io !== null) {
        for (const h of extra.io) this._io.deregister(h);
      }
      if (extra.releases !== undefined) {
        for (const release of extra.releases) {
          try {
            release();
          } catch (err) {
            this.#report(err, node, "release");
          }
        }
      }
      if (extra.onDrop !== undefined) {
        try {
          extra.onDrop(node);
        } catch (err) {
          this.#report(err, node, "drop");
        }
      }
    }
  }

  #runSpawns(): void {
    this.#phase = PHASE_SPAWN;
    const q = this._spawns;
    for (let i = 0; i < q.length; i++) {
      try {
        q[i](this);
      } catch (err) {
        this.#report(err, undefined, "spawn");
      }
    }
    q.length = 0;
    if (this.#gcCount !== 0) this.#sweep();
  }

  #restamp(): void {
    const meta = this._meta, tick = this._tick;
    this._sched.forEachQueued(meta, (slot) => {
      meta[(slot << SHIFT) + SCHED] = tick;
    });
    this._sched.cursor = 0;
    this.#leftover = false;
  }

  /** Resets the epoch columns when the tick nears Int32 overflow; returns the new tick. */
  #renormalize(): number {
    const meta = this._meta;
    for (let s = 0; s < this.#slotTop; s++) {
      meta[(s << SHIFT) + SCHED] = NEVER;
      meta[(s << SHIFT) + MUT] = NEVER;
    }
    return 1;
  }

  // ------------------------------------------------------------- helpers

  #report(err: unknown, node: Node<unknown> | undefined, phase: ErrorPhase): void {
    try {
      this.onError(err, { node, phase });
    } catch (inner) {
      console.error("wavelet: the onError handler threw:", inner, "while reporting:", err);
    }
  }

  #foreign(node: Node<unknown>): never {
    if (!(node instanceof Node)) {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        `Expected a Node handle, got ${node === null ? "null" : typeof node}`,
      );
    }
    throw new ForeignNodeError(
      ErrorCode.ForeignNode,
      `Cannot use ${describe(node)}: it belongs to another executor`,
    );
  }

  #checkLive(node: Node<unknown>, action: string): void {
    if (!(node instanceof Node) || node._ex !== this) this.#foreign(node);
    if (!node._alive) {
      throw new NodeRemovedError(
        ErrorCode.NodeRemoved,
        `Cannot ${action} ${describe(node)}: it has left the graph`,
      );
    }
  }

  /** @internal Replay: the next cycle gets number `epoch`. */
  _setNextEpoch(epoch: number): void {
    this.#epoch = epoch - 1;
  }

  /** @internal For tests: set the tick close to its limit. */
  _setTickForTest(tick: number): void {
    this._tick = tick;
  }
}

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const n = new Int32Array(a.length * 2);
  n.set(a);
  return n;
}
