/**
 * Channels: bounded queues that feed a node from Workers, from host callbacks, or from the same
 * thread, each with an explicit overflow policy chosen at creation.
 *
 * - **Ring channel** (`kind: "ring"`): fixed-size binary records with a layout declared once
 *   ({@linkcode defineRecord}), in a `SharedArrayBuffer`; one single-producer ring per sender
 *   (see `rings.ts`), one consumer, no locks. The fastest way in from a Worker.
 * - **Value channel** (`kind: "value"`): any structured-cloneable value from any thread,
 *   serialized (`node:v8`) into fixed-size cells of the same kind of rings.
 * - **Local channel** (`kind: "local"`): any JS value from the same thread (host callbacks,
 *   promises, streams), with `sendAsync` for backpressure.
 *
 * An item is always published before the wake-up, wake-ups are never lost (the notifier path),
 * and a receiver that returns with items left is run again in the next cycle. A Worker that
 * dies holding a sender is noticed (its thread is gone): what it sent is delivered and it stops
 * counting as an open sender.
 *
 * @module
 */

import v8 from "node:v8";
import { ErrorCode, InvalidArgumentError } from "../core/errors.ts";
import { checkOptions, describe } from "../core/validate.ts";
import type { ExecutionContext, Executor } from "../core/executor.ts";
import type { Control } from "../core/control.ts";
import type { Node } from "../core/node.ts";
import type { TimerHandle } from "../drivers/timer.ts";
import { Obs } from "../replay/log.ts";
import { describeForReplay } from "../replay/fingerprint.ts";
import type { Replayer, Tap } from "../replay/tap.ts";
import { threadToken } from "../runtime/thread.ts";
import {
  codecOf,
  defineRecord,
  type FieldType,
  type RecordCodec,
  type RecordCursorBase,
  type RecordLayout,
  type RecordOf,
} from "./record.ts";
import { MAX_SLOTS, Rings } from "./rings.ts";
import {
  isDropPolicy,
  mayBlockHere,
  openDescription,
  policyOf,
  RingReader,
  SharedSender,
  type SharedSenderTransferable,
} from "./shared.ts";
import { ChannelError, Overflow, RecvStatus, SendStatus } from "./status.ts";
import { recvKind, statusOf, TapPoint } from "./tap_point.ts";
import { LocalQueue, LocalReceiver, LocalSender } from "./local.ts";

export { ChannelError, Overflow, RecvStatus, SendStatus };
export {
  defineRecord,
  type FieldType,
  RecordError,
  type RecordLayout,
  type RecordOf,
} from "./record.ts";
export { SharedSender, type SharedSenderTransferable } from "./shared.ts";
export { LocalReceiver, LocalSender } from "./local.ts";

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

const describeValue = describe;

