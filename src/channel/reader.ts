/**
 * The receiving side of ring and value channels: where the one consumer has read to in each
 * producer's ring, when the producers learn about it, freeing the slots of closed or dead
 * producers, and deciding Closed.
 *
 * The reader hands out runs: `fill` picks a ring with records and says how many follow one
 * another in memory from byte `at` (`avail`), and the receiver reads them in place and consumes
 * them with `take` (no other thread touches them until the head moves past). Under the
 * drop-oldest policy a producer may drop records the receiver is reading, so the receiver copies
 * a run first and `claim`s it with one compare-and-swap of the shared head, which says how many
 * of the copied records were still the producer's when it moved the head past them.
 *
 * Heads are published (stored where producers read them) once per run and at the end of the
 * node's run, and blocked producers are woken then; fills take turns over the rings, so one
 * busy producer cannot starve the others.
 *
 * @module
 */

import {
  H_ARMED,
  H_OPEN,
  POLICY_DROP,
  type Rings,
  S_HEAD,
  S_STATE,
  S_TAIL,
  slotWord,
} from "./rings.ts";
import { STATE_CLOSED, STATE_DEAD, STATE_FREE } from "./rings.ts";
import { hasRemoteSlots, reapDeadSlots } from "./slots.ts";
import type { IngestHub } from "../core/ingest.ts";

/** Most records a `tryRecv`/`next` run takes from one ring before it moves to the next. */
export const BURST = 64;

/** See the module documentation. */
export class RingReader {
  /** The rings. */
  readonly rings: Rings;
  /** True under the drop-oldest policy (reads are copied, then claimed). */
  readonly drop: boolean;
  /** The slot of the current run. */
  slot = -1;
  /** Byte offset of the current run's next record. */
  at = 0;
  /** Records left in the current run (consecutive cells from `at`). */
  avail = 0;
  /**
   * While ingest stamps are on: the hub each run's first record's stamp is noted to (it is the
   * oldest of the run, a ring being in send order). Null otherwise.
   */
  hub: IngestHub | null = null;
  readonly #heads: Int32Array;
  readonly #published: Int32Array;
  readonly #tails: Int32Array;
  readonly #cell: number;
  #next = 0;

  /** Reads `rings` from this thread. */
  constructor(rings: Rings) {
    this.rings = rings;
    const n = rings.slots, ctl = rings.ctl;
    this.#heads = new Int32Array(n);
    this.#published = new Int32Array(n);
    this.#tails = new Int32Array(n);
    for (let p = 0; p < n; p++) {
      const w = slotWord(p);
      this.#heads[p] = this.#published[p] = Atomics.load(ctl, w + S_HEAD);
      this.#tails[p] = Atomics.load(ctl, w + S_TAIL);
    }
    this.drop = rings.policy === POLICY_DROP;
    this.#cell = rings.cellBytes;
  }

