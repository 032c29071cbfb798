/**
 * Time. Monotonic instants and durations are plain numbers of nanoseconds (exact up to about
 * 104 days of uptime, far beyond a float's microsecond needs). Wall time is kept as whole Unix
 * seconds plus nanoseconds so that `unixNanos` is exact; it is only turned into a bigint when
 * asked for, so no bigint is ever created on the hot path.
 *
 * @module
 */

import { InvalidArgumentError } from "./errors.ts";
import { describe, invalid } from "./validate.ts";

/** Throws unless `n` is a number other than NaN (infinities stay: "never" is a duration). */
function checkAmount(n: unknown, fn: string): void {
  if (typeof n !== "number" || n !== n) {
    throw invalid(`${fn}() needs a number other than NaN, got ${describe(n)}`);
  }
}

/**
 * A duration of `n` nanoseconds (identity; for readability).
 *
 * @param n Nanoseconds (fractions and infinities allowed).
 * @returns Nanoseconds.
 * @throws {InvalidArgumentError} If `n` is not a number or is NaN.
 *
 * @example
 * ```ts
 * import { ns } from "@wavelet/wavelet";
 * ns(250); // 250
 * ```
 */
export function ns(n: number): number {
  checkAmount(n, "ns");
  return n;
}

/**
 * `n` microseconds in nanoseconds.
 *
 * @param n Microseconds (fractions and infinities allowed).
 * @returns Nanoseconds.
 * @throws {InvalidArgumentError} If `n` is not a number or is NaN.
 *
 * @example
 * ```ts
 * import { us } from "@wavelet/wavelet";
 * us(5); // 5000
 * ```
 */
export function us(n: number): number {
  checkAmount(n, "us");
  return n * 1e3;
}

/**
 * `n` milliseconds in nanoseconds.
 *
 * @param n Milliseconds (fractions and infinities allowed).
 * @returns Nanoseconds.
 * @throws {InvalidArgumentError} If `n` is not a number or is NaN.
 *
 * @example
 * ```ts
 * import { ms } from "@wavelet/wavelet";
 * ms(1); // 1000000
 * ```
 */
export function ms(n: number): number {
  checkAmount(n, "ms");
  return n * 1e6;
}

/**
 * `n` seconds in nanoseconds.
 *
 * @param n Seconds (fractions and infinities allowed).
 * @returns Nanoseconds.
 * @throws {InvalidArgumentError} If `n` is not a number or is NaN.
 *
 * @example
 * ```ts
 * import { seconds } from "@wavelet/wavelet";
 * seconds(2); // 2000000000
 * ```
 */
export function seconds(n: number): number {
  checkAmount(n, "seconds");
  return n * 1e9;
}

const NS_PER_S = 1_000_000_000;

/**
 * The time of one cycle, shared by every node that runs in it. The executor owns one instance
 * and updates it in place each cycle, so reading the time never allocates; copy the fields out
 * if a value must outlive the cycle.
 *
 * @example
 * ```ts
 * import { NodeBuilder, seconds, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime({ startUnixNanos: 1_700_000_000_000_000_000n });
 * rt.advanceClock(seconds(1));
 * let wall = 0n;
 * new NodeBuilder(0)
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, (_self, ctx) => {
 *     wall = ctx.time.unixNanos;
 *     return false;
 *   });
 * rt.runOneCycle();
 * // wall === 1_700_000_001_000_000_000n
 * ```
 */
export class CycleTime {
  /** Monotonic instant in nanoseconds (the clock's own origin; only differences matter). */
  monotonicNs = 0;
  /** Whole seconds of wall time since the Unix epoch. */
  unixSeconds = 0;
  /** Nanoseconds within `unixSeconds`, in `[0, 1e9)`. */
  unixSubsecNanos = 0;

