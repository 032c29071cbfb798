/**
 * Building a channel node: the options of each kind, checked once, and the attachments
 * ({@linkcode channel}, {@linkcode ringChannel}, {@linkcode valueChannel},
 * {@linkcode conflatingChannel}, {@linkcode localChannel}) that `NodeBuilder.buildWith` builds a
 * node with, handing its cycle function the receiver and returning the sender.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { checkOptions, describe } from "../core/validate.ts";
import type { AttachedCycleFn, Attachment } from "../core/builder.ts";
import { defineRecord, type FieldType, type RecordLayout } from "./record.ts";
import { MAX_SLOTS } from "./rings.ts";
import { Overflow } from "./status.ts";
import type { LocalReceiver, LocalSender } from "./local.ts";
import type { RingReceiver, RingSender, ValueReceiver, ValueSender } from "./channel.ts";
import { type ConflatingReceiver, type ConflatingSender, MAX_KEYS } from "./conflate.ts";
import { attachment, type Config } from "./make.ts";

/**
 * Options of a ring channel.
 *
 * @example A ring channel of quotes
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, defineRecord, RecvStatus, type RingChannelOptions } from "@wavelet/wavelet/channel";
 *
 * const Quote = defineRecord({ bid: "f64", ask: "f64" });
 * const options: RingChannelOptions<typeof Quote.fields> = {
 *   kind: "ring",
 *   record: Quote,
 *   capacity: 64,
 * };
 * const rt = new TestRuntime();
 * const q = { bid: 0, ask: 0 };
 * const [spread, tx] = new NodeBuilder(0).buildWith(rt.executor, channel(options), (s, _c, rx) => {
 *   while (rx.tryRecv(q) === RecvStatus.Item) s.value = q.ask - q.bid;
 *   return true;
 * });
 * tx.trySend({ bid: 99, ask: 101 });
 * rt.runOneCycle();
 * if (spread.value !== 2) throw new Error("expected a spread of 2");
 * ```
 */
export interface RingChannelOptions<F extends Record<string, FieldType>> {
  /** Marks the kind. */
  kind: "ring";
  /** The record layout. */
  record: RecordLayout<F>;
  /** Records each sender may have queued: an integer in [1, 2^24], rounded up to a power of two. */
  capacity: number;
  /** Overflow policy (default `Reject`). */
  overflow?: Overflow;
  /** Longest a `Block` send waits, in milliseconds (default `Infinity`). */
  blockTimeoutMs?: number;
  /** Senders that may send at once (each has its own ring): an integer in [1, 1024], default 8. */
  producers?: number;
  /**
   * How often, in milliseconds, the node checks that the threads holding its senders are still
   * alive, while any Worker holds one (default 200; 0 turns the check off). The node runs at
   * that period while it watches.
   */
  livenessCheckMs?: number;
}

/**
 * Options of a value channel.
 *
 * @example A value channel of small objects
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import type { ValueChannelOptions } from "@wavelet/wavelet/channel";
 * import { channel } from "@wavelet/wavelet/channel";
 *
 * const options: ValueChannelOptions = { kind: "value", capacity: 16, maxItemBytes: 256 };
 * const rt = new TestRuntime();
 * const [last, tx] = new NodeBuilder("").buildWith(
 *   rt.executor,
 *   channel<ValueChannelOptions, { id: string }>(options),
 *   (self, _ctx, rx) => {
 *     for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) self.value = v.id;
 *     return true;
 *   },
 * );
 * tx.trySend({ id: "order-1" });
 * rt.runOneCycle();
 * if (last.value !== "order-1") throw new Error("expected the item's id");
 * ```
 */
export interface ValueChannelOptions {
  /** Marks the kind. */
  kind: "value";
  /** Items each sender may have queued: an integer in [1, 2^24], rounded up to a power of two. */
  capacity: number;
  /** Largest serialized item in bytes: an integer in [8, 2^24] (default 1024). */
  maxItemBytes?: number;
  /** Overflow policy (default `Reject`). */
  overflow?: Overflow;
  /** Longest a `Block` send waits, in milliseconds (default `Infinity`). */
  blockTimeoutMs?: number;
  /** Senders that may send at once (each has its own ring): an integer in [1, 1024], default 8. */
  producers?: number;
  /** See {@linkcode RingChannelOptions.livenessCheckMs}. */
  livenessCheckMs?: number;
}

