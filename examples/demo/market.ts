/**
 * What the demo's producers and graph agree on: the order-book update record, the symbols, the
 * bar interval, the random walk, and a monotonic clock that every thread reads the same way.
 *
 * @module
 */

import { defineRecord } from "../../channel.ts";
import type { NativeBackend } from "../../native.ts";

/** One order-book update: top of book for one symbol, stamped by its producer. */
export const Update = defineRecord({
  sym: "i32",
  producer: "i32",
  seq: "u32",
  bid: "f64",
  ask: "f64",
  bidSize: "f64",
  askSize: "f64",
  /** The producer's monotonic clock when it made the update, in ns. */
  stamp: "f64",
});

/** The symbols; symbol `s` is published by producer `s % producers`. */
export const SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN"] as const;
/** Starting prices of the random walk. */
export const START_PRICES = [190, 420, 880, 180];
/** Price tick. */
export const TICK = 0.01;
/** Bar length in ns: one second. */
export const BAR_NS = 1e9;

/** A tiny deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A mutable update, the shape ring senders and receivers copy from and into. */
export interface UpdateRec {
  sym: number;
  producer: number;
  seq: number;
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
  stamp: number;
}

/** A fresh zeroed update. */
export function newUpdate(): UpdateRec {
  return { sym: 0, producer: 0, seq: 0, bid: 0, ask: 0, bidSize: 0, askSize: 0, stamp: 0 };
}

/** A random walk of the top of book for a set of symbols. */
export class BookWalk {
  readonly #rand: () => number;
  readonly #symbols: number[];
  readonly #bidTicks: number[];
  #next = 0;
  #seq = 0;

  /** @param symbols The symbol indexes to walk; @param seed The PRNG seed. */
  constructor(symbols: number[], seed: number) {
    this.#rand = prng(seed);
    this.#symbols = symbols;
    this.#bidTicks = symbols.map((s) => Math.round(START_PRICES[s] / TICK));
  }

  /** Fills `out` with the next update (round robin over the symbols), stamp left to the caller. */
  next(out: UpdateRec): void {
    const r = this.#rand;
    const k = this.#next;
    this.#next = (k + 1) % this.#symbols.length;
    const step = r();
    this.#bidTicks[k] += step < 0.3 ? -1 : step > 0.7 ? 1 : 0;
    if (this.#bidTicks[k] < 100) this.#bidTicks[k] = 100;
    const bidTicks = this.#bidTicks[k];
    const spreadTicks = 1 + Math.floor(r() * 3);
    out.sym = this.#symbols[k];
    out.seq = this.#seq++ >>> 0;
    out.bid = bidTicks * TICK;
    out.ask = (bidTicks + spreadTicks) * TICK;
    out.bidSize = 100 * (1 + Math.floor(r() * 20));
    out.askSize = 100 * (1 + Math.floor(r() * 20));
  }
}

/**
 * A monotonic clock in ns that reads the same on every thread. With the native backend that is
 * `backend.monotonicNs()` (CLOCK_MONOTONIC, shared by all threads). The pure-JS backend reads
 * `performance.now()`, whose origin differs per Worker, so a Worker shifts its reading onto the
 * main thread's origin (`mainOriginMs`, the main thread's `performance.timeOrigin`).
 */
export function sharedClock(backend: NativeBackend, mainOriginMs?: number): () => number {
  if (backend.hasEpoll || mainOriginMs === undefined) return () => backend.monotonicNs();
  const offsetMs = performance.timeOrigin - mainOriginMs;
  return () => (performance.now() + offsetMs) * 1e6;
}
