/**
 * Cross-thread notifications: a lossless queue in a `SharedArrayBuffer`.
 *
 * Each notifier owns an index in a fixed table. The table's pending word for an index holds the
 * generation of the notifier that has a notification outstanding (0: none). A notifier only
 * appends its index to the ring when it moves the pending word from 0 to its generation, so an
 * index is in the ring at most once and the ring (capacity = table size) can never overflow.
 * The consumer pops an index, swaps its pending word back to 0, and schedules the node only if
 * the word held the generation currently registered for that index: a notification from a
 * notifier of a removed node (an older generation) is dropped, and a newer notifier that finds
 * an older generation pending takes the pending word over instead of being lost.
 *
 * Wake-ups: a consumer about to block sets PARKED and re-checks the ring; a producer that
 * published and then sees PARKED clears it and wakes the consumer once (eventfd write in the
 * native backend, `Atomics.notify` otherwise). A spinning consumer costs producers no syscall.
 * A producer counts itself in WRITERS around the wake-up and skips it once CLOSED is set, so
 * the consumer can close its wake eventfd at shutdown without a stale notifier (a Worker that
 * kept its copy) ever writing into the number after the kernel hands it to another file.
 *
 * Stamps (for the notify-to-run latency metric): while the consumer sets STAMPING, a producer
 * that publishes an index first writes {@linkcode stampNow} into the index's stamp word; the
 * consumer reads it back as it drains the index. Off by default: a notify then costs one more
 * load and no clock read.
 *
 * @module
 */

import { describe } from "../core/validate.ts";
import { eventfdWaker } from "../runtime/backend.ts";
import { CapacityError, ErrorCode, InvalidArgumentError, WaveletError } from "../core/errors.ts";

/** Word indices of the header. */
const HEAD = 0;
const TAIL = 1;
const PARKED = 2;
const CLOSED = 3;
/** Futex word for consumers that wait with `Atomics.wait(Async)` (the pure-JS backend). */
export const WAKE_WORD = 4;
/** Producers inside a wake-up: the consumer closes its wake eventfd only once this is 0. */
const WRITERS = 5;
/** Nonzero while the consumer wants producers to stamp their notifications. */
const STAMPING = 6;
const HEADER = 8;
/** Words per notifier index: its ring cell, pending word, generation and stamp. */
const WORDS_PER_INDEX = 4;

/** The capacity of a notification area's memory, or 0 if `sab` is not one. */
function areaCapacity(sab: unknown): number {
  if (!(sab instanceof SharedArrayBuffer) || sab.byteLength % 4 !== 0) return 0;
  const cap = ((sab.byteLength >>> 2) - HEADER) / WORDS_PER_INDEX;
  return Number.isInteger(cap) && cap >= 1 && (cap & (cap - 1)) === 0 ? cap : 0;
}

function forged(why: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `Not a notifier of this area: ${why} (rebuild notifiers with Notifier.fromTransferable)`,
  );
}

const NO_WAKER: Waker = { wake() {} };

/** A stamp word that holds no stamp ({@linkcode stampNow} never returns it). */
const UNSTAMPED = -0x80000000;
/** Stamp units per millisecond: 2^14 (one unit is about 61 ns). */
export const STAMP_UNITS_PER_MS = 16384;
/**
 * This thread's time origin modulo 2^18 ms. 2^18 ms is 2^32 stamp units, so stamps taken on
 * different threads (each with its own `performance.timeOrigin`) agree modulo 2^32, while the
 * sum stays small enough for `performance.now()`'s sub-microsecond resolution to survive.
 */
const ORIGIN_MOD = performance.timeOrigin % 2 ** 18;

/**
 * The shared stamp clock: `performance.timeOrigin + performance.now()` in units of 2^-14 ms,
 * modulo 2^32 as an int32. The difference of two stamps, taken with `(b - a) | 0`, is exact
 * for intervals up to about 131 s, whichever threads of the process took them (their clocks
 * agree to within a few microseconds).
 */
export function stampNow(): number {
  const t = ((ORIGIN_MOD + performance.now()) * STAMP_UNITS_PER_MS) | 0;
  return t === UNSTAMPED ? t + 1 : t; // one unit off, once in 2^32
}

/** What {@linkcode NotifyQueue.drainingStamp} holds outside a stamped drain. */
export const NO_STAMP = 0x7fffffff + 1; // not an int32: no stamp can equal it

