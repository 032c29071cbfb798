/**
 * Making a channel node from its checked options: the shared memory or local queue, the
 * receiver, the sender (built when the node is attached to its executor), and the cycle
 * function around the user's, which decides when the node runs again.
 *
 * @module
 */

import type { AttachedCycleFn, Attachment } from "../core/builder.ts";
import type { ExecutionContext } from "../core/context.ts";
import { type Executor, runtimePort } from "../core/executor.ts";
import type { Control } from "../core/control.ts";
import type { Node } from "../core/node.ts";
import type { TimerHandle } from "../drivers/timer.ts";
import { describeForReplay } from "../replay/fingerprint.ts";
import { threadToken } from "../runtime/thread.ts";
import type { FieldType, RecordLayout } from "./record.ts";
import { Rings } from "./rings.ts";
import { policyOf } from "./shared.ts";
import type { Overflow } from "./status.ts";
import { LocalQueue, LocalReceiver, LocalSender } from "./local.ts";
import { RingReceiver, RingSender, ValueReceiver, ValueSender } from "./channel.ts";
import { ConflatingReceiver, ConflatingSender, Conflation } from "./conflate.ts";
import type { HookPoint } from "./hook_point.ts";

/** A channel's options, checked and read once. */
export type Config =
  | { kind: "local"; capacity: number; overflow: Overflow }
  | {
    kind: "conflate";
    keys: number;
    slots: number;
    watchMs: number;
    layout: RecordLayout<Record<string, FieldType>>;
  }
  | {
    kind: "ring" | "value";
    capacity: number;
    overflow: Overflow;
    blockTimeoutMs: number;
    slots: number;
    watchMs: number;
    layout: RecordLayout<Record<string, FieldType>> | null;
    cellBytes: number;
  };

/** The attachment of a channel of `config` (`NodeBuilder.buildWith`). */
// deno-lint-ignore no-explicit-any
export function attachment(config: Config): Attachment<any, any> {
  return {
    prepare: (fn) =>
      config.kind === "local"
        ? makeLocal(config, fn)
        : config.kind === "conflate"
        ? makeConflating(config, fn)
        : makeShared(config, fn),
  };
}

/** What the cycle wrapper of a shared-memory channel needs from its receiving side. */
interface SharedSide {
  /** The receiver's hook point. */
  readonly hook: HookPoint;
  /** The end of a node run (consume what was handed out, tell the producers). */
  endRun(): void;
  /** Whether anything is left to read. */
  more(): boolean;
  /** Ask for a wake-up at the next publish (then look at `more` again). */
  arm(): void;
  /** Whether every sender closed and everything was read. */
  closed(): boolean;
  /** Whether a producer thread other than this one holds a slot. */
  hasRemote(): boolean;
  /** Marks the slots of dead producer threads. */
  reap(): void;
  /** Runs before each node run (frees slots a conflating channel no longer needs). */
  beforeRun(): void;
}

/** A ring or value channel for one node: its rings, receiver and cycle function. */
function makeShared<T>(
  config: Extract<Config, { kind: "ring" | "value" }>,
  // deno-lint-ignore no-explicit-any
  fn: AttachedCycleFn<T, any>,
) {
  const { capacity, overflow, blockTimeoutMs, slots, watchMs, layout, cellBytes } = config;
  const rings = Rings.create(slots, capacity, cellBytes, policyOf(overflow), threadToken());
  const rx = layout !== null ? new RingReceiver(rings, layout) : new ValueReceiver(rings);
  const reader = rx._reader;
  const attach = (ex: Executor, node: Node<T>) => {
    const notifier = ex.registerNotifier(node);
    const port = runtimePort(ex), hub = port.ingest;
    // Ingest stamps (data-age metrics): on while an instrument asks the executor's hub.
    const stamps = {
      _setStamping: (on: boolean) => {
        rings.setStamping(on);
        reader.hub = on ? hub : null;
      },
    };
    hub.register(stamps);
    rx._hook.register(port, node._slot);
    ex.own(node, () => {
      hub.unregister(stamps);
      rx._hook.unregister();
      rings.closeReceiver();
    });
    // The layout is part of the graph a recorded run must be replayed into.
    describeForReplay(
      node,
      layout !== null
        ? `ring ${layout.byteSize} ${
          layout.names.map((n, i) => `${n}:${layout!.types[i]}@${layout!.offsets[i]}`)
        }`
        : `value ${cellBytes}`,
    );
    return layout !== null
      ? new RingSender(rings, notifier, blockTimeoutMs, false, layout)
      : new ValueSender(rings, notifier, blockTimeoutMs, false);
  };
  const side: SharedSide = {
    hook: rx._hook,
    endRun: () => rx._endRun(),
    more: () => reader.length > 0,
    arm: () => reader.arm(),
    closed: () => reader.closed,
    hasRemote: () => reader.hasRemoteProducers(),
    reap: () => void reader.reapDeadProducers(),
    beforeRun: () => {},
  };
  return { cycle: sharedCycle(fn, rx, side, watchMs), attach };
}

