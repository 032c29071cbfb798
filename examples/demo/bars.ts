/**
 * One-second bars per symbol: open/high/low/close of the mid price, its size-weighted average
 * (VWAP: each update's mid weighted by the size on both sides of the book), and the mean spread
 * and imbalance. Shared by the graph's bar node and by the host-loop baseline, so both compute
 * the same thing. A running digest of every closed bar's values lets two runs be compared.
 *
 * @module
 */

import { SYMBOLS } from "./market.ts";

/** A closed bar. */
export interface Bar {
  /** Bar number, from 1. */
  index: number;
  /** Symbol index into SYMBOLS. */
  sym: number;
  /** Updates in the bar. */
  n: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Size-weighted mean mid price. */
  vwap: number;
  /** Mean spread in price units. */
  spread: number;
  /** Mean book imbalance, (bid size - ask size) / (bid size + ask size). */
  imbalance: number;
}

/** Formats a bar as the text line the TCP server sends. */
export function formatBar(b: Bar): string {
  return `bar ${b.index} ${SYMBOLS[b.sym]} n=${b.n} open=${b.open.toFixed(2)} high=${
    b.high.toFixed(2)
  } low=${b.low.toFixed(2)} close=${b.close.toFixed(2)} vwap=${b.vwap.toFixed(4)} spread=${
    b.spread.toFixed(4)
  } imbalance=${b.imbalance >= 0 ? "+" : ""}${b.imbalance.toFixed(4)}`;
}

/** Accumulates updates into bars and closes them. */
export class BarBook {
  readonly #n: Float64Array;
  readonly #open: Float64Array;
  readonly #high: Float64Array;
  readonly #low: Float64Array;
  readonly #close: Float64Array;
  readonly #pv: Float64Array;
  readonly #vol: Float64Array;
  readonly #spread: Float64Array;
  readonly #imb: Float64Array;
  readonly #scratch = new DataView(new ArrayBuffer(80));
  #h1 = 0x811c9dc5;
  #h2 = 0x01000193;
  /** Bars closed so far (closes, not bars: empty symbols make none). */
  closes = 0;
  /** Every closed bar. */
  readonly all: Bar[] = [];

  constructor(symbols = SYMBOLS.length) {
    const f = () => new Float64Array(symbols);
    this.#n = f();
    this.#open = f();
    this.#high = f();
    this.#low = f();
    this.#close = f();
    this.#pv = f();
    this.#vol = f();
    this.#spread = f();
    this.#imb = f();
  }

  /** Adds one update's derived values. */
  add(sym: number, mid: number, spread: number, imbalance: number, size: number): void {
    if (this.#n[sym]++ === 0) {
      this.#open[sym] = this.#high[sym] = this.#low[sym] = mid;
    } else {
      if (mid > this.#high[sym]) this.#high[sym] = mid;
      if (mid < this.#low[sym]) this.#low[sym] = mid;
    }
    this.#close[sym] = mid;
    this.#pv[sym] += mid * size;
    this.#vol[sym] += size;
    this.#spread[sym] += spread;
    this.#imb[sym] += imbalance;
  }

  /** Closes the current bar of every symbol that had updates; returns the bars closed. */
  closeBars(): Bar[] {
    const index = ++this.closes;
    const out: Bar[] = [];
    for (let s = 0; s < this.#n.length; s++) {
      const n = this.#n[s];
      if (n === 0) continue;
      const bar: Bar = {
        index,
        sym: s,
        n,
        open: this.#open[s],
        high: this.#high[s],
        low: this.#low[s],
        close: this.#close[s],
        vwap: this.#pv[s] / this.#vol[s],
        spread: this.#spread[s] / n,
        imbalance: this.#imb[s] / n,
      };
      this.#digest(bar);
      out.push(bar);
      this.all.push(bar);
      this.#n[s] =
        this.#pv[s] =
        this.#vol[s] =
        this.#spread[s] =
        this.#imb[s] =
          0;
    }
    return out;
  }

  /** A 64-bit FNV-1a digest (two 32-bit lanes) of every closed bar's exact values, in hex. */
  get digest(): string {
    const hex = (x: number) => (x >>> 0).toString(16).padStart(8, "0");
    return hex(this.#h1) + hex(this.#h2);
  }

  #digest(b: Bar): void {
    const d = this.#scratch;
    const vals = [
      b.index,
      b.sym,
      b.n,
      b.open,
      b.high,
      b.low,
      b.close,
      b.vwap,
      b.spread,
      b.imbalance,
    ];
    for (let i = 0; i < vals.length; i++) d.setFloat64(i * 8, vals[i], true);
    let h1 = this.#h1, h2 = this.#h2;
    for (let i = 0; i < 80; i++) {
      const byte = d.getUint8(i);
      h1 = Math.imul(h1 ^ byte, 0x01000193);
      h2 = Math.imul(h2 ^ byte, 0x01000193) ^ (h2 >>> 13);
    }
    this.#h1 = h1;
    this.#h2 = h2;
  }
}
