/**
 * The sending half of shared-memory channels (ring and value), over the per-producer rings of
 * `rings.ts`: the slot, the overflow policies, batches, closing and the wake-up. Which bytes go
 * into a cell is the subclasses' business (`ring.ts`, `value.ts`); the receiving half is
 * `reader.ts`.
 *
 * @module
 */

import { describe } from "../core/validate.ts";
import { CapacityError, ErrorCode, InvalidArgumentError } from "../core/errors.ts";
import { Notifier, NotifierClosedError, type NotifierTransferable } from "../drivers/notify.ts";
import { threadToken } from "../runtime/thread.ts";
import { ingestNs } from "../core/ingest.ts";
import {
  H_ARMED,
  H_OPEN,
  H_OWNER,
  H_RX_CLOSED,
  H_STAMP,
  POLICY_BLOCK,
  POLICY_DROP,
  Rings,
  S_DROPPED,
  S_HEAD,
  S_SPACE,
  S_STATE,
  S_TAIL,
  S_WAITERS,
  slotWord,
  STATE_CLOSED,
} from "./rings.ts";
import { claimSlot } from "./slots.ts";
import { ChannelError, Overflow, SendStatus } from "./status.ts";

/**
 * The plain description of a shared-memory sender, to post to a Worker: structured-cloneable
 * data that `RingSender.fromTransferable` / `ValueSender.fromTransferable` rebuild into a
 * sender there. Each description stands for one sender (it counts as an open sender until the
 * sender it rebuilds closes).
 *
 * @example Describing a sender for another thread
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, type SharedSenderTransferable, ValueSender } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const [count, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   channel({ kind: "value", capacity: 8 }),
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
  /** The channel's memory (its header holds the geometry and the policy). */
  readonly sab: SharedArrayBuffer;
  /** Longest a blocking send waits, in ms. */
  readonly blockTimeoutMs: number;
  /** Ring channels: the record declaration (field names to types); null for value channels. */
  readonly fields: Readonly<Record<string, string>> | null;
  /** The receiving node's notifier. */
  readonly notifier: NotifierTransferable;
}

/**
 * What ring and value senders share: the overflow policy, closing, and the drop count. Not
 * constructed directly: use the sender `buildWith(executor, channel(options), fn)` returns, or `fromTransferable`.
 *
 * Each sender writes its own ring of the channel (a producer slot, taken on its first send), so
 * senders on different threads never contend, and a send that fails, or a Worker that dies
 * in the middle of one, publishes nothing. A channel has `producers` slots (default 8): one more
 * sender sending at once is a `CapacityError`.
 *
 * `trySendMany` publishes a whole batch with one store and wakes the receiving node at most
 * once, which is the way to feed a channel at memory speed.
 *
 * @example Code that works with ring and value senders alike
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, defineRecord, type SharedSender } from "@wavelet/wavelet/channel";
 *
 * function finish(tx: SharedSender<never>): void {
 *   tx.close();
 *   if (!tx.isClosed) throw new Error("closed");
 * }
 * const rt = new TestRuntime();
 * const [, ring] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   channel({ kind: "ring", record: defineRecord({ x: "f64" }), capacity: 4 }),
 *   () => false,
 * );
 * const [, value] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   channel({ kind: "value", capacity: 4 }),
 *   () => false,
 * );
 * finish(ring);
 * finish(value);
 * if (ring.dropped !== 0 || value.dropped !== 0) throw new Error("nothing was dropped");
 * ```
 */
export abstract class SharedSender<T> {
  /** @internal */
  protected readonly _rings: Rings;
  /** @internal The control words (and the i32 view of the cells). */
  protected readonly _ctl: Int32Array;
  /** @internal Cells per ring. */
  protected readonly _cap: number;
  /** @internal */
  protected readonly _mask: number;
  /** @internal Bytes per cell. */
  protected readonly _cell: number;
  /** @internal True once close() ran. */
  protected _closed = false;
  /** @internal The producer slot, -1 until the first send. */
  protected _slot = -1;
  /** @internal Control word of the slot's tail. */
  protected _tailW = 0;
  /** @internal Control word of the slot's head. */
  protected _headW = 0;
  /** @internal The next position to write (what the tail word says). */
  protected _tail = 0;
  /** @internal The head as last read: never ahead of the real head. */
  protected _headCache = 0;
  /** @internal Byte offset of the slot's first cell. */
  protected _base = 0;
  /** @internal Index (in the f64 view) of the slot's first ingest stamp. */
  protected _stampBase = 0;
  /** @internal Why the last send stopped short (SendStatus). */
  protected _why: SendStatus = SendStatus.Sent;
  readonly #notifier: Notifier;
  readonly #blockTimeoutMs: number;
  readonly #mayBlock: boolean;
  readonly #one: unknown[] = [];

