/**
 * Ring channels: fixed-size binary records of a layout declared once ({@linkcode defineRecord})
 * in a `SharedArrayBuffer`, one single-producer ring per sender (`rings.ts`), one consumer, no
 * locks. The fastest way in from a Worker.
 *
 * The hot paths touch no strings and make no objects: a record is written by the layout's
 * generated writer straight into its cell and published with one store of the ring's tail (one
 * for a whole batch with `trySendMany`); the receiver reads in place (`next`), into an object
 * (`tryRecv`), or a run of records at a time into columns (`recvBatch`).
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { describe } from "../core/validate.ts";
import { Obs } from "../replay/log.ts";
import type { LiveRead, ReceiverHook } from "../core/hooks.ts";
import {
  codecOf,
  type ColumnCopier,
  ColumnsCheck,
  defineRecord,
  type FieldType,
  type RecordCodec,
  type RecordColumns,
  type RecordCursorBase,
  type RecordLayout,
  type RecordOf,
  type RecordReader,
  type RecordWriter,
} from "./record.ts";
import { H_RX_CLOSED, H_STAMP, type Rings } from "./rings.ts";
import { BURST, RingReader } from "./reader.ts";
import {
  batchRange,
  closedSender,
  mayBlockHere,
  openDescription,
  rangeIn,
  SharedSender,
  type SharedSenderTransferable,
} from "./shared.ts";
import { RecvStatus, SendStatus } from "./status.ts";
import { HookPoint, statusOf } from "./hook_point.ts";

/** Views over one cell's worth of plain memory (records staged or copied out). */
interface Cell {
  f64: Float64Array;
  i32: Int32Array;
  u32: Uint32Array;
  u8: Uint8Array;
}

function cellOf(bytes: number): Cell {
  const buf = new ArrayBuffer(bytes);
  return {
    f64: new Float64Array(buf),
    i32: new Int32Array(buf),
    u32: new Uint32Array(buf),
    u8: new Uint8Array(buf),
  };
}

