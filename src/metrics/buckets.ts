/**
 * Fixed-bucket histograms in the shape Prometheus exposes: one count per upper bound (`le`),
 * a sum and a count, in typed arrays, so recording a value allocates nothing. The bounds are
 * the same for every histogram of the package (250 ns to 10 s), which keeps the exposition
 * and the inspector's charts comparable.
 *
 * @module
 */

import { describe, invalid } from "../core/validate.ts";

/**
 * The upper bounds of the buckets, in nanoseconds (the last bucket, `+Inf`, is implied).
 *
 * @example Reading the bounds as seconds
 * ```ts
 * import { BUCKET_BOUNDS_NS } from "@wavelet/wavelet/metrics";
 *
 * const seconds = BUCKET_BOUNDS_NS.map((ns) => ns / 1e9);
 * if (seconds[0] !== 2.5e-7 || seconds[seconds.length - 1] !== 10) throw new Error("250 ns..10 s");
 * ```
 */
export const BUCKET_BOUNDS_NS: readonly number[] = Object.freeze([
  250,
  500,
  1e3,
  2.5e3,
  5e3,
  1e4,
  2.5e4,
  5e4,
  1e5,
  2.5e5,
  5e5,
  1e6,
  2.5e6,
  5e6,
  1e7,
  2.5e7,
  5e7,
  1e8,
  2.5e8,
  5e8,
  1e9,
  2.5e9,
  5e9,
  1e10,
]);

/** Buckets per histogram: one per bound, and `+Inf`. */
export const BUCKETS: number = BUCKET_BOUNDS_NS.length + 1;

/** The largest value recorded as itself (about 13 days); larger values count as this. */
const MAX_VALUE_NS = 2 ** 50;

const BOUNDS = Float64Array.from(BUCKET_BOUNDS_NS);

/** The bucket of `ns` (a finite number >= 0): the first bound >= it, by binary search. */
export function bucketOf(ns: number): number {
  let lo = 0, hi = BOUNDS.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ns <= BOUNDS[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * A summary of a bucket histogram, as the inspector and `snapshot()` give it.
 *
 * @example Reading a histogram's summary
 * ```ts
 * import { BucketHistogram, type BucketSnapshot } from "@wavelet/wavelet/metrics";
 *
 * const h = new BucketHistogram();
 * h.record(3_000); // 3 us
 * const s: BucketSnapshot = h.snapshot();
 * if (s.count !== 1 || s.sumNs !== 3_000 || s.counts[4] !== 1) throw new Error("in (2.5, 5] us");
 * ```
 */
export interface BucketSnapshot {
  /** Values recorded. */
  count: number;
  /** Their sum in nanoseconds. */
  sumNs: number;
  /** Values per bucket (not cumulative), one per bound of `BUCKET_BOUNDS_NS` and one `+Inf`. */
  counts: number[];
}

/**
 * A histogram of durations in nanoseconds over {@linkcode BUCKET_BOUNDS_NS}. Recording costs
 * a binary search over 24 bounds and three typed-array stores.
 *
 * @example Recording and estimating a percentile
 * ```ts
 * import { BucketHistogram } from "@wavelet/wavelet/metrics";
 *
 * const h = new BucketHistogram();
 * for (let i = 0; i < 100; i++) h.record(2_000); // 2 us each
 * const p50 = h.quantile(0.5); // within the (1, 2.5] us bucket
 * if (!(p50 > 1_000 && p50 <= 2_500) || h.count !== 100) throw new Error(`p50 ${p50}`);
 * ```
 */
export class BucketHistogram {
  /** Per-bucket counts, then the sum (ns) and the count, in one array. */
  readonly #a = new Float64Array(BUCKETS + 2);

  /** Values recorded. */
  get count(): number {
    return this.#a[BUCKETS + 1];
  }

  /** The sum of the values recorded, in nanoseconds. */
  get sumNs(): number {
    return this.#a[BUCKETS];
  }

  /**
   * Records a value (negative values count as 0, values above 2^50 ns as 2^50 ns).
   *
   * @param ns The value in nanoseconds.
   * @throws {InvalidArgumentError} If `ns` is not a finite number (nothing is recorded).
   */
  record(ns: number): void {
    if (typeof ns !== "number" || !Number.isFinite(ns)) {
      throw invalid(`A histogram records a finite number of nanoseconds, got ${describe(ns)}`);
    }
    this._add(ns);
  }

  /** @internal Records a number already known to be finite (the instruments' fast path). */
  _add(ns: number): void {
    addValue(this.#a, 0, ns);
  }

  /**
   * An estimate of quantile `q` in nanoseconds, interpolated linearly inside its bucket (as
   * Prometheus's `histogram_quantile` does); NaN when nothing was recorded.
   *
   * @param q The quantile, a number in [0, 1].
   * @throws {InvalidArgumentError} If `q` is not a number in [0, 1].
   */
  quantile(q: number): number {
    if (typeof q !== "number" || !(q >= 0 && q <= 1)) {
      throw invalid(`A quantile must be a number in [0, 1], got ${describe(q)}`);
    }
    return quantileOf(this.#a, 0, q);
  }

  /** Count, sum and per-bucket counts. */
  snapshot(): BucketSnapshot {
    return snapshotOf(this.#a, 0);
  }

  /** @internal The array (buckets, sum, count), for the text format. */
  get _array(): Float64Array {
    return this.#a;
  }
}

/**
 * Adds a finite `ns` to the histogram stored at `a[at .. at + STRIDE)` (per-bucket counts, then
 * the sum and the count): negative values count as 0, values above 2^50 ns as 2^50 ns.
 */
export function addValue(a: Float64Array, at: number, ns: number): void {
  const v = ns > 0 ? (ns < MAX_VALUE_NS ? ns : MAX_VALUE_NS) : 0;
  a[at + bucketOf(v)]++;
  a[at + BUCKETS] += v;
  a[at + BUCKETS + 1]++;
}

/** The snapshot of the histogram stored at `a[at .. at + BUCKETS + 2)`. */
export function snapshotOf(a: Float64Array, at: number): BucketSnapshot {
  return {
    count: a[at + BUCKETS + 1],
    sumNs: a[at + BUCKETS],
    counts: Array.from(a.subarray(at, at + BUCKETS)),
  };
}

/** Quantile `q` of the histogram stored at `a[at ..]` (see {@linkcode BucketHistogram}). */
export function quantileOf(a: Float64Array, at: number, q: number): number {
  const count = a[at + BUCKETS + 1];
  if (count === 0) return NaN;
  const rank = q * count;
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    const c = a[at + i];
    if (c > 0 && seen + c >= rank) {
      const lo = i === 0 ? 0 : BOUNDS[i - 1];
      // The +Inf bucket has no upper bound: report its lower one, as Prometheus does.
      if (i === BUCKETS - 1) return lo;
      return lo + (BOUNDS[i] - lo) * Math.max(0, rank - seen) / c;
    }
    seen += c;
  }
  return BOUNDS[BOUNDS.length - 1];
}

/** Stride of one histogram in a {@linkcode SlotHistograms} array. */
export const STRIDE: number = BUCKETS + 2;
