/**
 * The executor: the cycle. A cycle (1) advances the epoch, (2) collects stimuli (yields from the
 * previous cycle, expired timers, notifications, and whatever the runtime's poller brings),
 * (3) drains the scheduler in ascending depth, FIFO within a depth, running each scheduled node
 * at most once and scheduling the Trigger children of nodes that broadcast, (4) removes the
 * nodes that left the graph (sweep phase), running their `onDrop`, and (5) builds the subgraphs
 * queued with `ctx.spawnSubgraph`. The node table it reads is in `graph.ts`; the hot loop reads
 * its typed arrays directly.
 *
 * @module
 */

import { ExecutorState, type Relationship } from "./control.ts";
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
  F_ALIVE,
  F_ALLOW_PANIC,
  F_DOOMED,
  FLAGS,
  GEN,
  MUT,
  NEXT,
  RUNS,
  SCHED,
  SHIFT,
  TIMERS,
  TK_COUNT,
  TK_START,
} from "./graph.ts";
import {
  type AnyCycleFn,
  CAUSE_NOTIFY,
  CAUSE_SCHEDULE,
  CAUSE_TIMER,
  CAUSE_YIELD,
  type Instrument,
  type Poller,
  type RuntimePort,
  type StimulusTap,
} from "./hooks.ts";
import { Node, type NodeOwner, type NodeSpec } from "./node.ts";
import { describeNode, type ErrorHandler, type ErrorPhase, printError } from "./report.ts";
import { nextNonEmpty, Scheduler } from "./scheduler.ts";
import { CycleTime } from "./time.ts";
import { checkOptions, describe } from "./validate.ts";
import type { TimerHandle } from "../drivers/timer.ts";
import { Lifecycle } from "./lifecycle.ts";
import { type ExecutorStats, type NodeStats, toDot, toMermaid } from "./inspect.ts";
import { AtomicsWaker, Notifier, NotifyQueue, type Waker } from "../drivers/notify.ts";
import type { IoHandle } from "../drivers/io.ts";
import type { Clock } from "../clock/clock.ts";

// Control values as literals for the hot loop (a property load of `Control.X` is not always
// folded to a constant).
const BROADCAST = 1;
const SWEEP = 2;
const TERMINATE = 3;

const PHASE_IDLE = 0;
const PHASE_POLL = 1;
const PHASE_RUN = 2;
const PHASE_SPAWN = 3;