function checkInt(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(
      ErrorCode.InvalidArgument,
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
      ErrorCode.InvalidArgument,
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
      ErrorCode.InvalidArgument,
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

// ------------------------------------------------------------------------------ ring

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
  readonly #layout: RecordLayout<F>;
  readonly #codec: RecordCodec;
  // A record checked into this scratch cell before a full channel drops or waits, so a bad
  // record never costs a good one.
  readonly #scratch: { f64: Float64Array; i32: Int32Array; u32: Uint32Array };
  #staged = false;

  /** @internal */
  constructor(
    rings: Rings,
    notifier: import("../drivers/notify.ts").Notifier,
    blockTimeoutMs: number,
    mayBlock: boolean,
    layout: RecordLayout<F>,
  ) {
    super(rings, notifier, blockTimeoutMs, mayBlock);
    this.#layout = layout;
    this.#codec = codecOf(layout);
    const buf = new ArrayBuffer(layout.byteSize);
    this.#scratch = {
      f64: new Float64Array(buf),
      i32: new Int32Array(buf),
      u32: new Uint32Array(buf),
    };
  }

  /** @internal Nothing to do up front: the store checks every field before it writes. */
  protected override prepare(_item: Partial<RecordOf<F>>): void {}

  /** @internal */
  protected override stage(item: Partial<RecordOf<F>>): void {
    const s = this.#scratch;
    this.#codec.write(s.f64, s.i32, s.u32, 0, item);
    this.#staged = true;
  }

  /** @internal */
  protected override unstage(): void {
    this.#staged = false;
  }

  /** @internal */
  protected override store(at: number, item: Partial<RecordOf<F>>): void {
    const r = this._rings;
    if (!this.#staged) {
      this.#codec.write(r.f64, r.ctl, r.u32, at, item);
      return;
    }
    this.#staged = false;
    const src = this.#scratch.i32, dst = r.ctl, base = at >>> 2;
    for (let k = 0; k < src.length; k++) dst[base + k] = src[k];
  }

  /** A structured-cloneable description for a Worker (counts as one more open sender). */
  toTransferable(): SharedSenderTransferable {
    return this.describe("wavelet.ring", { ...this.#layout.fields } as Record<string, string>);
  }

  /**
   * Rebuilds a sender on another thread from {@linkcode RingSender.toTransferable}. A blocking
   * send is allowed unless this is the receiving node's own thread.
   *
   * @throws {ChannelError} `INVALID_ARGUMENT` if `t` is not a ring sender description, or its
   *   record declaration does not match the channel's memory.
   */
  static fromTransferable<F extends Record<string, FieldType>>(
    t: SharedSenderTransferable,
  ): RingSender<F> {
    let layout: RecordLayout<F> | null = null;
    const { rings, notifier, blockTimeoutMs } = openDescription(t, "wavelet.ring", (r, d) => {
      try {
        layout = defineRecord(d.fields as F);
      } catch {
        return false;
      }
      return layout.byteSize === r.cellBytes;
    });
    return new RingSender<F>(rings, notifier, blockTimeoutMs, mayBlockHere(rings), layout!);
  }
}

/**
 * The record a ring receiver's {@linkcode RingReceiver.next} stands on: one read-only number
 * property per field, read straight from the channel's memory. Valid until the next call to
 * `next()` or `tryRecv()`, or the end of the node's run.
 *
 * @example Summing prices without copying records
 * ```ts
 * import { defineRecord, NodeBuilder, type RecordView, TestRuntime } from "@wavelet/wavelet";
 *
 * const Px = defineRecord({ px: "f64" });
 * const rt = new TestRuntime();
 * const [sum, tx] = new NodeBuilder(0).buildWithChannel(
 *   rt.executor,
 *   { kind: "ring", record: Px, capacity: 8 },
 *   (self, _ctx, rx) => {
 *     const r: RecordView<typeof Px.fields> = rx.record;
 *     while (rx.next()) self.value += r.px;
 *     return true;
 *   },
 * );
 * tx.trySend({ px: 1.5 });
 * tx.trySend({ px: 2 });
 * rt.runOneCycle();
 * if (sum.value !== 3.5) throw new Error("expected 3.5");
 * ```
 */
export type RecordView<F extends Record<string, FieldType>> = { readonly [K in keyof F]: number };

/**
 * Receives records in the channel node's cycle function.
 *
 * Two ways to read: `tryRecv(out)` copies the next record into an object of yours; `next()`
 * moves {@linkcode RingReceiver.record} onto the next record without copying (no allocation per
 * record). Records of one sender arrive in the order it sent them.
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
  /** @internal */
  readonly _reader: RingReader;
  readonly #codec: RecordCodec;
  readonly #cursor: RecordCursorBase;
  readonly #rings: Rings;
  readonly #drop: boolean;
  // Records copied out of the rings (drop-oldest reads, replayed records) are read from here.
  readonly #staging: { f64: Float64Array; i32: Int32Array; u32: Uint32Array; u8: Uint8Array };
  /** A record handed out by next() and not yet consumed. */
  #pending = false;

  /** @internal */
  constructor(rings: Rings, layout: RecordLayout<F>) {
    this.#rings = rings;
    this._reader = new RingReader(rings);
    this.#codec = codecOf(layout);
    this.#drop = isDropPolicy(rings);
    const buf = new ArrayBuffer(layout.byteSize);
    this.#staging = {
      f64: new Float64Array(buf),
      i32: new Int32Array(buf),
      u32: new Uint32Array(buf),
      u8: new Uint8Array(buf),
    };
    this.#cursor = new this.#codec.Cursor(rings.f64, rings.ctl, rings.u32);
  }

  /** The current record of {@linkcode RingReceiver.next} (one object, reused). */
  get record(): RecordView<F> {
    return this.#cursor as unknown as RecordView<F>;
  }

  /** Records queued now. */
  get length(): number {
    return this._tap.number(Obs.Number, this._reader.length);
  }

  /** Records dropped by the drop-oldest policy so far (every sender together). */
  get dropped(): number {
    return this._tap.number(Obs.Number, this.#rings.dropped);
  }

  /** True when every sender closed (or died) and every record was read. */
  get isClosed(): boolean {
    this.#consume();
    return this._tap.number(Obs.Number, this._reader.peek() === -2 ? 1 : 0) === 1;
  }

  /**
   * Takes the oldest record of a sender into `out`.
   *
   * @returns `RecvStatus.Item` (copied into `out`), `Empty`, or `Closed` (every sender closed
   *   and everything was read).
   */
  tryRecv(out: RecordOf<F>): RecvStatus {
    if (out === null || typeof out !== "object") {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        `tryRecv needs an object to copy the record into, got ${describeValue(out)}`,
      );
    }
    const tap = this._tap.tap;
    if (tap !== null && !tap.recording) return this.#replayInto(out, tap);
    this.#consume();
    const rd = this._reader, r = this.#rings;
    for (;;) {
      const at = rd.peek();
      if (at < 0) {
        const s = at === -2 ? RecvStatus.Closed : RecvStatus.Empty;
        if (tap !== null) tap.obs(this._tap.slot, recvKind(s), null);
        return s;
      }
      this.#codec.read(r.f64, r.ctl, r.u32, at, out);
      if (tap !== null) {
        // Copy before the commit: a drop-oldest producer may reuse the cell right after it.
        const bytes = r.u8.slice(at, at + r.cellBytes);
        if (!rd.commit()) continue;
        tap.obs(this._tap.slot, 1, bytes);
        return RecvStatus.Item;
      }
      if (rd.commit()) return RecvStatus.Item;
    }
  }

  /**
   * Moves {@linkcode RingReceiver.record} to the next record: true if there is one, false when
   * none is queued now (ask `isClosed` whether any ever will be). The record before is consumed.
   */
  next(): boolean {
    const tap = this._tap.tap;
    if (tap !== null) return this.#nextTapped(tap);
    if (this.#pending) {
      this.#pending = false;
      this._reader.commit();
    }
    const rd = this._reader, r = this.#rings;
    for (;;) {
      const at = rd.peek();
      if (at < 0) return false;
      const c = this.#cursor;
      if (!this.#drop) {
        // Read in place: the producer cannot reuse the cell before this reader consumes it.
        c._f64 = r.f64;
        c._i32 = r.ctl;
        c._u32 = r.u32;
        c._w8 = at >>> 3;
        c._w4 = at >>> 2;
        this.#pending = true;
        return true;
      }
      // Drop-oldest: copy, then consume; a record a producer dropped meanwhile is read again.
      const s = this.#staging, src = r.ctl, base = at >>> 2;
      for (let k = 0; k < s.i32.length; k++) s.i32[k] = src[base + k];
      if (!rd.commit()) continue;
      this.#onStaging();
      return true;
    }
  }

  #onStaging(): void {
    const c = this.#cursor, s = this.#staging;
    c._f64 = s.f64;
    c._i32 = s.i32;
    c._u32 = s.u32;
    c._w8 = 0;
    c._w4 = 0;
  }

  /** Consumes the record next() handed out, if any. */
  #consume(): void {
    if (this.#pending) {
      this.#pending = false;
      this._reader.commit();
    }
  }

  /** @internal The end of the node's run: consume what was handed out, tell the producers. */
  _endRun(): void {
    this.#consume();
    this._reader.publishAll();
  }

  #nextTapped(tap: Tap): boolean {
    const s = this.#staging;
    if (!tap.recording) {
      const payload = tap.next(this._tap.slot, 1);
      if (tap.lastKind !== 1) return false;
      s.u8.set(payload.subarray(0, s.u8.length));
      this.#onStaging();
      return true;
    }
    const st = this.tryRecvRaw();
    if (st < 0) {
      tap.obs(this._tap.slot, recvKind(st === -2 ? RecvStatus.Closed : RecvStatus.Empty), null);
      return false;
    }
    tap.obs(this._tap.slot, 1, s.u8.slice());
    this.#onStaging();
    return true;
  }

  /** @internal Copies the next record into the staging cell: 0, or -1 empty, -2 closed. */
  private tryRecvRaw(): number {
    this.#consume();
    const rd = this._reader, r = this.#rings, s = this.#staging;
    for (;;) {
      const at = rd.peek();
      if (at < 0) return at;
      const src = r.ctl, base = at >>> 2;
      for (let k = 0; k < s.i32.length; k++) s.i32[k] = src[base + k];
      if (rd.commit()) return 0;
    }
  }

  #replayInto(out: RecordOf<F>, tap: Replayer): RecvStatus {
    const payload = tap.next(this._tap.slot, 1);
    const kind = tap.lastKind;
    if (kind !== 1) return statusOf(kind);
    const s = this.#staging;
    s.u8.set(payload.subarray(0, s.u8.length));
    this.#codec.read(s.f64, s.i32, s.u32, 0, out);
    return RecvStatus.Item;
  }
}

