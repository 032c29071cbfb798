/**
 * The shared memory of ring and value channels: one single-producer ring per producer slot, all
 * in one `SharedArrayBuffer`, with one consumer. A producer owns its slot's tail and writes cells
 * only at its tail, so there is no claim step shared with other producers: a record becomes
 * visible with one release store of the tail, a send that fails half-way publishes nothing, and
 * a producer that dies mid-write leaves nothing behind that could stall anyone. Per-producer
 * order is kept; records of different producers interleave.
 *
 * Layout (Int32 words). A 64-byte header, then per slot three 64-byte lines (so the producer's
 * and the consumer's hot words never share a cache line), then the cells:
 *
 *     header  RX_CLOSED OPEN SLOTS CAPACITY CELL_BYTES POLICY OWNER ARMED
 *     slot p  line 0: TAIL DROPPED           (written by the producer)
 *             line 1: HEAD                   (written by the consumer; CAS by a drop-oldest producer)
 *             line 2: STATE TID START_LO START_HI SPACE WAITERS
 *     cells   slot p's ring at dataByte + p * capacity * cellBytes
 *     stamps  one f64 per cell, slot p's at stampByte + p * capacity * 8 (see H_STAMP)
 *
 * Positions are free-running Int32 counters compared with `(a - b) | 0`, so they may wrap.
 *
 * Wake-ups: the consumer arms H_ARMED when it goes idle and then looks at the tails once more;
 * a producer stores its tail and then looks at H_ARMED. Both sides' stores come before their
 * loads, so either the consumer sees the record or the producer sees the arming and wakes it
 * (once, for however many producers and records follow).
 *
 * @module
 */

/** Header: set once the receiving node is gone. */
export const H_RX_CLOSED = 0;
/** Header: open senders, descriptions in flight to other threads included. */
export const H_OPEN = 1;
/** Header: producer slots. */
export const H_SLOTS = 2;
/** Header: cells per slot (a power of two). */
export const H_CAPACITY = 3;
/** Header: bytes per cell (a multiple of 8). */
export const H_CELL = 4;
/** Header: the overflow policy (POLICY_*). */
export const H_POLICY = 5;
/** Header: the consumer thread's token (see `threadToken`). */
export const H_OWNER = 6;
/**
 * Header: 1 while the consumer has nothing left to read and wants a wake-up. The first producer
 * to publish after the consumer armed it takes it (exchange to 0) and notifies the node; the
 * others publish without a notification, since the node is going to run anyway.
 */
export const H_ARMED = 7;
/**
 * Header: nonzero while the consumer's executor wants ingest stamps (data-age metrics). A
 * producer that sees it writes the ingest clock (`ingestNs`, one reading per publish) into the
 * stamp word of each cell it publishes, before the tail; the consumer reads the stamp of the
 * first record of each run it takes. Zero (the default) costs a producer one plain read.
 */
export const H_STAMP = 8;
/** Words of the header. */
export const HEADER_WORDS = 16;

/** Slot word: the producer's tail (next position to write). */
export const S_TAIL = 0;
/** Slot word: records this slot's producers dropped (drop-oldest), cumulative. */
export const S_DROPPED = 1;
/** Slot word: the consumer's head (next position to read). */
export const S_HEAD = 16;
/** Slot word: STATE_*. */
export const S_STATE = 32;
/** Slot word: the owner thread's id (Linux tid), 0 when unknown. */
export const S_TID = 33;
/** Slot words: the owner thread's start time (clock ticks since boot), low and high 31 bits. */
export const S_START_LO = 34;
/** See S_START_LO. */
export const S_START_HI = 35;
/** Slot word: futex a blocked producer waits on. */
export const S_SPACE = 36;
/** Slot word: producers blocked on S_SPACE. */
export const S_WAITERS = 37;
const SLOT_WORDS = 48;

/** Slot state: no producer. */
export const STATE_FREE = 0;
/** Slot state: a producer owns it. */
export const STATE_OPEN = 1;
/** Slot state: its producer closed; the consumer frees it once drained. */
export const STATE_CLOSED = 2;
/** Slot state: its owner thread is gone; the consumer frees it once drained. */
export const STATE_DEAD = 3;
/** Slot state: a producer is taking it (writing its thread identity). */
export const STATE_CLAIMING = 4;

/** Policy: a full ring rejects the record. */
export const POLICY_REJECT = 0;
/** Policy: a full ring drops its oldest record. */
export const POLICY_DROP = 1;
/** Policy: a producer on a full ring waits. */
export const POLICY_BLOCK = 2;

/**
 * The views and header fields of shared channel memory. Ring and conflating channels start their
 * memory with the same header (`H_*`) and keep an ingest stamp per cell; this class reads the
 * one and switches the other.
 */
export abstract class ChannelMemory {
  /** The shared memory. */
  readonly sab: SharedArrayBuffer;
  /** Control words and i32 fields. */
  readonly ctl: Int32Array;
  /** f64 fields. */
  readonly f64: Float64Array;
  /** u32 fields. */
  readonly u32: Uint32Array;
  /** Bytes. */
  readonly u8: Uint8Array;
  /** Producer slots. */
  readonly slots: number;
  /** Bytes per cell (one record). */
  readonly cellBytes: number;
  /** Index (in `f64`) of the first ingest stamp. */
  abstract readonly stampAt: number;
  /** Ingest stamps (one per cell). */
  protected abstract readonly stampCount: number;

