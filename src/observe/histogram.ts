/**
 * A log-linear histogram for latencies and durations: values in nanoseconds, 16 linear
 * sub-buckets per power of two, so any percentile is within about 6% of the true value, in
 * fixed memory (no allocation when recording).
 *
 * @module
 */

import { describe, invalid } from "../core/validate.ts";

const SUB_BITS = 4;
const SUB = 1 << SUB_BITS;
const GROUPS = 48; // up to 2^48 ns (about 3 days)

/**
 * A summary of a histogram.
 *
 * @example Summarizing latencies
 * ```ts
 * import { Histogram, type HistogramSnapshot } from "@wavelet/wavelet/observe";
 *
 * const h = new Histogram();
 * for (let i = 1; i <= 1000; i++) h.record(i * 1000); // 1 us to 1 ms
 * const s: HistogramSnapshot = h.snapshot();
 * if (s.count !== 1000 || s.min !== 1000 || s.max !== 1_000_000) throw new Error("min, max");
 * if (Math.abs(s.p50 - 500_000) > 500_000 * 0.07) throw new Error(`p50 ${s.p50}`);
 * if (!(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.p999)) throw new Error("ordered");
 * ```
 */
export interface HistogramSnapshot {
  /** Values recorded. */
  count: number;
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** Mean value. */
  mean: number;
  /** Median. */
  p50: number;
  /** 90th percentile. */
  p90: number;
  /** 99th percentile. */
  p99: number;
  /** 99.9th percentile. */
  p999: number;
}

/**
 * Records non-negative values (nanoseconds) and answers percentiles.
 *
 * @example
 * ```ts
 * import { Histogram } from "@wavelet/wavelet/observe";
 * const h = new Histogram();
 * for (let i = 1; i <= 100; i++) h.record(i * 1000);
 * h.percentile(50); // about 50 000
 * ```
 */
export class Histogram {
  readonly #counts = new Float64Array(GROUPS * SUB);
  #count = 0;
  /** The running mean (a sum of large values would overflow to Infinity). */
  #mean = 0;
  #min = Infinity;
  #max = 0;

  /** Values recorded. */
  get count(): number {
    return this.#count;
  }

  /**
   * Records one value (negative values count as 0).
   *
   * @param v The value in nanoseconds.
   * @throws {InvalidArgumentError} If `v` is not a finite number (nothing is recorded).
   */
  record(v: number): void {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw invalid(`A histogram records finite numbers, got ${describe(v)}`);
    }
    if (!(v > 0)) v = 0;
    this.#counts[Histogram.#index(v)]++;
    this.#count++;
    this.#mean += (v - this.#mean) / this.#count;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  static #index(v: number): number {
    if (v < SUB) return Math.floor(v);
    const e = Math.min(Math.floor(Math.log2(v)), GROUPS + SUB_BITS - 2);
    const group = e - SUB_BITS + 1;
    const sub = Math.min(SUB - 1, Math.floor(v / 2 ** (e - SUB_BITS)) - SUB);
    return Math.min(group * SUB + sub, GROUPS * SUB - 1);
  }

  static #lowerBound(i: number): number {
    const group = Math.floor(i / SUB), sub = i % SUB;
    if (group === 0) return sub;
    const e = group + SUB_BITS - 1;
    return (SUB + sub) * 2 ** (e - SUB_BITS);
  }

  /**
   * The value at percentile `p`: the midpoint of its bucket, clamped to min/max.
   *
   * @param p The percentile, a number in [0, 100].
   * @returns The value, or NaN when nothing was recorded.
   * @throws {InvalidArgumentError} If `p` is not a number in [0, 100].
   */
  percentile(p: number): number {
    if (typeof p !== "number" || !(p >= 0 && p <= 100)) {
      throw invalid(`A percentile must be a number in [0, 100], got ${describe(p)}`);
    }
    if (this.#count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i];
      if (seen >= rank) {
        const lo = Histogram.#lowerBound(i), hi = Histogram.#lowerBound(i + 1);
        return Math.min(this.#max, Math.max(this.#min, (lo + hi) / 2));
      }
    }
    return this.#max;
  }

  /** Count, min, max, mean and the usual percentiles. */
  snapshot(): HistogramSnapshot {
    return {
      count: this.#count,
      min: this.#count ? this.#min : NaN,
      max: this.#count ? this.#max : NaN,
      mean: this.#count ? this.#mean : NaN,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
    };
  }

  /** Forgets everything recorded. */
  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#mean = 0;
    this.#min = Infinity;
    this.#max = 0;
  }
}
