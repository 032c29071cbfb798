/**
 * The scheduler: one FIFO per depth, threaded through the node table's NEXT column (an
 * intrusive list, so queueing allocates nothing), plus a bitset of non-empty depths so that
 * finding the next runnable depth is a `Math.clz32` away even when depths are far apart.
 * Execution order is fully determined: ascending depth, FIFO within a depth.
 *
 * The executor's drain loop inlines `push`/`pop` on these arrays for speed; the methods here
 * serve every other path (yields, timers, `ctx.scheduleNode`) and the tests.
 *
 * @module
 */

import { NEXT, SHIFT } from "./graph.ts";

/** Depth-bucketed FIFO queues over the node table's NEXT column. */
export class Scheduler {
  /** First queued slot per depth, -1 if empty. */
  head: Int32Array;
  /** Last queued slot per depth, -1 if empty. */
  tail: Int32Array;
  /** Bit d set when depth d's queue is non-empty. */
  bits: Int32Array;
  /** Number of queued entries across all depths. */
  pending = 0;
  /** The depth being drained; nothing may be queued below it during a drain. */
  cursor = 0;

  /** Creates a scheduler with room for `depths` depths. */
  constructor(depths = 64) {
    this.head = new Int32Array(depths).fill(-1);
    this.tail = new Int32Array(depths).fill(-1);
    this.bits = new Int32Array((depths >>> 5) + 1);
  }

  /** Number of depths with a queue. */
  get depthCapacity(): number {
    return this.head.length;
  }

  /** Makes sure depth `d` has a queue (grows by doubling). */
  ensureDepth(d: number): void {
    if (d < this.head.length) return;
    let cap = this.head.length * 2;
    while (cap <= d) cap *= 2;
    const head = new Int32Array(cap).fill(-1);
    const tail = new Int32Array(cap).fill(-1);
    const bits = new Int32Array((cap >>> 5) + 1);
    head.set(this.head);
    tail.set(this.tail);
    bits.set(this.bits);
    this.head = head;
    this.tail = tail;
    this.bits = bits;
  }

  /** Appends `slot` to the queue of depth `d`. The caller has done de-duplication. */
  push(meta: Int32Array, slot: number, d: number): void {
    // Outside a drain (between cycles, direct use) a push may land below the cursor.
    if (d < this.cursor) this.cursor = d;
    meta[(slot << SHIFT) + NEXT] = -1;
    const t = this.tail[d];
    if (t === -1) {
      this.head[d] = slot;
      this.bits[d >>> 5] |= 1 << (d & 31);
    } else {
      meta[(t << SHIFT) + NEXT] = slot;
    }
    this.tail[d] = slot;
    this.pending++;
  }

  /** Removes and returns the first slot of the lowest non-empty depth, or -1. */
  pop(meta: Int32Array): number {
    if (this.pending === 0) return -1;
    const d = nextNonEmpty(this.bits, this.cursor);
    this.cursor = d;
    const slot = this.head[d];
    const nx = meta[(slot << SHIFT) + NEXT];
    this.head[d] = nx;
    if (nx === -1) {
      this.tail[d] = -1;
      this.bits[d >>> 5] &= ~(1 << (d & 31));
    }
    this.pending--;
    return slot;
  }

  /** Empties every queue. */
  clear(): void {
    const { head, tail, bits } = this;
    for (let w = 0; w < bits.length; w++) {
      let word = bits[w];
      while (word !== 0) {
        const b = 31 - Math.clz32(word & -word);
        word &= word - 1;
        const d = (w << 5) + b;
        head[d] = -1;
        tail[d] = -1;
      }
      bits[w] = 0;
    }
    this.pending = 0;
    this.cursor = 0;
  }

  /** Calls `fn(slot, depth)` for every queued entry in execution order (no removal). */
  forEachQueued(meta: Int32Array, fn: (slot: number, depth: number) => void): void {
    const { head, bits } = this;
    for (let w = 0; w < bits.length; w++) {
      let word = bits[w];
      while (word !== 0) {
        const b = 31 - Math.clz32(word & -word);
        word &= word - 1;
        const d = (w << 5) + b;
        for (let s = head[d]; s !== -1; s = meta[(s << SHIFT) + NEXT]) fn(s, d);
      }
    }
  }

  /** Removes the queued entries for which `drop(slot)` is true, keeping the others' order. */
  filter(meta: Int32Array, drop: (slot: number) => boolean): void {
    const { head, tail, bits } = this;
    for (let w = 0; w < bits.length; w++) {
      let word = bits[w];
      while (word !== 0) {
        const b = 31 - Math.clz32(word & -word);
        word &= word - 1;
        const d = (w << 5) + b;
        let prev = -1;
        for (let s = head[d]; s !== -1;) {
          const nx = meta[(s << SHIFT) + NEXT];
          if (drop(s)) {
            if (prev === -1) head[d] = nx;
            else meta[(prev << SHIFT) + NEXT] = nx;
            if (tail[d] === s) tail[d] = prev;
            this.pending--;
          } else {
            prev = s;
          }
          s = nx;
        }
        if (head[d] === -1) bits[w] &= ~(1 << b);
      }
    }
  }
}

/**
 * The lowest depth >= `d` whose bit is set. The caller guarantees one exists (pending > 0 and
 * nothing is ever queued below the cursor).
 */
export function nextNonEmpty(bits: Int32Array, d: number): number {
  let w = d >>> 5;
  let word = bits[w] & (-1 << (d & 31));
  while (word === 0) word = bits[++w];
  return (w << 5) + (31 - Math.clz32(word & -word));
}
