/**
 * The clock of historical runs: simulated time that its runtime moves.
 *
 * @module
 */

import { ErrorCode, InvalidArgumentError } from "../errors.ts";
import { type CycleTime, splitUnixNanos } from "../time.ts";
import type { Clock } from "./clock.ts";

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

  /** Creates a clock at the start of an interval. */
  constructor(options: { startUnixNanos: bigint }) {
    this.startUnixNanos = options.startUnixNanos;
    [this.#startSec, this.#startSub] = splitUnixNanos(options.startUnixNanos);
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
   * @throws {InvalidArgumentError} If the monotonic time would move backwards.
   */
  setExact(monotonicNs: number, unixSeconds: number, unixSubsecNanos: number): void {
    this.#check(monotonicNs);
    this.#mono = monotonicNs;
    this.#wallSec = unixSeconds;
    this.#wallSub = unixSubsecNanos;
  }

  /** Nanoseconds from the start to an exact Unix time (may be negative). */
  toElapsed(unixNanos: bigint): number {
    return Number(unixNanos - this.startUnixNanos);
  }

  /** The current monotonic time (elapsed since the start). */
  nowNs(): number {
    return this.#mono;
  }

  /** Writes the current time into `out`. */
  sample(out: CycleTime): void {
    out.monotonicNs = this.#mono;
    out.unixSeconds = this.#wallSec;
    out.unixSubsecNanos = this.#wallSub;
  }

  #check(ns: number): void {
    if (typeof ns !== "number" || !Number.isFinite(ns) || ns < this.#mono) {
      throw new InvalidArgumentError(
        ErrorCode.InvalidArgument,
        `Historical time must move forward: ${String(ns)} ns is before ${this.#mono} ns`,
      );
    }
  }
}
