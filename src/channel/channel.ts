/**
 * Channels: bounded queues that feed a node from Workers, from host callbacks, or from the same
 * thread, each with an explicit overflow policy chosen at creation.
 *
 * - **Ring channel** (`kind: "ring"`): fixed-size binary records with a layout declared once
 *   ({@linkcode defineRecord}), in a `SharedArrayBuffer`; many producers on any threads, one
 *   consumer, no locks (see `shared_queue.ts`). The fastest way in from a Worker.
 * - **Value channel** (`kind: "value"`): any structured-cloneable value from any thread,
 *   serialized (`node:v8`) into fixed-size cells of the same kind of queue.
 * - **Local channel** (`kind: "local"`): any JS value from the same thread (host callbacks,
 *   promises, streams), with `sendAsync` for backpressure.
 *
 * An item is always published before the wake-up, wake-ups are never lost (the notifier path),
 * and a receiver that returns with items left is run again in the next cycle.
 *
 * @module
 */

import v8 from "node:v8";
import { ErrorCode, InvalidArgumentError, WaveletError } from "../errors.ts";
import type { ExecutionContext, Executor } from "../executor.ts";
import type { Control } from "../control.ts";
import type { Node } from "../node.ts";
import { Notifier, NotifierClosedError, type NotifierTransferable } from "../drivers/notify.ts";
import { powerOfTwo, RecvStatus, SendStatus, SharedQueue } from "./shared_queue.ts";
import { Obs, ReplayError } from "../replay/log.ts";
import { describeForReplay } from "../replay/fingerprint.ts";
import type { Tap } from "../replay/tap.ts";

/** Where a receiver reports what it read (recording) or gets it from (replay). @internal */
class TapPoint {
  ex: Executor | null = null;
  slot = -1;
  get tap(): Tap | null {
    return this.ex === null ? null : this.ex._tap;
  }
  /** Records (or, replaying, replaces) a number the node read; `v` is the live value. */
  number(kind: number, v: number): number {
    const tap = this.tap;
    if (tap === null) return v;
    if (!tap.recording) return tap.nextNumber(this.slot, kind);
    tap.obsNumber(this.slot, kind, v);
    return v;
  }
}

function recvKind(s: RecvStatus): number {
  return s === RecvStatus.Closed ? Obs.Closed : Obs.Empty;
}

function statusOf(kind: number): RecvStatus {
  return kind === Obs.Item
    ? RecvStatus.Item
    : kind === Obs.Closed
    ? RecvStatus.Closed
    : RecvStatus.Empty;
}

export { RecvStatus, SendStatus };

/**
 * What a full channel does with a new item.
 *
 * @example Dropping the oldest item when full
 * ```ts
 * import { NodeBuilder, Overflow, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const seen: unknown[] = [];
 * const [, tx] = new NodeBuilder(0).buildWithChannel(
 *   rt.executor,
 *   { kind: "local", capacity: 2, overflow: Overflow.DropOldest },
 *   (_self, _ctx, rx) => {
 *     for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) seen.push(v);
 *     return false;
 *   },
 * );
 * tx.trySend(1);
 * tx.trySend(2);
 * tx.trySend(3); // full: 1 is dropped
 * rt.runOneCycle();
 * if (tx.dropped !== 1 || seen.join() !== "2,3") throw new Error("expected 1 dropped, [2, 3]");
 * ```
 */
export const Overflow = {
  /** `trySend` returns `SendStatus.Full` and the caller keeps the item. */
  Reject: "reject",
  /** The oldest queued item is dropped (and counted) to make room. */
  DropOldest: "dropOldest",
  /** The producing Worker blocks until there is room or `blockTimeoutMs` passes. */
  Block: "block",
} as const;
/** A value of {@linkcode Overflow}. */
export type Overflow = typeof Overflow[keyof typeof Overflow];

/**
 * A record field type.
 *
 * @example Field types of a record
 * ```ts
 * import { defineRecord, type FieldType } from "@wavelet/wavelet";
 *
 * const priceType: FieldType = "f64";
 * const Tick = defineRecord({ price: priceType, size: "u32", side: "i32" });
 * if (Tick.types.join() !== "f64,u32,i32") throw new Error("one type per field");
 * if (Tick.byteSize !== 16) throw new Error("8 + 4 + 4 bytes");
 * ```
 */
export type FieldType = "f64" | "i32" | "u32";

/**
 * A record layout: field names to types, declared once with {@linkcode defineRecord}.
 *
 * @example Reading a layout
 * ```ts
 * import { defineRecord, type RecordLayout } from "@wavelet/wavelet";
 *
 * const layout: RecordLayout<{ qty: "u32"; px: "f64" }> = defineRecord({ qty: "u32", px: "f64" });
 * if (layout.names.join() !== "px,qty") throw new Error("8-byte fields are stored first");
 * if (layout.offsets.join() !== "0,8") throw new Error("px at 0, qty at 8");
 * if (layout.byteSize !== 16) throw new Error("12 bytes rounded up to a multiple of 8");
 * ```
 */
export interface RecordLayout<F extends Record<string, FieldType>> {
  /** The declaration. */
  readonly fields: F;
  /** Field names in storage order (8-byte fields first). */
  readonly names: readonly (keyof F & string)[];
  /** Byte offset of each field, parallel to `names`. */
  readonly offsets: readonly number[];
  /** Type of each field, parallel to `names`. */
  readonly types: readonly FieldType[];
  /** Bytes per record (a multiple of 8). */
  readonly byteSize: number;
}

/**
 * The JS shape of a record: one number per field.
 *
 * @example A reusable record to receive into
 * ```ts
 * import { defineRecord, type RecordOf } from "@wavelet/wavelet";
 *
 * const Quote = defineRecord({ bid: "f64", ask: "f64" });
 * const out: RecordOf<typeof Quote.fields> = { bid: 0, ask: 0 };
 * out.bid = 99.5;
 * if (out.ask - out.bid !== -99.5) throw new Error("one number per field");
 * ```
 */
