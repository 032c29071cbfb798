/**
 * The executor: the graph's public face. It checks every argument, then hands the work to the
 * room that does it: `cycle.ts` runs cycles (collect, drain, sweep, spawn), `lifecycle.ts`
 * builds and removes nodes, `resources.ts` keeps what nodes own (timers, I/O, releases),
 * `inspect.ts` answers questions about the graph. Runtimes, the recorder and channels reach
 * what is not public through `runtimePort(executor)` (`hooks.ts`).
 *
 * @module
 */

import type { ExecutorState, Relationship } from "./control.ts";
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
import { F_DOOMED, FLAGS, GEN, MUT, SHIFT, TK_COUNT, TK_START } from "./graph.ts";
import { IngestHub } from "./ingest.ts";
import {
  type AnyCycleFn,
  CAUSE_NOTIFY,
  CAUSE_SCHEDULE,
  type ContextPort,
  type HookSite,
  type Instrument,
  type RuntimePort,
} from "./hooks.ts";
import { Node, type NodeOwner, type NodeSpec } from "./node.ts";
import {
  describeNode,
  type ErrorHandler,
  type ErrorPhase,
  printError,
  reportError,
} from "./report.ts";
import { Scheduler } from "./scheduler.ts";
import { checkOptions, describe } from "./validate.ts";
import type { TimerHandle } from "../drivers/timer.ts";
import { Lifecycle } from "./lifecycle.ts";
import { Cycle, PHASE_IDLE, PHASE_RUN } from "./cycle.ts";
import { type ExecutorStats, type NodeStats, toDot, toMermaid } from "./inspect.ts";
import { AtomicsWaker, Notifier, NotifyQueue, type Waker } from "../drivers/notify.ts";
import type { IoHandle } from "../drivers/io.ts";
import type { Clock } from "../clock/clock.ts";

/** Set in the class's static block: the one way outside modules reach an executor's port. */
let portOf: (ex: Executor) => RuntimePort;

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
export class Executor implements NodeOwner {
  /** Receives isolated errors. Default: {@linkcode printError} (stderr). */
  onError: ErrorHandler = printError;

  readonly #sched: Scheduler = new Scheduler();
  /** The nodes from build to removal (table, resources, instruments). */
  readonly #life: Lifecycle;
  /** The cycle engine and the state it keeps between cycles. */
  readonly #c: Cycle;
  /** The sites hooks attach to (channel receivers). */
  readonly #hookSites = new Set<HookSite>();
  readonly #notifierCapacity: number;
  #waker: Waker | null = null;
  #wakeFd = -1;
  #port: RuntimePort | null = null;

  static {
    portOf = (ex) => ex.#port ??= ex.#makePort();
  }

  /**
   * Creates an empty executor.
   *
   * @param options `initialCapacity`: node slots to reserve up front (an integer in
   *   [0, 2^24]; grown by doubling); `notifierCapacity`: most live notifiers at once (an integer
   *   in [1, 2^24], default 4096); `clock`: the clock that relative timers registered between
   *   cycles count from (runtimes pass theirs; default: the clock of the last cycle).
   * @throws {InvalidArgumentError} If an option is out of range or not of its type.
   */
  constructor(options?: ExecutorOptions) {
    if (options === undefined) options = {};
    const o = checkOptions(options, "Executor options", [
      "initialCapacity",
      "notifierCapacity",
      "clock",
    ]);
    const cap = checkInt(o.initialCapacity ?? 64, "initialCapacity", 0, 1 << 24);
    this.#notifierCapacity = checkInt(o.notifierCapacity ?? 4096, "notifierCapacity", 1, 1 << 24);
    if (o.clock !== undefined && !isClock(o.clock)) {
      throw new InvalidArgumentError("The clock option must have sample() and nowNs() methods");
    }
    this.#life = new Lifecycle(this, cap, this.#sched, this.#report);
    const c = this.#c = new Cycle(this, this.#life, this.#sched, this.#report, o.clock ?? null);
    const port: ContextPort = {
      isRunning: (slot, ctx) => c.cur === slot && this.#life.table.ctxs[slot] === ctx,
      node: (slot) => this.#life.table.nodes[slot]!,
      time: () => c.time(),
      schedule: (node) => this.#scheduleInCycle(node),
      spawn: (fn) => void c.spawns.push(fn),
    };
    c.contextPort = port;
  }

