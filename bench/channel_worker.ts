/**
 * Producer Worker for `bench/channel_bench.ts`. One module for every contender; the Worker is
 * reused across runs (each start message is one run).
 *
 * Per run: rebuild the transport from the start message, post `{ t: "ready" }`, block on the GO
 * word, then send.
 * - `tput` (throughput): send `count` records `{ seq: i, px: i * 0.5 + producer, qty: producer }`
 *   as fast as the transport accepts them;
 * - `lat` (latency): per record, wait for the consumer's acknowledgement of the previous one
 *   (spin on the ACK word), sleep a random 20-100 us gap (`Atomics.wait` with a timeout), stamp
 *   the native monotonic clock (`backend.monotonicNs()`, the same CLOCK_MONOTONIC the main
 *   thread reads) into `px`, and send.
 *
 * Transports:
 * - `ring`: a wavelet `RingSender` rebuilt with `RingSender.fromTransferable` (Block policy:
 *   `trySend` blocks this Worker while the ring is full); closed at the end. `root` names the
 *   checkout whose `src/channel/channel.ts` it comes from (another checkout for a before/after
 *   comparison); default this one;
 * - `ring_batch`: the same sender, records written `batch` at a time into columns (one reused
 *   set from `recordColumns`) and sent with `trySendColumns`: nothing allocated per record;
 * - `post`: one `postMessage({ seq, px, qty })` per record;
 * - `batch`: `postMessage` of arrays of `batch` record objects (the last one may be shorter);
 * - `sab`: the hand-written peer, one single-producer ring per producer in one
 *   SharedArrayBuffer (layout below, mirrored in `bench/channel_bench.ts`), a sleeping flag the
 *   consumer sets before `Atomics.waitAsync`, and a futex word this Worker waits on when full;
 * - `sab_batch`: the same peer publishing `batch` records (or as many as fit) with one store of
 *   its tail and one look at the sleeping flag.
 *
 * At the end the Worker posts `{ t: "done", sent, stuck }`.
 *
 * @module
 */

import { loadBackend } from "../native.ts";
import { type RingSender, SendStatus, type SharedSenderTransferable } from "../channel.ts";

// Control words (a small SharedArrayBuffer per run; the same constants are in channel_bench.ts).
const GO = 0;
const ACK = 1;
const STUCK = 2;

// The SAB peer's layout, in Int32 words (each word on its own 64-byte line).
const P_WAKE = 0;
const P_SLEEPING = 16;
const P_SPACE = 32;
const P_SPACE_WAITERS = 48;
const pHead = (p: number) => 64 + 32 * p;
const pTail = (p: number) => 80 + 32 * p;
const pDataByte = (producers: number) => (64 + 32 * producers) * 4;
const CELL = 16; // f64 px at +0, i32 seq at +8, u32 qty at +12

/** The start message of one run. */
export interface ChannelWorkerStart {
  transport: "ring" | "ring_batch" | "post" | "batch" | "sab" | "sab_batch";
  test: "tput" | "lat";
  ctl: SharedArrayBuffer;
  producer: number;
  producers: number;
  count: number;
  seed: number;
  batch?: number;
  sender?: SharedSenderTransferable;
  peer?: SharedArrayBuffer;
  peerCapacity?: number;
  /** The checkout the ring sender comes from (default: this one). */
  root?: string;
}

/** This module runs as a Worker: its global scope is a worker scope. */
const scope = self as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};

/** The producer half of the hand-written peer queue. */
class PeerProducer {
  readonly ctl: Int32Array;
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly head: number;
  readonly tailWord: number;
  readonly base: number;
  readonly cap: number;
  tail = 0;
  cachedHead = 0;

  constructor(sab: SharedArrayBuffer, producer: number, producers: number, cap: number) {
    this.ctl = new Int32Array(sab);
    this.f64 = new Float64Array(sab);
    this.i32 = this.ctl;
    this.u32 = new Uint32Array(sab);
    this.head = pHead(producer);
    this.tailWord = pTail(producer);
    this.base = pDataByte(producers) + producer * cap * CELL;
    this.cap = cap;
    this.tail = Atomics.load(this.ctl, this.tailWord);
    this.cachedHead = Atomics.load(this.ctl, this.head);
  }