export type RecordOf<F extends Record<string, FieldType>> = { [K in keyof F]: number };

/**
 * Declares a record layout for ring channels.
 *
 * @example
 * ```ts
 * import { defineRecord } from "@wavelet/wavelet";
 * const Quote = defineRecord({ bid: "f64", ask: "f64", size: "u32", venue: "i32" });
 * // Quote.byteSize === 24
 * ```
 *
 * @throws {InvalidArgumentError} On an empty layout or an unknown field type.
 */
export function defineRecord<F extends Record<string, FieldType>>(fields: F): RecordLayout<F> {
  const entries = Object.entries(fields);
  if (entries.length === 0) {
    throw new InvalidArgumentError(ErrorCode.InvalidArgument, "A record needs at least one field");
  }
  for (const [name, t] of entries) {
    if (t !== "f64" && t !== "i32" && t !== "u32") {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        `Field "${name}" has type ${String(t)}; use "f64", "i32" or "u32"`,
      );
    }
  }
  const ordered = [
    ...entries.filter(([, t]) => t === "f64"),
    ...entries.filter(([, t]) => t !== "f64"),
  ];
  const names: string[] = [], offsets: number[] = [], types: FieldType[] = [];
  let off = 0;
  for (const [name, t] of ordered) {
    names.push(name);
    offsets.push(off);
    types.push(t);
    off += t === "f64" ? 8 : 4;
  }
  return {
    fields,
    names: names as (keyof F & string)[],
    offsets,
    types,
    byteSize: (off + 7) & ~7,
  };
}

/**
 * Options of a ring channel.
 *
 * @example A ring channel of quotes
 * ```ts
 * import {
 *   defineRecord,
 *   NodeBuilder,
 *   type RingChannelOptions,
 *   RecvStatus,
 *   TestRuntime,
 * } from "@wavelet/wavelet";
 *
 * const Quote = defineRecord({ bid: "f64", ask: "f64" });
 * const options: RingChannelOptions<typeof Quote.fields> = {
 *   kind: "ring",
 *   record: Quote,
 *   capacity: 64,
 * };
 * const rt = new TestRuntime();
 * const q = { bid: 0, ask: 0 };
 * const [spread, tx] = new NodeBuilder(0).buildWithChannel(rt.executor, options, (s, _c, rx) => {
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
  /** Capacity in records (rounded up to a power of two). */
  capacity: number;
  /** Overflow policy (default `Reject`). */
  overflow?: Overflow;
  /** Longest a `Block` send waits, in milliseconds (default `Infinity`). */
  blockTimeoutMs?: number;
}

/**
 * Options of a value channel.
 *
 * @example A value channel of small objects
 * ```ts
 * import { NodeBuilder, TestRuntime, type ValueChannelOptions } from "@wavelet/wavelet";
 *
 * const options: ValueChannelOptions = { kind: "value", capacity: 16, maxItemBytes: 256 };
 * const rt = new TestRuntime();
 * const [last, tx] = new NodeBuilder("").buildWithChannel<ValueChannelOptions, { id: string }>(
 *   rt.executor,
 *   options,
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
  /** Capacity in items (rounded up to a power of two). */
  capacity: number;
  /** Largest serialized item in bytes (default 1024). */
  maxItemBytes?: number;
  /** Overflow policy (default `Reject`). */
  overflow?: Overflow;
  /** Longest a `Block` send waits, in milliseconds (default `Infinity`). */
  blockTimeoutMs?: number;
}

/**
 * Options of a local channel.
 *
 * @example A typed local channel
 * ```ts
 * import { type LocalChannelOptions, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const options: LocalChannelOptions = { kind: "local", capacity: 8 };
 * const rt = new TestRuntime();
 * const [sum, tx] = new NodeBuilder(0).buildWithChannel<LocalChannelOptions, number>(
 *   rt.executor,
 *   options,
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
  /** Capacity in items. */
  capacity: number;
  /** `Reject` (default) or `DropOldest`; same-thread producers cannot block (use `sendAsync`). */
  overflow?: Overflow;
}

/**
 * Any channel's options.
 *
 * @example Options picked at run time
 * ```ts
 * import { type ChannelOptions, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * function options(crossThread: boolean): ChannelOptions {
 *   return crossThread ? { kind: "value", capacity: 1024 } : { kind: "local", capacity: 1024 };
 * }
 * const rt = new TestRuntime();
 * const opts = options(false);
 * if (opts.kind !== "local") throw new Error("a same-thread channel");
 * const [queued, tx] = new NodeBuilder(0).buildWithChannel(rt.executor, opts, (self, _c, rx) => {
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
  | LocalChannelOptions;

/**
 * A channel sender or receiver was misused (closed sender, oversized item, blocking here).
 *
 * @example Sending on a closed sender
 * ```ts
 * import { ChannelError, ErrorCode, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const [, tx] = new NodeBuilder(0).buildWithChannel(
 *   rt.executor,
 *   { kind: "local", capacity: 4 },
 *   () => false,
 * );
 * tx.close();
 * let code = "";
 * try {
 *   tx.trySend(1);
 * } catch (e) {
 *   if (e instanceof ChannelError) code = e.code;
 * }
 * if (code !== ErrorCode.ChannelClosed) throw new Error("expected CHANNEL_CLOSED");
 * ```
 */
export class ChannelError extends WaveletError {}

function checkCapacity(capacity: number, max: number): number {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > max) {
    throw new InvalidArgumentError(
      ErrorCode.InvalidArgument,
      `A channel capacity must be an integer in [1, ${max}], got ${String(capacity)}`,
    );
  }
  return capacity;
}