// ----------------------------------------------------------------------------- value

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
    let bytes: Uint8Array;
    try {
      bytes = v8.serialize(item) as Uint8Array;
    } catch (cause) {
      throw new ChannelError(
        ErrorCode.InvalidArgument,
        "Cannot send a value that is not structured-cloneable (a function, a symbol, ...)",
        { cause },
      );
    }
    if (bytes.length + 4 > this._rings.cellBytes) {
      throw new ChannelError(
        ErrorCode.ChannelItemTooLarge,
        `An item of ${bytes.length} serialized bytes exceeds the channel's limit of ${
          this._rings.cellBytes - 4
        }`,
      );
    }
    this.#pending = bytes;
  }

  /** @internal */
  protected override store(at: number, _item: T): void {
    const bytes = this.#pending!, r = this._rings;
    r.u32[at >>> 2] = bytes.length;
    r.u8.set(bytes, at + 4);
    this.#pending = null;
  }

  /** A structured-cloneable description for a Worker (counts as one more open sender). */
  toTransferable(): SharedSenderTransferable {
    return this.describe("wavelet.value", null);
  }

  /**
   * Rebuilds a sender on another thread from {@linkcode ValueSender.toTransferable}. A
   * blocking send is allowed unless this is the receiving node's own thread.
   *
   * @throws {ChannelError} `INVALID_ARGUMENT` if `t` is not a value sender description.
   */
  static fromTransferable<T>(t: SharedSenderTransferable): ValueSender<T> {
    const { rings, notifier, blockTimeoutMs } = openDescription(
      t,
      "wavelet.value",
      (_r, d) => d.fields === null,
    );
    return new ValueSender<T>(rings, notifier, blockTimeoutMs, mayBlockHere(rings));
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
  /** @internal */
  readonly _reader: RingReader;
  readonly #rings: Rings;

  /** @internal */
  constructor(rings: Rings) {
    this.#rings = rings;
    this._reader = new RingReader(rings);
  }

  /** Items queued now. */
  get length(): number {
    return this._tap.number(Obs.Number, this._reader.length);
  }

  /** Items dropped by the drop-oldest policy so far (every sender together). */
  get dropped(): number {
    return this._tap.number(Obs.Number, this.#rings.dropped);
  }

  /** True when every sender closed (or died) and every item was read. */
  get isClosed(): boolean {
    return this._tap.number(Obs.Number, this._reader.peek() === -2 ? 1 : 0) === 1;
  }

  /** Takes the oldest item of a sender, or `undefined` when none is queued (see `isClosed`). */
  tryRecv(): T | undefined {
    const tap = this._tap.tap;
    if (tap !== null && !tap.recording) {
      const payload = tap.next(this._tap.slot, 1);
      return tap.lastKind === 1 ? v8.deserialize(payload) as T : undefined;
    }
    const rd = this._reader, r = this.#rings, max = r.cellBytes - 4;
    for (;;) {
      const at = rd.peek();
      if (at < 0) {
        if (tap !== null) tap.obs(this._tap.slot, at === -2 ? Obs.Closed : Obs.Empty, null);
        return undefined;
      }
      const len = Math.min(r.u32[at >>> 2], max);
      const copy = r.u8.slice(at + 4, at + 4 + len);
      if (!rd.commit()) continue; // dropped meanwhile (drop-oldest): the copy may be torn
      if (tap !== null) tap.obs(this._tap.slot, 1, copy);
      return v8.deserialize(copy) as T;
    }
  }

  /** @internal The end of the node's run: tell the producers how far it read. */
  _endRun(): void {
    this._reader.publishAll();
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

/** The longest `livenessCheckMs`: about 24 days. */
const MAX_WATCH_MS = 2 ** 31;

/**
 * @internal Builds the channel for `options`, wires its receiver into `fn`, and returns the
 * wrapped cycle function plus a function that finishes the setup once the node exists. Every
 * option is checked here, before anything is built.
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
    throw new InvalidArgumentError(
      ErrorCode.InvalidArgument,
      `Channel options must be an object, got ${describeValue(options)}`,
    );
  }
  // One read of each option up front: a getter that throws (or changes) cannot get past the
  // checks below.
  options = checkOptions(
    options as RingChannelOptions<Record<string, FieldType>>,
    "Channel options",
    [
      "kind",
      "record",
      "capacity",
      "overflow",
      "blockTimeoutMs",
      "producers",
      "livenessCheckMs",
      "maxItemBytes" as never,
    ],
  );
  if (typeof fn !== "function") {
    throw new InvalidArgumentError(
      ErrorCode.InvalidArgument,
      `A cycle function must be a function, got ${describeValue(fn)}`,
    );
  }
  const kind = (options as { kind?: unknown }).kind;
  if (kind === "local") return makeLocal(options as unknown as LocalChannelOptions, fn);
  if (kind !== "ring" && kind !== "value") {
    throw new InvalidArgumentError(
      ErrorCode.InvalidArgument,
      `Unknown channel kind ${describeValue(kind)}; use "ring", "value" or "local"`,
    );
  }
  const o = options as RingChannelOptions<Record<string, FieldType>> | ValueChannelOptions;
  const capacity = powerOfTwo(checkInt(o.capacity, "A channel capacity", 1, 1 << 24));
  const overflow = checkOverflow(o.overflow, true);
  const blockTimeoutMs = checkMs(o.blockTimeoutMs, "blockTimeoutMs", Infinity);
  const slots = checkInt(o.producers ?? 8, "producers", 1, MAX_SLOTS);
  const watchMs = checkMs(o.livenessCheckMs, "livenessCheckMs", 200);
  if (watchMs > MAX_WATCH_MS) {
    throw new InvalidArgumentError(
      ErrorCode.InvalidArgument,
      `livenessCheckMs must be at most ${MAX_WATCH_MS}, got ${watchMs}`,
    );
  }
  let layout: RecordLayout<Record<string, FieldType>> | null = null;
  let cellBytes: number;
  if (o.kind === "ring") {
    const rec = o.record as unknown;
    let fields: unknown = undefined;
    try {
      if (rec !== null && typeof rec === "object") fields = (rec as RecordLayout<never>).fields;
    } catch {
      // A layout whose fields cannot be read is no layout.
    }
    if (fields === null || typeof fields !== "object") {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        "A ring channel needs a record layout from defineRecord()",
      );
    }
    // Derived again from the declaration: a hand-made layout object cannot misplace a field.
    layout = defineRecord(fields as Record<string, FieldType>);
    cellBytes = layout.byteSize;
  } else {
    const max = checkInt(o.maxItemBytes ?? 1024, "maxItemBytes", 8, 1 << 24);
    cellBytes = (max + 4 + 7) & ~7;
  }
  const bytes = (slots * capacity) * cellBytes;
  if (bytes > 2 ** 31) {
    throw new InvalidArgumentError(
      ErrorCode.InvalidArgument,
      `A channel of ${slots} producers x ${capacity} cells x ${cellBytes} bytes needs ${bytes} ` +
        "bytes of shared memory, more than 2 GiB",
    );
  }
  const rings = Rings.create(slots, capacity, cellBytes, policyOf(overflow), threadToken());
  const rx = layout !== null ? new RingReceiver(rings, layout) : new ValueReceiver(rings);
  const reader = rx._reader;
  const attach = (ex: Executor, node: Node<T>) => {
    const notifier = ex.registerNotifier(node);
    ex.own(node, () => rings.closeReceiver());
    rx._tap.ex = ex;
    rx._tap.slot = node._slot;
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
  const watchNs = watchMs * 1e6;
  let closeDelivered = false;
  let timerDue = -1;
  let nextReap = 0;
  let timer: TimerHandle | null = null;
  void timer;
  const cycle = (self: Node<T>, ctx: ExecutionContext) => {
    const tap = self._ex._tap;
    const replaying = tap !== null && !tap.recording;
    if (timerDue >= 0 && ctx.time.monotonicNs >= timerDue) timerDue = -1; // it fired
    if (watchNs > 0 && !replaying && reader.hasRemoteProducers()) {
      const now = ctx.time.monotonicNs;
      if (now >= nextReap) {
        nextReap = now + watchNs;
        reader.reapDeadProducers();
      }
    }
    let r: Control | boolean | void;
    try {
      r = fn(self, ctx, rx);
    } finally {
      rx._endRun();
    }
    // A receiver that returns with items left runs again next cycle; so does one whose last
    // sender closed, once, so that it sees the closed result even if the close arrived in the
    // same wake-up as the last items. Recorded runs log the decisions, replays read them back.
    let again: boolean;
    if (tap !== null && !tap.recording) again = tap.nextNumber(self._slot, Obs.More) === 1;
    else {
      again = reader.length > 0;
      if (!again && !closeDelivered && reader.peek() === -2) again = closeDelivered = true;
      if (tap !== null) tap.obsNumber(self._slot, Obs.More, again ? 1 : 0);
    }
    if (again) ctx.yieldNow(self);
    if (watchNs > 0) {
      // While Workers hold senders, a timer brings the node back to check they are alive.
      let arm: boolean;
      if (tap !== null && !tap.recording) arm = tap.nextNumber(self._slot, Obs.More) === 1;
      else {
        arm = timerDue < 0 && reader.hasRemoteProducers();
        if (tap !== null) tap.obsNumber(self._slot, Obs.More, arm ? 1 : 0);
      }
      if (arm) {
        timer = ctx.registerTimerAfter(self, watchNs);
        timerDue = ctx.time.monotonicNs + watchNs;
      }
    }
    return r;
  };
  return { cycle, attach };
}

function makeLocal<T>(
  o: LocalChannelOptions,
  // deno-lint-ignore no-explicit-any
  fn: ChannelCycleFn<T, any>,
): {
  cycle: (self: Node<T>, ctx: ExecutionContext) => Control | boolean | void;
  // deno-lint-ignore no-explicit-any
  attach: (ex: Executor, node: Node<T>) => any;
} {
  const capacity = checkInt(o.capacity, "A channel capacity", 1, 1 << 24);
  const overflow = checkOverflow(o.overflow, false);
  let lq: LocalQueue<unknown> | undefined;
  let rx: LocalReceiver<unknown> | undefined;
  const attach = (ex: Executor, node: Node<T>) => {
    lq = new LocalQueue(capacity, overflow, ex.registerNotifier(node));
    rx = new LocalReceiver(lq);
    rx._tap.ex = ex;
    rx._tap.slot = node._slot;
    describeForReplay(node, "local");
    ex.own(node, () => lq!.closeRx());
    return new LocalSender(lq);
  };
  let closeDelivered = false;
  const cycle = (self: Node<T>, ctx: ExecutionContext) => {
    const r = fn(self, ctx, rx);
    const tap = self._ex._tap;
    let again: boolean;
    if (tap !== null && !tap.recording) again = tap.nextNumber(self._slot, Obs.More) === 1;
    else {
      again = lq!.length > 0;
      if (!again && !closeDelivered && lq!.txClosed) again = closeDelivered = true;
      if (tap !== null) tap.obsNumber(self._slot, Obs.More, again ? 1 : 0);
    }
    if (again) ctx.yieldNow(self);
    return r;
  };
  return { cycle, attach };
}
