/**
 * The cycle: what one `executor.cycle(clock)` does, and the state it keeps between cycles.
 *
 * 1. Advance the epoch (and the tick that stamps the node table).
 * 2. Collect stimuli: yields from the previous cycle, expired timers, notifications, and
 *    whatever the runtime's poller brings (it may wait when nothing is queued).
 * 3. Drain the scheduler in ascending depth, FIFO within a depth, running each scheduled node
 *    at most once; a node that broadcasts schedules its Trigger children.
 * 4. Sweep: remove the nodes that left the graph, running their `onDrop`.
 * 5. Build the subgraphs queued with `ctx.spawnSubgraph`.
 *
 * The drain loop reads the typed arrays of `graph.ts` and `scheduler.ts` directly; everything
 * does per node is in one loop, so the engine keeps it in registers.
 *
 * @module
 */

import { ExecutorState } from "./control.ts";
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
  CAUSE_NOTIFY,
  CAUSE_TIMER,
  CAUSE_YIELD,
  type Poller,
  type ScheduleFn,
  type StimulusHook,
} from "./hooks.ts";
import type { Lifecycle, Report } from "./lifecycle.ts";
import { nextNonEmpty, type Scheduler } from "./scheduler.ts";
import { CycleTime } from "./time.ts";
import type { NotifyQueue } from "../drivers/notify.ts";
import type { Clock } from "../clock/clock.ts";

// Control values as literals for the hot loop (a property load of `Control.X` is not always
// folded to a constant).
const BROADCAST = 1;
const SWEEP = 2;
const TERMINATE = 3;

/** What the drain loop returns when a node returned `Terminate`. */
const STOP = -2;

/** Between cycles. */
export const PHASE_IDLE = 0;
/** Collecting stimuli (the only phase in which a poller runs). */
export const PHASE_POLL = 1;
/** Running nodes. */
export const PHASE_RUN = 2;
/** Building spawned subgraphs. */
export const PHASE_SPAWN = 3;

/** Ticks wrap well before Int32 overflow; the stamps are then reset. */
const TICK_LIMIT = 0x7ffffff0;

/** The cycle engine of one executor. Internal to the core: the executor is its only user. */
export class Cycle {
  /** Current tick (the epoch modulo renormalization), for the SCHED/MUT stamps. */
  tick = 0;
  /** The number of the last cycle started. */
  epoch = 0;
  /** One of the `PHASE_*` constants. */
  phase = PHASE_IDLE;
  /** Slot of the node being run, -1 otherwise. */
  cur = -1;
  /** The clock of the current (or last) cycle; relative timers between cycles count from it. */
  clock: Clock | null;
  /** The runtime's poller, or null. */
  poller: Poller | null = null;
  /** The notification area, or null until the first notifier. */
  notify: NotifyQueue | null = null;
  /** The attached recording or replaying hook, or null. */
  hook: StimulusHook | null = null;
  /** Subgraphs queued with `ctx.spawnSubgraph`, built after the sweep. */
  readonly spawns: ((executor: never) => void)[] = [];
  readonly #time = new CycleTime();
  #timeValid = false;
  #yields: Int32Array = new Int32Array(64);
  #yieldCount = 0;
  /** True when an interrupted cycle left entries queued (they need this cycle's stamp). */
  #leftover = false;
  #panic: unknown = undefined;
  #hasPanic = false;
  /** Parent whose Trigger children `#runSiblings` is running directly, or -1. */
  #sibParent = -1;
  readonly #owner: object;
  readonly #life: Lifecycle;
  readonly #sched: Scheduler;
  readonly #report: Report;
  /** The context port handed to each node's context (made by the executor). */
  contextPort: object = {};

  /**
   * @param owner The executor (handed to spawned functions and contexts).
   * @param life Its nodes.
   * @param sched Its scheduler.
   * @param report Where isolated errors go.
   * @param clock The clock relative timers count from before the first cycle, or null.
   */
  constructor(
    owner: object,
    life: Lifecycle,
    sched: Scheduler,
    report: Report,
    clock: Clock | null,
  ) {
    this.#owner = owner;
    this.#life = life;
    this.#sched = sched;
    this.#report = report;
    this.clock = clock;
  }

  /** True when a yield, a leftover entry or a notification makes the next cycle run a node. */
  get hasWork(): boolean {
    return this.#yieldCount !== 0 || this.#sched.pending !== 0 ||
      (this.notify !== null && this.notify.hasPending());
  }