function checkOverflow(o: Overflow | undefined, allowBlock: boolean): Overflow {
  const v = o ?? Overflow.Reject;
  if (
    v !== Overflow.Reject && v !== Overflow.DropOldest && !(allowBlock && v === Overflow.Block)
  ) {
    throw new InvalidArgumentError(
      ErrorCode.InvalidArgument,
      `Overflow policy must be ${
        allowBlock ? "reject, dropOldest or block" : "reject or dropOldest"
      }, got ${String(o)}`,
    );
  }
  return v;
}

// ------------------------------------------------------------------ shared (ring, value)

/**
 * The plain description of a shared-memory sender, to post to a Worker.
 *
 * @example Describing a sender for another thread
 * ```ts
 * import {
 *   NodeBuilder,
 *   type SharedSenderTransferable,
 *   TestRuntime,
 *   ValueSender,
 * } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const [count, tx] = new NodeBuilder(0).buildWithChannel(
 *   rt.executor,
 *   { kind: "value", capacity: 8 },
 *   (self, _ctx, rx) => {
 *     while (rx.tryRecv() !== undefined) self.value++;
 *     return true;
 *   },
 * );
 * // Plain data: post it to a Worker with `worker.postMessage(t)`.
 * const t: SharedSenderTransferable = tx.toTransferable();
 * if (t.kind !== "wavelet.value" || !(t.sab instanceof SharedArrayBuffer)) {
 *   throw new Error("a value sender's description");
 * }
 * // What the Worker does (here on the same thread, for the example):
 * const remote = ValueSender.fromTransferable<string>(structuredClone(t));
 * remote.trySend("hello");
 * remote.close();
 * rt.runOneCycle();
 * if (count.value !== 1) throw new Error("the item sent through the rebuilt sender arrived");
 * ```
 */
export interface SharedSenderTransferable {
  /** Marks the kind. */
  readonly kind: "wavelet.ring" | "wavelet.value";
  /** The queue memory. */
  readonly sab: SharedArrayBuffer;
  /** Cells. */
  readonly capacity: number;
  /** Bytes per cell. */
  readonly cellBytes: number;
  /** The overflow policy. */
  readonly overflow: Overflow;
  /** Longest a blocking send waits, in ms. */
  readonly blockTimeoutMs: number;
  /** Ring channels: the field names in storage order. */
  readonly names: readonly string[];
  /** Ring channels: the field offsets. */
  readonly offsets: readonly number[];
  /** Ring channels: the field types. */
  readonly types: readonly FieldType[];
  /** The receiving node's notifier. */
  readonly notifier: NotifierTransferable;
}

/**
 * What ring and value senders share: the overflow policy, closing, and the drop count. Not
 * constructed directly: use the sender `buildWithChannel` returns, or `fromTransferable`.
 *
 * @example Code that works with ring and value senders alike
 * ```ts
 * import { defineRecord, NodeBuilder, type SharedSender, TestRuntime } from "@wavelet/wavelet";
 *
 * function finish(tx: SharedSender<never>): void {
 *   tx.close();
 *   if (!tx.isClosed) throw new Error("closed");
 * }
 * const rt = new TestRuntime();
 * const [, ring] = new NodeBuilder(0).buildWithChannel(
 *   rt.executor,
 *   { kind: "ring", record: defineRecord({ x: "f64" }), capacity: 4 },
 *   () => false,
 * );
 * const [, value] = new NodeBuilder(0).buildWithChannel(
 *   rt.executor,
 *   { kind: "value", capacity: 4 },
 *   () => false,
 * );
 * finish(ring);
 * finish(value);
 * if (ring.dropped !== 0 || value.dropped !== 0) throw new Error("nothing was dropped");
 * ```
 */
export abstract class SharedSender<T> {
  readonly #q: SharedQueue;
  readonly #notifier: Notifier;
  readonly #overflow: Overflow;
  readonly #blockTimeoutMs: number;
  readonly #mayBlock: boolean;
  #closed = false;
  /** @internal */
  protected readonly bytes: Uint8Array;
  /** @internal */
  protected readonly f64: Float64Array;
  /** @internal */
  protected readonly i32: Int32Array;
  /** @internal */
  protected readonly u32: Uint32Array;

  /** @internal */
  constructor(
    q: SharedQueue,
    notifier: Notifier,
    overflow: Overflow,
    blockTimeoutMs: number,
    mayBlock: boolean,
  ) {
    this.#q = q;
    this.#notifier = notifier;
    this.#overflow = overflow;
    this.#blockTimeoutMs = blockTimeoutMs;
    this.#mayBlock = mayBlock;
    this.bytes = new Uint8Array(q.sab);
    this.f64 = new Float64Array(q.sab, 0, q.sab.byteLength >>> 3);
    this.i32 = new Int32Array(q.sab, 0, q.sab.byteLength >>> 2);
    this.u32 = new Uint32Array(q.sab, 0, q.sab.byteLength >>> 2);
  }

  /** @internal Writes the item into cell `i`'s payload at byte offset `at`. */
  protected abstract write(at: number, item: T): void;

  /** @internal Checks an item before claiming a cell (sizes). */
  protected prepare(_item: T): void {}

  /** @internal Payload bytes per cell. */
  protected get cellBytes(): number {
    return this.#q.cellBytes;
  }

  /** Items dropped by the drop-oldest policy so far. */
  get dropped(): number {
    return this.#q.dropped;
  }

  /** True once the receiving node is gone. */
  get isClosed(): boolean {
    return this.#closed || this.#q.receiverClosed;
  }