  /** Blocks while the ring is full (up to `giveUpNs`); returns false if it gave up. */
  send(seq: number, px: number, qty: number): boolean {
    const ctl = this.ctl, t = this.tail;
    if (t - this.cachedHead >= this.cap) {
      this.cachedHead = Atomics.load(ctl, this.head);
      let rounds = 0;
      while (t - this.cachedHead >= this.cap) {
        Atomics.add(ctl, P_SPACE_WAITERS, 1);
        const s = Atomics.load(ctl, P_SPACE);
        this.cachedHead = Atomics.load(ctl, this.head);
        if (t - this.cachedHead >= this.cap) Atomics.wait(ctl, P_SPACE, s, 100);
        Atomics.sub(ctl, P_SPACE_WAITERS, 1);
        this.cachedHead = Atomics.load(ctl, this.head);
        if (++rounds > 100_000) return false; // about 10 s with no room: the consumer is stuck
      }
    }
    const at = this.base + (t & (this.cap - 1)) * CELL;
    this.f64[at >>> 3] = px;
    this.i32[(at >>> 2) + 2] = seq;
    this.u32[(at >>> 2) + 3] = qty;
    Atomics.store(ctl, this.tailWord, t + 1); // publishes the cell
    this.tail = t + 1;
    this.wake();
    return true;
  }

  /** Wakes a sleeping consumer (once, whoever sees the flag first). */
  wake(): void {
    const ctl = this.ctl;
    if (Atomics.load(ctl, P_SLEEPING) !== 0 && Atomics.exchange(ctl, P_SLEEPING, 0) !== 0) {
      Atomics.add(ctl, P_WAKE, 1);
      Atomics.notify(ctl, P_WAKE, 1);
    }
  }

  /**
   * Sends records `from` .. `from + n - 1` ({ seq, px: seq * 0.5 + producer, qty: producer })
   * as they fit, one store of the tail per run of free cells; blocks while full. Returns how
   * many were sent (fewer only if it gave up).
   */
  sendMany(from: number, n: number, producer: number): number {
    const ctl = this.ctl, mask = this.cap - 1;
    let k = 0;
    while (k < n) {
      let t = this.tail;
      if (t - this.cachedHead >= this.cap) {
        // Full: wait for one cell like send(), then go on.
        if (!this.send(from + k, (from + k) * 0.5 + producer, producer)) return k;
        k++;
        continue;
      }
      let room = this.cap - (t - this.cachedHead);
      if (room < n - k) {
        this.cachedHead = Atomics.load(ctl, this.head);
        room = this.cap - (t - this.cachedHead);
      }
      const m = room < n - k ? room : n - k;
      for (let j = 0; j < m; j++, t++) {
        const at = this.base + (t & mask) * CELL, seq = from + k + j;
        this.f64[at >>> 3] = seq * 0.5 + producer;
        this.i32[(at >>> 2) + 2] = seq;
        this.u32[(at >>> 2) + 3] = producer;
      }
      Atomics.store(ctl, this.tailWord, t);
      this.tail = t;
      k += m;
      this.wake();
    }
    return k;
  }
}

