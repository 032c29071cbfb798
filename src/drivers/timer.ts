/**
 * The timer driver: a binary min-heap of one-shot timers ordered by (deadline, sequence), so
 * equal deadlines fire in registration order. Entries live in pooled typed arrays and the heap
 * tracks each entry's position, so registering, cancelling and firing are O(log n) and
 * allocation-free. The heap's ids are plain numbers (entry index plus the entry's reuse count),
 * so a stale id can never cancel a later timer that reused the entry; the executor wraps them in
 * handles that also name their executor. Each slot's entries are threaded on a doubly linked
 * list, so removing a node cancels its k timers in O(k log n) instead of scanning the heap, and
 * shutting down n timer-owning nodes is O(n log n).
 *
 * @module
 */

import { CapacityError } from "../core/errors.ts";

/**
 * Identifies one registered timer, for cancellation. It names its executor, so a handle given to
 * another executor's `cancelTimer` is refused instead of cancelling an unrelated timer; treat it
 * as opaque.
 *
 * @example Cancelling a timer
 * ```ts
 * import { ms, NodeBuilder, TestRuntime, type TimerHandle } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * let runs = 0;
 * const node = new NodeBuilder(0).build(rt.executor, () => {
 *   runs++;
 * });
 * const handle: TimerHandle = rt.executor.registerTimerAfter(node, ms(5));
 * if (!rt.executor.cancelTimer(handle)) throw new Error("the timer was pending");
 * if (rt.executor.cancelTimer(handle)) throw new Error("a handle cancels once");
 * rt.advanceClock(ms(10));
 * rt.runOneCycle();
 * if (runs !== 0) throw new Error("a cancelled timer never fires");
 * ```
 */
export class TimerHandle {
  /** @internal The executor that issued the handle. */
  readonly _owner: object;
  /** @internal The heap's id of the timer. */
  readonly _id: number;

  /** @internal */
  constructor(owner: object, id: number) {
    this._owner = owner;
    this._id = id;
  }
}

const ENTRY_BITS = 22;
/**
 * Most timers that can be pending at once (4 194 304).
 *
 * @example Checking room for a batch of timers
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { MAX_TIMERS } from "./timer.ts";
 *
 * const rt = new TestRuntime();
 * const batch = 10_000;
 * if (rt.executor.stats().pendingTimers + batch > MAX_TIMERS) throw new Error("no room");
 * if (MAX_TIMERS !== 4_194_304) throw new Error("2^22 timers");
 * ```
 */
export const MAX_TIMERS = 1 << ENTRY_BITS;

/** The heap of pending timers. */
export class TimerHeap {
  #deadline = new Float64Array(64);
  #seq = new Float64Array(64);
  #slot = new Int32Array(64);
  #gen = new Int32Array(64);
  #pos = new Int32Array(64).fill(-1);
  #reuse = new Int32Array(64);
  #heap = new Int32Array(64);
  /** Next and previous entry of the same slot (-1 at either end). */
  #slotNext = new Int32Array(64).fill(-1);
  #slotPrev = new Int32Array(64).fill(-1);
  /** First entry per slot, -1 when the slot has none (grown on demand). */
  #slotHead = new Int32Array(64).fill(-1);
  #size = 0;
  #free: number[] = [];
  #nextEntry = 0;
  #nextSeq = 0;

  /** Number of pending timers. */
  get size(): number {
    return this.#size;
  }

  /** Earliest pending deadline in ns, or `Infinity` when none is pending. */
  nextDeadline(): number {
    return this.#size === 0 ? Infinity : this.#deadline[this.#heap[0]];
  }