  /** Wraps existing channel memory (its header says the geometry). */
  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.ctl = new Int32Array(sab);
    this.f64 = new Float64Array(sab, 0, sab.byteLength >>> 3);
    this.u32 = new Uint32Array(sab);
    this.u8 = new Uint8Array(sab);
    this.slots = this.ctl[H_SLOTS];
    this.cellBytes = this.ctl[H_CELL];
  }

  /**
   * Turns ingest stamps on or off (the consumer's thread). Stamps left from an earlier period
   * are cleared first (NaN: no stamp), so records published while it was off carry none; then
   * producers see `H_STAMP` and stamp each cell they publish.
   */
  setStamping(on: boolean): void {
    if (on) this.f64.fill(NaN, this.stampAt, this.stampAt + this.stampCount);
    Atomics.store(this.ctl, H_STAMP, on ? 1 : 0);
  }
}

/**
 * Allocates `bytes` of shared channel memory and writes the header every kind shares: `slots`
 * producers, `capacity` cells (or keys) of `cellBytes`, the policy, the owner thread, one open
 * sender (the one made with the channel), and the node armed (it has nothing to read yet).
 */
export function newChannelMemory(
  bytes: number,
  slots: number,
  capacity: number,
  cellBytes: number,
  policy: number,
  owner: number,
): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(bytes);
  const ctl = new Int32Array(sab);
  ctl[H_SLOTS] = slots;
  ctl[H_CAPACITY] = capacity;
  ctl[H_CELL] = cellBytes;
  ctl[H_POLICY] = policy;
  ctl[H_OWNER] = owner;
  ctl[H_OPEN] = 1;
  ctl[H_ARMED] = 1;
  return sab;
}

/** Views over one ring channel's shared memory. */
export class Rings extends ChannelMemory {
  /** Cells per slot. */
  readonly capacity: number;
  /** capacity - 1. */
  readonly mask: number;
  /** POLICY_*. */
  readonly policy: number;
  /** Byte offset of slot 0's first cell. */
  readonly dataByte: number;
  /** Index (in `f64`) of slot 0's first ingest stamp. */
  readonly stampAt: number;
  protected readonly stampCount: number;

  /** Wraps existing channel memory (its header says the geometry). */
  constructor(sab: SharedArrayBuffer) {
    super(sab);
    this.capacity = this.ctl[H_CAPACITY];
    this.mask = this.capacity - 1;
    this.policy = this.ctl[H_POLICY];
    this.dataByte = dataByte(this.slots);
    this.stampAt = (this.dataByte + this.slots * this.capacity * this.cellBytes) >>> 3;
    this.stampCount = this.slots * this.capacity;
  }

  /** Allocates channel memory for `slots` producers of `capacity` cells of `cellBytes`. */
  static create(
    slots: number,
    capacity: number,
    cellBytes: number,
    policy: number,
    owner: number,
  ): Rings {
    const bytes = dataByte(slots) + slots * capacity * (cellBytes + 8);
    return new Rings(newChannelMemory(bytes, slots, capacity, cellBytes, policy, owner));
  }

  /** Checks that `sab` holds channel memory of a sane geometry (a description from outside). */
  static valid(sab: SharedArrayBuffer): boolean {
    if (sab.byteLength < HEADER_WORDS * 4) return false;
    const ctl = new Int32Array(sab, 0, HEADER_WORDS);
    const slots = ctl[H_SLOTS], cap = ctl[H_CAPACITY], cell = ctl[H_CELL];
    return slots >= 1 && slots <= MAX_SLOTS && cap >= 2 && (cap & (cap - 1)) === 0 &&
      cell >= 8 && (cell & 7) === 0 && ctl[H_POLICY] >= 0 && ctl[H_POLICY] <= 2 &&
      dataByte(slots) + slots * cap * (cell + 8) === sab.byteLength;
  }

  /** First control word of slot `p`. */
  slotWord(p: number): number {
    return slotWord(p);
  }

  /** Byte offset of the cell of slot `p` at position `pos`. */
  cellByte(p: number, pos: number): number {
    return this.dataByte + (p * this.capacity + (pos & this.mask)) * this.cellBytes;
  }

  /** Records queued now across every slot (a snapshot). */
  get length(): number {
    let n = 0;
    for (let p = 0; p < this.slots; p++) {
      const w = this.slotWord(p);
      const d = (Atomics.load(this.ctl, w + S_TAIL) - Atomics.load(this.ctl, w + S_HEAD)) | 0;
      n += d < 0 ? 0 : d > this.capacity ? this.capacity : d;
    }
    return n;
  }

  /** Records dropped by drop-oldest producers so far, every slot together. */
  get dropped(): number {
    let n = 0;
    for (let p = 0; p < this.slots; p++) n += Atomics.load(this.ctl, this.slotWord(p) + S_DROPPED);
    return n;
  }

  /** Wakes the producers of slot `p` blocked on a full ring, if any. */
  wakeProducers(p: number): void {
    const w = this.slotWord(p);
    if (Atomics.load(this.ctl, w + S_WAITERS) !== 0) {
      Atomics.add(this.ctl, w + S_SPACE, 1);
      Atomics.notify(this.ctl, w + S_SPACE);
    }
  }

  /** Marks the receiver gone: sends report Closed, blocked producers wake. */
  closeReceiver(): void {
    Atomics.store(this.ctl, H_RX_CLOSED, 1);
    for (let p = 0; p < this.slots; p++) {
      Atomics.add(this.ctl, this.slotWord(p) + S_SPACE, 1);
      Atomics.notify(this.ctl, this.slotWord(p) + S_SPACE);
    }
  }
}

/** Most producer slots per channel. */
export const MAX_SLOTS = 1024;

/** First control word of slot `p` (the same in every kind of shared channel memory). */
export function slotWord(p: number): number {
  return HEADER_WORDS + p * SLOT_WORDS;
}

/** Byte offset just past the header and the slots' control lines. */
export function dataByte(slots: number): number {
  return (HEADER_WORDS + slots * SLOT_WORDS) * 4;
}