/** Ticks wrap well before Int32 overflow; the stamps are then reset. */
const TICK_LIMIT = 0x7ffffff0;

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
  readonly #spawns: ((executor: Executor) => void)[] = [];
  /** Slot of the node being run, -1 otherwise. */
  #cur = -1;
  /** Current tick (the epoch modulo renormalization), for the SCHED/MUT stamps. */
  #tick = 0;
  #epoch = 0;
  #phase = PHASE_IDLE;
  #clock: Clock | null;
  readonly #time = new CycleTime();
  #timeValid = false;
  #yields: Int32Array = new Int32Array(64);
  #yieldCount = 0;
  #leftover = false;
  #panic: unknown = undefined;
  #hasPanic = false;
  #poller: Poller | null = null;
  /** Parent whose Trigger children the drain loop is running directly, or -1. */
  #sibParent = -1;
  /** Index of the next child in that direct run. */
  #sibNext = 0;
  #notify: NotifyQueue | null = null;
  readonly #notifierCapacity: number;
  #waker: Waker | null = null;
  #wakeFd = -1;
  #tap: StimulusTap | null = null;
  readonly #contextPort: object;
  #port: RuntimePort | null = null;
  readonly #scheduleFromNotify = (slot: number, gen: number): boolean => {
    const tap = this.#tap;
    if (tap === null) return this.scheduleStimulus(slot, gen);
    // Replaying: the log says which notifications happened; live ones are ignored.
    if (!tap.recording) return false;
    const ok = this.scheduleStimulus(slot, gen);
    if (ok) tap.notify(slot);
    return ok;
  };

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
  constructor(options: ExecutorOptions = {}) {
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
    this.#clock = o.clock ?? null;
    this.#life = new Lifecycle(this, cap, this.#sched, this.#report);
    this.#contextPort = {
      isRunning: (slot: number, ctx: object) =>
        this.#cur === slot && this.#life.table.ctxs[slot] === ctx,
      node: (slot: number) => this.#life.table.nodes[slot]!,
      time: () => this.#cycleTime(),
      schedule: (node: Node<unknown>) => this.#scheduleInCycle(node),
      spawn: (fn: (executor: Executor) => void) => this.#spawns.push(fn),
    };
  }

  /** The number of the last cycle started (0 before the first cycle). Never wraps. */
  get epoch(): number {
    return this.#epoch;
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
    return this.#phase !== PHASE_IDLE;
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
    return this.#yieldCount !== 0 || this.#sched.pending !== 0 ||
      (this.#notify !== null && this.#notify.hasPending());
  }

  // ------------------------------------------------------------------------------- the cycle

  /**
   * Runs one cycle.
   *
   * @param clock The clock to sample for this cycle's time.
   * @param timeoutNs Longest time the attached poller may wait for stimuli when no work is
   *   queued: 0 (default) never waits, `Infinity` may wait indefinitely.
   * @returns `ExecutorState.Terminated` if a node returned `Control.Terminate`, else `Running`.
   * @throws {WaveletError} `REENTRANT_CYCLE` inside a cycle; {@linkcode InvalidArgumentError}
   *   for a bad clock or timeout (nothing runs then).
   * @throws Whatever failed in the poll phase (a clock, the OS): the executor is idle again and
   *   what was queued runs in the next cycle.
   * @throws The error of a node built with `allowPanic(true)`, after the cycle's sweep phase.
   */
  cycle(clock: Clock, timeoutNs = 0): ExecutorState {
    if (this.#phase !== PHASE_IDLE) {
      throw new WaveletError(
        "Cannot start a cycle while another cycle of the same executor is running",
        { code: ErrorCode.ReentrantCycle },
      );
    }
    if ((clock !== this.#clock || clock === null) && !isClock(clock)) {
      throw new InvalidArgumentError(
        `A cycle needs a clock with sample() and nowNs(), got ${describe(clock)}`,
      );
    }
    if (timeoutNs !== 0 && !(typeof timeoutNs === "number" && timeoutNs > 0)) {
      throw new InvalidArgumentError(
        `A timeout must be a non-negative number of nanoseconds, got ${describe(timeoutNs)}`,
        { code: ErrorCode.InvalidTimeout },
      );
    }
    const tap = this.#tap;
    if (tap !== null) tap.begin();
    const inst = this.#life.instruments;
    if (inst !== null) { for (let i = 0; i < inst.length; i++) inst[i].cycleStart(); }
    this.#clock = clock;
    this.#timeValid = false;
    let tick = this.#tick + 1;
    if (tick >= TICK_LIMIT) {
      this.#life.table.resetStamps();
      tick = 1;
    }
    this.#tick = tick;
    this.#epoch++;
    this.#phase = PHASE_POLL;
    const sched = this.#sched;
    let state: ExecutorState = ExecutorState.Running;
    let ranAny = false;
    try {
      if (this.#life.table.hasRemovals) this.#life.table.flushRemovals();
      if (this.#leftover) this.#restamp();
      if (this.#yieldCount !== 0) this.#pollYields();
      if (this.#life.res.timers.size !== 0) this.#pollTimers();
      if (this.#notify !== null && this.#notify.hasPending()) {
        this.#notify.drain(this.#scheduleFromNotify);
      }
      if (this.#poller !== null) this.#poller.poll(sched.pending === 0 ? timeoutNs : 0);
      if (tap !== null) {
        if (!tap.recording) tap.inject();
        this.#cycleTime(); // a recorded cycle always has its time
      }
      ranAny = sched.pending !== 0;
      if (ranAny) {
        this.#phase = PHASE_RUN;
        state = this.#drain();
      }
      if (this.#life.hasLeaving) this.#life.sweep();
      if (this.#spawns.length !== 0) this.#runSpawns();
    } catch (err) {
      // Whatever failed (a clock, a poller, the OS), the executor goes back to idle and keeps
      // what was queued: the nodes run in the next cycle.
      this.#cur = -1;
      if (sched.pending !== 0) this.#leftover = true;
      this.#phase = PHASE_IDLE;
      throw err;
    }
    this.#phase = PHASE_IDLE;
    if (tap !== null) {
      if (tap.recording) tap.endCycle(this.#epoch, this.#time, ranAny);
      else tap.end();
    }
    if (inst !== null) { for (let i = 0; i < inst.length; i++) inst[i].cycleEnd(); }
    if (this.#hasPanic) {
      const err = this.#panic;
      this.#panic = undefined;
      this.#hasPanic = false;
      throw err;
    }
    return state;
  }

  /** The cycle's time, sampled on first use in a cycle. */
  #cycleTime(): CycleTime {
    if (!this.#timeValid) {
      this.#clock!.sample(this.#time);
      this.#timeValid = true;
    }
    return this.#time;
  }

  /** Queues `slot` for this cycle unless it was already (the stamp de-duplicates). */
  #enqueue(slot: number, b: number): void {
    const meta = this.#life.table.meta;
    if (meta[b + SCHED] === this.#tick) return;
    meta[b + SCHED] = this.#tick;
    this.#sched.push(meta, slot, meta[b + DEPTH]);
  }

  /** True if the slot holds node generation `gen`, alive and not leaving. */
  #isLive(slot: number, gen: number): boolean {
    const meta = this.#life.table.meta, b = slot << SHIFT;
    return meta[b + GEN] === gen && (meta[b + FLAGS] & (F_ALIVE | F_DOOMED)) === F_ALIVE;
  }

  #pollYields(): void {
    const y = this.#yields, n = this.#yieldCount, inst = this.#life.instruments;
    this.#yieldCount = 0;
    for (let i = 0; i < n; i++) {
      const slot = y[2 * i];
      if (!this.#isLive(slot, y[2 * i + 1])) continue;
      if (inst !== null) this.#life.cause(slot, CAUSE_YIELD, -1);
      this.#enqueue(slot, slot << SHIFT);
    }
  }

  #pollTimers(): void {
    const now = this.#cycleTime().monotonicNs;
    const timers = this.#life.res.timers, meta = this.#life.table.meta;
    let deadline: number;
    while (timers.size !== 0 && (deadline = timers.nextDeadline()) <= now) {
      const slot = timers.topSlot(), gen = timers.topGen(), b = slot << SHIFT;
      timers.popTop();
      if (meta[b + GEN] !== gen) continue;
      meta[b + TIMERS]--;
      if (!this.#isLive(slot, gen)) continue;
      if (this.#life.instruments !== null) {
        this.#life.cause(slot, CAUSE_TIMER, -1, now - deadline);
      }
      this.#enqueue(slot, b);
    }
  }

  /** Runs the drain loop, resuming after each isolated exception. */
  #drain(): ExecutorState {
    this.#sched.cursor = 0;
    for (;;) {
      try {
        return this.#drainLoop();
      } catch (err) {
        const slot = this.#cur;
        this.#cur = -1;
        if (this.#sibParent >= 0) this.#requeueSiblings();
        // Not a node's exception: cycle() keeps the queue for the next cycle and surfaces it.
        if (slot < 0) throw err;
        if ((this.#life.table.meta[(slot << SHIFT) + FLAGS] & F_ALLOW_PANIC) !== 0) {
          this.#hasPanic = true;
          this.#panic = err;
          if (this.#sched.pending !== 0) this.#leftover = true;
          return ExecutorState.Running;
        }
        this.#report(err, this.#life.table.nodes[slot]!, "cycle");
        this.#life.doom(slot);
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
    const t = this.#life.table, meta = t.meta, edges = t.pool.buf, nodes = t.nodes, fns = t.fns;
    const ctxs = t.ctxs, s = this.#sched, head = s.head, bits = s.bits;
    const tick = this.#tick;
    let slot = -1;
    for (;;) {
      if (slot === -1) {
        if (s.pending === 0) {
          this.#cur = -1;
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
      this.#cur = slot;
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
        this.#life.doom(slot);
      } else if (r === TERMINATE) {
        this.#cur = -1;
        s.clear();
        return ExecutorState.Terminated;
      }
      slot = -1;
    }
  }

  /** The context of the node in `slot`, made on its first run. */
  #newCtx(slot: number): object {
    return this.#life.table.ctxs[slot] = this.#life.makeContext!(this, this.#contextPort, slot);
  }

  /** Queues the not-yet-scheduled Trigger children in edges[e .. e + 2n). */
  #pushChildren(e: number, n: number, tick: number): void {
    const meta = this.#life.table.meta, edges = this.#life.table.pool.buf, s = this.#sched;
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
    const meta = this.#life.table.meta, edges = this.#life.table.pool.buf;
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
    const t = this.#life.table, meta = t.meta, edges = t.pool.buf, nodes = t.nodes, fns = t.fns;
    const ctxs = t.ctxs, s = this.#sched;
    const end = e + 2 * n;
    for (let k = e; k < end; k += 2) meta[(edges[k] << SHIFT) + SCHED] = tick;
    s.cursor = edges[e + 1];
    this.#sibParent = parent;
    for (let k = e; k < end; k += 2) {
      const c = edges[k], cb = c << SHIFT;
      this.#sibNext = k + 2;
      if ((meta[cb + FLAGS] & F_DOOMED) !== 0) continue;
      this.#cur = c;
      meta[cb + RUNS]++;
      const r = fns[c]!(nodes[c]!, ctxs[c] ?? this.#newCtx(c));
      if (r === BROADCAST || r === true) {
        meta[cb + MUT] = tick;
        const cn = meta[cb + TK_COUNT];
        if (cn !== 0) this.#pushChildren(meta[cb + TK_START], cn, tick);
      } else if (r === SWEEP) {
        this.#life.doom(c);
      } else if (r === TERMINATE) {
        this.#sibParent = -1;
        this.#cur = -1;
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
    const meta = this.#life.table.meta, edges = this.#life.table.pool.buf, b = parent << SHIFT;
    const s = this.#sched, end = meta[b + TK_START] + 2 * meta[b + TK_COUNT];
    const tick = this.#tick;
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

  /** ctx.scheduleNode: later in this cycle, at the depth being run or deeper. */
  #scheduleInCycle(node: Node<unknown>): void {
    this.#checkLive(node, "schedule");
    const s = this.#sched, meta = this.#life.table.meta;
    const running = this.#cur >= 0 ? meta[(this.#cur << SHIFT) + DEPTH] : s.cursor;
    if (node._depth < running) {
      throw new SchedulerError(
        `Cannot schedule ${describeNode(node)} at depth ${node._depth} while depth ${running} runs`,
      );
    }
    const b = node._slot << SHIFT;
    if (this.#life.instruments !== null) this.#life.cause(node._slot, CAUSE_SCHEDULE, this.#cur);
    if ((meta[b + FLAGS] & F_DOOMED) !== 0) return;
    this.#enqueue(node._slot, b);
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
    return meta[b + MUT] === this.#tick && meta[b + GEN] === node._gen;
  }

  /**
   * Schedules `node` to run in the next cycle (the bootstrap idiom is to call this from
   * `onInit`). Several yields of one node before that cycle run it once.
   *
   * @throws {NodeRemovedError} If the node has left the graph.
   */
  yieldNow(node: Node<unknown>): void {
    this.#checkLive(node, "yield to");
    const n = this.#yieldCount;
    if (2 * n + 2 > this.#yields.length) this.#yields = grow(this.#yields);
    this.#yields[2 * n] = node._slot;
    this.#yields[2 * n + 1] = node._gen;
    this.#yieldCount = n + 1;
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
    if (slot < 0 || slot >= this.#life.table.slotTop || !this.#isLive(slot, gen)) return false;
    if (this.#life.instruments !== null) this.#life.cause(slot, cause, -1);
    const b = slot << SHIFT;
    if (this.#life.table.meta[b + SCHED] === this.#tick) return false;
    this.#enqueue(slot, b);
    return true;
  }

  // ---------------------------------------------------------------------- building, removal

  /** Builds a node from a builder's spec (through the port: `NodeBuilder.build`). */
  #build<T>(spec: NodeSpec<T>, fn: AnyCycleFn): Node<T> {
    if (this.#phase === PHASE_RUN) {
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
    if (this.#phase !== PHASE_RUN && !this.#life.sweeping) this.#life.sweep();
  }

  /**
   * Removes every node (each `onDrop` runs once): at once between cycles, in the sweep phase
   * when called while nodes run. Used by runtimes on shutdown.
   */
  removeAll(): void {
    this.#life.doomAll();
    if (this.#phase !== PHASE_RUN && !this.#life.sweeping) this.#life.sweep();
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

  #runSpawns(): void {
    this.#phase = PHASE_SPAWN;
    const q = this.#spawns;
    for (let i = 0; i < q.length; i++) {
      try {
        q[i](this);
      } catch (err) {
        this.#report(err, undefined, "spawn");
      }
    }
    q.length = 0;
    if (this.#life.hasLeaving) this.#life.sweep();
  }

  /** Entries left queued by an interrupted cycle get this cycle's stamp. */
  #restamp(): void {
    const meta = this.#life.table.meta, tick = this.#tick;
    this.#sched.forEachQueued(meta, (slot) => {
      meta[(slot << SHIFT) + SCHED] = tick;
    });
    this.#sched.cursor = 0;
    this.#leftover = false;
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
    if (this.#phase !== PHASE_IDLE) now = this.#cycleTime().monotonicNs;
    else if (this.#clock !== null) now = this.#clock.nowNs();
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
    return this.#life.res.ioReadiness(handle, this.#tick);
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
      cycles: this.#epoch,
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
    return this.#notify ??= new NotifyQueue(this.#notifierCapacity);
  }

  #makePort(): RuntimePort {
    // deno-lint-ignore no-this-alias
    const ex = this;
    return {
      build: (spec, fn) => this.#build(spec, fn),
      attachPoller: (p) => void (this.#poller = p),
      get hasPoller() {
        return ex.#poller !== null;
      },
      get polling() {
        return ex.#phase === PHASE_POLL;
      },
      notifications: () => this.#notifications(),
      setWake: (waker, fd) => {
        this.#waker = waker;
        this.#wakeFd = fd;
      },
      attachIo: (io) => void (this.#life.res.io = io),
      shiftTimers: (delta) => this.#life.res.timers.shift(delta),
      afterWait: () => {
        this.#timeValid = false;
        if (this.#life.res.timers.size !== 0) this.#pollTimers();
        if (this.#notify !== null && this.#notify.hasPending()) {
          this.#notify.drain(this.#scheduleFromNotify);
        }
      },
      get tick() {
        return ex.#tick;
      },
      get tap() {
        return ex.#tap;
      },
      set tap(t) {
        ex.#tap = t;
      },
      setNextEpoch: (epoch) => void (this.#epoch = epoch - 1),
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

  readonly #report = (err: unknown, node: Node<unknown> | undefined, phase: ErrorPhase): void => {
    try {
      this.onError(err, { node, phase });
    } catch (inner) {
      console.error("wavelet: the onError handler threw:", inner, "while reporting:", err);
    }
  };

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
    this.#tick = tick;
  }
}

/**
 * @internal The port through which a runtime, a recorder or a replayer drives an executor.
 * Not exported to users.
 */
export function runtimePort(executor: Executor): RuntimePort {
  return portOf(executor);
}

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const n = new Int32Array(a.length * 2);
  n.set(a);
  return n;
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
