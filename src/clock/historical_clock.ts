/**
 * The clock of historical runs: simulated time that its runtime moves.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { CycleTime, splitUnixNanos } from "../core/time.ts";
import { checkInteger, checkOptions, describe, invalid } from "../core/validate.ts";
import { type Clock, notCycleTime } from "./clock.ts";

/**
 * Simulated time for historical runs. Its monotonic time is nanoseconds since the interval's
 * start; its wall time is the start plus that, unless a replay sets both exactly. Only the
 * historical runtime moves it, and never backwards.
 *
 * @example
 * ```ts
 * import { CycleTime, HistoricalClock, seconds } from "@wavelet/wavelet";
 *
 * const clock = new HistoricalClock({ startUnixNanos: 1_700_000_000_000_000_000n });
 * clock.setElapsed(seconds(1));
 * const t = new CycleTime();
 * clock.sample(t); // t.unixNanos === 1_700_000_001_000_000_000n
 * ```
 */
export class HistoricalClock implements Clock {
  /** Start of the interval, as exact Unix nanoseconds. */
  readonly startUnixNanos: bigint;
  readonly #startSec: number;
  readonly #startSub: number;
  #mono = 0;
  #wallSec: number;
  #wallSub: number;

  /**
   * Creates a clock at the start of an interval.
   *
   * @param options The start of the interval as exact Unix nanoseconds.
   * @throws {InvalidArgumentError} If `options` is not an object or `startUnixNanos` is not a
   *   bigint.
   */
  constructor(options: { startUnixNanos: bigint }) {
    if (options === undefined) throw invalid("HistoricalClock needs options with startUnixNanos");
    const o = checkOptions(options, "HistoricalClock's options", ["startUnixNanos"]);
    [this.#startSec, this.#startSub] = splitUnixNanos(o.startUnixNanos);
    this.startUnixNanos = o.startUnixNanos;
    this.#wallSec = this.#startSec;
    this.#wallSub = this.#startSub;
  }

  /** Nanoseconds since the start. */
  get elapsedNs(): number {
    return this.#mono;
  }

  /**
   * Moves to `elapsedNs` after the start (wall time follows).
   *
   * @throws {InvalidArgumentError} If that is before the current time or not finite.
   */
  setElapsed(elapsedNs: number): void {
    this.#check(elapsedNs);
    this.#mono = elapsedNs;
    const whole = Math.floor(elapsedNs / 1e9);
    let sub = this.#startSub + (elapsedNs - whole * 1e9);
    let sec = this.#startSec + whole;
    if (sub >= 1e9) {
      sub -= 1e9;
      sec += 1;
    }
    this.#wallSec = sec;
    this.#wallSub = sub;
  }

  /**
   * Sets monotonic and wall time exactly (replaying a recorded cycle).
   *
   * @param monotonicNs The recorded monotonic time (elapsed since the start).
   * @param unixSeconds Whole seconds of the recorded wall time (a safe integer).
   * @param unixSubsecNanos Nanoseconds within that second, in `[0, 1e9)`.
   * @throws {InvalidArgumentError} If the monotonic time would move backwards or is not
   *   finite, or the wall time is out of range.
   */
  setExact(monotonicNs: number, unixSeconds: number, unixSubsecNanos: number): void {
    this.#check(monotonicNs);
    checkInteger(
      unixSeconds,
      "A replayed wall time's seconds",
      -Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER,
    );
    if (
      typeof unixSubsecNanos !== "number" || !(unixSubsecNanos >= 0 && unixSubsecNanos < 1e9)
    ) {
      throw invalid(
        `A replayed wall time's nanoseconds must be in [0, 1e9), got ${describe(unixSubsecNanos)}`,
      );
    }
    this.#mono = monotonicNs;
    this.#wallSec = unixSeconds;
    this.#wallSub = unixSubsecNanos;
  }

  /**
   * Nanoseconds from the start to an exact Unix time (may be negative).
   *
   * @param unixNanos An exact Unix time in nanoseconds.
   * @returns The elapsed nanoseconds.
   * @throws {InvalidArgumentError} If `unixNanos` is not a bigint.
   */
  toElapsed(unixNanos: bigint): number {
    if (typeof unixNanos !== "bigint") {
      throw invalid(`toElapsed() needs a bigint of Unix nanoseconds, got ${describe(unixNanos)}`);
    }
    return Number(unixNanos - this.startUnixNanos);
  }

  /** The current monotonic time (elapsed since the start). */
  nowNs(): number {
    return this.#mono;
  }

  /**
   * Writes the current time into `out`.
   *
   * @throws {InvalidArgumentError} If `out` is not a CycleTime.
   */
  sample(out: CycleTime): void {
    if (!(out instanceof CycleTime)) throw notCycleTime(out);
    out.monotonicNs = this.#mono;
    out.unixSeconds = this.#wallSec;
    out.unixSubsecNanos = this.#wallSub;
  }

  #check(ns: number): void {
    if (typeof ns !== "number" || !Number.isFinite(ns) || ns < this.#mono) {
      throw new InvalidArgumentError(
        `Historical time must be a finite number of ns at or after ${this.#mono}, got ${
          describe(ns)
        }`,
      );
    }
  }
}