  /**
   * Wall time as exact nanoseconds since the Unix epoch (a fraction of a nanosecond is dropped).
   * Allocates a bigint.
   *
   * @throws {InvalidArgumentError} If the fields were set to something that is not finite.
   */
  get unixNanos(): bigint {
    const sec = this.unixSeconds, sub = this.unixSubsecNanos;
    if (!Number.isFinite(sec) || !Number.isFinite(sub)) {
      throw invalid(
        `A cycle time's wall time is not finite: ${describe(sec)} s ${describe(sub)} ns`,
      );
    }
    return BigInt(Math.floor(sec)) * 1_000_000_000n + BigInt(Math.floor(sub));
  }

  /** Wall time as (fractional) milliseconds since the Unix epoch. */
  get unixMillis(): number {
    return this.unixSeconds * 1e3 + this.unixSubsecNanos / 1e6;
  }

  /**
   * Sets the wall time from a base (whole seconds plus nanoseconds) and an offset in
   * nanoseconds, normalizing the carry. Used by clocks.
   *
   * @param baseSeconds Whole seconds of the base instant.
   * @param baseSubsecNanos Nanoseconds of the base instant, in `[0, 1e9)`.
   * @param offsetNs Nanoseconds to add (may be negative).
   * @throws {InvalidArgumentError} If an argument is not a finite number.
   */
  setWall(baseSeconds: number, baseSubsecNanos: number, offsetNs: number): void {
    if (
      !Number.isFinite(baseSeconds) || !Number.isFinite(baseSubsecNanos) ||
      !Number.isFinite(offsetNs)
    ) {
      throw invalid(
        `setWall() needs finite numbers, got ${describe(baseSeconds)}, ${
          describe(baseSubsecNanos)
        }, ${describe(offsetNs)}`,
      );
    }
    const whole = Math.floor(offsetNs / NS_PER_S);
    let sub = baseSubsecNanos + (offsetNs - whole * NS_PER_S);
    let sec = baseSeconds + whole;
    if (sub >= NS_PER_S) {
      sub -= NS_PER_S;
      sec += 1;
    }
    this.unixSeconds = sec;
    this.unixSubsecNanos = sub;
  }

  /** A short readable form: `monotonicNs` and the ISO wall time with nanoseconds. */
  toString(): string {
    const d = new Date(this.unixSeconds * 1e3);
    // Beyond the Date range (about 275 000 years) the wall time is shown in seconds instead.
    if (Number.isNaN(d.getTime())) {
      return `CycleTime(${this.monotonicNs} ns, ${this.unixSeconds} s ${this.unixSubsecNanos} ns)`;
    }
    const iso = d.toISOString().slice(0, 19);
    return `CycleTime(${this.monotonicNs} ns, ${iso}.${
      String(this.unixSubsecNanos).padStart(9, "0")
    }Z)`;
  }
}

/**
 * Splits exact Unix nanoseconds into whole seconds and nanoseconds.
 *
 * @param unixNanos Nanoseconds since the Unix epoch (may be negative).
 * @returns `[seconds, subsecNanos]` with `subsecNanos` in `[0, 1e9)`.
 * @throws {InvalidArgumentError} If the value is not a bigint.
 *
 * @example Splitting a timestamp
 * ```ts
 * import { splitUnixNanos } from "@wavelet/wavelet";
 *
 * const [sec, sub] = splitUnixNanos(1_700_000_000_123_456_789n);
 * if (sec !== 1_700_000_000 || sub !== 123_456_789) throw new Error(`got ${sec}, ${sub}`);
 * const [before, subBefore] = splitUnixNanos(-1n); // one nanosecond before the epoch
 * if (before !== -1 || subBefore !== 999_999_999) throw new Error("sub-seconds stay positive");
 * ```
 */
export function splitUnixNanos(unixNanos: bigint): [number, number] {
  if (typeof unixNanos !== "bigint") {
    throw new InvalidArgumentError(
      `Unix nanoseconds must be a bigint, got ${typeof unixNanos}`,
    );
  }
  let sec = unixNanos / 1_000_000_000n;
  let sub = unixNanos % 1_000_000_000n;
  if (sub < 0n) {
    sub += 1_000_000_000n;
    sec -= 1n;
  }
  return [Number(sec), Number(sub)];
}
