/**
 * A manual clock for tests.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { CycleTime, splitUnixNanos } from "../core/time.ts";
import { checkOptions, describe } from "../core/validate.ts";
import { type Clock, notCycleTime } from "./clock.ts";

/**
 * Options for {@linkcode TestClock}.
 *
 * @example Starting at a given wall time
 * ```ts
 * import { CycleTime, TestClock, type TestClockOptions } from "@wavelet/wavelet";
 *
 * const options: TestClockOptions = { startUnixNanos: 1_700_000_000_500_000_000n };
 * const clock = new TestClock(options);
 * const t = new CycleTime();
 * clock.sample(t);
 * if (t.monotonicNs !== 0 || t.unixSeconds !== 1_700_000_000 || t.unixSubsecNanos !== 5e8) {
 *   throw new Error(`unexpected time ${t}`);
 * }
 * ```
 */
export interface TestClockOptions {
  /** Wall time at elapsed zero, in nanoseconds since the Unix epoch. Default `0n` (the epoch). */
  startUnixNanos?: bigint;
}

function checkDuration(what: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new InvalidArgumentError(
      `${what} must be a finite number of nanoseconds, got ${describe(v)}`,
    );
  }
}

/**
 * A clock that only moves when told to. Its monotonic time is the elapsed nanoseconds (starting
 * at 0); its wall time is the start time plus the elapsed time. Sampling twice without moving
 * it gives identical values.
 *
 * @example
 * ```ts
 * import { CycleTime, ms, TestClock } from "@wavelet/wavelet";
 *
 * const clock = new TestClock();
 * clock.advance(ms(500));
 * const t = new CycleTime();
 * clock.sample(t);
 * // t.monotonicNs === 500_000_000, t.unixMillis === 500
 * ```
 */
export class TestClock implements Clock {
  #elapsed = 0;
  readonly #baseSec: number;
  readonly #baseSub: number;

  /**
   * Creates a clock at elapsed zero.
   *
   * @param options Start time.
   * @throws {InvalidArgumentError} If `options` is not an object or `startUnixNanos` is not a
   *   bigint.
   */
  constructor(options?: TestClockOptions) {
    if (options === undefined) options = {};
    const o = checkOptions(options, "TestClock's options", ["startUnixNanos"]);
    [this.#baseSec, this.#baseSub] = splitUnixNanos(
      o.startUnixNanos === undefined ? 0n : o.startUnixNanos,
    );
  }

  /** Nanoseconds elapsed since the start. */
  get elapsedNs(): number {
    return this.#elapsed;
  }

  /**
   * Moves time forward.
   *
   * @param durationNs Nanoseconds to add; must be finite and not negative, and the elapsed
   *   time must stay finite.
   * @throws {InvalidArgumentError} On a negative or non-finite duration, or one that would
   *   make the elapsed time infinite.
   */
  advance(durationNs: number): void {
    checkDuration("A clock advance", durationNs);
    if (durationNs < 0) {
      throw new InvalidArgumentError(
        `A monotonic clock cannot move backwards (advance by ${durationNs} ns)`,
      );
    }
    const next = this.#elapsed + durationNs;
    if (!Number.isFinite(next)) {
      throw new InvalidArgumentError(
        `A clock advance by ${durationNs} ns would make the elapsed time infinite`,
      );
    }
    this.#elapsed = next;
  }

  /**
   * Sets the elapsed time. Unlike {@linkcode TestClock.advance} it may move backwards, which a
   * real monotonic clock never does; use it only to set up a test.
   *
   * @param elapsedNs Nanoseconds since the start; finite and not negative.
   * @throws {InvalidArgumentError} On a negative or non-finite value.
   */
  setElapsed(elapsedNs: number): void {
    checkDuration("Elapsed time", elapsedNs);
    if (elapsedNs < 0) {
      throw new InvalidArgumentError(
        `Elapsed time cannot be negative, got ${elapsedNs}`,
      );
    }
    this.#elapsed = elapsedNs;
  }

  /** Returns to elapsed zero. */
  reset(): void {
    this.#elapsed = 0;
  }

  /** The current monotonic time in nanoseconds (the elapsed time). */
  nowNs(): number {
    return this.#elapsed;
  }

  /**
   * Writes the current time into `out`.
   *
   * @throws {InvalidArgumentError} If `out` is not a CycleTime.
   */
  sample(out: CycleTime): void {
    if (!(out instanceof CycleTime)) throw notCycleTime(out);
    out.monotonicNs = this.#elapsed;
    out.setWall(this.#baseSec, this.#baseSub, this.#elapsed);
  }
}