  /**
   * Starts a run of up to `limit` records (at least 1) from the next ring, in turn, that has
   * any: returns its length (also in `avail`), or -1 when none is queued now, or -2 when none
   * ever will be (every sender closed or died and the rings are drained).
   */
  fill(limit: number): number {
    const r = this.rings, ctl = r.ctl, n = r.slots, cap = r.capacity;
    if (this.slot >= 0 && !this.drop) this.#publish(this.slot, false);
    for (let pass = 0; pass < 2; pass++) {
      let p = this.#next;
      for (let k = 0; k < n; k++, p = p + 1 === n ? 0 : p + 1) {
        // Under drop-oldest, producers move the head too (and it can pass the cached tail:
        // compare, do not test equality).
        const h = this.drop
          ? (this.#heads[p] = Atomics.load(ctl, slotWord(p) + S_HEAD))
          : this.#heads[p];
        let d = (this.#tails[p] - h) | 0;
        if (d <= 0) {
          const t = Atomics.load(ctl, slotWord(p) + S_TAIL);
          this.#tails[p] = t;
          d = (t - h) | 0;
          if (d <= 0) {
            this.#idle(p);
            continue;
          }
        }
        const wrap = cap - (h & r.mask);
        if (d > wrap) d = wrap;
        if (d > limit) d = limit;
        this.#next = p + 1 === n ? 0 : p + 1;
        if (this.hub !== null) this.hub.note(r.f64[r.stampAt + p * cap + (h & r.mask)]);
        this.slot = p;
        this.at = r.cellByte(p, h);
        this.avail = d;
        return d;
      }
      this.avail = 0;
      // Nothing queued. Closed needs no open sender AND empty rings, read in that order: a
      // sender publishes before it closes, so a scan after seeing no open sender is final.
      if (pass === 1) return -2;
      if (Atomics.load(ctl, H_OPEN) !== 0) return -1;
    }
    return -2;
  }

  /** Consumes `k` records of the current run (not under drop-oldest: see `claim`). */
  take(k: number): void {
    const p = this.slot;
    this.#heads[p] = (this.#heads[p] + k) | 0;
    this.at += k * this.#cell;
    this.avail -= k;
  }

  /**
   * Tells the producer of the current run how far this reader got, now rather than at the
   * next fill or the end of the node's run: a producer waiting for room starts again while the
   * node still works on what it took.
   */
  release(): void {
    if (!this.drop && this.slot >= 0) this.#publish(this.slot, false);
  }

  /**
   * Drop-oldest: consumes the next `k` records of the current run, which the caller copied
   * first; returns how many of the first ones a producer dropped meanwhile (their copies may be
   * torn). Those after are good: a producer rewrites a cell only after moving the head past it.
   */
  claim(k: number): number {
    const p = this.slot, ctl = this.rings.ctl, w = slotWord(p) + S_HEAD;
    const h = this.#heads[p], end = (h + k) | 0;
    let cur = h, lost: number;
    for (;;) {
      const seen = Atomics.compareExchange(ctl, w, cur, end);
      if (seen === cur) {
        lost = (cur - h) | 0;
        this.#heads[p] = this.#published[p] = end;
        break;
      }
      cur = seen;
      if (((cur - end) | 0) >= 0) {
        // Every copied record was dropped; the head is already past them.
        lost = k;
        this.#heads[p] = this.#published[p] = cur;
        this.avail = 0;
        return lost;
      }
    }
    this.at += k * this.#cell;
    this.avail -= k;
    return lost;
  }

  /**
   * Asks the producers for a wake-up at their next publish (the node is going idle). Look at
   * `length` after this: a record published before the arming shows there.
   */
  arm(): void {
    Atomics.store(this.rings.ctl, H_ARMED, 1);
  }

  /** Tells every producer how far this reader got (end of a node run). */
  publishAll(): void {
    if (this.drop) return; // every drop-oldest claim is already a CAS on the shared head
    for (let p = 0; p < this.rings.slots; p++) {
      if (this.#heads[p] !== this.#published[p]) this.#publish(p, true);
    }
  }

  /**
   * Stores slot `p`'s head where its producer reads it. A producer blocked on a full ring is
   * woken when `wake` says so (the end of a run, a drained ring), or once the ring is at most
   * half full: woken for every few records freed, it would write those few and block again.
   */
  #publish(p: number, wake: boolean): void {
    if (this.#heads[p] === this.#published[p]) return;
    this.#published[p] = this.#heads[p];
    Atomics.store(this.rings.ctl, slotWord(p) + S_HEAD, this.#heads[p]);
    if (wake || ((this.#tails[p] - this.#heads[p]) | 0) <= this.rings.capacity >>> 1) {
      this.rings.wakeProducers(p);
    }
  }

  /** A drained ring: publish the head, and free the slot if its producer closed or died. */
  #idle(p: number): void {
    // Under drop-oldest the shared head only ever moves by CAS (a store could move it back).
    if (!this.drop) this.#publish(p, true);
    const ctl = this.rings.ctl, w = slotWord(p);
    const state = Atomics.load(ctl, w + S_STATE);
    if (state !== STATE_CLOSED && state !== STATE_DEAD) return;
    // The producer published before it closed: look at the tail again after the state.
    if (Atomics.load(ctl, w + S_TAIL) !== this.#heads[p]) return;
    Atomics.store(ctl, w + S_STATE, STATE_FREE);
  }

  /** Records queued now and not yet consumed by this reader. */
  get length(): number {
    const r = this.rings, ctl = r.ctl;
    let n = 0;
    for (let p = 0; p < r.slots; p++) {
      const w = slotWord(p);
      const t = Atomics.load(ctl, w + S_TAIL);
      const h = this.drop ? Atomics.load(ctl, w + S_HEAD) : this.#heads[p];
      const d = (t - h) | 0;
      n += d < 0 ? 0 : d > r.capacity ? r.capacity : d;
    }
    return n;
  }

  /** True when every sender closed (or died) and nothing is left to read. */
  get closed(): boolean {
    return this.avail === 0 && this.fill(1) === -2;
  }

  /**
   * Looks for producer threads that died without closing their sender: each one's slot is
   * marked dead (what it published is still delivered) and stops counting as an open sender.
   *
   * @returns Whether any producer was found dead.
   */
  reapDeadProducers(): boolean {
    return reapDeadSlots(this.rings.ctl, this.rings.slots);
  }

  /** True while some slot is owned by a producer on another thread (worth watching). */
  hasRemoteProducers(): boolean {
    return hasRemoteSlots(this.rings.ctl, this.rings.slots);
  }
}
