/**
 * Conflating channels: the latest record per key wins. Prices and quotes: a producer that
 * publishes faster than the graph runs overwrites what the node has not read yet, never waits,
 * and the node sees each updated key's newest record once per run.
 *
 * Memory, one `SharedArrayBuffer` (Int32 words): the header and the producer slots of
 * `rings.ts` (so slots are claimed, closed and watched for dead producers alike), then
 *
 *     LATEST[k]        1 + the slot whose publish of key k was stored last (0: never written)
 *     DIRTY[k / 32]    one bit per key published since the consumer last looked
 *     CTL[p * K + k]   the triple buffer of slot p's key k: bits 0-1 the middle cell, bits 2-3
 *                      the producer's back cell, bit 4 FRESH (the middle holds a record the
 *                      consumer has not taken); the consumer's front cell is the third one
 *     cells            three records per slot and key
 *     stamps           one f64 ingest stamp per cell (data age; see H_STAMP in `rings.ts`)
 *
 * A producer writes its back cell (no one else touches it), then swaps back and middle and sets
 * FRESH with one compare-and-swap, stores LATEST and sets the key's DIRTY bit. The consumer takes
 * a FRESH middle by swapping it with its front (one compare-and-swap) and reads its front in
 * place: no cell is ever read while it is written, a producer that dies mid-write leaves only
 * its own back cell half-written, and nobody waits for anybody. Every step is a publish and an
 * acquire through atomics, so no torn read can get through.
 *
 * Across producers of one key, the latest is the one whose LATEST store came last.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { describe } from "../core/validate.ts";
import { type IngestHub, ingestNs } from "../core/ingest.ts";
import type { LiveRead, ReceiverHook } from "../core/hooks.ts";
import { Notifier, NotifierClosedError, type NotifierTransferable } from "../drivers/notify.ts";
import { CapacityError, ErrorCode } from "../core/errors.ts";
import { Obs } from "../replay/log.ts";
import {
  codecOf,
  defineRecord,
  type FieldType,
  type RecordCursorBase,
  type RecordLayout,
  type RecordOf,
  type RecordReader,
  type RecordWriter,
} from "./record.ts";
import type { RecordView } from "./ring.ts";
import {
  ChannelMemory,
  dataByte,
  H_ARMED,
  H_CAPACITY,
  H_CELL,
  H_OPEN,
  H_POLICY,
  H_RX_CLOSED,
  H_SLOTS,
  H_STAMP,
  HEADER_WORDS,
  MAX_SLOTS,
  newChannelMemory,
  S_STATE,
  slotWord,
  STATE_CLOSED,
  STATE_DEAD,
  STATE_FREE,
} from "./rings.ts";
import { claimSlot, hasRemoteSlots, reapDeadSlots } from "./slots.ts";
import { closedSender } from "./shared.ts";
import { ChannelError, RecvStatus, SendStatus } from "./status.ts";
import { HookPoint, statusOf } from "./hook_point.ts";

/** The policy word that marks conflating memory (ring memory has 0 to 2 there). */
const POLICY_CONFLATE = 3;
/** CTL: the consumer has not taken the middle cell. */
const FRESH = 16;
/** CTL of a fresh triple buffer: middle 1, back 2 (so the front is 0). */
const CTL_INIT = 1 | (2 << 2);

/** Most keys per conflating channel. */
export const MAX_KEYS = 1 << 20;

/** Views and geometry of one conflating channel's memory. */
export class Conflation extends ChannelMemory {
  /** Keys. */
  readonly keys: number;
  /** First LATEST word. */
  readonly latestW: number;
  /** First DIRTY word. */
  readonly dirtyW: number;
  /** DIRTY words. */
  readonly dirtyWords: number;
  /** First CTL word. */
  readonly ctlW: number;
  /** Byte offset of the first cell. */
  readonly cellsByte: number;
  /** Index (in `f64`) of the first cell's ingest stamp. */
  readonly stampAt: number;
  protected readonly stampCount: number;

