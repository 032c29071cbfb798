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

/** Schedules a live stimulus of the node in `slot` (generation `gen`): true when newly scheduled. */
export type ScheduleFn = (slot: number, gen: number, cause: number) => boolean;

/**
 * The hook the core owns for recording and replaying a run: the recorder and the replayer each
 * implement it, and a runtime attaches one to its executor (`RuntimePort.attachHook`) when
 * recording or replay starts. The executor calls it at the cycle's fixed points; drivers route
 * their live stimuli through {@linkcode StimulusHook.wake}; every channel receiver gets its own
 * {@linkcode ReceiverHook} from {@linkcode StimulusHook.receiver}. Which of the two roles a hook
 * plays is fixed when it is made, so no hot path tests which one it is.
 */
export interface StimulusHook {
  /** A cycle is about to start (the recorder fingerprints the graph until its first cycle). */
  cycleStart(): void;
  /** After the collect phase: schedules what the hook supplies (replay: the logged wake-ups). */
  inject(): void;
  /**
   * A notifier (`CAUSE_NOTIFY`) or I/O readiness (`CAUSE_IO`, with its readiness `bits`) wants
   * the node in `slot` run. The recorder schedules it with `schedule` and logs it if that newly
   * scheduled it; the replayer ignores it (the log says which wake-ups happened).
   *
   * @returns Whether the node was newly scheduled.
   */
  wake(slot: number, gen: number, cause: number, bits: number, schedule: ScheduleFn): boolean;
  /** The cycle ended (after the sweep): `ranAny` says whether it ran a node. */
  cycleEnd(epoch: number, time: CycleTime, ranAny: boolean): void;
  /** The hook for the channel receiver of the node in `slot`. */
  receiver(slot: number): ReceiverHook;
}

/**
 * A receiver's live read, which a recording hook performs and a replaying hook replaces. The
 * receiver implements it; kinds are the log's observation kinds (1 item, 2 empty, 3 closed).
 */
export interface LiveRead {
  /** Reads live: 1 (an item, its bytes in `bytes`), 2 (nothing queued) or 3 (closed). */
  liveRecv(): number;
  /**
   * The bytes of the item `liveRecv` read (valid until the next read). Where `words` is set, the
   * item is read from there, and `bytes` only gives its size (it may hold an older item).
   */
  bytes: Uint8Array;
  /**
   * When the item is a whole number of 32-bit words: the words it lies in (a record's staging
   * cell, or a ring's memory that the item is read from in place), its `bytes.length / 4` words
   * starting at index `at`; else null. A recorder copies them a word at a time.
   */
  readonly words: Int32Array | null;
  /** Where the item `liveRecv` read starts in `words`, in words (0 for a staging cell). */
  at: number;
  /** Takes a replayed item's bytes (a view, valid until the next read). */
  replayed(bytes: Uint8Array): void;
}

/**
 * What a channel receiver's read path calls while a hook is attached (its `_hook`, null when
 * none is: then the receiver reads live, with one null check).
 */
export interface ReceiverHook {
  /** One receive: the recorder runs `rx.liveRecv()` and logs it; the replayer feeds `rx.replayed`. */
  recv(rx: LiveRead): number;
  /** A number read from outside the graph (`kind` 4, or 5 for a decision); `live` its value now. */
  number(kind: number, live: number): number;
  /** A decision about the node's next run: the recorder runs `live` and logs it, the replayer reads it. */
  decide(live: () => boolean): boolean;
  /** Live housekeeping (reaping dead producers, freeing slots): run when recording, not when replaying. */
  housekeep(run: () => void): void;
}

/** A place a hook attaches to (a channel receiver): told when a hook is attached or detached. */
export interface HookSite {
  /** The hook is now `hook` (null: detached). */
  hook(hook: StimulusHook | null): void;
}

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
  /** The attached recording or replaying hook, or null. */
  readonly hook: StimulusHook | null;
  /**
   * Attaches `hook` (null detaches it): the executor's cycle and every registered site hear of
   * it at once.
   */
  attachHook(hook: StimulusHook | null): void;
  /**
   * Registers a site (told of the hook attached now, if any, and of every later one) until
   * `removeHookSite`.
   */
  addHookSite(site: HookSite): void;
  /** Unregisters a site (its node left the graph). */
  removeHookSite(site: HookSite): void;
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