  /** @internal */
  constructor(rings: Rings, notifier: Notifier, blockTimeoutMs: number, mayBlock: boolean) {
    this._rings = rings;
    this._ctl = rings.ctl;
    this._cap = rings.capacity;
    this._mask = rings.mask;
    this._cell = rings.cellBytes;
    this.#notifier = notifier;
    this.#blockTimeoutMs = blockTimeoutMs;
    this.#mayBlock = mayBlock;
  }

  /**
   * @internal Checks and converts items `items[start]` .. `items[start + n - 1]` before anything
   * changes (throws a typed error); `put` then writes them.
   */
  protected abstract prepare(items: ArrayLike<T>, start: number, n: number): void;

  /** @internal Writes prepared item `k` into the cell at byte `at` (cannot fail). */
  protected abstract put(k: number, at: number): void;

  /** @internal Forgets the prepared items. */
  protected abstract unprepare(): void;

  /** The overflow policy. */
  get overflow(): Overflow {
    const p = this._rings.policy;
    return p === POLICY_DROP
      ? Overflow.DropOldest
      : p === POLICY_BLOCK
      ? Overflow.Block
      : Overflow.Reject;
  }

  /** Items this sender dropped to make room (drop-oldest policy). */
  get dropped(): number {
    return this._slot < 0 ? 0 : Atomics.load(this._ctl, slotWord(this._slot) + S_DROPPED);
  }

  /** True once this sender closed or the receiving node is gone. */
  get isClosed(): boolean {
    return this._closed || Atomics.load(this._ctl, H_RX_CLOSED) !== 0;
  }

  /**
   * Sends one item under the channel's overflow policy: the item is checked and converted
   * first, then published with one store, then the receiving node is woken (one eventfd write,
   * and only when its loop is parked).
   *
   * @returns `SendStatus.Sent`; `Full` when the channel is full under the reject policy, or
   *   a blocking send timed out; `Closed` when the receiving node is gone.
   * @throws {ChannelError} `CHANNEL_CLOSED` if this sender was closed;
   *   `CHANNEL_WOULD_DEADLOCK` for a blocking send on the receiving node's own thread.
   * @throws {RecordError} `INVALID_RECORD` for a record field that cannot be stored (ring);
   *   {@linkcode ChannelError} `CHANNEL_ITEM_TOO_LARGE` or `INVALID_ARGUMENT` for a value that is
   *   too large or not structured-cloneable (value). Nothing is sent in either case.
   * @throws {CapacityError} If every producer slot of the channel is taken by other senders.
   */
  trySend(item: T): SendStatus {
    if (this._closed) throw closedSender();
    const one = this.#one as T[];
    one[0] = item;
    try {
      this.prepare(one, 0, 1);
    } finally {
      one.length = 0;
    }
    return this._sendPrepared(1) === 1 ? SendStatus.Sent : this._why;
  }