  /** Wraps existing conflating memory (its header says the geometry). */
  constructor(sab: SharedArrayBuffer) {
    super(sab);
    this.keys = this.ctl[H_CAPACITY];
    const g = geometry(this.slots, this.keys, this.cellBytes);
    this.latestW = g.latestW;
    this.dirtyW = g.dirtyW;
    this.dirtyWords = g.dirtyWords;
    this.ctlW = g.ctlW;
    this.cellsByte = g.cellsByte;
    this.stampAt = g.stampByte >>> 3;
    this.stampCount = this.slots * this.keys * 3;
  }

  /** Allocates memory for `slots` producers of `keys` keys of records of `cellBytes`. */
  static create(slots: number, keys: number, cellBytes: number, owner: number): Conflation {
    const g = geometry(slots, keys, cellBytes);
    const sab = newChannelMemory(g.bytes, slots, keys, cellBytes, POLICY_CONFLATE, owner);
    new Int32Array(sab).fill(CTL_INIT, g.ctlW, g.ctlW + slots * keys);
    return new Conflation(sab);
  }

  /** Checks that `sab` holds conflating memory of a sane geometry (a description from outside). */
  static valid(sab: SharedArrayBuffer): boolean {
    if (sab.byteLength < HEADER_WORDS * 4) return false;
    const ctl = new Int32Array(sab, 0, HEADER_WORDS);
    const slots = ctl[H_SLOTS], keys = ctl[H_CAPACITY], cell = ctl[H_CELL];
    return slots >= 1 && slots <= MAX_SLOTS && keys >= 1 && keys <= MAX_KEYS && cell >= 8 &&
      (cell & 7) === 0 && ctl[H_POLICY] === POLICY_CONFLATE &&
      geometry(slots, keys, cell).bytes === sab.byteLength;
  }

  /** Byte offset of cell `i` (0 to 2) of slot `p`'s key `k`. */
  cellByte(p: number, k: number, i: number): number {
    return this.cellsByte + ((p * this.keys + k) * 3 + i) * this.cellBytes;
  }

  /** Marks the receiver gone: sends report Closed. */
  closeReceiver(): void {
    Atomics.store(this.ctl, H_RX_CLOSED, 1);
  }
}

/** Where each part of conflating memory starts, and its size in bytes. */
export function geometry(slots: number, keys: number, cellBytes: number) {
  const latestW = dataByte(slots) >>> 2;
  const dirtyW = latestW + keys;
  const dirtyWords = (keys + 31) >>> 5;
  const ctlW = dirtyW + dirtyWords;
  const cellsByte = ((ctlW + slots * keys) * 4 + 7) & ~7;
  const stampByte = cellsByte + slots * keys * 3 * cellBytes;
  return {
    latestW,
    dirtyW,
    dirtyWords,
    ctlW,
    cellsByte,
    stampByte,
    bytes: stampByte + slots * keys * 3 * 8,
  };
}

/**
 * The plain description of a conflating sender, to post to a Worker: structured-cloneable data
 * that {@linkcode ConflatingSender.fromTransferable} rebuilds into a sender there. Each
 * description stands for one sender (it counts as an open sender until the sender it rebuilds
 * closes).
 *
 * @example Describing a sender for a Worker
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import {
 *   type ConflatingSenderTransferable,
 *   ConflatingSender,
 *   conflatingChannel,
 *   defineRecord,
 * } from "@wavelet/wavelet/channel";
 *
 * const Px = defineRecord({ px: "f64" });
 * const rt = new TestRuntime();
 * const [last, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   conflatingChannel(Px, { keys: 4 }),
 *   (self, _ctx, rx) => {
 *     while (rx.next()) self.value = rx.record.px;
 *     return true;
 *   },
 * );
 * const t: ConflatingSenderTransferable = tx.toTransferable(); // post this to a Worker
 * const remote = ConflatingSender.fromTransferable<typeof Px.fields>(structuredClone(t));
 * remote.trySend({ px: 101.5 }, 2);
 * remote.close();
 * rt.runOneCycle();
 * if (last.value !== 101.5) throw new Error("the rebuilt sender's record arrived");
 * ```
 */
