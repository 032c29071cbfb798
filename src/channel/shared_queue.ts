/**
 * A bounded multi-producer queue of fixed-size cells in a `SharedArrayBuffer` (Vyukov's
 * sequence-numbered ring). Producers and the consumer claim cells with one compare-and-swap on
 * their position and publish them through the cell's sequence word, so no side ever takes a
 * lock; a cell's bytes belong to exactly one thread between the claim and the publication.
 * Dropping the oldest item on overflow is a producer-side dequeue, which the algorithm allows.
 *
 * @module
 */

/** Header words. */
const HEAD = 0;
const TAIL = 1;
const RX_CLOSED = 2;
const SENDERS = 3;
const DROPPED = 4;
/** Futex word producers blocked on a full queue wait on. */
const SPACE = 5;
const WAITERS = 6;
const HEADER_WORDS = 8;

/**
 * What a send did.
 *
 * @example Branching on the send result
 * ```ts
 * import { NodeBuilder, SendStatus, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const [node, tx] = new NodeBuilder(0).buildWithChannel(
 *   rt.executor,
 *   { kind: "local", capacity: 1 },
 *   () => false,
 * );
 * const first = tx.trySend("a");
 * const second = tx.trySend("b"); // the reject policy: full
 * node.remove();
 * const third = tx.trySend("c"); // the receiver is gone
 * if (first !== SendStatus.Sent || second !== SendStatus.Full || third !== SendStatus.Closed) {
 *   throw new Error("expected Sent, Full, Closed");
 * }
 * ```
 */
export const SendStatus = {
  /** The item is queued. */
  Sent: 0,
  /** The queue is full; the item was not queued (reject policy, or block timed out). */
  Full: 1,
  /** The receiver is gone; the item was not queued. */
  Closed: 2,
} as const;
/** A value of {@linkcode SendStatus}. */
export type SendStatus = typeof SendStatus[keyof typeof SendStatus];

/**
 * What a receive found.
 *
 * @example Branching on the receive result
 * ```ts
 * import { defineRecord, NodeBuilder, RecvStatus, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const seen: number[] = [];
 * const out = { n: 0 };
 * const [, tx] = new NodeBuilder(0).buildWithChannel(
 *   rt.executor,
 *   { kind: "ring", record: defineRecord({ n: "i32" }), capacity: 4 },
 *   (_self, _ctx, rx) => {
 *     for (;;) {
 *       const s = rx.tryRecv(out);
 *       if (s === RecvStatus.Item) seen.push(out.n);
 *       else {
 *         if (s === RecvStatus.Closed) seen.push(-1);
 *         return false;
 *       }
 *     }
 *   },
 * );
 * tx.trySend({ n: 5 });
 * tx.close();
 * rt.runOneCycle();
 * if (seen.join() !== "5,-1") throw new Error("an item, then Closed");
 * ```
 */
export const RecvStatus = {
  /** Nothing queued right now. */
  Empty: 0,
  /** An item was received. */
  Item: 1,
  /** Nothing queued and every sender closed: nothing will ever come. */
  Closed: 2,
} as const;
/** A value of {@linkcode RecvStatus}. */
export type RecvStatus = typeof RecvStatus[keyof typeof RecvStatus];

/** The views over one shared queue. */
export class SharedQueue {
  /** The shared memory. */
  readonly sab: SharedArrayBuffer;
  /** Cells (a power of two). */
  readonly capacity: number;
  /** Bytes per cell (a multiple of 8). */
  readonly cellBytes: number;
  /** Byte offset of cell 0's payload. */
  readonly dataOffset: number;
  /** Header and sequence words. */
  readonly ctl: Int32Array;
  readonly #mask: number;

  /**
   * Wraps existing shared memory (`sab` given) or allocates a queue.
   *
   * @param capacity Cells, a power of two.
   * @param cellBytes Payload bytes per cell, a multiple of 8.
   * @param sab Existing memory (when rebuilding on another thread).
   */
  constructor(capacity: number, cellBytes: number, sab?: SharedArrayBuffer) {
    this.capacity = capacity;
    this.cellBytes = cellBytes;
    this.#mask = capacity - 1;
    const ctlBytes = (HEADER_WORDS + capacity) * 4;
    this.dataOffset = (ctlBytes + 7) & ~7;
    if (sab === undefined) {
      sab = new SharedArrayBuffer(this.dataOffset + capacity * cellBytes);
      const ctl = new Int32Array(sab, 0, HEADER_WORDS + capacity);
      for (let i = 0; i < capacity; i++) ctl[HEADER_WORDS + i] = i;
      ctl[SENDERS] = 1;
    }
    this.sab = sab;
    this.ctl = new Int32Array(sab, 0, HEADER_WORDS + capacity);
  }