  /**
   * Sends `items[start]` .. `items[end - 1]` in order under the channel's overflow policy, as
   * `trySend` would one by one, but checked all first, published with one store per run of
   * free cells, and with at most one wake-up of the receiving node. A blocking batch publishes
   * what fits before it waits for room.
   *
   * @example Publishing a parsed packet at once
   * ```ts
   * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
   * import { defineRecord, ringChannel } from "@wavelet/wavelet/channel";
   *
   * const Px = defineRecord({ px: "f64" });
   * const rt = new TestRuntime();
   * const [sum, tx] = new NodeBuilder(0).buildWith(
   *   rt.executor,
   *   ringChannel(Px, { capacity: 4 }),
   *   (self, _ctx, rx) => {
   *     const r = rx.record;
   *     while (rx.next()) self.value += r.px;
   *     return true;
   *   },
   * );
   * const packet = [{ px: 1 }, { px: 2 }, { px: 3 }, { px: 4 }, { px: 5 }];
   * const sent = tx.trySendMany(packet); // reject policy: 4 fit
   * if (sent !== 4) throw new Error("four fit");
   * rt.runOneCycle();
   * if (tx.trySendMany(packet, sent) !== 1) throw new Error("then the fifth");
   * rt.runOneCycle();
   * if (sum.value !== 15) throw new Error("all five arrived, in order");
   * ```
   *
   * @param items The items (an array or any array-like).
   * @param start First index to send (default 0).
   * @param end One past the last index to send (default `items.length`).
   * @returns How many items were sent, from `start` on: fewer than asked when the channel is
   *   full under the reject policy, a blocking send timed out, or the receiving node is gone
   *   (then `isClosed` is true).
   * @throws {InvalidArgumentError} If `items` is not array-like or the range is not inside it.
   * @throws {ChannelError} As `trySend`; a blocking batch that does not fit, sent on the
   *   receiving node's own thread, throws `CHANNEL_WOULD_DEADLOCK` before sending anything.
   * @throws {RecordError} As `trySend`, for any item of the range: then nothing is sent.
   * @throws {CapacityError} If every producer slot of the channel is taken by other senders.
   */
  trySendMany(items: ArrayLike<T>, start?: number, end?: number): number {
    if (this._closed) throw closedSender();
    const n = batchRange(items, start, end);
    if (n === 0) return 0;
    const from = start ?? 0;
    this.prepare(items, from, n);
    return this._sendPrepared(n);
  }

  /**
   * @internal Sends `n` prepared items under the policy; returns how many were sent and sets
   * `_why` when that is fewer.
   */
  protected _sendPrepared(n: number): number {
    const r = this._rings, ctl = this._ctl, cap = this._cap;
    try {
      if (Atomics.load(ctl, H_RX_CLOSED) !== 0) {
        this._why = SendStatus.Closed;
        return 0;
      }
      if (this._slot < 0) this._claim();
      let t = this._tail, k = 0, until = -1;
      if (
        r.policy === POLICY_BLOCK && !this.#mayBlock &&
        n > cap - ((t - (this._headCache = Atomics.load(ctl, this._headW))) | 0)
      ) {
        throw new ChannelError(
          "A blocking send on the receiving node's own thread would never wake; send from a " +
            "Worker, or use the reject or dropOldest policy",
          { code: ErrorCode.ChannelWouldDeadlock },
        );
      }
      while (k < n) {
        let room = cap - ((t - this._headCache) | 0);
        if (room < n - k) {
          this._headCache = Atomics.load(ctl, this._headW);
          room = cap - ((t - this._headCache) | 0);
        }
        if (room <= 0) {
          if (r.policy === POLICY_DROP) room = this.#drop(t, Math.min(n - k, cap));
          else if (r.policy === POLICY_BLOCK) {
            // Publish what is written before waiting: the receiver makes room by reading it.
            if (k > 0 && !this._wake()) return 0;
            if (until < 0) until = performance.now() + this.#blockTimeoutMs;
            const s = this.#waitForRoom(t, until);
            if (s !== SendStatus.Sent) {
              this._why = s;
              return k;
            }
            continue;
          } else {
            this._why = SendStatus.Full;
            break;
          }
        }
        const m = room < n - k ? room : n - k;
        for (let j = 0; j < m; j++) {
          this.put(k + j, this._base + ((t + j) & this._mask) * this._cell);
        }
        if (ctl[H_STAMP] !== 0) this._stamp(t, m);
        t = (t + m) | 0;
        k += m;
        Atomics.store(ctl, this._tailW, t);
        this._tail = t;
      }
      if (k > 0 && !this._wake()) return 0;
      return k;
    } finally {
      this.unprepare();
    }
  }