  /**
   * Sends one item under the channel's overflow policy.
   *
   * @returns `SendStatus.Sent`, `Full` (reject policy, or a blocking send timed out; the item
   *   was not queued) or `Closed` (the receiver is gone).
   * @throws {ChannelError} If this sender was closed, or a blocking send is attempted on the
   *   receiving node's own thread.
   */
  trySend(item: T): SendStatus {
    if (this.#closed) {
      throw new ChannelError(ErrorCode.ChannelClosed, "Cannot send on a sender that was closed");
    }
    this.prepare(item);
    const q = this.#q;
    let until = -1;
    for (;;) {
      const i = q.claim();
      if (i >= 0) {
        this.write(q.dataOffset + i * q.cellBytes, item);
        q.publish(i);
        try {
          this.#notifier.notify();
        } catch (e) {
          if (e instanceof NotifierClosedError) return SendStatus.Closed;
          throw e;
        }
        return SendStatus.Sent;
      }
      if (i === -2) return SendStatus.Closed;
      if (this.#overflow === Overflow.DropOldest) q.dropOldest();
      else if (this.#overflow === Overflow.Block) {
        if (!this.#mayBlock) {
          throw new ChannelError(
            ErrorCode.ChannelWouldDeadlock,
            "A blocking send on the receiving node's own thread would never wake; send from a " +
              "Worker, or use the reject or dropOldest policy",
          );
        }
        if (until < 0) until = performance.now() + this.#blockTimeoutMs;
        if (!q.waitForSpace(until)) return SendStatus.Full;
      } else {
        return SendStatus.Full;
      }
    }
  }

  /**
   * Closes this sender. When every sender is closed, the receiver sees the items sent before,
   * then `RecvStatus.Closed`. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#q.closeSender()) {
      try {
        this.#notifier.notify();
      } catch (e) {
        if (!(e instanceof NotifierClosedError)) throw e;
      }
    }
  }

  /** @internal The transferable's common fields; registers one more sender. */
  protected describe(
    kind: "wavelet.ring" | "wavelet.value",
    names: readonly string[],
    offsets: readonly number[],
    types: readonly FieldType[],
  ): SharedSenderTransferable {
    if (this.#closed) {
      throw new ChannelError(ErrorCode.ChannelClosed, "Cannot transfer a sender that was closed");
    }
    this.#q.addSender();
    return {
      kind,
      sab: this.#q.sab,
      capacity: this.#q.capacity,
      cellBytes: this.#q.cellBytes,
      overflow: this.#overflow,
      blockTimeoutMs: this.#blockTimeoutMs,
      names,
      offsets,
      types,
      notifier: this.#notifier.toTransferable(),
    };
  }
}

/**
 * Sends records into a ring channel from any thread. Fields missing from an item are written
 * as 0. Post `toTransferable()` to a Worker and rebuild it there with
 * `RingSender.fromTransferable(t)`; each rebuilt sender should be closed when done.
 *
 * @example Sending records; a full channel rejects
 * ```ts
 * import { defineRecord, NodeBuilder, SendStatus, TestRuntime } from "@wavelet/wavelet";
 *
 * const Trade = defineRecord({ px: "f64", qty: "u32" });
 * const rt = new TestRuntime();
 * const [, tx] = new NodeBuilder(0).buildWithChannel(
 *   rt.executor,
 *   { kind: "ring", record: Trade, capacity: 2 },
 *   () => false,
 * );
 * const a = tx.trySend({ px: 10, qty: 1 });
 * const b = tx.trySend({ px: 11 }); // qty is written as 0
 * const c = tx.trySend({ px: 12, qty: 3 });
 * if (a !== SendStatus.Sent || b !== SendStatus.Sent) throw new Error("room for two");
 * if (c !== SendStatus.Full) throw new Error("the reject policy refuses a third");
 * tx.close();
 * ```
 */
export class RingSender<F extends Record<string, FieldType>>
  extends SharedSender<Partial<RecordOf<F>>> {
  readonly #names: readonly string[];
  readonly #offsets: readonly number[];
  readonly #types: readonly FieldType[];

  /** @internal */
  constructor(
    q: SharedQueue,
    notifier: Notifier,
    overflow: Overflow,
    blockTimeoutMs: number,
    mayBlock: boolean,
    names: readonly string[],
    offsets: readonly number[],
    types: readonly FieldType[],
  ) {
    super(q, notifier, overflow, blockTimeoutMs, mayBlock);
    this.#names = names;
    this.#offsets = offsets;
    this.#types = types;
  }

  /** @internal */
  protected override write(at: number, item: Partial<RecordOf<F>>): void {
    const names = this.#names, offsets = this.#offsets, types = this.#types;
    const rec = item as Record<string, number | undefined>;
    for (let k = 0; k < names.length; k++) {
      const v = rec[names[k]] ?? 0;
      const b = at + offsets[k];
      const t = types[k];
      if (t === "f64") this.f64[b >>> 3] = v;
      else if (t === "i32") this.i32[b >>> 2] = v;
      else this.u32[b >>> 2] = v;
    }
  }

  /** A structured-cloneable description for a Worker (counts as one more open sender). */
  toTransferable(): SharedSenderTransferable {
    return this.describe("wavelet.ring", this.#names, this.#offsets, this.#types);
  }

  /**
   * Rebuilds a sender on another thread. Blocking sends are allowed on it.
   *
   * @throws {InvalidArgumentError} If `t` is not a ring sender description.
   */
  static fromTransferable<F extends Record<string, FieldType>>(
    t: SharedSenderTransferable,
  ): RingSender<F> {
    checkTransferable(t, "wavelet.ring");
    const q = new SharedQueue(t.capacity, t.cellBytes, t.sab);
    return new RingSender<F>(
      q,
      Notifier.fromTransferable(t.notifier),
      t.overflow,
      t.blockTimeoutMs,
      true,
      t.names,
      t.offsets,
      t.types,
    );
  }
}

/**
 * Receives records in the channel node's cycle function.
 *
 * @example Draining records in the cycle function
 * ```ts
 * import { defineRecord, NodeBuilder, RecvStatus, TestRuntime } from "@wavelet/wavelet";
 *
 * const Px = defineRecord({ px: "f64" });
 * const rt = new TestRuntime();
 * const out = { px: 0 };
 * const [total, tx] = new NodeBuilder({ sum: 0, closed: false }).buildWithChannel(
 *   rt.executor,
 *   { kind: "ring", record: Px, capacity: 8 },
 *   (self, _ctx, rx) => {
 *     for (let s = rx.tryRecv(out); s !== RecvStatus.Empty; s = rx.tryRecv(out)) {
 *       if (s === RecvStatus.Closed) {
 *         self.value.closed = true;
 *         break;
 *       }
 *       self.value.sum += out.px;
 *     }
 *     return true;
 *   },
 * );
 * tx.trySend({ px: 1.5 });
 * tx.trySend({ px: 2.5 });
 * tx.close();
 * rt.runOneCycle();
 * rt.runOneCycle();
 * if (total.value.sum !== 4 || !total.value.closed) throw new Error("expected 4, then closed");
 * ```
 */
export class RingReceiver<F extends Record<string, FieldType>> {
  /** @internal */
  readonly _tap: TapPoint = new TapPoint();
  readonly #q: SharedQueue;
  readonly #layout: RecordLayout<F>;
  readonly #f64: Float64Array;
  readonly #i32: Int32Array;
  readonly #u32: Uint32Array;

  /** @internal */
  constructor(q: SharedQueue, layout: RecordLayout<F>) {
    this.#q = q;
    this.#layout = layout;
    this.#f64 = new Float64Array(q.sab, 0, q.sab.byteLength >>> 3);
    this.#i32 = new Int32Array(q.sab, 0, q.sab.byteLength >>> 2);
    this.#u32 = new Uint32Array(q.sab, 0, q.sab.byteLength >>> 2);
  }

  /** Records queued now. */
  get length(): number {
    return this._tap.number(Obs.Number, this.#q.length);
  }

  /** Records dropped by the drop-oldest policy so far. */
  get dropped(): number {
    return this._tap.number(Obs.Number, this.#q.dropped);
  }

  /**
   * Takes the oldest record into `out` (no allocation).
   *
   * @returns `RecvStatus.Item`, `Empty`, or `Closed` (every sender closed and nothing left).
   */
  tryRecv(out: RecordOf<F>): RecvStatus {
    const tap = this._tap.ex === null ? null : this._tap.ex._tap;
    if (tap !== null && !tap.recording) return this.#replay(out, tap);
    const q = this.#q;
    const i = q.take();
    if (i < 0) {
      const s = q.senders === 0 && q.length === 0 ? RecvStatus.Closed : RecvStatus.Empty;
      if (tap !== null) tap.obs(this._tap.slot, recvKind(s), null);
      return s;
    }
    const at = q.dataOffset + i * q.cellBytes;
    const { names, offsets, types } = this.#layout;
    const rec = out as Record<string, number>;
    for (let k = 0; k < names.length; k++) {
      const b = at + offsets[k];
      const t = types[k];
      rec[names[k]] = t === "f64"
        ? this.#f64[b >>> 3]
        : t === "i32"
        ? this.#i32[b >>> 2]
        : this.#u32[b >>> 2];
    }
    if (tap !== null) {
      tap.obs(this._tap.slot, Obs.Item, new Uint8Array(q.sab, at, q.cellBytes).slice());
    }
    q.release(i);
    return RecvStatus.Item;
  }

  #replay(out: RecordOf<F>, tap: Tap): RecvStatus {
    const payload = tap.recording ? null : tap.next(this._tap.slot, Obs.Item);
    const kind = tap.recording ? Obs.Empty : tap.lastKind;
    if (kind !== Obs.Item) return statusOf(kind);
    const view = new DataView(payload!.buffer, payload!.byteOffset, payload!.byteLength);
    const { names, offsets, types } = this.#layout;
    const rec = out as Record<string, number>;
    for (let k = 0; k < names.length; k++) {
      const t = types[k];
      rec[names[k]] = t === "f64"
        ? view.getFloat64(offsets[k], true)
        : t === "i32"
        ? view.getInt32(offsets[k], true)
        : view.getUint32(offsets[k], true);
    }
    return RecvStatus.Item;
  }
}

/**
 * Sends structured-cloneable values into a value channel from any thread. Each item is
 * serialized with `node:v8` and must fit `maxItemBytes`.
 *
 * @example Items larger than maxItemBytes are refused
 * ```ts
 * import { ChannelError, NodeBuilder, SendStatus, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const [, tx] = new NodeBuilder(0).buildWithChannel(
 *   rt.executor,
 *   { kind: "value", capacity: 4, maxItemBytes: 64 },
 *   () => false,
 * );
 * if (tx.trySend({ side: "buy", qty: 5 }) !== SendStatus.Sent) throw new Error("fits");
 * let refused = false;
 * try {
 *   tx.trySend("x".repeat(1000));
 * } catch (e) {
 *   refused = e instanceof ChannelError;
 * }
 * if (!refused) throw new Error("an item over 64 bytes throws ChannelError");
 * ```
 */
export class ValueSender<T> extends SharedSender<T> {
  #pending: Uint8Array | null = null;

  /** @internal */
  protected override prepare(item: T): void {
    const bytes = v8.serialize(item) as Uint8Array;
    if (bytes.length + 4 > this.cellBytes) {
      throw new ChannelError(
        ErrorCode.ChannelItemTooLarge,
        `An item of ${bytes.length} serialized bytes exceeds the channel's limit of ${
          this.cellBytes - 4
        }`,
      );
    }
    this.#pending = bytes;
  }

  /** @internal */
  protected override write(at: number, _item: T): void {
    const bytes = this.#pending!;
    this.u32[at >>> 2] = bytes.length;
    this.bytes.set(bytes, at + 4);
    this.#pending = null;
  }

  /** A structured-cloneable description for a Worker (counts as one more open sender). */
  toTransferable(): SharedSenderTransferable {
    return this.describe("wavelet.value", [], [], []);
  }

  /**
   * Rebuilds a sender on another thread. Blocking sends are allowed on it.
   *
   * @throws {InvalidArgumentError} If `t` is not a value sender description.
   */
  static fromTransferable<T>(t: SharedSenderTransferable): ValueSender<T> {
    checkTransferable(t, "wavelet.value");
    const q = new SharedQueue(t.capacity, t.cellBytes, t.sab);
    return new ValueSender<T>(
      q,
      Notifier.fromTransferable(t.notifier),
      t.overflow,
      t.blockTimeoutMs,
      true,
    );
  }
}

/**
 * Receives values in the channel node's cycle function.
 *
 * @example Receiving until the senders are done
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const words: string[] = [];
 * const [done, tx] = new NodeBuilder(false).buildWithChannel(
 *   rt.executor,
 *   { kind: "value", capacity: 8 },
 *   (self, _ctx, rx) => {
 *     for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) words.push(String(v));
 *     self.value = rx.isClosed;
 *     return true;
 *   },
 * );
 * tx.trySend("a");
 * tx.trySend("b");
 * tx.close();
 * rt.runOneCycle();
 * rt.runOneCycle();
 * if (words.join("") !== "ab" || !done.value) throw new Error("two items, then closed");
 * ```
 */
export class ValueReceiver<T> {
  /** @internal */
  readonly _tap: TapPoint = new TapPoint();
  readonly #q: SharedQueue;
  readonly #u32: Uint32Array;
  readonly #bytes: Uint8Array;

  /** @internal */
  constructor(q: SharedQueue) {
    this.#q = q;
    this.#u32 = new Uint32Array(q.sab, 0, q.sab.byteLength >>> 2);
    this.#bytes = new Uint8Array(q.sab);
  }

  /** Items queued now. */
  get length(): number {
    return this._tap.number(Obs.Number, this.#q.length);
  }

  /** Items dropped by the drop-oldest policy so far. */
  get dropped(): number {
    return this._tap.number(Obs.Number, this.#q.dropped);
  }

  /** True when every sender closed and nothing is left. */
  get isClosed(): boolean {
    return this._tap.number(Obs.Number, this.#q.senders === 0 && this.#q.length === 0 ? 1 : 0) ===
      1;
  }

  /** Takes the oldest item, or `undefined` when none is queued (see `isClosed`). */
  tryRecv(): T | undefined {
    const tap = this._tap.tap;
    if (tap !== null && !tap.recording) {
      const payload = tap.next(this._tap.slot, Obs.Item);
      return tap.lastKind === Obs.Item ? v8.deserialize(payload) as T : undefined;
    }
    const q = this.#q;
    const i = q.take();
    if (i < 0) {
      if (tap !== null) tap.obs(this._tap.slot, Obs.Empty, null);
      return undefined;
    }
    const at = q.dataOffset + i * q.cellBytes;
    const len = this.#u32[at >>> 2];
    const copy = this.#bytes.slice(at + 4, at + 4 + len);
    q.release(i);
    if (tap !== null) tap.obs(this._tap.slot, Obs.Item, copy);
    return v8.deserialize(copy) as T;
  }
}

function checkTransferable(t: SharedSenderTransferable, kind: string): void {
  if (
    t === null || typeof t !== "object" || t.kind !== kind || !(t.sab instanceof SharedArrayBuffer)
  ) {
    throw new InvalidArgumentError(
      ErrorCode.InvalidArgument,
      `Not a ${kind.slice(8)} sender description (expected sender.toTransferable())`,
    );
  }
}

// ------------------------------------------------------------------------- local

/**
 * Sends any JS value to a channel node on the same thread.
 *
 * @example Backpressure with sendAsync
 * ```ts
 * import { NodeBuilder, SendStatus, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const got: unknown[] = [];
 * const [, tx] = new NodeBuilder(0).buildWithChannel(
 *   rt.executor,
 *   { kind: "local", capacity: 1 },
 *   (_self, _ctx, rx) => {
 *     got.push(rx.tryRecv()); // one item per run
 *     return false;
 *   },
 * );
 * tx.trySend(1);
 * const second = tx.sendAsync(2); // full: waits for room
 * rt.runOneCycle(); // takes 1, which makes room
 * if ((await second) !== SendStatus.Sent) throw new Error("sent once there was room");
 * rt.runOneCycle();
 * if (got.join() !== "1,2") throw new Error("expected [1, 2]");
 * ```
 */
export class LocalSender<T> {
  readonly #ch: LocalQueue<T>;

  /** @internal */
  constructor(ch: LocalQueue<T>) {
    this.#ch = ch;
  }

  /** Items dropped by the drop-oldest policy so far. */
  get dropped(): number {
    return this.#ch.dropped;
  }

  /** True once the receiving node is gone or this sender closed. */
  get isClosed(): boolean {
    return this.#ch.rxClosed || this.#ch.txClosed;
  }

  /**
   * Queues one item under the channel's policy and wakes the node.
   *
   * @returns `SendStatus.Sent`, `Full` (reject policy), or `Closed`.
   * @throws {ChannelError} If the sender was closed.
   */
  trySend(item: T): SendStatus {
    return this.#ch.push(item);
  }

  /**
   * Queues one item, waiting (asynchronously) for room when the channel is full: the
   * backpressure a host producer (a stream, a socket callback) should honor.
   *
   * @returns Resolves `Sent`, or `Closed` if the receiver went away.
   */
  async sendAsync(item: T): Promise<SendStatus> {
    for (;;) {
      const s = this.#ch.push(item, true);
      if (s !== SendStatus.Full) return s;
      await this.#ch.whenSpace();
    }
  }

  /** Closes the sender: the receiver sees what was sent, then `RecvStatus.Closed`. */
  close(): void {
    this.#ch.closeTx();
  }
}

/**
 * Receives values in a local channel node's cycle function.
 *
 * @example Queue length and the end of the stream
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const log: string[] = [];
 * const [, tx] = new NodeBuilder(0).buildWithChannel(
 *   rt.executor,
 *   { kind: "local", capacity: 8 },
 *   (_self, _ctx, rx) => {
 *     log.push(`${rx.length} queued`);
 *     for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) log.push(String(v));
 *     if (rx.isClosed) log.push("closed");
 *     return false;
 *   },
 * );
 * tx.trySend("a");
 * tx.trySend("b");
 * tx.close();
 * rt.runOneCycle();
 * if (log.join() !== "2 queued,a,b,closed") throw new Error(log.join());
 * ```
 */
export class LocalReceiver<T> {
  /** @internal */
  readonly _tap: TapPoint = new TapPoint();
  readonly #ch: LocalQueue<T>;

  /** @internal */
  constructor(ch: LocalQueue<T>) {
    this.#ch = ch;
  }

  /** Items queued now. */
  get length(): number {
    return this._tap.number(Obs.Number, this.#ch.length);
  }

  /** Items dropped by the drop-oldest policy so far. */
  get dropped(): number {
    return this._tap.number(Obs.Number, this.#ch.dropped);
  }

  /** True when the sender closed and nothing is left. */
  get isClosed(): boolean {
    return this._tap.number(Obs.Number, this.#ch.txClosed && this.#ch.length === 0 ? 1 : 0) === 1;
  }

  /**
   * Takes the oldest item, or `undefined` when none is queued (see `isClosed`). While a run
   * is recorded, items must be structured-cloneable (they are serialized into the log).
   */
  tryRecv(): T | undefined {
    const tap = this._tap.tap;
    if (tap === null) return this.#ch.shift();
    if (!tap.recording) {
      const payload = tap.next(this._tap.slot, Obs.Item);
      return tap.lastKind === Obs.Item ? v8.deserialize(payload) as T : undefined;
    }
    const item = this.#ch.shift();
    if (item === undefined) tap.obs(this._tap.slot, Obs.Empty, null);
    else {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(v8.serialize(item));
      } catch (cause) {
        throw new ReplayError(
          ErrorCode.ReplayMismatch,
          "Cannot record a local channel item that is not structured-cloneable",
          { cause },
        );
      }
      tap.obs(this._tap.slot, Obs.Item, bytes);
    }
    return item;
  }
}

/** @internal A same-thread bounded FIFO (a ring over a plain array). */
export class LocalQueue<T> {
  readonly #items: (T | undefined)[];
  readonly #capacity: number;
  readonly #overflow: Overflow;
  readonly #notifier: Notifier;
  #head = 0;
  #size = 0;
  #waiters: (() => void)[] = [];
  dropped = 0;
  rxClosed = false;
  txClosed = false;

  constructor(capacity: number, overflow: Overflow, notifier: Notifier) {
    this.#capacity = capacity;
    this.#items = new Array(capacity).fill(undefined);
    this.#overflow = overflow;
    this.#notifier = notifier;
  }

  get length(): number {
    return this.#size;
  }

  push(item: T, noDrop = false): SendStatus {
    if (this.txClosed) {
      throw new ChannelError(ErrorCode.ChannelClosed, "Cannot send on a sender that was closed");
    }
    if (this.rxClosed) return SendStatus.Closed;
    if (this.#size === this.#capacity) {
      if (noDrop || this.#overflow !== Overflow.DropOldest) return SendStatus.Full;
      this.#items[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.#capacity;
      this.#size--;
      this.dropped++;
    }
    this.#items[(this.#head + this.#size) % this.#capacity] = item;
    this.#size++;
    this.#notifier.notify();
    return SendStatus.Sent;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#capacity;
    this.#size--;
    if (this.#waiters.length > 0) this.#wakeWaiters();
    return item;
  }

  whenSpace(): Promise<void> {
    if (this.#size < this.#capacity || this.rxClosed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  closeTx(): void {
    if (this.txClosed) return;
    this.txClosed = true;
    if (!this.rxClosed) this.#notifier.notify();
  }

  closeRx(): void {
    this.rxClosed = true;
    this.#wakeWaiters();
  }

  #wakeWaiters(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}

// ---------------------------------------------------------------------- building

/**
 * The receiver type for a channel kind.
 *
 * @example Typing a cycle function written apart from the build
 * ```ts
 * import {
 *   NodeBuilder,
 *   type Node,
 *   type ReceiverFor,
 *   type SenderFor,
 *   TestRuntime,
 *   type ValueChannelOptions,
 * } from "@wavelet/wavelet";
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
 *   .buildWithChannel<Opts, number>(rt.executor, { kind: "value", capacity: 8 }, drain);
 * tx.trySend(3);
 * tx.trySend(7);
 * rt.runOneCycle();
 * if (max.value !== 7) throw new Error("expected 7");
 * ```
 */
export type ReceiverFor<O extends ChannelOptions, V> = O extends RingChannelOptions<infer F>
  ? RingReceiver<F>
  : O extends ValueChannelOptions ? ValueReceiver<V>
  : LocalReceiver<V>;

/**
 * The sender type for a channel kind.
 *
 * @example Keeping a sender in a typed field
 * ```ts
 * import {
 *   type LocalChannelOptions,
 *   NodeBuilder,
 *   type SenderFor,
 *   TestRuntime,
 * } from "@wavelet/wavelet";
 *
 * class Feed {
 *   readonly tx: SenderFor<LocalChannelOptions, string>;
 *   constructor(rt: TestRuntime) {
 *     const [, tx] = new NodeBuilder(0).buildWithChannel<LocalChannelOptions, string>(
 *       rt.executor,
 *       { kind: "local", capacity: 4 },
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
  : LocalSender<V>;

/**
 * A channel node's cycle function: the usual arguments plus the receiver.
 *
 * @example A cycle function declared on its own
 * ```ts
 * import {
 *   type ChannelCycleFn,
 *   type LocalChannelOptions,
 *   type LocalReceiver,
 *   NodeBuilder,
 *   TestRuntime,
 * } from "@wavelet/wavelet";
 *
 * const count: ChannelCycleFn<number, LocalReceiver<string>> = (self, _ctx, rx) => {
 *   while (rx.tryRecv() !== undefined) self.value++;
 *   return true;
 * };
 * const rt = new TestRuntime();
 * const options: LocalChannelOptions = { kind: "local", capacity: 4 };
 * const [n, tx] = new NodeBuilder(0)
 *   .buildWithChannel<LocalChannelOptions, string>(rt.executor, options, count);
 * tx.trySend("a");
 * tx.trySend("b");
 * rt.runOneCycle();
 * if (n.value !== 2) throw new Error("expected 2");
 * ```
 */
export type ChannelCycleFn<T, R> = (
  self: Node<T>,
  ctx: ExecutionContext,
  rx: R,
) => Control | boolean | void;

/**
 * @internal Builds the queue for `options`, wires its receiver into `fn`, and returns the
 * wrapped cycle function plus a function that finishes the setup once the node exists.
 */
export function makeChannel<T>(
  options: ChannelOptions,
  // deno-lint-ignore no-explicit-any
  fn: ChannelCycleFn<T, any>,
): {
  cycle: (self: Node<T>, ctx: ExecutionContext) => Control | boolean | void;
  // deno-lint-ignore no-explicit-any
  attach: (ex: Executor, node: Node<T>) => any;
} {
  if (options === null || typeof options !== "object") {
    throw new InvalidArgumentError(ErrorCode.InvalidArgument, "Channel options are required");
  }
  if (typeof fn !== "function") {
    throw new InvalidArgumentError(
      ErrorCode.InvalidArgument,
      `A cycle function must be a function, got ${typeof fn}`,
    );
  }
  // deno-lint-ignore no-explicit-any
  let rx: any, pending: () => number, closed: () => boolean;
  // deno-lint-ignore no-explicit-any
  let attach: (ex: Executor, node: Node<T>) => any;
  if (options.kind === "ring" || options.kind === "value") {
    const capacity = powerOfTwo(checkCapacity(options.capacity, 1 << 24));
    const overflow = checkOverflow(options.overflow, true);
    const blockTimeoutMs = options.blockTimeoutMs ?? Infinity;
    if (!(blockTimeoutMs >= 0)) {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        `blockTimeoutMs must be >= 0, got ${String(blockTimeoutMs)}`,
      );
    }
    let cellBytes: number;
    if (options.kind === "ring") {
      if (!options.record || !(options.record.byteSize > 0)) {
        throw new InvalidArgumentError(
          ErrorCode.InvalidArgument,
          "A ring channel needs a record layout from defineRecord()",
        );
      }
      cellBytes = options.record.byteSize;
    } else {
      const max = options.maxItemBytes ?? 1024;
      if (!Number.isInteger(max) || max < 8 || max > 1 << 24) {
        throw new InvalidArgumentError(
          ErrorCode.InvalidArgument,
          `maxItemBytes must be an integer in [8, 2^24], got ${String(max)}`,
        );
      }
      cellBytes = (max + 4 + 7) & ~7;
    }
    const q = new SharedQueue(capacity, cellBytes);
    rx = options.kind === "ring" ? new RingReceiver(q, options.record) : new ValueReceiver(q);
    pending = () => q.length;
    closed = () => q.senders === 0 && q.length === 0;
    attach = (ex, node) => {
      const notifier = ex.registerNotifier(node);
      ex.own(node, () => q.closeReceiver());
      rx._tap.ex = ex;
      rx._tap.slot = node._slot;
      if (options.kind === "ring") {
        const r = options.record;
        describeForReplay(
          node,
          `ring ${r.byteSize} ${r.names.map((n, i) => `${n}:${r.types[i]}@${r.offsets[i]}`)}`,
        );
        return new RingSender(
          q,
          notifier,
          overflow,
          blockTimeoutMs,
          false,
          r.names,
          r.offsets,
          r.types,
        );
      }
      describeForReplay(node, `value ${cellBytes}`);
      return new ValueSender(q, notifier, overflow, blockTimeoutMs, false);
    };
  } else if (options.kind === "local") {
    const capacity = checkCapacity(options.capacity, 1 << 24);
    const overflow = checkOverflow(options.overflow, false);
    let lq: LocalQueue<unknown> | undefined;
    rx = undefined;
    pending = () => lq!.length;
    closed = () => lq!.txClosed && lq!.length === 0;
    const holder = { rx: undefined as unknown };
    attach = (ex, node) => {
      lq = new LocalQueue(capacity, overflow, ex.registerNotifier(node));
      const lrx = new LocalReceiver(lq);
      lrx._tap.ex = ex;
      lrx._tap.slot = node._slot;
      holder.rx = lrx;
      rx = lrx;
      describeForReplay(node, "local");
      ex.own(node, () => lq!.closeRx());
      return new LocalSender(lq);
    };
  } else {
    throw new InvalidArgumentError(
      ErrorCode.InvalidArgument,
      `Unknown channel kind ${
        String((options as { kind?: unknown }).kind)
      }; use "ring", "value" or "local"`,
    );
  }
  let closeDelivered = false;
  const more = (): boolean => {
    // A receiver that returns with items left runs again next cycle; so does one whose last
    // sender closed, once, so that it sees the closed result even if the close arrived in the
    // same wake-up as the last items.
    if (pending() > 0) return true;
    if (!closeDelivered && closed()) {
      closeDelivered = true;
      return true;
    }
    return false;
  };
  const cycle = (self: Node<T>, ctx: ExecutionContext) => {
    const r = fn(self, ctx, rx);
    const tap = self._ex._tap;
    let again: boolean;
    if (tap === null) again = more();
    else if (!tap.recording) again = tap.nextNumber(self._slot, Obs.More) === 1;
    else {
      again = more();
      tap.obsNumber(self._slot, Obs.More, again ? 1 : 0);
    }
    if (again) ctx.yieldNow(self);
    return r;
  };
  return { cycle, attach };
}
