/**
 * The sending and receiving halves of shared-memory channels (ring and value), over the
 * per-producer rings of `rings.ts`. Which bytes go into a cell is the subclasses' business
 * (`channel.ts`); here are the slots, the overflow policies, closing, the wake-up, and the
 * watch for producers whose thread died.
 *
 * @module
 */

import { describe } from "../core/validate.ts";
import { CapacityError, ErrorCode } from "../core/errors.ts";
import { Notifier, NotifierClosedError, type NotifierTransferable } from "../drivers/notify.ts";
import { threadAlive, threadIdentity, threadToken } from "../runtime/thread.ts";
import {
  H_OPEN,
  H_OWNER,
  H_RX_CLOSED,
  POLICY_BLOCK,
  POLICY_DROP,
  Rings,
  S_DROPPED,
  S_HEAD,
  S_SPACE,
  S_START_HI,
  S_START_LO,
  S_STATE,
  S_TAIL,
  S_TID,
  S_WAITERS,
  STATE_CLAIMING,
  STATE_CLOSED,
  STATE_DEAD,
  STATE_FREE,
  STATE_OPEN,
} from "./rings.ts";
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
  readonly #notifier: Notifier;
  readonly #blockTimeoutMs: number;
  readonly #mayBlock: boolean;
  #closed = false;
  #slot = -1;
  #tailW = 0;
  #headW = 0;
  #tail = 0;
  #headCache = 0;

  /** @internal */
  constructor(rings: Rings, notifier: Notifier, blockTimeoutMs: number, mayBlock: boolean) {
    this._rings = rings;
    this.#notifier = notifier;
    this.#blockTimeoutMs = blockTimeoutMs;
    this.#mayBlock = mayBlock;
  }

  /** @internal Checks and converts an item before anything changes (throws a typed error). */
  protected abstract prepare(item: T): void;

  /** @internal Writes the prepared item into the cell at byte `at`. */
  protected abstract store(at: number, item: T): void;

  /**
   * @internal The channel is full: check and convert the item now, before the policy drops a
   * record or waits, so that a bad item never costs a good one.
   */
  protected stage(_item: T): void {}

  /** @internal The staged item was not sent after all (full, closed). */
  protected unstage(): void {}

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
    return this.#slot < 0
      ? 0
      : Atomics.load(this._rings.ctl, this._rings.slotWord(this.#slot) + S_DROPPED);
  }

  /** True once this sender closed or the receiving node is gone. */
  get isClosed(): boolean {
    return this.#closed || Atomics.load(this._rings.ctl, H_RX_CLOSED) !== 0;
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
    if (this.#closed) {
      throw new ChannelError("Cannot send on a sender that was closed");
    }
    this.prepare(item);
    const r = this._rings, ctl = r.ctl;
    if (Atomics.load(ctl, H_RX_CLOSED) !== 0) return SendStatus.Closed;
    if (this.#slot < 0) this.#claim();
    const t = this.#tail;
    if (((t - this.#headCache) | 0) >= r.capacity) {
      this.#headCache = Atomics.load(ctl, this.#headW);
      if (((t - this.#headCache) | 0) >= r.capacity) {
        this.stage(item);
        const s = this.#makeRoom(t);
        if (s !== SendStatus.Sent) {
          this.unstage();
          return s;
        }
      }
    }
    this.store(r.cellByte(this.#slot, t), item);
    Atomics.store(ctl, this.#tailW, (t + 1) | 0);
    this.#tail = (t + 1) | 0;
    try {
      this.#notifier.notify();
    } catch (e) {
      if (e instanceof NotifierClosedError) return SendStatus.Closed;
      throw e;
    }
    return SendStatus.Sent;
  }

  /** Full ring at position `t`: applies the policy; Sent means there is room now. */
  #makeRoom(t: number): SendStatus {
    const r = this._rings, ctl = r.ctl;
    if (r.policy === POLICY_DROP) {
      // Drop the oldest unread record: the consumer validates its reads against the head.
      for (;;) {
        const h = Atomics.load(ctl, this.#headW);
        if (((t - h) | 0) < r.capacity) {
          this.#headCache = h;
          return SendStatus.Sent;
        }
        if (Atomics.compareExchange(ctl, this.#headW, h, (h + 1) | 0) === h) {
          Atomics.add(ctl, this.#headW - S_HEAD + S_DROPPED, 1);
          this.#headCache = (h + 1) | 0;
          return SendStatus.Sent;
        }
      }
    }
    if (r.policy !== POLICY_BLOCK) return SendStatus.Full;
    if (!this.#mayBlock) {
      throw new ChannelError(
        "A blocking send on the receiving node's own thread would never wake; send from a " +
          "Worker, or use the reject or dropOldest policy",
        { code: ErrorCode.ChannelWouldDeadlock },
      );
    }
    const w = this.#headW - S_HEAD;
    const until = performance.now() + this.#blockTimeoutMs;
    for (;;) {
      Atomics.add(ctl, w + S_WAITERS, 1);
      try {
        const seen = Atomics.load(ctl, w + S_SPACE);
        this.#headCache = Atomics.load(ctl, this.#headW);
        if (((t - this.#headCache) | 0) < r.capacity) return SendStatus.Sent;
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

  /** Takes a free producer slot and records this thread as its owner. */
  #claim(): void {
    const r = this._rings, ctl = r.ctl;
    const id = threadIdentity();
    for (let p = 0; p < r.slots; p++) {
      const w = r.slotWord(p);
      if (Atomics.compareExchange(ctl, w + S_STATE, STATE_FREE, STATE_CLAIMING) !== STATE_FREE) {
        continue;
      }
      ctl[w + S_TID] = id === null ? 0 : id.tid;
      ctl[w + S_START_LO] = id === null ? 0 : id.start % 0x80000000;
      ctl[w + S_START_HI] = id === null ? 0 : Math.floor(id.start / 0x80000000);
      this.#tail = Atomics.load(ctl, w + S_TAIL);
      this.#headCache = Atomics.load(ctl, w + S_HEAD);
      this.#tailW = w + S_TAIL;
      this.#headW = w + S_HEAD;
      this.#slot = p;
      Atomics.store(ctl, w + S_STATE, STATE_OPEN);
      return;
    }
    throw new CapacityError(
      `All ${r.slots} producer slots of this channel are taken; build it with a larger ` +
        "producers option, or close senders that are done",
    );
  }

  /**
   * Closes this sender: the receiving node still gets everything sent before, and sees
   * `RecvStatus.Closed` once every sender closed (or died) and the channel is drained.
   * Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const ctl = this._rings.ctl;
    if (this.#slot >= 0) {
      Atomics.store(ctl, this._rings.slotWord(this.#slot) + S_STATE, STATE_CLOSED);
    }
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
    if (this.#closed) {
      throw new ChannelError("Cannot transfer a sender that was closed");
    }
    Atomics.add(this._rings.ctl, H_OPEN, 1);
    return {
      kind,
      sab: this._rings.sab,
      blockTimeoutMs: this.#blockTimeoutMs,
      fields,
      notifier: this.#notifier.toTransferable(),
    };
  }
}

/** True when a sender rebuilt on this thread may block (it is not the consumer's thread). */
export function mayBlockHere(rings: Rings): boolean {
  return Atomics.load(rings.ctl, H_OWNER) !== threadToken();
}

/**
 * The receiving side's bookkeeping over the rings: where it has read to in each slot, when the
 * producers learn about it, freeing the slots of closed or dead producers, and deciding Closed.
 * `peek` names the next cell to read and `commit` consumes it; under the drop-oldest policy a
 * commit fails when a producer dropped that record meanwhile, and the caller reads again.
 */
export class RingReader {
  /** The rings. */
  readonly rings: Rings;
  /** The slot of the last peek. */
  slot = -1;
  readonly #heads: Int32Array;
  readonly #published: Int32Array;
  readonly #tails: Int32Array;
  readonly #drop: boolean;
  #rr = 0;
  #burst = 0;

  /** Reads `rings` from this thread. */
  constructor(rings: Rings) {
    this.rings = rings;
    const n = rings.slots, ctl = rings.ctl;
    this.#heads = new Int32Array(n);
    this.#published = new Int32Array(n);
    this.#tails = new Int32Array(n);
    for (let p = 0; p < n; p++) {
      const w = rings.slotWord(p);
      this.#heads[p] = this.#published[p] = Atomics.load(ctl, w + S_HEAD);
      this.#tails[p] = Atomics.load(ctl, w + S_TAIL);
    }
    this.#drop = rings.policy === POLICY_DROP;
  }

  /**
   * The byte offset of the next record to read, or -1 when none is queued now, or -2 when none
   * ever will be (every sender closed or died and the rings are drained).
   */
  peek(): number {
    const r = this.rings, ctl = r.ctl, n = r.slots;
    for (let pass = 0; pass < 2; pass++) {
      // Keep reading one ring for a burst, then move on, so one busy producer cannot starve
      // the others.
      let p = this.#rr;
      if (this.#burst >= 64) {
        this.#burst = 0;
        if (++p === n) p = 0;
      }
      for (let k = 0; k < n; k++, p = p + 1 === n ? 0 : p + 1) {
        let h = this.#heads[p];
        if (this.#drop) h = this.#heads[p] = Atomics.load(ctl, r.slotWord(p) + S_HEAD);
        // (Under drop-oldest the head can pass the cached tail: compare, do not test equality.)
        if (((this.#tails[p] - h) | 0) <= 0) {
          const t = Atomics.load(ctl, r.slotWord(p) + S_TAIL);
          this.#tails[p] = t;
          if (((t - h) | 0) <= 0) {
            this.#idle(p);
            continue;
          }
        }
        if (p !== this.#rr) {
          this.#rr = p;
          this.#burst = 0;
        }
        this.slot = p;
        return r.cellByte(p, h);
      }
      // Nothing queued. Closed needs no open sender AND empty rings, read in that order: a
      // sender publishes before it closes, so a scan after seeing no open sender is final.
      if (pass === 1) return -2;
      if (Atomics.load(ctl, H_OPEN) !== 0) return -1;
    }
    return -2;
  }

  /** Consumes the record of the last peek; false if a drop-oldest producer took it first. */
  commit(): boolean {
    const p = this.slot, h = this.#heads[p], next = (h + 1) | 0;
    this.#burst++;
    if (this.#drop) {
      const w = this.rings.slotWord(p) + S_HEAD;
      if (Atomics.compareExchange(this.rings.ctl, w, h, next) !== h) return false;
      this.#heads[p] = this.#published[p] = next;
      return true;
    }
    this.#heads[p] = next;
    // Producers learn about the room every 64 records, and when a ring runs dry.
    if (((next - this.#published[p]) | 0) >= 64) this.#publish(p);
    return true;
  }

  /** Tells every producer how far this reader got (end of a node run). */
  publishAll(): void {
    if (this.#drop) return; // every drop-oldest commit is already a CAS on the shared head
    for (let p = 0; p < this.rings.slots; p++) {
      if (this.#heads[p] !== this.#published[p]) this.#publish(p);
    }
  }

  #publish(p: number): void {
    this.#published[p] = this.#heads[p];
    Atomics.store(this.rings.ctl, this.rings.slotWord(p) + S_HEAD, this.#heads[p]);
    this.rings.wakeProducers(p);
  }

  /** A drained ring: publish the head, and free the slot if its producer closed or died. */
  #idle(p: number): void {
    // Under drop-oldest the shared head only ever moves by CAS (a store could move it back).
    if (!this.#drop && this.#heads[p] !== this.#published[p]) this.#publish(p);
    const ctl = this.rings.ctl, w = this.rings.slotWord(p);
    const state = Atomics.load(ctl, w + S_STATE);
    if (state !== STATE_CLOSED && state !== STATE_DEAD) return;
    // The producer published before it closed: look at the tail again after the state.
    if (Atomics.load(ctl, w + S_TAIL) !== this.#heads[p]) return;
    Atomics.store(ctl, w + S_STATE, STATE_FREE);
  }

  /** Records queued now. */
  get length(): number {
    return this.rings.length;
  }

  /**
   * Looks for producer threads that died without closing their sender: each one's slot is
   * marked dead (what it published is still delivered) and stops counting as an open sender.
   *
   * @returns Whether any producer was found dead.
   */
  reapDeadProducers(): boolean {
    const r = this.rings, ctl = r.ctl;
    const me = threadIdentity();
    let found = false;
    for (let p = 0; p < r.slots; p++) {
      const w = r.slotWord(p);
      const state = Atomics.load(ctl, w + S_STATE);
      if (state !== STATE_OPEN && state !== STATE_CLAIMING) continue;
      const tid = ctl[w + S_TID];
      if (tid === 0 || (me !== null && tid === me.tid)) continue;
      const start = ctl[w + S_START_HI] * 0x80000000 + ctl[w + S_START_LO];
      if (threadAlive({ tid, start }) !== false) continue;
      if (Atomics.compareExchange(ctl, w + S_STATE, state, STATE_DEAD) !== state) continue;
      Atomics.sub(ctl, H_OPEN, 1);
      found = true;
    }
    return found;
  }

  /** True while some slot is owned by a producer on another thread (worth watching). */
  hasRemoteProducers(): boolean {
    const r = this.rings, ctl = r.ctl, me = threadIdentity();
    for (let p = 0; p < r.slots; p++) {
      const w = r.slotWord(p);
      const state = Atomics.load(ctl, w + S_STATE);
      if (state !== STATE_OPEN && state !== STATE_CLAIMING) continue;
      const tid = ctl[w + S_TID];
      if (tid !== 0 && (me === null || tid !== me.tid)) return true;
    }
    return false;
  }
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

/** Whether the drop-oldest policy is in force (readers then validate each read). */
export function isDropPolicy(rings: Rings): boolean {
  return rings.policy === POLICY_DROP;
}