  /**
   * @internal Stamps positions `t` .. `t + n - 1` with one reading of the ingest clock (called
   * before the tail's store publishes them, only while the consumer asks: see `H_STAMP`).
   */
  protected _stamp(t: number, n: number): void {
    const f = this._rings.f64, base = this._stampBase, mask = this._mask, ns = ingestNs();
    for (let k = 0; k < n; k++) f[base + ((t + k) & mask)] = ns;
  }

  /**
   * @internal After a publish: wakes the receiving node if it armed for a wake-up (see
   * `H_ARMED`); false (and the receiver marked gone) if it is gone.
   */
  protected _wake(): boolean {
    // A plain read: the tail's store before it is a full barrier on both runtimes.
    const ctl = this._ctl;
    if (ctl[H_ARMED] === 0 || Atomics.exchange(ctl, H_ARMED, 0) === 0) return true;
    try {
      this.#notifier.notify();
      return true;
    } catch (e) {
      if (!(e instanceof NotifierClosedError)) throw e;
      // The receiving runtime shut down: nothing published will be read.
      Atomics.store(this._ctl, H_RX_CLOSED, 1);
      this._why = SendStatus.Closed;
      return false;
    }
  }

  /** Drops the oldest records of a full ring until `need` cells are free; returns the room. */
  #drop(t: number, need: number): number {
    const ctl = this._ctl, cap = this._cap;
    // The receiver validates its reads against the head, so moving it is enough.
    for (;;) {
      const h = Atomics.load(ctl, this._headW);
      const room = cap - ((t - h) | 0);
      if (room >= need) {
        this._headCache = h;
        return room;
      }
      const d = need - room;
      if (Atomics.compareExchange(ctl, this._headW, h, (h + d) | 0) === h) {
        Atomics.add(ctl, this._headW - S_HEAD + S_DROPPED, d);
        this._headCache = (h + d) | 0;
        return need;
      }
    }
  }

  /** Waits (Block policy) until the ring has room at `t`, the receiver is gone, or `until`. */
  #waitForRoom(t: number, until: number): SendStatus {
    const ctl = this._ctl, cap = this._cap, w = this._headW - S_HEAD;
    for (;;) {
      Atomics.add(ctl, w + S_WAITERS, 1);
      try {
        const seen = Atomics.load(ctl, w + S_SPACE);
        this._headCache = Atomics.load(ctl, this._headW);
        if (((t - this._headCache) | 0) < cap) return SendStatus.Sent;
        if (Atomics.load(ctl, H_RX_CLOSED) !== 0) return SendStatus.Closed;
        const left = until - performance.now();
        if (left <= 0) return SendStatus.Full;
        // Bounded waits: a missed wake-up costs at most 100 ms, never a hang.
        Atomics.wait(ctl, w + S_SPACE, seen, Math.min(left, 100));
      } finally {
        Atomics.sub(ctl, w + S_WAITERS, 1);
      }
    }
  }

  /** @internal Takes a free producer slot and records this thread as its owner. */
  protected _claim(): void {
    const r = this._rings, ctl = this._ctl;
    const p = claimSlot(ctl, r.slots, (p) => {
      const w = slotWord(p);
      this._tail = Atomics.load(ctl, w + S_TAIL);
      this._headCache = Atomics.load(ctl, w + S_HEAD);
      this._tailW = w + S_TAIL;
      this._headW = w + S_HEAD;
      this._base = r.cellByte(p, 0);
      this._stampBase = r.stampAt + p * r.capacity;
    });
    if (p < 0) {
      throw new CapacityError(
        `All ${r.slots} producer slots of this channel are taken; build it with a larger ` +
          "producers option, or close senders that are done",
      );
    }
    this._slot = p;
  }

  /**
   * Closes this sender: the receiving node still gets everything sent before, and sees
   * `RecvStatus.Closed` once every sender closed (or died) and the channel is drained.
   * Idempotent.
   */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    const ctl = this._ctl;
    if (this._slot >= 0) Atomics.store(ctl, slotWord(this._slot) + S_STATE, STATE_CLOSED);
    Atomics.sub(ctl, H_OPEN, 1);
    try {
      this.#notifier.notify();
    } catch (e) {
      if (!(e instanceof NotifierClosedError)) throw e;
    }
  }

  /** @internal The description's common fields; counts one more open sender. */
  protected describe(
    kind: "wavelet.ring" | "wavelet.value",
    fields: Readonly<Record<string, string>> | null,
  ): SharedSenderTransferable {
    if (this._closed) {
      throw new ChannelError("Cannot transfer a sender that was closed");
    }
    Atomics.add(this._ctl, H_OPEN, 1);
    return {
      kind,
      sab: this._rings.sab,
      blockTimeoutMs: this.#blockTimeoutMs,
      fields,
      notifier: this.#notifier.toTransferable(),
    };
  }
}