  /** The number of the last cycle started (0 before the first cycle). Never wraps. */
  get epoch(): number {
    return this.#c.epoch;
  }

  /** The id the next built node will get (ids are handed out in creation order). */
  get nextNodeId(): number {
    return this.#life.nextId;
  }

  /** Live nodes in the graph (nodes removed this cycle count until the sweep phase). */
  get nodeCount(): number {
    return this.#life.table.count;
  }

  /** True while a cycle is in progress. */
  get inCycle(): boolean {
    return this.#c.phase !== PHASE_IDLE;
  }

  /** The earliest pending timer deadline (monotonic ns), or `Infinity` if none. */
  nextTimerDeadline(): number {
    return this.#life.res.timers.nextDeadline();
  }

  /**
   * True when a cycle run now would run a node regardless of time: a yield is pending, or nodes
   * are queued from an interrupted cycle, or a notification arrived. Expired timers are not
   * included (see {@linkcode Executor.nextTimerDeadline}).
   */
  hasScheduledWork(): boolean {
    return this.#c.hasWork;
  }

  // ------------------------------------------------------------------------------- the cycle

  /**
   * Runs one cycle: collect stimuli (yields, expired timers, notifications, and what the
   * runtime's poller has ready), run the scheduled nodes, sweep, build spawned subgraphs. It
   * never waits: a runtime waits for stimuli before it calls this (`runOneCycle(timeoutNs)`).
   *
   * @param clock The clock to sample for this cycle's time.
   * @returns `ExecutorState.Terminated` if a node returned `Control.Terminate`, else `Running`.
   * @throws {WaveletError} `REENTRANT_CYCLE` inside a cycle; {@linkcode InvalidArgumentError}
   *   for a bad clock (nothing runs then).
   * @throws Whatever failed in the collect phase (a clock, the OS): the executor is idle again
   *   and what was queued runs in the next cycle.
   * @throws The error of a node built with `allowPanic(true)`, after the cycle's sweep phase.
   */
  cycle(clock: Clock): ExecutorState {
    const c = this.#c;
    if (c.phase !== PHASE_IDLE) {
      throw new WaveletError(
        "Cannot start a cycle while another cycle of the same executor is running",
        { code: ErrorCode.ReentrantCycle },
      );
    }
    if ((clock !== c.clock || clock === null) && !isClock(clock)) {
      throw new InvalidArgumentError(
        `A cycle needs a clock with sample() and nowNs(), got ${describe(clock)}`,
      );
    }
    return c.run(clock);
  }

  /** ctx.scheduleNode: later in this cycle, at the depth being run or deeper. */
  #scheduleInCycle(node: Node<unknown>): void {
    this.#checkLive(node, "schedule");
    const c = this.#c, meta = this.#life.table.meta;
    const running = c.runningDepth;
    if (node._depth < running) {
      throw new SchedulerError(
        `Cannot schedule ${describeNode(node)} at depth ${node._depth} while depth ${running} runs`,
      );
    }
    const b = node._slot << SHIFT;
    if (this.#life.instruments !== null) this.#life.cause(node._slot, CAUSE_SCHEDULE, c.cur);
    if ((meta[b + FLAGS] & F_DOOMED) !== 0) return;
    c.enqueue(node._slot);
  }

  // ----------------------------------------------------------------------------- scheduling

  /**
   * True if `node` broadcast in the current cycle, or, between cycles, in the cycle that just
   * finished. False before the first cycle and for removed nodes.
   *
   * @throws {ForeignNodeError} If the node belongs to another executor.
   */
  hasMutated(node: Node<unknown>): boolean {
    if (!(node instanceof Node) || node._ex !== this) this.#foreign(node);
    const meta = this.#life.table.meta, b = node._slot << SHIFT;
    return meta[b + MUT] === this.#c.tick && meta[b + GEN] === node._gen;
  }

  /**
   * Schedules `node` to run in the next cycle (the bootstrap idiom is to call this from
   * `onInit`). Several yields of one node before that cycle run it once.
   *
   * @throws {NodeRemovedError} If the node has left the graph.
   */
  yieldNow(node: Node<unknown>): void {
    this.#checkLive(node, "yield to");
    this.#c.yieldNext(node._slot, node._gen);
  }