/**
 * Options of a conflating channel: the latest record per key wins (see
 * {@linkcode conflatingChannel}).
 *
 * @example A conflating channel of quotes for 500 instruments
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, type ConflatingChannelOptions, defineRecord } from "@wavelet/wavelet/channel";
 *
 * const Quote = defineRecord({ bid: "f64", ask: "f64" });
 * const options: ConflatingChannelOptions<typeof Quote.fields> = {
 *   kind: "conflate",
 *   record: Quote,
 *   keys: 500,
 * };
 * const rt = new TestRuntime();
 * const [updated, tx] = new NodeBuilder(0).buildWith(rt.executor, channel(options), (s, _c, rx) => {
 *   while (rx.next()) s.value++;
 *   return true;
 * });
 * tx.trySend({ bid: 1, ask: 2 }, 499);
 * tx.trySend({ bid: 1, ask: 3 }, 499);
 * rt.runOneCycle();
 * if (updated.value !== 1) throw new Error("one key was updated");
 * ```
 */
export interface ConflatingChannelOptions<F extends Record<string, FieldType>> {
  /** Marks the kind. */
  kind: "conflate";
  /** The record layout. */
  record: RecordLayout<F>;
  /** Keys (instruments, venues, ...), each with its own latest record: an integer in [1, 2^20], default 1. */
  keys?: number;
  /** Senders that may send at once: an integer in [1, 1024], default 8. */
  producers?: number;
  /** See {@linkcode RingChannelOptions.livenessCheckMs}. */
  livenessCheckMs?: number;
}

/**
 * Options of a local channel.
 *
 * @example A typed local channel
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import type { LocalChannelOptions } from "@wavelet/wavelet/channel";
 * import { channel } from "@wavelet/wavelet/channel";
 *
 * const options: LocalChannelOptions = { kind: "local", capacity: 8 };
 * const rt = new TestRuntime();
 * const [sum, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   channel<LocalChannelOptions, number>(options),
 *   (self, _ctx, rx) => {
 *     for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) self.value += v;
 *     return true;
 *   },
 * );
 * tx.trySend(4);
 * tx.trySend(5);
 * rt.runOneCycle();
 * if (sum.value !== 9) throw new Error("expected 9");
 * ```
 */
export interface LocalChannelOptions {
  /** Marks the kind. */
  kind: "local";
  /** Capacity in items: an integer in [1, 2^24]. */
  capacity: number;
  /** `Reject` (default) or `DropOldest`; same-thread producers cannot block (use `sendAsync`). */
  overflow?: Overflow;
}

/**
 * Any channel's options.
 *
 * @example Options picked at run time
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import type { ChannelOptions } from "@wavelet/wavelet/channel";
 * import { channel } from "@wavelet/wavelet/channel";
 *
 * function options(crossThread: boolean): ChannelOptions {
 *   return crossThread ? { kind: "value", capacity: 1024 } : { kind: "local", capacity: 1024 };
 * }
 * const rt = new TestRuntime();
 * const opts = options(false);
 * if (opts.kind !== "local") throw new Error("a same-thread channel");
 * const [queued, tx] = new NodeBuilder(0).buildWith(rt.executor, channel(opts), (self, _c, rx) => {
 *   self.value = rx.length;
 *   return true;
 * });
 * tx.trySend("a");
 * rt.runOneCycle();
 * if (queued.value !== 1) throw new Error("one item was queued");
 * ```
 */
export type ChannelOptions =
  // deno-lint-ignore no-explicit-any
  | RingChannelOptions<any>
  | ValueChannelOptions
  // deno-lint-ignore no-explicit-any
  | ConflatingChannelOptions<any>
  | LocalChannelOptions;

const describeValue = describe;

function checkInt(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(
      `${name} must be an integer in [${min}, ${max}], got ${describeValue(v)}`,
    );
  }
  return v;
}