/** The error of a send on a closed sender. */
export function closedSender(): ChannelError {
  return new ChannelError("Cannot send on a sender that was closed");
}

/**
 * Checks a batch's items and range before anything changes; returns how many items it holds.
 */
export function batchRange(items: unknown, start: unknown, end: unknown): number {
  let length: unknown;
  try {
    length = items !== null && typeof items === "object"
      ? (items as ArrayLike<unknown>).length
      : -1;
  } catch {
    length = -1;
  }
  if (typeof length !== "number" || !Number.isInteger(length) || length < 0) {
    throw new InvalidArgumentError(
      `A batch send needs an array of items, got ${describe(items)}`,
    );
  }
  return rangeIn(length, start, end);
}

/** Checks `[start, end)` (defaults 0 and `length`) against `length`; returns its size. */
export function rangeIn(length: number, start: unknown, end: unknown): number {
  const s = start ?? 0, e = end ?? length;
  if (typeof s !== "number" || !Number.isInteger(s) || s < 0 || s > length) {
    throw new InvalidArgumentError(
      `A batch's start must be an integer in [0, ${length}], got ${describe(start)}`,
    );
  }
  if (typeof e !== "number" || !Number.isInteger(e) || e < s || e > length) {
    throw new InvalidArgumentError(
      `A batch's end must be an integer in [${s}, ${length}], got ${describe(end)}`,
    );
  }
  return e - s;
}

/** True when a sender rebuilt on this thread may block (it is not the consumer's thread). */
export function mayBlockHere(rings: Rings): boolean {
  return Atomics.load(rings.ctl, H_OWNER) !== threadToken();
}

/** Rebuilds the channel memory and notifier of a description, checking what came from outside. */
export function openDescription(
  t: SharedSenderTransferable,
  kind: "wavelet.ring" | "wavelet.value",
  check: (rings: Rings, d: SharedSenderTransferable) => boolean,
): { rings: Rings; notifier: Notifier; blockTimeoutMs: number } {
  // One read of each field: a description whose fields throw (or change) gets no further.
  let d: SharedSenderTransferable | null = null;
  try {
    if (t !== null && typeof t === "object") {
      d = {
        kind: t.kind,
        sab: t.sab,
        blockTimeoutMs: t.blockTimeoutMs,
        fields: t.fields,
        notifier: t.notifier,
      };
    }
  } catch {
    // Not a description.
  }
  if (
    d === null || d.kind !== kind || !(d.sab instanceof SharedArrayBuffer) || !Rings.valid(d.sab)
  ) {
    throw new ChannelError(
      `Not a ${kind.slice(8)} sender description (expected sender.toTransferable())`,
      { code: ErrorCode.InvalidArgument },
    );
  }
  const rings = new Rings(d.sab);
  if (!check(rings, d)) {
    throw new ChannelError(
      `The ${kind.slice(8)} sender description does not match its channel's memory`,
      { code: ErrorCode.InvalidArgument },
    );
  }
  const timeout = d.blockTimeoutMs;
  if (typeof timeout !== "number" || !(timeout >= 0)) {
    throw new ChannelError(
      `A sender description's blockTimeoutMs must be a number >= 0, got ${describe(timeout)}`,
      { code: ErrorCode.InvalidArgument },
    );
  }
  return { rings, notifier: Notifier.fromTransferable(d.notifier), blockTimeoutMs: timeout };
}

/** The geometry's policy word for an overflow policy. */
export function policyOf(o: Overflow): number {
  return o === Overflow.DropOldest ? POLICY_DROP : o === Overflow.Block ? POLICY_BLOCK : 0;
}