export interface ConflatingSenderTransferable {
  /** Marks the kind. */
  readonly kind: "wavelet.conflate";
  /** The channel's memory (its header holds the geometry). */
  readonly sab: SharedArrayBuffer;
  /** The record declaration (field names to types). */
  readonly fields: Readonly<Record<string, string>>;
  /** The receiving node's notifier. */
  readonly notifier: NotifierTransferable;
}

/**
 * Publishes the latest record of a key into a conflating channel, from any thread. A send
 * never waits and never finds the channel full: it replaces whatever the node has not read of
 * that key yet. Fields missing from a record are written as 0. Post `toTransferable()` to a
 * Worker and rebuild it there with `ConflatingSender.fromTransferable(t)`; each rebuilt sender
 * should be closed when done.
 *
 * @example Quotes for three instruments
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { conflatingChannel, defineRecord } from "@wavelet/wavelet/channel";
 *
 * const Quote = defineRecord({ bid: "f64", ask: "f64" });
 * const rt = new TestRuntime();
 * const mids = [0, 0, 0];
 * const [, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   conflatingChannel(Quote, { keys: 3 }),
 *   (self, _ctx, rx) => {
 *     const q = rx.record;
 *     while (rx.next()) {
 *       mids[rx.key] = (q.bid + q.ask) / 2;
 *       self.value++;
 *     }
 *     return true;
 *   },
 * );
 * tx.trySend({ bid: 99, ask: 101 }, 0);
 * tx.trySend({ bid: 100, ask: 102 }, 0); // replaces the quote above: key 0 is read once
 * tx.trySend({ bid: 10, ask: 11 }, 2);
 * rt.runOneCycle();
 * if (mids.join() !== "101,0,10.5") throw new Error("the newest quote of each key");
 * ```
 */
export class ConflatingSender<F extends Record<string, FieldType>> {
  readonly #c: Conflation;
  readonly #layout: RecordLayout<F>;
  readonly #write: RecordWriter;
  readonly #notifier: Notifier;
  #closed = false;
  #slot = -1;
  /** CTL word of this slot's key 0. */
  #ctlBase = 0;

  /** @internal */
  constructor(c: Conflation, notifier: Notifier, layout: RecordLayout<F>) {
    this.#c = c;
    this.#notifier = notifier;
    this.#layout = layout;
    this.#write = codecOf(layout).write;
  }

  /** Keys of the channel: a send names one in [0, keys). */
  get keys(): number {
    return this.#c.keys;
  }

  /** True once this sender closed or the receiving node is gone. */
  get isClosed(): boolean {
    return this.#closed || Atomics.load(this.#c.ctl, H_RX_CLOSED) !== 0;
  }