/**
 * How a producer wakes a parked consumer.
 *
 * @example A waker that counts its wake-ups
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { AtomicsWaker, type Waker } from "./notify.ts";
 *
 * class CountingWaker implements Waker {
 *   count = 0;
 *   readonly #inner: Waker;
 *   constructor(inner: Waker) {
 *     this.#inner = inner;
 *   }
 *   wake(): void {
 *     this.count++;
 *     this.#inner.wake();
 *   }
 * }
 * const rt = new TestRuntime();
 * const node = new NodeBuilder(0).build(rt.executor, () => false);
 * const { sab } = rt.executor.registerNotifier(node).toTransferable();
 * const waker = new CountingWaker(new AtomicsWaker(sab));
 * waker.wake();
 * if (waker.count !== 1) throw new Error("one wake-up");
 * ```
 */
export interface Waker {
  /** Wakes the consumer; must be safe to call from any thread. */
  wake(): void;
}

/**
 * A plain, structured-cloneable description of a notifier, to post to a Worker.
 *
 * @example A notifier through structured clone
 * ```ts
 * import { NodeBuilder, Notifier, type NotifierTransferable, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * let runs = 0;
 * const node = new NodeBuilder(0).build(rt.executor, () => {
 *   runs++;
 * });
 * const t: NotifierTransferable = rt.executor.registerNotifier(node).toTransferable();
 * // What a Worker receives from postMessage(t): a structured clone sharing the same memory.
 * const received: NotifierTransferable = structuredClone(t);
 * Notifier.fromTransferable(received).notify();
 * rt.runOneCycle();
 * if (received.kind !== "wavelet.notifier" || runs !== 1) throw new Error("the node ran");
 * ```
 */
export interface NotifierTransferable {
  /** Marks the object's kind. */
  readonly kind: "wavelet.notifier";
  /** The executor's shared notification area. */
  readonly sab: SharedArrayBuffer;
  /** The notifier's index. */
  readonly index: number;
  /** The notifier's generation. */
  readonly gen: number;
  /** How to wake the consumer: an eventfd number (same process) or -1 for Atomics. */
  readonly wakeFd: number;
}

/**
 * A waker that uses `Atomics.notify` on the area's WAKE word.
 *
 * @example Waking a consumer parked on the area
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { AtomicsWaker } from "./notify.ts";
 *
 * const rt = new TestRuntime();
 * const node = new NodeBuilder(0).build(rt.executor, () => false);
 * const { sab } = rt.executor.registerNotifier(node).toTransferable();
 * const before = Int32Array.from(new Int32Array(sab));
 * new AtomicsWaker(sab).wake(); // safe from any thread
 * const changed = new Int32Array(sab).some((v, i) => v !== before[i]);
 * if (!changed) throw new Error("wake() bumps the wake word");
 * ```
 */