function checkOverflow(o: unknown, allowBlock: boolean): Overflow {
  const v = o ?? Overflow.Reject;
  if (
    v !== Overflow.Reject && v !== Overflow.DropOldest && !(allowBlock && v === Overflow.Block)
  ) {
    throw new InvalidArgumentError(
      `Overflow policy must be ${
        allowBlock ? "reject, dropOldest or block" : "reject or dropOldest"
      }, got ${describeValue(o)}`,
    );
  }
  return v as Overflow;
}

function checkMs(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !(v >= 0)) {
    throw new InvalidArgumentError(
      `${name} must be a number of milliseconds >= 0, got ${describeValue(v)}`,
    );
  }
  return v;
}

/** Rounds up to a power of two (at least 2). */
function powerOfTwo(n: number): number {
  let c = 2;
  while (c < n) c *= 2;
  return c;
}

/**
 * The receiver type for a channel kind.
 *
 * @example Typing a cycle function written apart from the build
 * ```ts
 * import { type Node, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import type { ReceiverFor, SenderFor, ValueChannelOptions } from "@wavelet/wavelet/channel";
 * import { channel } from "@wavelet/wavelet/channel";
 *
 * type Opts = ValueChannelOptions;
 * function drain(self: Node<number>, _ctx: unknown, rx: ReceiverFor<Opts, number>): boolean {
 *   for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) {
 *     self.value = Math.max(self.value, v);
 *   }
 *   return true;
 * }
 * const rt = new TestRuntime();
 * const [max, tx]: [Node<number>, SenderFor<Opts, number>] = new NodeBuilder(0)
 *   .buildWith(rt.executor, channel<Opts, number>({ kind: "value", capacity: 8 }), drain);
 * tx.trySend(3);
 * tx.trySend(7);
 * rt.runOneCycle();
 * if (max.value !== 7) throw new Error("expected 7");
 * ```
 */
export type ReceiverFor<O extends ChannelOptions, V> = O extends RingChannelOptions<infer F>
  ? RingReceiver<F>
  : O extends ValueChannelOptions ? ValueReceiver<V>
  : O extends ConflatingChannelOptions<infer F> ? ConflatingReceiver<F>
  : LocalReceiver<V>;

/**
 * The sender type for a channel kind.
 *
 * @example Keeping a sender in a typed field
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import type { LocalChannelOptions, SenderFor } from "@wavelet/wavelet/channel";
 * import { channel } from "@wavelet/wavelet/channel";
 *
 * class Feed {
 *   readonly tx: SenderFor<LocalChannelOptions, string>;
 *   constructor(rt: TestRuntime) {
 *     const [, tx] = new NodeBuilder(0).buildWith(
 *       rt.executor,
 *       channel<LocalChannelOptions, string>({ kind: "local", capacity: 4 }),
 *       () => false,
 *     );
 *     this.tx = tx;
 *   }
 * }
 * const feed = new Feed(new TestRuntime());
 * feed.tx.trySend("tick");
 * if (feed.tx.isClosed) throw new Error("the sender is open");
 * ```
 */
export type SenderFor<O extends ChannelOptions, V> = O extends RingChannelOptions<infer F>
  ? RingSender<F>
  : O extends ValueChannelOptions ? ValueSender<V>
  : O extends ConflatingChannelOptions<infer F> ? ConflatingSender<F>
  : LocalSender<V>;

/**
 * A channel node's cycle function: the usual arguments plus the receiver.
 *
 * @example A cycle function declared on its own
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import type {
 *   ChannelCycleFn,
 *   LocalChannelOptions,
 *   LocalReceiver,
 * } from "@wavelet/wavelet/channel";
 * import { channel } from "@wavelet/wavelet/channel";
 *
 * const count: ChannelCycleFn<number, LocalReceiver<string>> = (self, _ctx, rx) => {
 *   while (rx.tryRecv() !== undefined) self.value++;
 *   return true;
 * };
 * const rt = new TestRuntime();
 * const options: LocalChannelOptions = { kind: "local", capacity: 4 };
 * const [n, tx] = new NodeBuilder(0)
 *   .buildWith(rt.executor, channel<LocalChannelOptions, string>(options), count);
 * tx.trySend("a");
 * tx.trySend("b");
 * rt.runOneCycle();
 * if (n.value !== 2) throw new Error("expected 2");
 * ```
 */