  /** Items queued now (a snapshot). */
  get length(): number {
    const n = (Atomics.load(this.ctl, TAIL) - Atomics.load(this.ctl, HEAD)) | 0;
    return n < 0 ? 0 : n > this.capacity ? this.capacity : n;
  }

  /** Items dropped by the drop-oldest policy so far. */
  get dropped(): number {
    return Atomics.load(this.ctl, DROPPED);
  }

  /** True once the receiver is gone. */
  get receiverClosed(): boolean {
    return Atomics.load(this.ctl, RX_CLOSED) !== 0;
  }

  /** Open senders. */
  get senders(): number {
    return Atomics.load(this.ctl, SENDERS);
  }

  /**
   * Claims a free cell; returns its index, -1 when full, -2 when the receiver is gone. The
   * caller writes the payload and then calls {@linkcode SharedQueue.publish}.
   */
  claim(): number {
    const ctl = this.ctl, mask = this.#mask;
    if (Atomics.load(ctl, RX_CLOSED) !== 0) return -2;
    for (;;) {
      const pos = Atomics.load(ctl, TAIL);
      const i = pos & mask;
      const dif = (Atomics.load(ctl, HEADER_WORDS + i) - pos) | 0;
      if (dif === 0) {
        if (Atomics.compareExchange(ctl, TAIL, pos, (pos + 1) | 0) === pos) return i;
      } else if (dif < 0) {
        return -1;
      }
    }
  }

  /** Publishes a claimed cell (its position is recovered from the cell's sequence word). */
  publish(i: number): void {
    const ctl = this.ctl;
    Atomics.store(ctl, HEADER_WORDS + i, (Atomics.load(ctl, HEADER_WORDS + i) + 1) | 0);
  }

  /**
   * Takes the oldest published cell; returns its index or -1 when none is ready. The caller
   * reads the payload and then calls {@linkcode SharedQueue.release}.
   */
  take(): number {
    const ctl = this.ctl, mask = this.#mask;
    for (;;) {
      const pos = Atomics.load(ctl, HEAD);
      const i = pos & mask;
      const dif = (Atomics.load(ctl, HEADER_WORDS + i) - ((pos + 1) | 0)) | 0;
      if (dif === 0) {
        if (Atomics.compareExchange(ctl, HEAD, pos, (pos + 1) | 0) === pos) return i;
      } else if (dif < 0) {
        return -1;
      }
    }
  }

  /** Frees a taken cell for producers, and wakes producers blocked on a full queue. */
  release(i: number): void {
    const ctl = this.ctl;
    // The sequence word holds pos + 1 while taken; pos + capacity frees it for the next lap.
    Atomics.store(
      ctl,
      HEADER_WORDS + i,
      (Atomics.load(ctl, HEADER_WORDS + i) - 1 + this.capacity) | 0,
    );
    if (Atomics.load(ctl, WAITERS) !== 0) {
      Atomics.add(ctl, SPACE, 1);
      Atomics.notify(ctl, SPACE);
    }
  }

  /** Drops the oldest item to make room (drop-oldest policy); returns whether one was dropped. */
  dropOldest(): boolean {
    const i = this.take();
    if (i < 0) return false;
    this.release(i);
    Atomics.add(this.ctl, DROPPED, 1);
    return true;
  }

  /**
   * Blocks the calling thread until a cell may be free, the receiver closes, or `untilMs`
   * (a `performance.now()` instant) passes. Returns false on timeout.
   */
  waitForSpace(untilMs: number): boolean {
    const ctl = this.ctl;
    Atomics.add(ctl, WAITERS, 1);
    try {
      const seen = Atomics.load(ctl, SPACE);
      if (this.length < this.capacity || Atomics.load(ctl, RX_CLOSED) !== 0) return true;
      const left = untilMs - performance.now();
      if (left <= 0) return false;
      return Atomics.wait(ctl, SPACE, seen, left === Infinity ? undefined : left) !== "timed-out";
    } finally {
      Atomics.sub(ctl, WAITERS, 1);
    }
  }

  /** Marks the receiver gone: sends fail with `Closed`, blocked producers wake. */
  closeReceiver(): void {
    Atomics.store(this.ctl, RX_CLOSED, 1);
    Atomics.add(this.ctl, SPACE, 1);
    Atomics.notify(this.ctl, SPACE);
  }

  /** Registers one more sender (a transferable about to be rebuilt). */
  addSender(): void {
    Atomics.add(this.ctl, SENDERS, 1);
  }

  /** Closes one sender; returns true if it was the last one. */
  closeSender(): boolean {
    return Atomics.sub(this.ctl, SENDERS, 1) === 1;
  }
}

/** Rounds up to a power of two (at least 2). */
export function powerOfTwo(n: number): number {
  let c = 2;
  while (c < n) c *= 2;
  return c;
}
