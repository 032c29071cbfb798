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
import { describe } from "../core/validate.ts";
import { Obs } from "../replay/log.ts";
import type { ReplayingTap, StimulusTap } from "../core/hooks.ts";
import {
  codecOf,
  defineRecord,
  type FieldType,
  type RecordCodec,
  type RecordCursorBase,
  type RecordLayout,
  type RecordOf,
} from "./record.ts";
import type { Rings } from "./rings.ts";
import {
  isDropPolicy,
  mayBlockHere,
  openDescription,
  RingReader,
  SharedSender,
  type SharedSenderTransferable,
} from "./shared.ts";
import { ChannelError, RecvStatus } from "./status.ts";
import { recvKind, statusOf, TapPoint } from "./tap_point.ts";

// ------------------------------------------------------------------------------ ring

/**
 * Sends records into a ring channel from any thread. Fields missing from an item are written
 * as 0. Post `toTransferable()` to a Worker and rebuild it there with
 * `RingSender.fromTransferable(t)`; each rebuilt sender should be closed when done.
 *
 * @example Sending records; a full channel rejects
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, defineRecord, SendStatus } from "@wavelet/wavelet/channel";
 *
 * const Trade = defineRecord({ px: "f64", qty: "u32" });
 * const rt = new TestRuntime();
 * const [, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   channel({ kind: "ring", record: Trade, capacity: 2 }),
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
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, defineRecord, type RecordView } from "@wavelet/wavelet/channel";
 *
 * const Px = defineRecord({ px: "f64" });
 * const rt = new TestRuntime();
 * const [sum, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   channel({ kind: "ring", record: Px, capacity: 8 }),
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
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, defineRecord, RecvStatus } from "@wavelet/wavelet/channel";
 *
 * const Px = defineRecord({ px: "f64" });
 * const rt = new TestRuntime();
 * const out = { px: 0 };
 * const [total, tx] = new NodeBuilder({ sum: 0, closed: false }).buildWith(
 *   rt.executor,
 *   channel({ kind: "ring", record: Px, capacity: 8 }),
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
        `tryRecv needs an object to copy the record into, got ${describe(out)}`,
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

  #nextTapped(tap: StimulusTap): boolean {
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

  #replayInto(out: RecordOf<F>, tap: ReplayingTap): RecvStatus {
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
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, ChannelError, SendStatus } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const [, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   channel({ kind: "value", capacity: 4, maxItemBytes: 64 }),
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
        "Cannot send a value that is not structured-cloneable (a function, a symbol, ...)",
        { cause, code: ErrorCode.InvalidArgument },
      );
    }
    if (bytes.length + 4 > this._rings.cellBytes) {
      throw new ChannelError(
        `An item of ${bytes.length} serialized bytes exceeds the channel's limit of ${
          this._rings.cellBytes - 4
        }`,
        { code: ErrorCode.ChannelItemTooLarge },
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
 * import { channel } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const words: string[] = [];
 * const [done, tx] = new NodeBuilder(false).buildWith(
 *   rt.executor,
 *   channel({ kind: "value", capacity: 8 }),
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