export class AtomicsWaker implements Waker {
  readonly #i32: Int32Array;
  /**
   * Creates a waker over a notification area.
   *
   * @throws {InvalidArgumentError} If `sab` is not a notification area's memory.
   */
  constructor(sab: SharedArrayBuffer) {
    if (areaCapacity(sab) === 0) {
      throw new InvalidArgumentError(
        `An AtomicsWaker needs a notification area's SharedArrayBuffer, got ${describe(sab)}`,
      );
    }
    this.#i32 = new Int32Array(sab);
  }
  /** Bumps the WAKE word and wakes its waiters. */
  wake(): void {
    Atomics.add(this.#i32, WAKE_WORD, 1);
    Atomics.notify(this.#i32, WAKE_WORD);
  }
}

/**
 * Notifying through a notifier whose executor has shut down.
 *
 * @example Notifying after shutdown
 * ```ts
 * import { NodeBuilder, NotifierClosedError, RealtimeRuntime } from "@wavelet/wavelet";
 *
 * const rt = new RealtimeRuntime();
 * const node = new NodeBuilder(0).build(rt.executor, () => false);
 * const notifier = rt.executor.registerNotifier(node);
 * rt.shutdown();
 * let caught: unknown;
 * try {
 *   notifier.notify();
 * } catch (e) {
 *   caught = e;
 * }
 * if (!notifier.isClosed || !(caught instanceof NotifierClosedError)) {
 *   throw new Error("expected a NotifierClosedError");
 * }
 * ```
 */
export class NotifierClosedError extends WaveletError {
  /** `NOTIFIER_CLOSED` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.NotifierClosed;
}

/**
 * Wakes one node of an executor from any thread: the node runs in the executor's next cycle
 * (once, however many notifications arrived since its last run). Publish the data first, then
 * call {@linkcode Notifier.notify}.
 *
 * A notifier is cheap to copy to a Worker: post `notifier.toTransferable()` and rebuild it there
 * with `Notifier.fromTransferable(t)` (the Worker imports the same module).
 *
 * @example Notifying from the same thread
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * let runs = 0;
 * const node = new NodeBuilder(0).build(rt.executor, () => {
 *   runs++;
 *   return false;
 * });
 * const notifier = rt.executor.registerNotifier(node);
 * notifier.notify();
 * notifier.notify();
 * rt.runOneCycle(); // runs === 1
 * ```
 */
export class Notifier {
  readonly #i32: Int32Array;
  readonly #index: number;
  readonly #gen: number;
  readonly #mask: number;
  readonly #pendingBase: number;
  readonly #stampBase: number;
  readonly #waker: Waker;
  readonly #wakeFd: number;

  /** @internal Use `executor.registerNotifier(node)` or `Notifier.fromTransferable(t)`. */
  constructor(sab: SharedArrayBuffer, index: number, gen: number, waker: Waker, wakeFd: number) {
    const cap = areaCapacity(sab);
    if (cap === 0) throw forged("its memory is not a notification area");
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= cap) {
      throw forged(`index ${describe(index)} is not in [0, ${cap})`);
    }
    if (typeof gen !== "number" || !Number.isInteger(gen) || gen < 1 || gen > 0x7fffffff) {
      throw forged(`generation ${describe(gen)} is not a positive int32`);
    }
    const i32 = new Int32Array(sab);
    // The area holds the generation each index was last handed out with: a generation it
    // never issued is a forgery (an older one is a stale notifier, whose notify() does nothing).
    if (gen > Atomics.load(i32, HEADER + 2 * cap + index)) {
      throw forged(`index ${index} was never issued with generation ${gen}`);
    }
    let wakeOk = false;
    try {
      wakeOk = waker !== null && typeof waker === "object" && typeof waker.wake === "function";
    } catch {
      // A waker whose properties throw is no waker.
    }
    if (!wakeOk) throw forged("its waker has no wake() method");
    if (
      typeof wakeFd !== "number" || !Number.isInteger(wakeFd) || wakeFd < -1 ||
      wakeFd > 0x7fffffff
    ) {
      throw forged(`wakeFd ${describe(wakeFd)} is not an fd or -1`);
    }
    this.#i32 = i32;
    this.#mask = cap - 1;
    this.#pendingBase = HEADER + cap;
    this.#stampBase = HEADER + 3 * cap;
    this.#index = index;
    this.#gen = gen;
    this.#waker = waker;
    this.#wakeFd = wakeFd;
  }

  /**
   * Rebuilds a notifier from {@linkcode Notifier.toTransferable}'s output, on any thread.
   *
   * @throws {InvalidArgumentError} If `t` is not a notifier description.
   */
  static fromTransferable(t: NotifierTransferable): Notifier {
    let d: NotifierTransferable | null = null;
    try {
      if (t !== null && typeof t === "object") {
        d = { kind: t.kind, sab: t.sab, index: t.index, gen: t.gen, wakeFd: t.wakeFd };
      }
    } catch {
      // A description whose fields throw is no description.
    }
    if (d === null || d.kind !== "wavelet.notifier" || !(d.sab instanceof SharedArrayBuffer)) {
      throw new InvalidArgumentError(
        "Not a notifier description (expected the result of notifier.toTransferable())",
      );
    }
    // Checked before a waker is made for its fd: a forged description never writes an fd.
    new Notifier(d.sab, d.index, d.gen, NO_WAKER, d.wakeFd);
    const waker = d.wakeFd >= 0 ? eventfdWaker(d.wakeFd) : new AtomicsWaker(d.sab);
    return new Notifier(d.sab, d.index, d.gen, waker, d.wakeFd);
  }

  /** A structured-cloneable description to post to a Worker. */
  toTransferable(): NotifierTransferable {
    return {
      kind: "wavelet.notifier",
      sab: this.#i32.buffer as SharedArrayBuffer,
      index: this.#index,
      gen: this.#gen,
      wakeFd: this.#wakeFd,
    };
  }

  /** True once the executor's notification area was closed (runtime shut down). */
  get isClosed(): boolean {
    return Atomics.load(this.#i32, CLOSED) !== 0;
  }

  /**
   * Marks the node for the executor's next cycle and wakes a parked executor. Safe from any
   * thread; never blocks; never loses a notification while the node lives.
   *
   * @throws {NotifierClosedError} If the executor shut down.
   */
  notify(): void {
    const a = this.#i32, p = this.#pendingBase + this.#index, gen = this.#gen;
    if (Atomics.load(a, CLOSED) !== 0) {
      throw new NotifierClosedError(
        "Cannot notify: the executor's runtime has shut down",
      );
    }
    for (;;) {
      const v = Atomics.load(a, p);
      if (v === gen) return; // already pending
      if (v === 0) {
        if (Atomics.compareExchange(a, p, 0, gen) !== 0) continue;
        // Stamped before the index is published, so the consumer reads it after the pop.
        if (Atomics.load(a, STAMPING) !== 0) {
          Atomics.store(a, this.#stampBase + this.#index, stampNow());
        }
        const pos = Atomics.add(a, TAIL, 1);
        Atomics.store(a, HEADER + (pos & this.#mask), this.#index + 1);
        if (Atomics.load(a, PARKED) !== 0 && Atomics.exchange(a, PARKED, 0) !== 0) {
          // Announce the write before checking CLOSED: a consumer that closes the area and
          // then sees WRITERS at 0 knows no wake-up can reach its eventfd any more (both
          // sides use sequentially consistent atomics).
          Atomics.add(a, WRITERS, 1);
          try {
            if (Atomics.load(a, CLOSED) === 0) this.#waker.wake();
          } finally {
            Atomics.sub(a, WRITERS, 1);
          }
        }
        return;
      }
      if (v > gen) return; // a newer notifier owns the index: this one is stale
      if (Atomics.compareExchange(a, p, v, gen) === v) return; // take over an older pending
    }
  }
}

/**
 * The consumer side, owned by one executor on its thread: allocates notifier indices, drains
 * the ring into the scheduler, and implements the park protocol.
 */
export class NotifyQueue {
  /** The shared area. */
  readonly sab: SharedArrayBuffer;
  /** Int32 view over the area. */
  readonly i32: Int32Array;
  /** Ring and table size (a power of two). */
  readonly capacity: number;
  readonly #slot: Int32Array;
  readonly #slotGen: Int32Array;
  readonly #gen: Int32Array;
  readonly #free: number[] = [];
  #next = 0;
  #head = 0;
  #stamping = false;
  /**
   * While {@linkcode NotifyQueue.drain} schedules a node and stamping is on: the stamp its
   * notifier wrote ({@linkcode stampNow} units); {@linkcode NO_STAMP} at any other time.
   */
  drainingStamp: number = NO_STAMP;

  /**
   * Creates an area for up to `capacity` live notifiers (rounded up to a power of two).
   *
   * @throws {InvalidArgumentError} If `capacity` is not a positive integer up to 2^24.
   */
  constructor(capacity = 4096) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 24) {
      throw new InvalidArgumentError(
        `Notifier capacity must be an integer in [1, 2^24], got ${describe(capacity)}`,
      );
    }
    let cap = 1;
    while (cap < capacity) cap *= 2;
    this.capacity = cap;
    // Header, the queue of indices, the pending words, the generation and stamp of each index.
    this.sab = new SharedArrayBuffer((HEADER + WORDS_PER_INDEX * cap) * 4);
    this.i32 = new Int32Array(this.sab);
    this.#slot = new Int32Array(cap).fill(-1);
    this.#slotGen = new Int32Array(cap);
    this.#gen = new Int32Array(this.sab, (HEADER + 2 * cap) * 4, cap);
  }

  /** Number of indices handed out and not released. */
  get liveCount(): number {
    return this.#next - this.#free.length;
  }

  /**
   * Turns notification stamps on or off (see {@linkcode NotifyQueue.drainingStamp}). While on,
   * every notify that publishes reads the clock once.
   */
  setStamping(on: boolean): void {
    if (on === this.#stamping) return;
    if (on) {
      // Words stamped while stamping was off are stale: they must not read as stamps.
      const base = HEADER + 3 * this.capacity;
      for (let i = 0; i < this.capacity; i++) Atomics.store(this.i32, base + i, UNSTAMPED);
    }
    this.#stamping = on;
    Atomics.store(this.i32, STAMPING, on ? 1 : 0);
  }

  /**
   * Allocates an index for node (slot, slotGen); returns `[index, gen]`.
   *
   * @throws {CapacityError} If every index is in use.
   */
  allocate(slot: number, slotGen: number): [number, number] {
    let i: number;
    if (this.#free.length > 0) i = this.#free.pop()!;
    else if (this.#next < this.capacity) i = this.#next++;
    else {
      throw new CapacityError(
        `Cannot register more than ${this.capacity} live notifiers on one executor`,
      );
    }
    const gen = (this.#gen[i] + 1) & 0x7fffffff || 1;
    Atomics.store(this.#gen, i, gen);
    this.#slot[i] = slot;
    this.#slotGen[i] = slotGen;
    return [i, gen];
  }

  /** Releases an index (its node left the graph); later notifications through it are dropped. */
  release(index: number): void {
    this.#slot[index] = -1;
    this.#free.push(index);
  }

  /** True if a notification is waiting in the ring. */
  hasPending(): boolean {
    return Atomics.load(this.i32, TAIL) !== this.#head;
  }

  /**
   * Drains published notifications, calling `schedule(slot, slotGen)` for each live one.
   * Returns how many entries were consumed.
   */
  drain(schedule: (slot: number, slotGen: number) => unknown): number {
    const a = this.i32, mask = this.capacity - 1, pendingBase = HEADER + this.capacity;
    const stampBase = this.#stamping ? HEADER + 3 * this.capacity : -1;
    let head = this.#head, n = 0;
    const tail = Atomics.load(a, TAIL);
    while (head !== tail) {
      const at = HEADER + (head & mask);
      const v = Atomics.load(a, at);
      if (v === 0) break; // reserved but not yet written: its producer will wake us
      Atomics.store(a, at, 0);
      head = (head + 1) | 0;
      n++;
      const i = v - 1;
      // The stamp word is the publishing producer's until the pending word goes back to 0
      // (only a producer that moves it from 0 stamps), so it is taken first.
      const stamp = stampBase < 0 ? UNSTAMPED : Atomics.exchange(a, stampBase + i, UNSTAMPED);
      const g = Atomics.exchange(a, pendingBase + i, 0);
      if (g !== 0 && g === this.#gen[i] && this.#slot[i] >= 0) {
        if (stampBase < 0) schedule(this.#slot[i], this.#slotGen[i]);
        else {
          this.drainingStamp = stamp === UNSTAMPED ? NO_STAMP : stamp;
          try {
            schedule(this.#slot[i], this.#slotGen[i]);
          } finally {
            this.drainingStamp = NO_STAMP;
          }
        }
      }
    }
    this.#head = head;
    Atomics.store(a, HEAD, head);
    return n;
  }

  /**
   * Announces that the consumer is about to block. Returns false (and stays unparked) if a
   * notification arrived meanwhile, in which case the consumer must not block.
   */
  park(): boolean {
    Atomics.store(this.i32, PARKED, 1);
    if (this.hasPending()) {
      Atomics.store(this.i32, PARKED, 0);
      return false;
    }
    return true;
  }

  /** Clears the parked flag after a wait. */
  unpark(): void {
    Atomics.store(this.i32, PARKED, 0);
  }

  /** Closes the area: every later `notify()` throws {@linkcode NotifierClosedError}. */
  close(): void {
    Atomics.store(this.i32, CLOSED, 1);
  }

  /**
   * After {@linkcode NotifyQueue.close}: waits up to `timeoutMs` for producers that are still
   * inside a wake-up. Returns true when none is (the wake eventfd may be closed), false when
   * one still was at the deadline (a Worker stopped or starved in the middle of `notify()`).
   */
  drainWriters(timeoutMs: number): boolean {
    const a = this.i32;
    for (let spins = 0; spins < 1000; spins++) {
      if (Atomics.load(a, WRITERS) === 0) return true;
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const w = Atomics.load(a, WRITERS);
      if (w === 0) return true;
      if (Date.now() >= deadline) return false;
      // Nobody notifies this word: a short timed wait is a sleep between checks.
      Atomics.wait(a, WRITERS, w, 1);
    }
  }
}