scope.onmessage = async (e: MessageEvent<ChannelWorkerStart>) => {
  const m = e.data;
  const ctl = new Int32Array(m.ctl);
  const backend = m.test === "lat" ? loadBackend() : null;
  const root = m.root ?? new URL("..", import.meta.url).href.replace(/\/$/, "");
  const ring: RingSender<{ seq: "i32"; px: "f64"; qty: "u32" }> | null =
    m.transport === "ring" || m.transport === "ring_batch"
      ? (await import(`${root}/src/channel/channel.ts`)).RingSender.fromTransferable(m.sender!)
      : null;
  const peer = m.transport === "sab" || m.transport === "sab_batch"
    ? new PeerProducer(m.peer!, m.producer, m.producers, m.peerCapacity!)
    : null;
  const batchSize = m.batch ?? 64;
  const rec = { seq: 0, px: 0, qty: m.producer };
  scope.postMessage({ t: "ready" });
  while (Atomics.load(ctl, GO) === 0) Atomics.wait(ctl, GO, 0, 1000);

  let sent = 0;
  let stuck = false;
  const send = (seq: number, px: number): boolean => {
    switch (m.transport) {
      case "ring":
        rec.seq = seq;
        rec.px = px;
        return ring!.trySend(rec) === SendStatus.Sent;
      case "sab":
        return peer!.send(seq, px, m.producer);
      default:
        scope.postMessage({ seq, px, qty: m.producer });
        return true;
    }
  };

  if (m.test === "tput") {
    if (m.transport === "batch") {
      let buf: { seq: number; px: number; qty: number }[] = [];
      for (let i = 0; i < m.count; i++) {
        buf.push({ seq: i, px: i * 0.5 + m.producer, qty: m.producer });
        if (buf.length === batchSize) {
          scope.postMessage(buf);
          buf = [];
        }
      }
      if (buf.length > 0) scope.postMessage(buf);
      sent = m.count;
    } else if (m.transport === "post") {
      for (let i = 0; i < m.count; i++) {
        scope.postMessage({ seq: i, px: i * 0.5 + m.producer, qty: m.producer });
      }
      sent = m.count;
    } else if (m.transport === "ring_batch") {
      const { defineRecord, recordColumns } = await import(`${root}/channel.ts`);
      const cols = recordColumns(defineRecord({ seq: "i32", px: "f64", qty: "u32" }), batchSize);
      cols.qty.fill(m.producer);
      for (let i = 0; i < m.count && !stuck; i += batchSize) {
        const n = Math.min(batchSize, m.count - i);
        const seq = cols.seq, px = cols.px;
        for (let k = 0; k < n; k++) {
          seq[k] = i + k;
          px[k] = (i + k) * 0.5 + m.producer;
        }
        // Block policy: returns short only if a wait timed out or the receiver is gone.
        const got = ring!.trySendColumns(cols, 0, n);
        sent += got;
        if (got !== n) stuck = true;
      }
    } else if (m.transport === "sab_batch") {
      for (let i = 0; i < m.count && !stuck; i += batchSize) {
        const n = Math.min(batchSize, m.count - i);
        const got = peer!.sendMany(i, n, m.producer);
        sent += got;
        if (got !== n) stuck = true;
      }
    } else if (ring !== null) {
      for (let i = 0; i < m.count; i++) {
        rec.seq = i;
        rec.px = i * 0.5 + m.producer;
        if (ring.trySend(rec) !== SendStatus.Sent) {
          stuck = true;
          break;
        }
        sent++;
      }
    } else {
      for (let i = 0; i < m.count; i++) {
        if (!peer!.send(i, i * 0.5 + m.producer, m.producer)) {
          stuck = true;
          break;
        }
        sent++;
      }
    }
  } else {
    const sleepWord = new Int32Array(new SharedArrayBuffer(4));
    let x = m.seed | 1;
    for (let i = 0; i < m.count && !stuck; i++) {
      // Wait for the previous record's acknowledgement; give up after 10 s (a stuck consumer).
      if (Atomics.load(ctl, ACK) !== i) {
        const giveUp = backend!.monotonicNs() + 10e9;
        let spins = 0;
        while (Atomics.load(ctl, ACK) !== i) {
          if ((++spins & 0xfff) === 0 && backend!.monotonicNs() > giveUp) {
            Atomics.store(ctl, STUCK, 1);
            stuck = true;
            break;
          }
        }
        if (stuck) break;
      }
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const gapUs = 20 + ((x >>> 0) % 80);
      Atomics.wait(sleepWord, 0, 0, gapUs / 1000);
      if (!send(i, backend!.monotonicNs())) {
        stuck = true;
        break;
      }
      sent++;
    }
    if (stuck && peer !== null) {
      // Wake a sleeping consumer so it sees STUCK.
      Atomics.add(peer.ctl, P_WAKE, 1);
      Atomics.notify(peer.ctl, P_WAKE);
    }
  }
  ring?.close();
  scope.postMessage({ t: "done", sent, stuck });
};