  /** Registers a timer for node (slot, gen) and returns its handle. */
  add(slot: number, gen: number, deadlineNs: number): number {
    let e: number;
    if (this.#free.length > 0) e = this.#free.pop()!;
    else {
      if (this.#nextEntry >= MAX_TIMERS) {
        throw new CapacityError(
          `Cannot register more than ${MAX_TIMERS} pending timers`,
        );
      }
      e = this.#nextEntry++;
      if (e >= this.#deadline.length) this.#grow();
    }
    this.#deadline[e] = deadlineNs;
    this.#seq[e] = this.#nextSeq++;
    this.#slot[e] = slot;
    this.#gen[e] = gen;
    if (slot >= this.#slotHead.length) this.#growSlots(slot);
    const first = this.#slotHead[slot];
    this.#slotPrev[e] = -1;
    this.#slotNext[e] = first;
    if (first !== -1) this.#slotPrev[first] = e;
    this.#slotHead[slot] = e;
    const i = this.#size++;
    this.#heap[i] = e;
    this.#pos[e] = i;
    this.#up(i);
    return this.#reuse[e] * MAX_TIMERS + e;
  }

  /** Cancels a pending timer. Returns false if it already fired or was cancelled. */
  cancel(handle: number): boolean {
    if (typeof handle !== "number" || !(handle >= 0)) return false;
    const e = handle % MAX_TIMERS;
    if (e >= this.#nextEntry) return false;
    if (this.#reuse[e] !== Math.floor(handle / MAX_TIMERS) || this.#pos[e] < 0) return false;
    this.#removeAt(this.#pos[e]);
    return true;
  }

  /** The slot owning the timer a handle names, or -1 if it is not pending. */
  slotOf(handle: number): number {
    if (typeof handle !== "number" || !(handle >= 0)) return -1;
    const e = handle % MAX_TIMERS;
    if (e >= this.#nextEntry) return -1;
    if (this.#reuse[e] !== Math.floor(handle / MAX_TIMERS) || this.#pos[e] < 0) return -1;
    return this.#slot[e];
  }

  /** Slot of the earliest timer (valid only when `size > 0`). */
  topSlot(): number {
    return this.#slot[this.#heap[0]];
  }

  /** Generation of the earliest timer (valid only when `size > 0`). */
  topGen(): number {
    return this.#gen[this.#heap[0]];
  }

  /** Removes the earliest timer. */
  popTop(): void {
    this.#removeAt(0);
  }

  /** Adds `deltaNs` to every pending deadline (moving timers to another clock's origin). */
  shift(deltaNs: number): void {
    for (let i = 0; i < this.#size; i++) this.#deadline[this.#heap[i]] += deltaNs;
  }

  /** Removes every pending timer of node (slot, gen); returns how many were removed. */
  removeNode(slot: number, gen: number): number {
    if (slot < 0 || slot >= this.#slotHead.length) return 0;
    let n = 0;
    for (let e = this.#slotHead[slot]; e !== -1;) {
      const next = this.#slotNext[e];
      if (this.#gen[e] === gen) {
        this.#removeAt(this.#pos[e]);
        n++;
      }
      e = next;
    }
    return n;
  }

  #growSlots(slot: number): void {
    let cap = this.#slotHead.length * 2;
    while (cap <= slot) cap *= 2;
    const head = new Int32Array(cap).fill(-1);
    head.set(this.#slotHead);
    this.#slotHead = head;
  }

  #grow(): void {
    const cap = this.#deadline.length * 2;
    const f64 = (a: Float64Array) => {
      const n = new Float64Array(cap);
      n.set(a);
      return n;
    };
    const i32 = (a: Int32Array, fill = 0) => {
      const n = new Int32Array(cap).fill(fill);
      n.set(a);
      return n;
    };
    this.#deadline = f64(this.#deadline);
    this.#seq = f64(this.#seq);
    this.#slot = i32(this.#slot);
    this.#gen = i32(this.#gen);
    this.#pos = i32(this.#pos, -1);
    this.#reuse = i32(this.#reuse);
    this.#heap = i32(this.#heap);
    this.#slotNext = i32(this.#slotNext, -1);
    this.#slotPrev = i32(this.#slotPrev, -1);
  }

  #less(a: number, b: number): boolean {
    const da = this.#deadline[a], db = this.#deadline[b];
    return da < db || (da === db && this.#seq[a] < this.#seq[b]);
  }

  #removeAt(i: number): void {
    const heap = this.#heap;
    const e = heap[i];
    this.#pos[e] = -1;
    this.#reuse[e] = (this.#reuse[e] + 1) & 0x7fffffff;
    // Unlink from the slot's list.
    const prev = this.#slotPrev[e], next = this.#slotNext[e];
    if (prev === -1) this.#slotHead[this.#slot[e]] = next;
    else this.#slotNext[prev] = next;
    if (next !== -1) this.#slotPrev[next] = prev;
    this.#free.push(e);
    const last = --this.#size;
    if (i !== last) {
      const m = heap[last];
      heap[i] = m;
      this.#pos[m] = i;
      this.#down(i);
      this.#up(this.#pos[m]);
    }
  }

  #up(i: number): void {
    const heap = this.#heap, pos = this.#pos;
    const e = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = heap[p];
      if (!this.#less(e, pe)) break;
      heap[i] = pe;
      pos[pe] = i;
      i = p;
    }
    heap[i] = e;
    pos[e] = i;
  }

  #down(i: number): void {
    const heap = this.#heap, pos = this.#pos, n = this.#size;
    const e = heap[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.#less(heap[c + 1], heap[c])) c++;
      if (!this.#less(heap[c], e)) break;
      heap[i] = heap[c];
      pos[heap[i]] = i;
      i = c;
    }
    heap[i] = e;
    pos[e] = i;
  }
}