export type ChannelCycleFn<T, R> = AttachedCycleFn<T, R>;

/** The longest `livenessCheckMs`: about 24 days. */
const MAX_WATCH_MS = 2 ** 31;

/**
 * The attachment that builds a node with a channel of any kind (`NodeBuilder.buildWith`): the
 * node's cycle function gets the receiver as its third argument, and the build returns the
 * sender. Every option is checked here, before anything is built. `V` types the items of value
 * and local channels (`unknown` unless given); {@linkcode ringChannel},
 * {@linkcode valueChannel} and {@linkcode localChannel} are the typed short forms.
 *
 * @example Options picked at run time
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, type ChannelOptions } from "@wavelet/wavelet/channel";
 *
 * function options(crossThread: boolean): ChannelOptions {
 *   return crossThread ? { kind: "value", capacity: 1024 } : { kind: "local", capacity: 1024 };
 * }
 * const rt = new TestRuntime();
 * const opts = options(false);
 * if (opts.kind !== "local") throw new Error("a same-thread channel");
 * const [queued, tx] = new NodeBuilder(0).buildWith(rt.executor, channel(opts), (self, _c, rx) => {
 *   self.value = rx.length;
 *   return true;
 * });
 * tx.trySend("a");
 * rt.runOneCycle();
 * if (queued.value !== 1) throw new Error("one item was queued");
 * ```
 *
 * @throws {InvalidArgumentError} If an option is missing, out of range or not of its type.
 */
export function channel<O extends ChannelOptions, V = unknown>(
  options: O,
): Attachment<ReceiverFor<O, V>, SenderFor<O, V>> {
  return attachment(checkChannel(options, undefined));
}

/**
 * A ring channel of `record` (see {@linkcode channel}): fixed-size binary records, the fastest
 * way in from a Worker.
 *
 * @example Quotes from a ring
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { defineRecord, RecvStatus, ringChannel } from "@wavelet/wavelet/channel";
 *
 * const Quote = defineRecord({ bid: "f64", ask: "f64" });
 * const rt = new TestRuntime();
 * const q = { bid: 0, ask: 0 };
 * const [spread, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   ringChannel(Quote, { capacity: 64 }),
 *   (self, _ctx, rx) => {
 *     while (rx.tryRecv(q) === RecvStatus.Item) self.value = q.ask - q.bid;
 *     return true;
 *   },
 * );
 * tx.trySend({ bid: 99, ask: 101 });
 * rt.runOneCycle();
 * if (spread.value !== 2) throw new Error("expected a spread of 2");
 * ```
 *
 * @throws {InvalidArgumentError} If an option is missing, out of range or not of its type.
 */
export function ringChannel<F extends Record<string, FieldType>>(
  record: RecordLayout<F>,
  options: Omit<RingChannelOptions<F>, "kind" | "record">,
): Attachment<RingReceiver<F>, RingSender<F>> {
  return attachment(checkChannel(options, "ring", record));
}

/**
 * A value channel of items of type `V` (see {@linkcode channel}): structured-cloneable values
 * from any thread.
 *
 * @example Orders from a value channel
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { valueChannel } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const [last, tx] = new NodeBuilder("").buildWith(
 *   rt.executor,
 *   valueChannel<{ id: string }>({ capacity: 16, maxItemBytes: 256 }),
 *   (self, _ctx, rx) => {
 *     for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) self.value = v.id;
 *     return true;
 *   },
 * );
 * tx.trySend({ id: "order-1" });
 * rt.runOneCycle();
 * if (last.value !== "order-1") throw new Error("expected the item's id");
 * ```
 *
 * @throws {InvalidArgumentError} If an option is missing, out of range or not of its type.
 */
