/**
 * A log-linear latency histogram in the spirit of HdrHistogram: values below 2^(SUB+1) have a
 * bucket each; above that, every power-of-two range is split into 2^SUB equal buckets, so a
 * recorded value is known to within 1/2^SUB (0.8 % with SUB = 7) at any magnitude. Recording is
 * a few integer operations and one array increment; nothing is allocated.
 *
 * @module
 */

/** Sub-bucket bits: 128 buckets per power of two. */
const SUB = 7;
const SUB_COUNT = 1 << SUB;
/** Largest trackable value: 2^40 ns (about 18 minutes); larger values are clamped. */
const MAX_BITS = 40;
const MAX_VALUE = 2 ** MAX_BITS - 1;
const BUCKETS = (MAX_BITS - SUB + 1) * SUB_COUNT;

/** The index of the most significant set bit of a non-negative integer below 2^53. */
function msb(v: number): number {
  return v < 4294967296 ? 31 - Math.clz32(v) : 63 - Math.clz32(Math.floor(v / 4294967296));
}

/** The bucket of an integer value. */
function indexOf(v: number): number {
  if (v < 2 * SUB_COUNT) return v;
  const shift = msb(v) - SUB;
  return (shift + 1) * SUB_COUNT + (Math.floor(v / 2 ** shift) - SUB_COUNT);
}

/** The largest value that falls into bucket `i`. */
function highestIn(i: number): number {
  if (i < 2 * SUB_COUNT) return i;
  const shift = Math.floor(i / SUB_COUNT) - 1;
  const sub = (i % SUB_COUNT) + SUB_COUNT;
  return (sub + 1) * 2 ** shift - 1;
}

/** A log-linear histogram of non-negative integers (here: nanoseconds). */
export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  /** Values recorded. */
  get count(): number {
    return this.#count;
  }

  /** Smallest value recorded (exact), or NaN when empty. */
  get min(): number {
    return this.#count === 0 ? NaN : this.#min;
  }

  /** Largest value recorded (exact), or NaN when empty. */
  get max(): number {
    return this.#count === 0 ? NaN : this.#max;
  }

  /** Mean of the recorded values, or NaN when empty. */
  get mean(): number {
    return this.#count === 0 ? NaN : this.#sum / this.#count;
  }

  /** Records one value; negative values count as 0, fractions are truncated. */
  record(value: number): void {
    let v = value > 0 ? Math.floor(value) : 0;
    if (v > MAX_VALUE) v = MAX_VALUE;
    this.#counts[indexOf(v)]++;
    this.#count++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  /**
   * The value at quantile `q` (0..1): the highest value equivalent to the bucket that holds the
   * ceil(q * count)-th smallest value (never more than the exact maximum). NaN when empty.
   */
  quantile(q: number): number {
    if (this.#count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i];
      if (seen >= rank) return Math.min(highestIn(i), this.#max);
    }
    return this.#max;
  }

  /** Forgets everything. */
  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#min = Infinity;
    this.#max = 0;
  }
}

/** Formats nanoseconds with a unit that keeps three significant digits. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return "-";
  if (ns < 1e3) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`;
  return `${(ns / 1e9).toPrecision(3)} s`;
}