  /**
   * Publishes `item` as the latest record of `key`: checked first (a bad field throws and
   * publishes nothing), written into a cell no reader is looking at, then made the key's
   * newest record with one compare-and-swap; the node is woken if it waits for work.
   *
   * @param item The record.
   * @param key The key, an integer in [0, keys) (default 0).
   * @returns `SendStatus.Sent`, or `Closed` when the receiving node is gone.
   * @throws {ChannelError} `CHANNEL_CLOSED` if this sender was closed.
   * @throws {InvalidArgumentError} If `key` is not an integer in [0, keys).
   * @throws {RecordError} `INVALID_RECORD` for a field that cannot be stored.
   * @throws {CapacityError} If every producer slot of the channel is taken by other senders.
   */
  trySend(item: Partial<RecordOf<F>>, key = 0): SendStatus {
    if (this.#closed) throw closedSender();
    const c = this.#c, ctl = c.ctl;
    if (typeof key !== "number" || (key >>> 0) !== key || key >= c.keys) {
      throw new InvalidArgumentError(
        `A conflating send's key must be an integer in [0, ${c.keys}), got ${describe(key)}`,
      );
    }
    // A plain read: a close that races with this send makes no difference to the receiver.
    if (ctl[H_RX_CLOSED] !== 0) return SendStatus.Closed;
    if (this.#slot < 0) this.#claim();
    const w = this.#ctlBase + key;
    // Only this sender moves the back cell, so the back read here stays true; the consumer may
    // swap the middle meanwhile, which the compare-and-swap below notices.
    let cur = Atomics.load(ctl, w);
    const back = (cur >>> 2) & 3;
    this.#write(c.f64, ctl, c.u32, c.cellByte(this.#slot, key, back), item);
    if (ctl[H_STAMP] !== 0) c.f64[c.stampAt + (this.#slot * c.keys + key) * 3 + back] = ingestNs();
    for (;;) {
      const seen = Atomics.compareExchange(ctl, w, cur, back | ((cur & 3) << 2) | FRESH);
      if (seen === cur) break;
      cur = seen;
    }
    Atomics.store(ctl, c.latestW + key, this.#slot + 1);
    const dw = c.dirtyW + (key >>> 5), bit = 1 << (key & 31);
    // The bit already set means the consumer has yet to look at this key (see the module note
    // on order): no need to set it again.
    if ((ctl[dw] & bit) === 0) Atomics.or(ctl, dw, bit);
    if (ctl[H_ARMED] !== 0 && Atomics.exchange(ctl, H_ARMED, 0) !== 0) {
      try {
        this.#notifier.notify();
      } catch (e) {
        if (!(e instanceof NotifierClosedError)) throw e;
        Atomics.store(ctl, H_RX_CLOSED, 1);
        return SendStatus.Closed;
      }
    }
    return SendStatus.Sent;
  }

  #claim(): void {
    const c = this.#c;
    const p = claimSlot(c.ctl, c.slots, () => {});
    if (p < 0) {
      throw new CapacityError(
        `All ${c.slots} producer slots of this channel are taken; build it with a larger ` +
          "producers option, or close senders that are done",
      );
    }
    this.#slot = p;
    this.#ctlBase = c.ctlW + p * c.keys;
  }

  /**
   * Closes this sender: what it published stays the latest record of its keys until another
   * sender replaces it, and the node sees `RecvStatus.Closed` once every sender closed (or
   * died) and every update was read. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const ctl = this.#c.ctl;
    if (this.#slot >= 0) Atomics.store(ctl, slotWord(this.#slot) + S_STATE, STATE_CLOSED);
    Atomics.sub(ctl, H_OPEN, 1);
    try {
      this.#notifier.notify();
    } catch (e) {
      if (!(e instanceof NotifierClosedError)) throw e;
    }
  }

  /** A structured-cloneable description for a Worker (counts as one more open sender). */
  toTransferable(): ConflatingSenderTransferable {
    if (this.#closed) throw new ChannelError("Cannot transfer a sender that was closed");
    Atomics.add(this.#c.ctl, H_OPEN, 1);
    return {
      kind: "wavelet.conflate",
      sab: this.#c.sab,
      fields: { ...this.#layout.fields } as Record<string, string>,
      notifier: this.#notifier.toTransferable(),
    };
  }

  /**
   * Rebuilds a sender on another thread from {@linkcode ConflatingSender.toTransferable}.
   *
   * @throws {ChannelError} `INVALID_ARGUMENT` if `t` is not a conflating sender description,
   *   or its record declaration does not match the channel's memory.
   */
  static fromTransferable<F extends Record<string, FieldType>>(
    t: ConflatingSenderTransferable,
  ): ConflatingSender<F> {
    // One read of each field: a description whose fields throw (or change) gets no further.
    let d: ConflatingSenderTransferable | null = null;
    try {
      if (t !== null && typeof t === "object") {
        d = { kind: t.kind, sab: t.sab, fields: t.fields, notifier: t.notifier };
      }
    } catch {
      // Not a description.
    }
    if (
      d === null || d.kind !== "wavelet.conflate" || !(d.sab instanceof SharedArrayBuffer) ||
      !Conflation.valid(d.sab)
    ) {
      throw new ChannelError(
        "Not a conflating sender description (expected sender.toTransferable())",
        { code: ErrorCode.InvalidArgument },
      );
    }
    const c = new Conflation(d.sab);
    let layout: RecordLayout<F>;
    try {
      layout = defineRecord(d.fields as F);
    } catch (cause) {
      throw new ChannelError(
        "The conflating sender description's record declaration is not one",
        { code: ErrorCode.InvalidArgument, cause },
      );
    }
    if (layout.byteSize !== c.cellBytes) {
      throw new ChannelError(
        "The conflating sender description does not match its channel's memory",
        { code: ErrorCode.InvalidArgument },
      );
    }
    return new ConflatingSender<F>(c, Notifier.fromTransferable(d.notifier), layout);
  }
}

/**
 * Reads the newest record of each updated key in the channel node's cycle function, each key
 * once per run: `next()` moves {@linkcode ConflatingReceiver.record} onto the next updated
 * key's record (read in place, nothing copied or allocated) and {@linkcode ConflatingReceiver.key}
 * says which key; `tryRecv(out)` copies instead. Keys come in increasing order. A key updated
 * again while the node runs comes back in its next run, which the channel schedules.
 *
 * @example The newest price per instrument, once per cycle
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { conflatingChannel, defineRecord, RecvStatus } from "@wavelet/wavelet/channel";
 *
 * const Px = defineRecord({ px: "f64" });
 * const rt = new TestRuntime();
 * const seen: string[] = [];
 * const out = { px: 0 };
 * const [, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   conflatingChannel(Px, { keys: 8 }),
 *   (_self, _ctx, rx) => {
 *     while (rx.tryRecv(out) === RecvStatus.Item) seen.push(`${rx.key}=${out.px}`);
 *     return false;
 *   },
 * );
 * for (let px = 1; px <= 100; px++) tx.trySend({ px }, 5); // 100 updates of key 5
 * tx.trySend({ px: 7 }, 1);
 * rt.runOneCycle();
 * if (seen.join() !== "1=7,5=100") throw new Error(seen.join());
 * ```
 */
export class ConflatingReceiver<F extends Record<string, FieldType>> {
  /** @internal */
  readonly _hook: HookPoint = new HookPoint();
  /** @internal While ingest stamps are on: where each fresh record's stamp is noted. */
  _hub: IngestHub | null = null;
  readonly #c: Conflation;
  readonly #read: RecordReader;
  readonly #cursor: RecordCursorBase;
  /** Updated keys this run has yet to hand out (a snapshot of DIRTY, taken once per run). */
  readonly #pending: Int32Array;
  readonly #staging: { buf: ArrayBuffer; f64: Float64Array; i32: Int32Array; u32: Uint32Array };
  readonly #stagingU8: Uint8Array;
  /** The key word of the staging cell. */
  readonly #stagingKey: Int32Array;
  readonly #live: LiveRead;
  readonly #latestLive: LiveRead;
  /** The key `latest` reads, for `#latestLive`. */
  #latestKey = 0;
  #snapped = false;
  /** The first pending word that may hold a bit. */
  #scan = 0;
  #key = -1;
  #onStaging = false;

  /** @internal */
  constructor(c: Conflation, layout: RecordLayout<F>) {
    this.#c = c;
    const codec = codecOf(layout);
    this.#read = codec.read;
    this.#cursor = new codec.Cursor(c.f64, c.ctl, c.u32);
    this.#pending = new Int32Array(c.dirtyWords);
    const buf = new ArrayBuffer(4 + 4 + layout.byteSize);
    this.#staging = {
      buf,
      f64: new Float64Array(buf, 8),
      i32: new Int32Array(buf, 8),
      u32: new Uint32Array(buf, 8),
    };
    this.#stagingU8 = new Uint8Array(buf);
    this.#stagingKey = new Int32Array(buf, 0, 1);
    [this.#live, this.#latestLive] = this.#makeLive();
  }

  /** The record of the last `next()` (one object, reused; valid until the next call). */
  get record(): RecordView<F> {
    return this.#cursor as unknown as RecordView<F>;
  }

  /** The key of the record the last `next()` or `tryRecv()` handed out (-1 before any). */
  get key(): number {
    return this.#key;
  }

  /** Keys of the channel. */
  get keys(): number {
    return this.#c.keys;
  }

  /** Keys updated and not read yet (at most; a key already read by `latest` may count). */
  get length(): number {
    this.#snapshot();
    const c = this.#c, ctl = c.ctl;
    let n = 0;
    for (let w = 0; w < c.dirtyWords; w++) n += bitCount(this.#pending[w] | ctl[c.dirtyW + w]);
    return this._hook.number(Obs.Number, n);
  }

  /** True when every sender closed (or died) and every update was read. */
  get isClosed(): boolean {
    return this._hook.number(Obs.Number, this.#closedNow() ? 1 : 0) === 1;
  }

  /**
   * Moves {@linkcode ConflatingReceiver.record} to the newest record of the next key updated
   * since the node last read it: true if there is one, false when this run has none left.
   */
  next(): boolean {
    const hook = this._hook.now;
    if (hook !== null) return this.#nextHooked(hook) === RecvStatus.Item;
    const at = this.#take();
    if (at < 0) return false;
    const cur = this.#cursor;
    if (this.#onStaging) {
      cur._f64 = this.#c.f64;
      cur._i32 = this.#c.ctl;
      cur._u32 = this.#c.u32;
      this.#onStaging = false;
    }
    cur._w8 = at >>> 3;
    cur._w4 = at >>> 2;
    return true;
  }

  /**
   * Copies the newest record of the next updated key into `out` (its key in
   * {@linkcode ConflatingReceiver.key}).
   *
   * @returns `RecvStatus.Item`; `Empty` when this run has no update left; `Closed` when every
   *   sender closed (or died) and every update was read.
   * @throws {InvalidArgumentError} If `out` is not an object.
   */
  tryRecv(out: RecordOf<F>): RecvStatus {
    if (out === null || typeof out !== "object") {
      throw new InvalidArgumentError(
        `tryRecv needs an object to copy the record into, got ${describe(out)}`,
      );
    }
    const hook = this._hook.now;
    if (hook !== null) {
      const s = this.#nextHooked(hook);
      if (s === RecvStatus.Item) {
        const st = this.#staging;
        this.#read(st.f64, st.i32, st.u32, 0, out);
      }
      return s;
    }
    const at = this.#take();
    if (at >= 0) {
      const c = this.#c;
      this.#read(c.f64, c.ctl, c.u32, at, out);
      return RecvStatus.Item;
    }
    return this.#closedNow() ? RecvStatus.Closed : RecvStatus.Empty;
  }

  /**
   * Copies the newest record of `key` into `out`, updated or not (a record read this way is
   * not handed out again by `next` or `tryRecv` unless it is updated again).
   *
   * @returns True, or false when no sender ever published `key`.
   * @throws {InvalidArgumentError} If `key` is not an integer in [0, keys) or `out` is not an
   *   object.
   */
  latest(key: number, out: RecordOf<F>): boolean {
    const c = this.#c;
    if (typeof key !== "number" || (key >>> 0) !== key || key >= c.keys) {
      throw new InvalidArgumentError(
        `latest() needs a key, an integer in [0, ${c.keys}), got ${describe(key)}`,
      );
    }
    if (out === null || typeof out !== "object") {
      throw new InvalidArgumentError(
        `latest() needs an object to copy the record into, got ${describe(out)}`,
      );
    }
    const hook = this._hook.now;
    if (hook !== null) {
      this.#latestKey = key;
      if (hook.recv(this.#latestLive) !== Obs.Item) return false;
      const st = this.#staging;
      this.#read(st.f64, st.i32, st.u32, 0, out);
      return true;
    }
    const at = this.#front(key, false);
    if (at < 0) return false;
    this.#read(c.f64, c.ctl, c.u32, at, out);
    return true;
  }

  /** Takes the DIRTY bits into the pending snapshot, once per run. */
  #snapshot(): void {
    if (this.#snapped) return;
    this.#snapped = true;
    const c = this.#c, ctl = c.ctl, pending = this.#pending;
    for (let w = 0; w < c.dirtyWords; w++) {
      // A plain read first: most words of a large key space are clear.
      if (ctl[c.dirtyW + w] !== 0) pending[w] |= Atomics.exchange(ctl, c.dirtyW + w, 0);
    }
    this.#scan = 0;
  }

  /**
   * The next pending key with a record the node has not taken: takes it and returns its front
   * cell's byte offset (the key in `#key`), or -1 when none is left this run.
   */
  #take(): number {
    this.#snapshot();
    const pending = this.#pending, n = pending.length;
    for (let w = this.#scan; w < n; w++) {
      let bits = pending[w];
      while (bits !== 0) {
        const low = bits & -bits;
        bits ^= low;
        pending[w] = bits;
        const key = (w << 5) | (31 - Math.clz32(low));
        const at = this.#front(key, true);
        if (at >= 0) {
          this.#scan = w;
          this.#key = key;
          return at;
        }
      }
      this.#scan = w + 1;
    }
    return -1;
  }

  /**
   * The front cell of `key`'s latest producer after taking its middle if it is FRESH; with
   * `onlyFresh`, -1 when it is not (the update was taken already). -1 when never published.
   */
  #front(key: number, onlyFresh: boolean): number {
    const c = this.#c, ctl = c.ctl;
    const p1 = Atomics.load(ctl, c.latestW + key);
    if (p1 === 0) return -1;
    const p = p1 - 1, w = c.ctlW + p * c.keys + key;
    let cur = Atomics.load(ctl, w);
    for (;;) {
      const mid = cur & 3, back = (cur >>> 2) & 3;
      if ((cur & FRESH) === 0) return onlyFresh ? -1 : c.cellByte(p, key, 3 - mid - back);
      // Swap: the front goes to the middle, the fresh middle becomes the front.
      const seen = Atomics.compareExchange(ctl, w, cur, (3 - mid - back) | (back << 2));
      if (seen === cur) {
        if (this._hub !== null) this._hub.note(c.f64[c.stampAt + (p * c.keys + key) * 3 + mid]);
        return c.cellByte(p, key, mid);
      }
      cur = seen; // the producer published again meanwhile: take the newer one
    }
  }

  #closedNow(): boolean {
    const c = this.#c, ctl = c.ctl;
    // No open sender first, then nothing left: a sender publishes before it closes.
    if (Atomics.load(ctl, H_OPEN) !== 0) return false;
    this.#snapshot();
    for (let w = 0; w < c.dirtyWords; w++) {
      if (Atomics.load(ctl, c.dirtyW + w) !== 0) return false;
      let bits = this.#pending[w];
      while (bits !== 0) {
        const low = bits & -bits;
        bits ^= low;
        const key = (w << 5) | (31 - Math.clz32(low));
        if (this.#isFresh(key)) return false;
      }
    }
    return true;
  }

  #isFresh(key: number): boolean {
    const c = this.#c, ctl = c.ctl, p1 = Atomics.load(ctl, c.latestW + key);
    return p1 !== 0 && (Atomics.load(ctl, c.ctlW + (p1 - 1) * c.keys + key) & FRESH) !== 0;
  }

  /** Copies the record at `at` with its key into the staging cell. */
  #stage(key: number, at: number): void {
    const st = this.#staging, src = this.#c.ctl, base = at >>> 2;
    this.#stagingKey[0] = key;
    for (let k = 0; k < st.i32.length; k++) st.i32[k] = src[base + k];
  }

  /** Copies a replayed record (its key first) into the staging cell. */
  #unstage(payload: Uint8Array): void {
    const s = this.#stagingU8, n = payload.length < s.length ? payload.length : s.length;
    for (let i = 0; i < n; i++) s[i] = payload[i];
  }

  #nextHooked(hook: ReceiverHook): RecvStatus {
    const kind = hook.recv(this.#live);
    if (kind === Obs.Item) this.#cursorOnStaging();
    return statusOf(kind);
  }

  /**
   * The live reads a recording hook performs and a replaying hook replaces: the next updated
   * key's record (`next`, `tryRecv`) and one key's latest record (`latest`, of `#latestKey`),
   * each into the staging cell with its key.
   */
  #makeLive(): [LiveRead, LiveRead] {
    const bytes = this.#stagingU8;
    const words = new Int32Array(this.#staging.buf);
    const replayed = (payload: Uint8Array) => this.#unstage(payload);
    return [{
      bytes,
      words,
      at: 0,
      liveRecv: () => {
        const at = this.#take();
        if (at < 0) return this.#closedNow() ? Obs.Closed : Obs.Empty;
        this.#stage(this.#key, at);
        return Obs.Item;
      },
      replayed: (payload) => {
        this.#unstage(payload);
        this.#key = this.#stagingKey[0];
      },
    }, {
      bytes,
      words,
      at: 0,
      liveRecv: () => {
        const at = this.#front(this.#latestKey, false);
        if (at < 0) return Obs.Empty;
        this.#stage(this.#latestKey, at);
        return Obs.Item;
      },
      replayed,
    }];
  }

  #cursorOnStaging(): void {
    const cur = this.#cursor, st = this.#staging;
    cur._f64 = st.f64;
    cur._i32 = st.i32;
    cur._u32 = st.u32;
    cur._w8 = 0;
    cur._w4 = 0;
    this.#onStaging = true;
  }

  // ------------------------------------------------------------ the channel wrapper's side

  /** @internal The end of the node's run: the next run takes a new snapshot. */
  _endRun(): void {
    this.#snapped = false;
  }

  /** @internal Whether anything is left for another run (pending or newly dirty keys). */
  get _more(): boolean {
    const c = this.#c, ctl = c.ctl;
    for (let w = 0; w < c.dirtyWords; w++) {
      if (this.#pending[w] !== 0 || Atomics.load(ctl, c.dirtyW + w) !== 0) return true;
    }
    return false;
  }

  /** @internal See `RingReader.arm`. */
  _arm(): void {
    Atomics.store(this.#c.ctl, H_ARMED, 1);
  }

  /** @internal Whether every sender closed and every update was read. */
  get _closed(): boolean {
    return this.#closedNow();
  }

  /**
   * @internal Frees the slots of closed and dead producers (nothing of theirs is left to
   * drain). A producer that died between its publish and setting the key's DIRTY bit left an
   * update nobody announced: its keys that are still its latest and FRESH are marked here.
   */
  _freeSlots(): void {
    const c = this.#c, ctl = c.ctl;
    for (let p = 0; p < c.slots; p++) {
      const w = slotWord(p) + S_STATE, s = Atomics.load(ctl, w);
      if (s !== STATE_CLOSED && s !== STATE_DEAD) continue;
      if (s === STATE_DEAD) {
        for (let k = 0; k < c.keys; k++) {
          if (Atomics.load(ctl, c.latestW + k) === p + 1 && this.#isFresh(k)) {
            this.#pending[k >>> 5] |= 1 << (k & 31);
          }
        }
      }
      Atomics.compareExchange(ctl, w, s, STATE_FREE);
    }
  }

  /** @internal */
  _reapDeadProducers(): boolean {
    return reapDeadSlots(this.#c.ctl, this.#c.slots);
  }

  /** @internal */
  _hasRemoteProducers(): boolean {
    return hasRemoteSlots(this.#c.ctl, this.#c.slots);
  }
}

/** Set bits of a 32-bit word. */
function bitCount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