export function valueChannel<V>(
  options: Omit<ValueChannelOptions, "kind">,
): Attachment<ValueReceiver<V>, ValueSender<V>> {
  return attachment(checkChannel(options, "value"));
}

/**
 * A conflating channel of `record` (see {@linkcode channel}): the latest record per key wins.
 * Producers (any thread) never wait and never find it full: a send replaces what the node has
 * not read of that key yet. The node sees each updated key's newest record once per run, in
 * increasing key order; a key updated again while it runs comes back in the next cycle. Prices
 * and quotes, where only the newest matters.
 *
 * @example The newest quote per instrument
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { conflatingChannel, defineRecord } from "@wavelet/wavelet/channel";
 *
 * const Quote = defineRecord({ bid: "f64", ask: "f64" });
 * const rt = new TestRuntime();
 * const spreads = new Float64Array(4);
 * const [, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   conflatingChannel(Quote, { keys: 4 }),
 *   (_self, _ctx, rx) => {
 *     const q = rx.record;
 *     while (rx.next()) spreads[rx.key] = q.ask - q.bid;
 *     return true;
 *   },
 * );
 * tx.trySend({ bid: 100, ask: 101 }, 3);
 * tx.trySend({ bid: 100, ask: 100.5 }, 3); // the node only sees this one
 * rt.runOneCycle();
 * if (spreads[3] !== 0.5) throw new Error("the newest quote wins");
 * ```
 *
 * @throws {InvalidArgumentError} If an option is missing, out of range or not of its type.
 */
export function conflatingChannel<F extends Record<string, FieldType>>(
  record: RecordLayout<F>,
  options?: Omit<ConflatingChannelOptions<F>, "kind" | "record">,
): Attachment<ConflatingReceiver<F>, ConflatingSender<F>> {
  if (options === undefined) options = {};
  return attachment(checkChannel(options, "conflate", record));
}

/**
 * A local channel of items of type `V` (see {@linkcode channel}): any JS value from the same
 * thread.
 *
 * @example A typed local channel
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { localChannel } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const [sum, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   localChannel<number>({ capacity: 8 }),
 *   (self, _ctx, rx) => {
 *     for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) self.value += v;
 *     return true;
 *   },
 * );
 * tx.trySend(4);
 * tx.trySend(5);
 * rt.runOneCycle();
 * if (sum.value !== 9) throw new Error("expected 9");
 * ```
 *
 * @throws {InvalidArgumentError} If an option is missing, out of range or not of its type.
 */
export function localChannel<V>(
  options: Omit<LocalChannelOptions, "kind">,
): Attachment<LocalReceiver<V>, LocalSender<V>> {
  return attachment(checkChannel(options, "local"));
}

/**
 * Checks every option once (a getter that throws or changes cannot get past the checks), for
 * `kind` when a typed helper gives it (and `record`, for a ring).
 */