/** A conflating channel for one node. */
function makeConflating<T>(
  config: Extract<Config, { kind: "conflate" }>,
  // deno-lint-ignore no-explicit-any
  fn: AttachedCycleFn<T, any>,
) {
  const { keys, slots, watchMs, layout } = config;
  const mem = Conflation.create(slots, keys, layout.byteSize, threadToken());
  const rx = new ConflatingReceiver(mem, layout);
  const attach = (ex: Executor, node: Node<T>) => {
    const notifier = ex.registerNotifier(node);
    const port = runtimePort(ex), hub = port.ingest;
    const stamps = {
      _setStamping: (on: boolean) => {
        mem.setStamping(on);
        rx._hub = on ? hub : null;
      },
    };
    hub.register(stamps);
    rx._hook.register(port, node._slot);
    ex.own(node, () => {
      hub.unregister(stamps);
      rx._hook.unregister();
      mem.closeReceiver();
    });
    describeForReplay(
      node,
      `conflate ${keys} ${layout.byteSize} ${
        layout.names.map((n, i) => `${n}:${layout.types[i]}@${layout.offsets[i]}`)
      }`,
    );
    return new ConflatingSender(mem, notifier, layout);
  };
  const side: SharedSide = {
    hook: rx._hook,
    endRun: () => rx._endRun(),
    more: () => rx._more,
    arm: () => rx._arm(),
    closed: () => rx._closed,
    hasRemote: () => rx._hasRemoteProducers(),
    reap: () => void rx._reapDeadProducers(),
    beforeRun: () => rx._freeSlots(),
  };
  return { cycle: sharedCycle(fn, rx, side, watchMs), attach };
}

/**
 * The cycle function of a shared-memory channel node: watches producer liveness, runs `fn`,
 * then decides whether the node runs again (something left, or the close to deliver) or asks
 * the producers for a wake-up.
 */
function sharedCycle<T, R>(
  fn: AttachedCycleFn<T, R>,
  rx: R,
  side: SharedSide,
  watchMs: number,
) {
  const watchNs = watchMs * 1e6;
  let closeDelivered = false;
  let timerDue = -1;
  let nextReap = 0;
  let timer: TimerHandle | null = null;
  void timer;
  const point = side.hook;
  let cur: ExecutionContext;
  // Live housekeeping and decisions, which a recording hook runs and logs (the decisions) and a
  // replaying hook replaces with the logged decisions.
  const housekeep = () => {
    if (watchNs > 0 && side.hasRemote()) {
      const now = cur.time.monotonicNs;
      if (now >= nextReap) {
        nextReap = now + watchNs;
        side.reap();
      }
    }
    side.beforeRun();
  };
  // A receiver that returns with items left runs again next cycle; so does one whose last
  // sender closed, once, so that it sees the closed result even if the close arrived in the
  // same wake-up as the last items.
  const liveAgain = () => {
    let again = side.more();
    if (!again) {
      // Idle: ask the producers for a wake-up, then look once more (what was published
      // before the arming shows here; what comes after it wakes the node).
      side.arm();
      again = side.more();
    }
    if (!again && !closeDelivered && side.closed()) again = closeDelivered = true;
    return again;
  };
  // While Workers hold senders, a timer brings the node back to check they are alive.
  const liveArm = () => timerDue < 0 && side.hasRemote();
  return (self: Node<T>, ctx: ExecutionContext) => {
    const hook = point.now;
    if (timerDue >= 0 && ctx.time.monotonicNs >= timerDue) timerDue = -1; // it fired
    cur = ctx;
    if (hook === null) housekeep();
    else hook.housekeep(housekeep);
    let r: Control | boolean | void;
    try {
      r = fn(self, ctx, rx);
    } catch (e) {
      side.endRun();
      side.arm(); // the next publish wakes the node, as after any run
      throw e;
    }
    side.endRun();
    if (hook === null ? liveAgain() : hook.decide(liveAgain)) ctx.yieldNow(self);
    if (watchNs > 0 && (hook === null ? liveArm() : hook.decide(liveArm))) {
      timer = ctx.registerTimerAfter(self, watchNs);
      timerDue = ctx.time.monotonicNs + watchNs;
    }
    return r;
  };
}

/** A local channel for one node. */
function makeLocal<T>(
  config: Extract<Config, { kind: "local" }>,
  // deno-lint-ignore no-explicit-any
  fn: AttachedCycleFn<T, any>,
) {
  const { capacity, overflow } = config;
  let lq: LocalQueue<unknown> | undefined;
  let rx: LocalReceiver<unknown> | undefined;
  const attach = (ex: Executor, node: Node<T>) => {
    lq = new LocalQueue(capacity, overflow, ex.registerNotifier(node));
    rx = new LocalReceiver(lq);
    const port = runtimePort(ex), stamps = lq.stampFor(port.ingest);
    port.ingest.register(stamps);
    rx._hook.register(port, node._slot);
    describeForReplay(node, "local");
    ex.own(node, () => {
      port.ingest.unregister(stamps);
      rx!._hook.unregister();
      lq!.closeRx();
    });
    return new LocalSender(lq);
  };
  let closeDelivered = false;
  const liveAgain = () => {
    let again = lq!.length > 0;
    if (!again && !closeDelivered && lq!.txClosed) again = closeDelivered = true;
    return again;
  };
  const cycle = (self: Node<T>, ctx: ExecutionContext) => {
    const r = fn(self, ctx, rx);
    const hook = rx!._hook.now;
    const again = hook === null ? liveAgain() : hook.decide(liveAgain);
    if (again) ctx.yieldNow(self);
    return r;
  };
  return { cycle, attach };
}