  /**
   * Runs one cycle (its clock checked by the executor).
   *
   * @throws Whatever failed in the poll phase (the executor is idle again, the queue kept), or
   *   the error of a node built with `allowPanic(true)`, after the sweep.
   */
  run(clock: Clock): ExecutorState {
    const hook = this.hook, life = this.#life;
    if (hook !== null) hook.cycleStart();
    const inst = life.instruments;
    if (inst !== null) { for (let i = 0; i < inst.length; i++) inst[i].cycleStart(); }
    this.clock = clock;
    this.#timeValid = false;
    let tick = this.tick + 1;
    if (tick >= TICK_LIMIT) {
      life.table.resetStamps();
      tick = 1;
    }
    this.tick = tick;
    this.epoch++;
    this.phase = PHASE_POLL;
    const sched = this.#sched;
    let state: ExecutorState = ExecutorState.Running;
    let ranAny = false;
    try {
      if (life.table.hasRemovals) life.table.flushRemovals();
      if (this.#leftover) this.#restamp();
      if (this.#yieldCount !== 0) this.#pollYields();
      this.collect();
      if (this.poller !== null) this.poller.poll();
      if (hook !== null) {
        hook.inject();
        this.time(); // a recorded (or replayed) cycle always has its time
      }
      ranAny = sched.pending !== 0;
      if (ranAny) {
        this.phase = PHASE_RUN;
        state = this.#drain();
      }
      if (life.hasLeaving) life.sweep();
      if (this.spawns.length !== 0) this.#runSpawns();
    } catch (err) {
      // Whatever failed (a clock, a poller, the OS), the executor goes back to idle and keeps
      // what was queued: the nodes run in the next cycle.
      this.cur = -1;
      if (sched.pending !== 0) this.#leftover = true;
      this.phase = PHASE_IDLE;
      throw err;
    }
    this.phase = PHASE_IDLE;
    if (hook !== null) hook.cycleEnd(this.epoch, this.#time, ranAny);
    if (inst !== null) { for (let i = 0; i < inst.length; i++) inst[i].cycleEnd(); }
    if (this.#hasPanic) {
      const err = this.#panic;
      this.#panic = undefined;
      this.#hasPanic = false;
      throw err;
    }
    return state;
  }

  /** Collects the stimuli that arrive on their own: expired timers and notifications. */
  collect(): void {
    if (this.#life.res.timers.size !== 0) this.#pollTimers();
    if (this.notify !== null && this.notify.hasPending()) this.notify.drain(this.#fromNotify);
  }

  /** The cycle's time, sampled on first use in a cycle. */
  time(): CycleTime {
    if (!this.#timeValid) {
      this.clock!.sample(this.#time);
      this.#timeValid = true;
    }
    return this.#time;
  }

  /** Queues `slot` for this cycle unless it was already (the stamp de-duplicates). */
  enqueue(slot: number): void {
    const meta = this.#life.table.meta, b = slot << SHIFT;
    if (meta[b + SCHED] === this.tick) return;
    meta[b + SCHED] = this.tick;
    this.#sched.push(meta, slot, meta[b + DEPTH]);
  }

  /** True if the slot holds node generation `gen`, alive and not leaving. */
  isLive(slot: number, gen: number): boolean {
    const meta = this.#life.table.meta, b = slot << SHIFT;
    return meta[b + GEN] === gen && (meta[b + FLAGS] & (F_ALIVE | F_DOOMED)) === F_ALIVE;
  }

  /** Schedules the node in `slot` (generation `gen`) for the next cycle. */
  yieldNext(slot: number, gen: number): void {
    const n = this.#yieldCount;
    if (2 * n + 2 > this.#yields.length) {
      const y = new Int32Array(this.#yields.length * 2);
      y.set(this.#yields);
      this.#yields = y;
    }
    this.#yields[2 * n] = slot;
    this.#yields[2 * n + 1] = gen;
    this.#yieldCount = n + 1;
  }

  /** A stimulus from outside the graph; false for a stale or removed node, or a duplicate. */
  stimulus(slot: number, gen: number, cause: number): boolean {
    const life = this.#life;
    if (slot < 0 || slot >= life.table.slotTop || !this.isLive(slot, gen)) return false;
    if (life.instruments !== null) life.cause(slot, cause, -1);
    if (life.table.meta[(slot << SHIFT) + SCHED] === this.tick) return false;
    this.enqueue(slot);
    return true;
  }

  /** The depth being run: the running node's, or the drain cursor's between nodes. */
  get runningDepth(): number {
    return this.cur >= 0 ? this.#life.table.meta[(this.cur << SHIFT) + DEPTH] : this.#sched.cursor;
  }

  /** @internal For tests: set the tick close to its limit. */
  setTick(tick: number): void {
    this.tick = tick;
  }

  readonly #fromNotify = (slot: number, gen: number): boolean => {
    const hook = this.hook;
    if (hook === null) return this.stimulus(slot, gen, CAUSE_NOTIFY);
    return hook.wake(slot, gen, CAUSE_NOTIFY, 0, this.#schedule);
  };

  /** `stimulus` as a function a hook can call. */
  readonly #schedule: ScheduleFn = (slot, gen, cause) => this.stimulus(slot, gen, cause);

  #pollYields(): void {
    const y = this.#yields, n = this.#yieldCount, life = this.#life;
    this.#yieldCount = 0;
    for (let i = 0; i < n; i++) {
      const slot = y[2 * i];
      if (!this.isLive(slot, y[2 * i + 1])) continue;
      if (life.instruments !== null) life.cause(slot, CAUSE_YIELD, -1);
      this.enqueue(slot);
    }
  }

  #pollTimers(): void {
    const now = this.time().monotonicNs, life = this.#life;
    const timers = life.res.timers, meta = life.table.meta;
    let deadline: number;
    while (timers.size !== 0 && (deadline = timers.nextDeadline()) <= now) {
      const slot = timers.topSlot(), gen = timers.topGen(), b = slot << SHIFT;
      timers.popTop();
      if (meta[b + GEN] !== gen) continue;
      meta[b + TIMERS]--;
      if (!this.isLive(slot, gen)) continue;
      if (life.instruments !== null) life.cause(slot, CAUSE_TIMER, -1, now - deadline);
      this.enqueue(slot);
    }
  }

  // ------------------------------------------------------------------------------- the drain

  /** Runs the drain loop, resuming after each isolated exception. */
  #drain(): ExecutorState {
    this.#sched.cursor = 0;
    for (;;) {
      try {
        return this.#drainLoop() === STOP ? ExecutorState.Terminated : ExecutorState.Running;
      } catch (err) {
        const slot = this.cur;
        this.cur = -1;
        if (this.#sibParent >= 0) this.#requeueSiblings(slot);
        // Not a node's exception: run() keeps the queue for the next cycle and surfaces it.
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
   * The hot loop, the one place where nodes run and their results are handled. Each turn takes
   * the next node (scheduler pop inlined on locals), runs it, and settles its result: a
   * broadcast stamps it mutated and schedules its Trigger children, `Sweep` dooms it,
   * `Terminate` stops the drain.
   *
   * Two shortcuts keep the queue out of the common shapes without changing the order. When a
   * node broadcasts while nothing else is queued, a lone Trigger child is the next node anyway:
   * it runs at once. Several Trigger children of one depth would be queued and popped in exactly
   * their list order: they are stamped and taken straight from the parent's child list (the
   * "sibling run", `sibK` to `sibEnd` in the edge pool). Nothing else being queued also means
   * none of the children ran or was scheduled in this cycle yet.
   */
  #drainLoop(): number {
    const t = this.#life.table, meta = t.meta, edges = t.pool.buf, nodes = t.nodes, fns = t.fns;
    const ctxs = t.ctxs, s = this.#sched, head = s.head, tail = s.tail, bits = s.bits;
    const tick = this.tick;
    let slot = -1, sibK = 0, sibEnd = 0;
    for (;;) {
      if (slot === -1) {
        if (sibK < sibEnd) {
          slot = edges[sibK];
          sibK += 2;
          if (sibK === sibEnd) this.#sibParent = -1;
        } else {
          if (s.pending === 0) {
            this.cur = -1;
            return 0;
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
            tail[d] = -1;
            bits[d >>> 5] &= ~(1 << (d & 31));
          }
          s.pending--;
        }
      }
      const b = slot << SHIFT;
      if ((meta[b + FLAGS] & F_DOOMED) !== 0) {
        slot = -1;
        continue;
      }
      this.cur = slot;
      meta[b + RUNS]++;
      const r = fns[slot]!(nodes[slot]!, ctxs[slot] ?? this.#newCtx(slot));
      if (r === BROADCAST || r === true) {
        meta[b + MUT] = tick;
        const n = meta[b + TK_COUNT];
        const alone = s.pending === 0 && sibK === sibEnd;
        slot = -1;
        if (n === 0) continue;
        const e = meta[b + TK_START];
        if (n === 1) {
          const c = edges[e], cb = c << SHIFT;
          if (meta[cb + SCHED] === tick) continue;
          meta[cb + SCHED] = tick;
          // The cursor stays behind (pops scan up from it; scheduleNode checks the running
          // node's own depth), saving a store per node on chains.
          if (alone) {
            slot = c;
            continue;
          }
          meta[cb + NEXT] = -1;
          const d = edges[e + 1], tl = tail[d];
          if (tl === -1) {
            head[d] = c;
            bits[d >>> 5] |= 1 << (d & 31);
          } else meta[(tl << SHIFT) + NEXT] = c;
          tail[d] = c;
          s.pending++;
        } else if (alone && sameDepth(edges, e, n)) {
          sibK = e;
          sibEnd = e + 2 * n;
          for (let k = sibK; k < sibEnd; k += 2) meta[(edges[k] << SHIFT) + SCHED] = tick;
          s.cursor = edges[e + 1];
          this.#sibParent = this.cur;
        } else {
          this.#pushChildren(meta, edges, e, n, tick);
        }
      } else {
        slot = -1;
        if (r === SWEEP) this.#life.doom(this.cur);
        else if (r === TERMINATE) {
          this.cur = -1;
          this.#sibParent = -1;
          s.clear();
          return STOP;
        }
      }
    }
  }

  /** The context of the node in `slot`, made on its first run. */
  #newCtx(slot: number): object {
    const life = this.#life;
    return life.table.ctxs[slot] = life.makeContext!(this.#owner as never, this.contextPort, slot);
  }

  /** Queues the not-yet-scheduled Trigger children in edges[e .. e + 2n). */
  #pushChildren(meta: Int32Array, edges: Int32Array, e: number, n: number, tick: number): void {
    const s = this.#sched, head = s.head, tail = s.tail, bits = s.bits;
    const end = e + 2 * n;
    let added = 0;
    for (; e < end; e += 2) {
      const c = edges[e], cb = c << SHIFT;
      if (meta[cb + SCHED] !== tick) {
        meta[cb + SCHED] = tick;
        meta[cb + NEXT] = -1;
        const d = edges[e + 1];
        const tl = tail[d];
        if (tl === -1) {
          head[d] = c;
          bits[d >>> 5] |= 1 << (d & 31);
        } else {
          meta[(tl << SHIFT) + NEXT] = c;
        }
        tail[d] = c;
        added++;
      }
    }
    s.pending += added;
  }

  /**
   * After `failed` threw in a sibling run: queue the children that had not run yet, in
   * order and AHEAD of anything queued at their depth during the direct run (they were
   * scheduled first; the queue at that depth was empty when the sibling run began).
   */
  #requeueSiblings(failed: number): void {
    const parent = this.#sibParent;
    this.#sibParent = -1;
    const t = this.#life.table, meta = t.meta, edges = t.pool.buf, b = parent << SHIFT;
    const s = this.#sched, start = meta[b + TK_START], end = start + 2 * meta[b + TK_COUNT];
    const tick = this.tick;
    // The children after the one that threw (found by position: no store per sibling run).
    let k = start;
    while (k < end && edges[k] !== failed) k += 2;
    let first = -1, last = -1, count = 0, d = -1;
    for (k += 2; k < end; k += 2) {
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

  #runSpawns(): void {
    this.phase = PHASE_SPAWN;
    const q = this.spawns;
    for (let i = 0; i < q.length; i++) {
      try {
        q[i](this.#owner as never);
      } catch (err) {
        this.#report(err, undefined, "spawn");
      }
    }
    q.length = 0;
    if (this.#life.hasLeaving) this.#life.sweep();
  }

  /** Entries left queued by an interrupted cycle get this cycle's stamp. */
  #restamp(): void {
    const meta = this.#life.table.meta, tick = this.tick;
    this.#sched.forEachQueued(meta, (slot) => {
      meta[(slot << SHIFT) + SCHED] = tick;
    });
    this.#sched.cursor = 0;
    this.#leftover = false;
  }
}

/** True if the n children at edges[e] (child, depth pairs) share one depth. */
function sameDepth(edges: Int32Array, e: number, n: number): boolean {
  const d = edges[e + 1], end = e + 2 * n;
  for (e += 3; e < end; e += 2) if (edges[e] !== d) return false;
  return true;
}