  /**
   * Schedules a node for the current cycle from outside the graph (a poller's stimulus). Stale
   * generations and removed nodes are ignored; returns whether the node was queued.
   *
   * @param slot The node's slot.
   * @param gen The generation the stimulus was registered with.
   * @param cause What woke it, for traces (`CAUSE_NOTIFY` or `CAUSE_IO`).
   * @throws {InvalidArgumentError} Unless slot and gen are int32 and cause a number.
   */
  scheduleStimulus(slot: number, gen: number, cause: number = CAUSE_NOTIFY): boolean {
    if (
      typeof slot !== "number" || typeof gen !== "number" || typeof cause !== "number" ||
      (slot | 0) !== slot || (gen | 0) !== gen
    ) {
      throw new InvalidArgumentError(
        "scheduleStimulus needs a slot and a generation (int32) and a cause number",
      );
    }
    return this.#c.stimulus(slot, gen, cause);
  }

  // ---------------------------------------------------------------------- building, removal

  /** Builds a node from a builder's spec (through the port: `NodeBuilder.build`). */
  #build<T>(spec: NodeSpec<T>, fn: AnyCycleFn): Node<T> {
    if (this.#c.phase === PHASE_RUN) {
      throw new BuilderError("Cannot build a node while nodes are running; use ctx.spawnSubgraph", {
        code: ErrorCode.BuildDuringCycle,
      });
    }
    if (typeof fn !== "function") {
      throw new InvalidArgumentError(`A cycle function must be a function, got ${describe(fn)}`);
    }
    for (const p of spec._parents) if (p._ex !== this) this.#foreign(p);
    return this.#life.build(spec, fn);
  }

  /**
   * Removes `node` and all its descendants: at once between cycles, or in the sweep phase when
   * called while nodes run. Each removed node's `onDrop` runs exactly once. Removing a node that
   * is already gone does nothing.
   *
   * @throws {ForeignNodeError} If the node belongs to another executor.
   */
  remove(node: Node<unknown>): void {
    if (!(node instanceof Node)) throw new InvalidArgumentError("remove() needs a Node handle");
    if (node._ex !== this) this.#foreign(node);
    if (!node._alive) return;
    this.#life.doom(node._slot);
    if (this.#c.phase !== PHASE_RUN && !this.#life.sweeping) this.#life.sweep();
  }

  /**
   * Removes every node (each `onDrop` runs once): at once between cycles, in the sweep phase
   * when called while nodes run. Used by runtimes on shutdown.
   */
  removeAll(): void {
    this.#life.doomAll();
    if (this.#c.phase !== PHASE_RUN && !this.#life.sweeping) this.#life.sweep();
  }

  /**
   * Removes every live node built since `nextNodeId` was `mark` (with their descendants):
   * undoes a construction that failed half-way.
   *
   * @param mark A value `nextNodeId` had before the construction.
   * @returns How many nodes were removed directly (descendants not counted).
   * @throws {InvalidArgumentError} Unless `mark` is an integer >= 0.
   */
  removeBuiltSince(mark: number): number {
    if (typeof mark !== "number" || !Number.isInteger(mark) || mark < 0) {
      throw new InvalidArgumentError(
        `removeBuiltSince needs a mark from nextNodeId (an integer >= 0), got ${describe(mark)}`,
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

  // ------------------------------------------------------------------- timers, I/O, resources

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
        `A timer deadline must be a finite, non-negative number of nanoseconds, got ${
          describe(deadlineNs)
        }`,
        { code: ErrorCode.InvalidDeadline },
      );
    }
    this.#checkLive(node, "register a timer for");
    return this.#life.res.addTimer(node._slot, node._gen, deadlineNs);
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
        `A timer delay must be a finite, non-negative number of nanoseconds, got ${
          describe(delayNs)
        }`,
        { code: ErrorCode.InvalidDeadline },
      );
    }
    this.#checkLive(node, "register a timer for");
    let now: number;
    const c = this.#c;
    if (c.phase !== PHASE_IDLE) now = c.time().monotonicNs;
    else if (c.clock !== null) now = c.clock.nowNs();
    else {
      throw new ContextError(
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
    return this.#life.res.cancelTimer(handle);
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
    const q = this.#notifications();
    const [index, gen] = q.allocate(node._slot, node._gen);
    this.own(node, () => q.release(index));
    const fallback = new AtomicsWaker(q.sab);
    const waker: Waker = { wake: () => (this.#waker ?? fallback).wake() };
    return new Notifier(q.sab, index, gen, waker, this.#wakeFd);
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
    return this.#life.res.addIo(fd, node._slot, node._gen, interest);
  }

  /**
   * Changes the interest of an I/O registration.
   *
   * @throws {InvalidArgumentError} If `handle` is not an I/O handle, or no longer registered.
   * @throws {ForeignNodeError} If the handle belongs to another executor.
   */
  reregisterIo(handle: IoHandle, interest: number): void {
    this.#life.res.reregisterIo(handle, interest);
  }

  /**
   * Removes an I/O registration; returns false if it was not registered.
   *
   * @throws {InvalidArgumentError} If `handle` is not an I/O handle.
   * @throws {ForeignNodeError} If the handle belongs to another executor.
   */
  deregisterIo(handle: IoHandle): boolean {
    return this.#life.res.deregisterIo(handle);
  }

  /**
   * The readiness bits a registration got in the current (or just finished) cycle.
   *
   * @throws {InvalidArgumentError} If `handle` is not an I/O handle.
   * @throws {ForeignNodeError} If the handle belongs to another executor.
   */
  ioReadiness(handle: IoHandle): number {
    return this.#life.res.ioReadiness(handle, this.#c.tick);
  }

  /**
   * Ties a resource to `node`: `release` runs once when the node leaves the graph (before its
   * `onDrop`). Used by notifiers, channels and sockets owned by a node.
   *
   * @throws {NodeRemovedError} If the node has left the graph.
   */
  own(node: Node<unknown>, release: () => void): void {
    if (typeof release !== "function") {
      throw new InvalidArgumentError(`own() needs a release function, got ${describe(release)}`);
    }
    this.#checkLive(node, "attach a resource to");
    this.#life.res.own(node._slot, release);
  }

  /** Live node handles in id (creation) order. */
  liveNodes(): Node<unknown>[] {
    return this.#life.liveNodes();
  }

  /** The parents of a live node with their relationships, in the order they were added. */
  parentsOf(node: Node<unknown>): { node: Node<unknown>; relationship: Relationship }[] {
    this.#checkLive(node, "list the parents of");
    const t = this.#life.table;
    return t.parentEntries(node._slot).map((e) => ({
      node: t.nodes[e >> 1]!,
      relationship: (e & 1) as Relationship,
    }));
  }

  /** The Trigger children of a live node, in creation order. */
  triggerChildrenOf(node: Node<unknown>): Node<unknown>[] {
    this.#checkLive(node, "list the children of");
    const t = this.#life.table;
    return t.children(node._slot, true).map((c) => t.nodes[c]!);
  }

  /** The Observe children of a live node, in creation order. */
  observerChildrenOf(node: Node<unknown>): Node<unknown>[] {
    this.#checkLive(node, "list the observers of");
    const t = this.#life.table;
    return t.children(node._slot, false).map((c) => t.nodes[c]!);
  }

  /** How many times the node's cycle function ran (0 for a removed node). */
  runCount(node: Node<unknown>): number {
    if (!(node instanceof Node) || node._ex !== this) this.#foreign(node);
    return this.#life.runCount(node);
  }

  /** Counters: cycles, node runs, live nodes, pending timers, per-node run counts. */
  stats(): ExecutorStats {
    let total = this.#life.removedRuns;
    const nodes: NodeStats[] = [];
    for (const n of this.liveNodes()) {
      const runs = this.#life.runCount(n);
      total += runs;
      nodes.push({ id: n.id, name: n.name, depth: n.depth, runs });
    }
    return {
      cycles: this.#c.epoch,
      nodeRuns: total,
      nodeCount: this.#life.table.count,
      pendingTimers: this.#life.res.timers.size,
      nodes,
    };
  }

  /** The graph in Graphviz DOT: nodes by name and id, Observe edges dashed. */
  toDot(): string {
    return toDot(this);
  }

  /** The graph as a Mermaid flowchart: Trigger edges solid, Observe edges dotted. */
  toMermaid(): string {
    return toMermaid(this);
  }

  // ----------------------------------------------------------------------------- instruments

  /**
   * Attaches an instrument (profiling, tracing: see the `observe` entry): it wraps every node's
   * cycle function, present and future, and hears why nodes are scheduled. The hot loop is
   * untouched; with no instrument attached nothing is wrapped.
   *
   * @throws {InvalidArgumentError} If `instrument` lacks one of the `Instrument` methods.
   */
  attachInstrument(instrument: Instrument): void {
    this.#life.attach(instrument);
  }

  /** Detaches an instrument; returns false if it was not attached. */
  detachInstrument(instrument: Instrument): boolean {
    return this.#life.detach(instrument);
  }

  // --------------------------------------------------------------------------------- helpers

  /** The notification area, created on first use. */
  #notifications(): NotifyQueue {
    return this.#c.notify ??= new NotifyQueue(this.#notifierCapacity);
  }

  #makePort(): RuntimePort {
    // deno-lint-ignore no-this-alias
    const ex = this;
    const children = {
      edges: new Int32Array(0) as Int32Array<ArrayBufferLike>,
      start: 0,
      count: 0,
    };
    return {
      ingest: new IngestHub(),
      triggerChildren: (slot) => {
        const t = this.#life.table, b = slot << SHIFT;
        children.edges = t.pool.buf;
        children.start = t.meta[b + TK_START];
        children.count = t.meta[b + TK_COUNT];
        return children;
      },
      build: (spec, fn) => this.#build(spec, fn),
      attachPoller: (p) => void (this.#c.poller = p),
      get hasPoller() {
        return ex.#c.poller !== null;
      },
      notifications: () => this.#notifications(),
      setWake: (waker, fd) => {
        this.#waker = waker;
        this.#wakeFd = fd;
      },
      attachIo: (io) => void (this.#life.res.io = io),
      shiftTimers: (delta) => this.#life.res.timers.shift(delta),
      get tick() {
        return ex.#c.tick;
      },
      get hook() {
        return ex.#c.hook;
      },
      attachHook: (hook) => {
        this.#c.hook = hook;
        for (const site of this.#hookSites) site.hook(hook);
      },
      addHookSite: (site) => {
        this.#hookSites.add(site);
        if (this.#c.hook !== null) site.hook(this.#c.hook);
      },
      removeHookSite: (site) => void this.#hookSites.delete(site),
      setNextEpoch: (epoch) => void (this.#c.epoch = epoch - 1),
      typedArrayBytes: () => {
        const t = this.#life.table, s = this.#sched;
        return {
          nodeTable: t.meta.byteLength,
          edgePool: t.pool.buf.byteLength,
          scheduler: s.head.byteLength + s.tail.byteLength + s.bits.byteLength,
        };
      },
      node: (slot) =>
        Number.isInteger(slot) && slot >= 0 && slot < this.#life.table.slotTop
          ? this.#life.table.nodes[slot] ?? null
          : null,
    };
  }

  readonly #report = (err: unknown, node: Node<unknown> | undefined, phase: ErrorPhase): void =>
    reportError(this, err, node, phase);

  #foreign(node: unknown): never {
    if (!(node instanceof Node)) {
      throw new InvalidArgumentError(`Expected a Node handle, got ${describe(node)}`);
    }
    throw new ForeignNodeError(`Cannot use ${describeNode(node)}: it belongs to another executor`);
  }

  #checkLive(node: Node<unknown>, action: string): void {
    if (!(node instanceof Node) || node._ex !== this) this.#foreign(node);
    if (!node._alive) {
      throw new NodeRemovedError(`Cannot ${action} ${describeNode(node)}: it has left the graph`);
    }
  }

  /** @internal For tests: set the tick close to its limit. */
  _setTickForTest(tick: number): void {
    this.#c.setTick(tick);
  }
}

/**
 * @internal The port through which a runtime, a recorder or a replayer drives an executor.
 * Not exported to users.
 */
export function runtimePort(executor: Executor): RuntimePort {
  return portOf(executor);
}

function checkInt(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(
      `${name} must be an integer in [${min}, ${max}], got ${describe(v)}`,
    );
  }
  return v;
}

function isClock(c: unknown): c is Clock {
  if (c === null || typeof c !== "object") return false;
  try {
    return typeof (c as Clock).sample === "function" && typeof (c as Clock).nowNs === "function";
  } catch {
    return false; // an object whose properties throw is no clock
  }
}