/** A staging area kept across sends up to this size; a larger one is let go after use. */
const KEEP_STAGE_BYTES = 1 << 16;

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
  readonly #write: RecordWriter;
  /** The columns of the last trySendColumns. */
  readonly #cols: ColumnsCheck;
  readonly #f64: Float64Array;
  readonly #u32: Uint32Array;
  // Records checked and encoded here before a full channel drops or waits, so that a bad
  // record never costs a good one (and a batch is all checked before any of it is sent).
  #stage: Cell;

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
    this.#write = this.#codec.write;
    this.#cols = new ColumnsCheck(this.#codec);
    this.#f64 = rings.f64;
    this.#u32 = rings.u32;
    this.#stage = cellOf(layout.byteSize);
  }

  /**
   * Sends one record (see {@linkcode SharedSender.trySend}): written straight into the next
   * free cell of this sender's ring, then published with one store.
   */
  override trySend(item: Partial<RecordOf<F>>): SendStatus {
    if (this._closed) throw closedSender();
    const ctl = this._ctl;
    // A plain read: a close that races with this send makes no difference to the receiver.
    if (ctl[H_RX_CLOSED] !== 0) return SendStatus.Closed;
    if (this._slot < 0) this._claim();
    const t = this._tail;
    if (((t - this._headCache) | 0) >= this._cap) {
      this._headCache = Atomics.load(ctl, this._headW);
      // Full: the policy decides (the record is checked before anything is dropped).
      if (((t - this._headCache) | 0) >= this._cap) return super.trySend(item);
    }
    // The writer checks every field before it stores any; nothing is visible before the tail.
    this.#write(this.#f64, ctl, this.#u32, this._base + (t & this._mask) * this._cell, item);
    if (ctl[H_STAMP] !== 0) this._stamp(t, 1);
    Atomics.store(ctl, this._tailW, this._tail = (t + 1) | 0);
    return this._wake() ? SendStatus.Sent : SendStatus.Closed;
  }

  /**
   * Sends a batch of records (see {@linkcode SharedSender.trySendMany}): when they fit, each is
   * written straight into its cell and the batch is published with one store.
   */
  override trySendMany(
    items: ArrayLike<Partial<RecordOf<F>>>,
    start?: number,
    end?: number,
  ): number {
    if (this._closed) throw closedSender();
    const n = batchRange(items, start, end);
    if (n === 0) return 0;
    const ctl = this._ctl;
    if (ctl[H_RX_CLOSED] !== 0) return 0;
    if (this._slot < 0) this._claim();
    const t = this._tail, cap = this._cap;
    if (n > cap - ((t - this._headCache) | 0)) {
      this._headCache = Atomics.load(ctl, this._headW);
      if (n > cap - ((t - this._headCache) | 0)) return super.trySendMany(items, start, end);
    }
    const write = this.#write, f64 = this.#f64, u32 = this.#u32;
    const base = this._base, mask = this._mask, cell = this._cell, s = start ?? 0;
    // A record that throws leaves the batch unpublished: the tail has not moved.
    for (let k = 0; k < n; k++) write(f64, ctl, u32, base + ((t + k) & mask) * cell, items[s + k]);
    if (ctl[H_STAMP] !== 0) this._stamp(t, n);
    Atomics.store(ctl, this._tailW, this._tail = (t + n) | 0);
    return this._wake() ? n : 0;
  }

  /**
   * Sends records `start` .. `end - 1` of `columns` (one typed array per field, as
   * `recordColumns` makes them and `RingReceiver.recvBatch` fills them), under the channel's
   * overflow policy like {@linkcode SharedSender.trySendMany}. Typed columns hold only values
   * a field can store, so nothing is checked per record: the producer writes its numbers into
   * the columns and one call copies them into the ring and publishes them with one store.
   * Nothing is allocated.
   *
   * @example A feed thread's loop, without a record object
   * ```ts
   * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
   * import { defineRecord, recordColumns, ringChannel } from "@wavelet/wavelet/channel";
   *
   * const Tick = defineRecord({ seq: "i32", px: "f64" });
   * const out = recordColumns(Tick, 64);
   * const rt = new TestRuntime();
   * const [last, tx] = new NodeBuilder(0).buildWith(
   *   rt.executor,
   *   ringChannel(Tick, { capacity: 1024 }),
   *   (self, _ctx, rx) => {
   *     const r = rx.record;
   *     while (rx.next()) self.value = r.seq;
   *     return true;
   *   },
   * );
   * for (let i = 0; i < 64; i++) {
   *   out.seq[i] = i;
   *   out.px[i] = 100 + i / 8;
   * }
   * if (tx.trySendColumns(out) !== 64) throw new Error("all 64 fit");
   * rt.runOneCycle();
   * if (last.value !== 63) throw new Error("the last record arrived last");
   * ```
   *
   * @param columns The records as columns.
   * @param start First record to send (default 0).
   * @param end One past the last record to send (default: the shortest column's length).
   * @returns How many records were sent (see `trySendMany`).
   * @throws {InvalidArgumentError} If a column is missing or not of its field's typed array
   *   type, or the range is not inside the columns.
   * @throws {ChannelError} As `trySendMany`.
   * @throws {CapacityError} If every producer slot of the channel is taken by other senders.
   */
  trySendColumns(columns: RecordColumns<F>, start?: number, end?: number): number {
    if (this._closed) throw closedSender();
    const n = rangeIn(this.#cols.of(columns), start, end);
    if (n === 0) return 0;
    const ctl = this._ctl;
    if (ctl[H_RX_CLOSED] !== 0) return 0;
    if (this._slot < 0) this._claim();
    const t = this._tail, cap = this._cap, s = start ?? 0, cols = this.#cols.arrays;
    if (n > cap - ((t - this._headCache) | 0)) {
      this._headCache = Atomics.load(ctl, this._headW);
      if (n > cap - ((t - this._headCache) | 0)) {
        this.#stageFor(n);
        const st = this.#stage;
        this.#codec.uncopy(st.f64, st.i32, st.u32, 0, n, this._cell, cols, s);
        return this._sendPrepared(n);
      }
    }
    const uncopy = this.#codec.uncopy, cell = this._cell, pos = t & this._mask;
    // At most two runs of cells: up to the end of the ring, then from its start.
    const first = n < cap - pos ? n : cap - pos;
    uncopy(this.#f64, ctl, this.#u32, this._base + pos * cell, first, cell, cols, s);
    if (first < n) uncopy(this.#f64, ctl, this.#u32, this._base, n - first, cell, cols, s + first);
    if (ctl[H_STAMP] !== 0) this._stamp(t, n);
    Atomics.store(ctl, this._tailW, this._tail = (t + n) | 0);
    return this._wake() ? n : 0;
  }

  /** Makes the staging area hold at least `n` records. */
  #stageFor(n: number): void {
    if (this.#stage.u8.length < n * this._cell) this.#stage = cellOf(n * this._cell);
  }

  /** @internal */
  protected override prepare(
    items: ArrayLike<Partial<RecordOf<F>>>,
    start: number,
    n: number,
  ): void {
    const cell = this._cell;
    this.#stageFor(n);
    const s = this.#stage, write = this.#write;
    for (let k = 0; k < n; k++) write(s.f64, s.i32, s.u32, k * cell, items[start + k]);
  }

  /** @internal */
  protected override put(k: number, at: number): void {
    const words = this._cell >>> 2, src = this.#stage.i32, dst = this._ctl;
    for (let j = 0, from = k * words, to = at >>> 2; j < words; j++) dst[to + j] = src[from + j];
  }

  /** @internal */
  protected override unprepare(): void {
    if (this.#stage.u8.length > KEEP_STAGE_BYTES) this.#stage = cellOf(this._cell);
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
 * Three ways to read, none allocating per record: `tryRecv(out)` copies the next record into
 * an object of yours; `next()` moves {@linkcode RingReceiver.record} onto the next record
 * without copying; `recvBatch(columns)` copies many records at once into columns made with
 * `recordColumns`. Records of one sender arrive in the order it sent them; records of
 * different senders interleave, the rings taking turns.
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
  readonly _hook: HookPoint = new HookPoint();
  /** @internal */
  readonly _reader: RingReader;
  readonly #codec: RecordCodec;
  readonly #read: RecordReader;
  readonly #copy: ColumnCopier;
  readonly #cursor: RecordCursorBase;
  readonly #rings: Rings;
  readonly #f64: Float64Array;
  readonly #i32: Int32Array;
  readonly #u32: Uint32Array;
  readonly #cell: number;
  // Records copied out of the rings (drop-oldest reads, recorded and replayed records).
  readonly #staging: Cell;
  /** The columns of the last recvBatch. */
  readonly #cols: ColumnsCheck;
  /** A record handed out by next() in place and not yet consumed. */
  #pending = false;
  /** The cursor reads the staging cell (else the rings). */
  #onStaging = false;
  /** A record the live read under a recording hook left in the rings for the caller (at `_reader.at`). */
  #peeked = false;
  /** What a hook reads live or replays through (see `#makeLive`). */
  readonly #live: LiveRead;

  /** @internal */
  constructor(rings: Rings, layout: RecordLayout<F>) {
    this.#rings = rings;
    this._reader = new RingReader(rings);
    this.#codec = codecOf(layout);
    this.#read = this.#codec.read;
    this.#copy = this.#codec.copy;
    this.#cols = new ColumnsCheck(this.#codec);
    this.#f64 = rings.f64;
    this.#i32 = rings.ctl;
    this.#u32 = rings.u32;
    this.#cell = rings.cellBytes;
    this.#staging = cellOf(layout.byteSize);
    this.#live = this.#makeLive();
    this.#cursor = new this.#codec.Cursor(rings.f64, rings.ctl, rings.u32);
  }

  /** The current record of {@linkcode RingReceiver.next} (one object, reused). */
  get record(): RecordView<F> {
    return this.#cursor as unknown as RecordView<F>;
  }

  /** Records queued now. */
  get length(): number {
    return this._hook.number(Obs.Number, this._reader.length);
  }

  /** Records dropped by the drop-oldest policy so far (every sender together). */
  get dropped(): number {
    return this._hook.number(Obs.Number, this.#rings.dropped);
  }

  /** True when every sender closed (or died) and every record was read. */
  get isClosed(): boolean {
    this.#consume();
    return this._hook.number(Obs.Number, this._reader.closed ? 1 : 0) === 1;
  }

  /**
   * Takes the oldest record of a sender into `out`.
   *
   * @returns `RecvStatus.Item` (copied into `out`), `Empty`, or `Closed` (every sender closed
   *   and everything was read).
   * @throws {InvalidArgumentError} If `out` is not an object.
   */
  tryRecv(out: RecordOf<F>): RecvStatus {
    if (out === null || typeof out !== "object") {
      throw new InvalidArgumentError(
        `tryRecv needs an object to copy the record into, got ${describe(out)}`,
      );
    }
    const hook = this._hook.now;
    if (hook !== null) return this.#tryRecvHooked(out, hook);
    if (this.#pending) this.#consume();
    const rd = this._reader;
    for (;;) {
      if (rd.avail === 0) {
        const a = rd.fill(BURST);
        if (a < 0) return a === -2 ? RecvStatus.Closed : RecvStatus.Empty;
      }
      this.#read(this.#f64, this.#i32, this.#u32, rd.at, out);
      if (!rd.drop) {
        rd.take(1);
        return RecvStatus.Item;
      }
      // Drop-oldest: the copy counts only if no producer dropped the record meanwhile.
      if (rd.claim(1) === 0) return RecvStatus.Item;
    }
  }

  /**
   * Moves {@linkcode RingReceiver.record} to the next record: true if there is one, false when
   * none is queued now (ask `isClosed` whether any ever will be). The record before is consumed.
   */
  next(): boolean {
    const hook = this._hook.now;
    if (hook !== null) return this.#nextHooked(hook);
    const rd = this._reader;
    if (this.#pending) {
      this.#pending = false;
      rd.take(1);
    }
    for (;;) {
      if (rd.avail === 0 && rd.fill(BURST) < 0) return false;
      const c = this.#cursor;
      if (!rd.drop) {
        // Read in place: the producer cannot reuse the cell before this reader consumes it.
        if (this.#onStaging) this.#cursorOn(this.#f64, this.#i32, this.#u32);
        c._w8 = rd.at >>> 3;
        c._w4 = rd.at >>> 2;
        this.#pending = true;
        return true;
      }
      // Drop-oldest: copy, then consume; a record a producer dropped meanwhile is read again.
      this.#stageAt(rd.at);
      if (rd.claim(1) === 0) {
        this.#cursorOnStaging();
        return true;
      }
    }
  }

  /**
   * Takes up to `max` records (default: as many as the columns hold) into `columns`, record
   * `i` of the batch at index `i` of each column: runs of records are copied out of the rings
   * at memory speed, the rings taking turns. Nothing is allocated.
   *
   * @example Draining a channel in batches
   * ```ts
   * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
   * import { defineRecord, recordColumns, ringChannel } from "@wavelet/wavelet/channel";
   *
   * const Tick = defineRecord({ seq: "i32", px: "f64" });
   * const cols = recordColumns(Tick, 64);
   * const rt = new TestRuntime();
   * const seen: number[] = [];
   * const [, tx] = new NodeBuilder(0).buildWith(
   *   rt.executor,
   *   ringChannel(Tick, { capacity: 256 }),
   *   (_self, _ctx, rx) => {
   *     for (let n = rx.recvBatch(cols); n > 0; n = rx.recvBatch(cols)) {
   *       for (let i = 0; i < n; i++) seen.push(cols.seq[i]);
   *     }
   *     return false;
   *   },
   * );
   * tx.trySendMany(Array.from({ length: 100 }, (_, seq) => ({ seq, px: 1 })));
   * rt.runOneCycle();
   * if (seen.length !== 100 || seen[99] !== 99) throw new Error("all 100, in order");
   * ```
   *
   * @param columns Columns from `recordColumns(layout, n)` (or any object with a typed array
   *   of the right type per field).
   * @param max Most records to take (an integer >= 0; default the shortest column's length).
   * @returns How many records were taken: 0 when none is queued now (ask `isClosed` whether
   *   any ever will be).
   * @throws {InvalidArgumentError} If a column is missing or of the wrong type, or `max` is
   *   not an integer >= 0. Nothing is taken then.
   */
  recvBatch(columns: RecordColumns<F>, max?: number): number {
    let room = this.#cols.of(columns);
    if (max !== undefined) {
      if (typeof max !== "number" || !Number.isInteger(max) || max < 0) {
        throw new InvalidArgumentError(
          `recvBatch's max must be an integer >= 0, got ${describe(max)}`,
        );
      }
      if (max < room) room = max;
    }
    const hook = this._hook.now;
    if (hook !== null) return this.#recvBatchHooked(room, hook);
    if (this.#pending) this.#consume();
    const rd = this._reader, cols = this.#cols.arrays, copy = this.#copy, cell = this.#cell;
    let got = 0;
    while (got < room) {
      if (rd.avail === 0 && rd.fill(room - got) < 0) break;
      const n = rd.avail < room - got ? rd.avail : room - got;
      copy(this.#f64, this.#i32, this.#u32, rd.at, n, cell, cols, got);
      if (!rd.drop) {
        rd.take(n);
        rd.release();
        got += n;
        continue;
      }
      const lost = rd.claim(n);
      if (lost > 0 && lost < n) {
        for (let k = 0; k < cols.length; k++) cols[k].copyWithin(got, got + lost, got + n);
      }
      got += n - lost;
    }
    return got;
  }

  #cursorOn(f64: Float64Array, i32: Int32Array, u32: Uint32Array): void {
    const c = this.#cursor;
    c._f64 = f64;
    c._i32 = i32;
    c._u32 = u32;
    this.#onStaging = f64 !== this.#f64;
  }

  #cursorOnStaging(): void {
    const s = this.#staging;
    this.#cursorOn(s.f64, s.i32, s.u32);
    this.#cursor._w8 = 0;
    this.#cursor._w4 = 0;
  }

  /** Copies the cell at byte `at` into the staging cell. */
  #stageAt(at: number): void {
    const s = this.#staging.i32, src = this.#i32, base = at >>> 2;
    for (let k = 0; k < s.length; k++) s[k] = src[base + k];
  }

  /** Consumes the record next() handed out, if any. */
  #consume(): void {
    if (this.#pending) {
      this.#pending = false;
      this._reader.take(1);
    }
  }

  /** @internal The end of the node's run: consume what was handed out, tell the producers. */
  _endRun(): void {
    this.#consume();
    this._reader.publishAll();
  }

  // ---------------------------------------------------------- recorded and replayed runs

  /** Copies the next record into the staging cell: 0, or -1 empty, -2 closed. */
  #rawNext(): number {
    this.#consume();
    const rd = this._reader;
    for (;;) {
      if (rd.avail === 0) {
        const a = rd.fill(BURST);
        if (a < 0) return a;
      }
      this.#stageAt(rd.at);
      if (!rd.drop) {
        rd.take(1);
        return 0;
      }
      if (rd.claim(1) === 0) return 0;
    }
  }

  /**
   * The live read a recording hook performs and a replaying hook replaces (the logged record
   * into the staging cell). Live, the next record is left in the rings (`#peeked`), where the
   * recorder copies it from and the read path reads it in place before taking it; under
   * drop-oldest, where a producer may drop it meanwhile, it is copied into the staging cell.
   */
  #makeLive(): LiveRead {
    const rd = this._reader;
    const replayed = (payload: Uint8Array) => {
      const s = this.#staging.u8, n = payload.length < s.length ? payload.length : s.length;
      for (let i = 0; i < n; i++) s[i] = payload[i];
      this.#peeked = false;
    };
    if (rd.drop) {
      return {
        liveRecv: () => {
          const st = this.#rawNext();
          return st === 0 ? Obs.Item : st === -1 ? Obs.Empty : Obs.Closed;
        },
        bytes: this.#staging.u8,
        words: this.#staging.i32,
        at: 0,
        replayed,
      };
    }
    const live: LiveRead = {
      liveRecv: () => {
        this.#consume();
        if (rd.avail === 0) {
          const a = rd.fill(BURST);
          if (a < 0) return a === -1 ? Obs.Empty : Obs.Closed;
        }
        // The producer cannot reuse the cell before this reader takes it.
        live.at = rd.at >>> 2;
        this.#peeked = true;
        return Obs.Item;
      },
      bytes: this.#staging.u8,
      words: this.#i32,
      at: 0,
      replayed,
    };
    return live;
  }

  #tryRecvHooked(out: RecordOf<F>, hook: ReceiverHook): RecvStatus {
    const kind = hook.recv(this.#live);
    if (kind !== Obs.Item) return statusOf(kind);
    if (this.#peeked) {
      this.#peeked = false;
      const rd = this._reader;
      this.#read(this.#f64, this.#i32, this.#u32, rd.at, out);
      rd.take(1);
      return RecvStatus.Item;
    }
    const st = this.#staging;
    this.#read(st.f64, st.i32, st.u32, 0, out);
    return RecvStatus.Item;
  }

  #nextHooked(hook: ReceiverHook): boolean {
    if (hook.recv(this.#live) !== Obs.Item) return false;
    if (this.#peeked) {
      // In place, as next() reads live: consumed by the next read or at the end of the run.
      this.#peeked = false;
      const at = this._reader.at, c = this.#cursor;
      if (this.#onStaging) this.#cursorOn(this.#f64, this.#i32, this.#u32);
      c._w8 = at >>> 3;
      c._w4 = at >>> 2;
      this.#pending = true;
    } else this.#cursorOnStaging();
    return true;
  }

  #recvBatchHooked(room: number, hook: ReceiverHook): number {
    const st = this.#staging, live = this.#live, rd = this._reader, cols = this.#cols.arrays;
    let got = 0;
    while (got < room && hook.recv(live) === Obs.Item) {
      if (this.#peeked) {
        this.#peeked = false;
        this.#copy(this.#f64, this.#i32, this.#u32, rd.at, 1, this.#cell, cols, got++);
        rd.take(1);
      } else this.#copy(st.f64, st.i32, st.u32, 0, 1, this.#cell, cols, got++);
    }
    return got;
  }
}