function checkChannel(options: unknown, kind: string | undefined, record?: unknown): Config {
  if (options === null || typeof options !== "object") {
    throw new InvalidArgumentError(
      `Channel options must be an object, got ${describeValue(options)}`,
    );
  }
  type AnyOptions = {
    kind?: unknown;
    record?: unknown;
    capacity?: unknown;
    overflow?: unknown;
    blockTimeoutMs?: unknown;
    producers?: unknown;
    livenessCheckMs?: unknown;
    maxItemBytes?: unknown;
    keys?: unknown;
  };
  const o: AnyOptions = checkOptions(
    options as AnyOptions,
    "Channel options",
    [
      "kind",
      "record",
      "capacity",
      "overflow",
      "blockTimeoutMs",
      "producers",
      "livenessCheckMs",
      "maxItemBytes",
      "keys",
    ],
  );
  if (kind !== undefined) {
    if (o.kind !== undefined && o.kind !== kind) {
      throw new InvalidArgumentError(
        `A ${kind} channel's options cannot name another kind, got ${describeValue(o.kind)}`,
      );
    }
  } else {
    kind = o.kind as string | undefined;
    record = o.record;
  }
  if (kind === "local") {
    return {
      kind,
      capacity: checkInt(o.capacity, "A channel capacity", 1, 1 << 24),
      overflow: checkOverflow(o.overflow, false),
    };
  }
  if (kind !== "ring" && kind !== "value" && kind !== "conflate") {
    throw new InvalidArgumentError(
      `Unknown channel kind ${describeValue(kind)}; use "ring", "value", "conflate" or "local"`,
    );
  }
  if (kind === "conflate") {
    for (const k of ["capacity", "overflow", "blockTimeoutMs", "maxItemBytes"] as const) {
      if (o[k] !== undefined) {
        throw new InvalidArgumentError(
          `A conflating channel has no ${k} option (a send replaces the key's unread record)`,
        );
      }
    }
    const keys = checkInt(o.keys ?? 1, "keys", 1, MAX_KEYS);
    const slots = checkInt(o.producers ?? 8, "producers", 1, MAX_SLOTS);
    const watchMs = checkMs(o.livenessCheckMs, "livenessCheckMs", 200);
    if (watchMs > MAX_WATCH_MS) {
      throw new InvalidArgumentError(
        `livenessCheckMs must be at most ${MAX_WATCH_MS}, got ${watchMs}`,
      );
    }
    const layout = layoutOf(record, "conflating");
    // Each cell also has its 8-byte ingest stamp (data age).
    const bytes = slots * keys * 3 * (layout.byteSize + 8);
    if (bytes > 2 ** 31) {
      throw new InvalidArgumentError(
        `A conflating channel of ${slots} producers x ${keys} keys x 3 cells x ` +
          `(${layout.byteSize} + 8) bytes needs ${bytes} bytes of shared memory, more than 2 GiB`,
      );
    }
    return { kind, keys, slots, watchMs, layout };
  }
  if (o.keys !== undefined) {
    throw new InvalidArgumentError(`A ${kind} channel has no keys option (a conflating one has)`);
  }
  const capacity = powerOfTwo(checkInt(o.capacity, "A channel capacity", 1, 1 << 24));
  const overflow = checkOverflow(o.overflow, true);
  const blockTimeoutMs = checkMs(o.blockTimeoutMs, "blockTimeoutMs", Infinity);
  const slots = checkInt(o.producers ?? 8, "producers", 1, MAX_SLOTS);
  const watchMs = checkMs(o.livenessCheckMs, "livenessCheckMs", 200);
  if (watchMs > MAX_WATCH_MS) {
    throw new InvalidArgumentError(
      `livenessCheckMs must be at most ${MAX_WATCH_MS}, got ${watchMs}`,
    );
  }
  let layout: RecordLayout<Record<string, FieldType>> | null = null;
  let cellBytes: number;
  if (kind === "ring") {
    layout = layoutOf(record, "ring");
    cellBytes = layout.byteSize;
  } else {
    const max = checkInt(o.maxItemBytes ?? 1024, "maxItemBytes", 8, 1 << 24);
    cellBytes = (max + 4 + 7) & ~7;
  }
  // Each cell also has its 8-byte ingest stamp (data age).
  const bytes = (slots * capacity) * (cellBytes + 8);
  if (bytes > 2 ** 31) {
    throw new InvalidArgumentError(
      `A channel of ${slots} producers x ${capacity} cells x (${cellBytes} + 8) bytes needs ` +
        `${bytes} bytes of shared memory, more than 2 GiB`,
    );
  }
  return { kind, capacity, overflow, blockTimeoutMs, slots, watchMs, layout, cellBytes };
}

/** The layout a ring or conflating channel was given, derived again from its declaration. */
function layoutOf(record: unknown, kind: string): RecordLayout<Record<string, FieldType>> {
  let fields: unknown = undefined;
  try {
    if (record !== null && typeof record === "object") {
      fields = (record as RecordLayout<never>).fields;
    }
  } catch {
    // A layout whose fields cannot be read is no layout.
  }
  if (fields === null || typeof fields !== "object") {
    throw new InvalidArgumentError(
      `A ${kind} channel needs a record layout from defineRecord()`,
    );
  }
  // Derived again from the declaration: a hand-made layout object cannot misplace a field.
  return defineRecord(fields as Record<string, FieldType>);
}
