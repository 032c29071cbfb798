/**
 * The narrow interfaces features attach to the core through: a runtime's poller and port, the
 * recorder and replayer of stimuli, and instruments (profiling, tracing). The core defines them
 * and never imports what implements them.
 *
 * @module
 */

import type { Node, NodeSpec } from "./node.ts";
import type { CycleTime } from "./time.ts";
import type { NotifyQueue, Waker } from "../drivers/notify.ts";
import type { IoDriver } from "../drivers/io.ts";
import type { IngestHub } from "./ingest.ts";

/**
 * A source of external stimuli a runtime attaches to its executor (OS events). The executor
 * calls `poll` once per cycle, in the collect phase after yields, timers and notifications. It
 * never waits: the runtime waits before the cycle, and leaves what the wait returned for `poll`.
 */
export interface Poller {
  /** Schedules the nodes of the events that are ready (through `Executor.scheduleStimulus`). */
  poll(): void;
}

/** A cycle function as the table stores it (any node value). */
// deno-lint-ignore no-explicit-any
export type AnyCycleFn = (self: Node<any>, ctx: any) => unknown;

/**
 * An instrument watches node runs (profiling, tracing) without touching the hot loop: it wraps
 * cycle functions, and hears why nodes were scheduled.
 */
export interface Instrument {
  /** Wraps the cycle function of the node in `slot` (called for every live node and new one). */
  wrap(slot: number, fn: AnyCycleFn): AnyCycleFn;
  /**
   * A stimulus scheduled (or tried to schedule) the node in `slot`: one of the `CAUSE_*` bits;
   * `by` is the scheduling node's slot for `CAUSE_SCHEDULE`, else -1. `lateNs`, for
   * `CAUSE_TIMER` only, is how far the cycle's time is past the timer's deadline (the timer's
   * lateness, which only the timer heap knows); 0 for the other causes.
   */
  cause(slot: number, bit: number, by: number, lateNs: number): void;
  /** A cycle starts (before any stimulus is collected). */
  cycleStart(): void;
  /** A cycle ended (after the sweep and spawn phases). */
  cycleEnd(): void;
}

/** A yield scheduled the node. */
export const CAUSE_YIELD = 1;
/** A timer scheduled the node. */
export const CAUSE_TIMER = 2;
/** A notifier woke the node. */
export const CAUSE_NOTIFY = 4;
/** I/O readiness woke the node. */
export const CAUSE_IO = 8;
/** `ctx.scheduleNode` scheduled the node. */
export const CAUSE_SCHEDULE = 16;

/** What the recording side of a tap hears. */
export interface RecordingTap {
  /** Discriminates the tap. */
  readonly recording: true;
  /** A cycle is about to start (the recorder fingerprints the graph at the first one). */
  begin(): void;
  /** A notifier scheduled the node in `slot`. */
  notify(slot: number): void;
  /** I/O readiness scheduled the node. */
  io(slot: number, bits: number): void;
  /** The node in `slot` read a value from outside the graph. */
  obs(slot: number, kind: number, payload: Uint8Array | null): void;
  /** The node read a number from outside the graph. */
  obsNumber(slot: number, kind: number, v: number): void;
  /** A cycle ended; `ranAny` says whether it ran a node. */
  endCycle(epoch: number, time: CycleTime, ranAny: boolean): void;
}

/** What the replaying side of a tap answers. */
export interface ReplayingTap {
  /** Discriminates the tap. */
  readonly recording: false;
  /** A cycle is about to start. */
  begin(): void;
  /** Schedules the nodes the recorded cycle's notifiers and I/O scheduled. */
  inject(): void;
  /** The next recorded observation of the node in `slot`, of `kind`. */
  next(slot: number, kind: number): Uint8Array;
  /** The kind of the observation `next` returned last. */
  readonly lastKind: number;
  /** The next recorded number observation. */
  nextNumber(slot: number, kind: number): number;
  /** The replayed cycle ended (checks that every recorded observation was consumed). */
  end(): void;
}

/** The recorder or replayer attached to an executor. */
export type StimulusTap = RecordingTap | ReplayingTap;

/**
 * What a runtime, a recorder or a replayer needs from an executor beyond its public methods:
 * obtained with `runtimePort(executor)`, never exported to users.
 */
export interface RuntimePort {
  /** Builds a node from a builder's spec (`NodeBuilder.build`; checked there and here). */
  build<T>(spec: NodeSpec<T>, fn: AnyCycleFn): Node<T>;
  /** Attaches (or detaches, with null) the runtime's poller. */
  attachPoller(poller: Poller | null): void;
  /** True while a poller is attached. */
  readonly hasPoller: boolean;
  /** The notification area, created on first use. */
  notifications(): NotifyQueue;
  /** Sets how notifiers wake the executor when it is parked (-1: Atomics on the area). */
  setWake(waker: Waker | null, fd: number): void;
  /** Attaches (or detaches) the I/O driver. */
  attachIo(io: IoDriver | null): void;
  /** Moves every pending timer by `deltaNs` (to another clock's origin). */
  shiftTimers(deltaNs: number): void;
  /** The tick of the current (or last) cycle, for I/O readiness stamps. */
  readonly tick: number;
  /** The tap, or null. */
  tap: StimulusTap | null;
  /** Replay: the next cycle gets number `epoch`. */
  setNextEpoch(epoch: number): void;
  /** The handle of the node in `slot`, or null. */
  node(slot: number): Node<unknown> | null;
  /** The executor's ingest stamps: channels register there, an instrument turns them on. */
  readonly ingest: IngestHub;
  /**
   * The Trigger children of the node in `slot`: `edges[start + 2k]` is the slot of child k
   * (k < count), `edges[start + 2k + 1]` its depth. Valid until the graph changes.
   */
  triggerChildren(slot: number): { edges: Int32Array; start: number; count: number };
  /** Bytes held in typed arrays: node table, edge pool, scheduler (for memory benchmarks). */
  typedArrayBytes(): { nodeTable: number; edgePool: number; scheduler: number };
}

/**
 * @internal What a context needs from its executor beyond the public methods: the executor
 * hands each context this port (closures over its private state).
 */
export interface ContextPort {
  /** True while the node in `slot` runs with `ctx` as its context. */
  isRunning(slot: number, ctx: object): boolean;
  /** The handle of the node in `slot`. */
  node(slot: number): Node<unknown>;
  /** The cycle's time, sampled on first use. */
  time(): CycleTime;
  /** `scheduleNode`: later in this cycle. */
  schedule(node: Node<unknown>): void;
  /** `spawnSubgraph`: after the sweep phase. */
  spawn(fn: (executor: never) => void): void;
}
