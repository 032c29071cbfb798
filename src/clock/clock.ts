/**
 * The clock contract shared by every runtime.
 *
 * @module
 */

import type { CycleTime } from "../core/time.ts";
import type { InvalidArgumentError } from "../core/errors.ts";
import { describe, invalid } from "../core/validate.ts";

/**
 * @internal The error of a clock's `sample` given something that is not a CycleTime.
 *
 * @param out What was given.
 * @returns The error (the caller throws it).
 */
export function notCycleTime(out: unknown): InvalidArgumentError {
  return invalid(`A clock samples into a CycleTime, got ${describe(out)}`);
}

/**
 * @internal Checks a clock argument: an object with `sample()` and `nowNs()` methods.
 *
 * @param value The argument.
 * @param name How the message names it.
 * @returns The clock.
 * @throws {InvalidArgumentError} Otherwise, or if its methods cannot be read.
 */
export function checkClock(value: unknown, name: string): Clock {
  let sample: unknown, nowNs: unknown;
  try {
    if (value !== null && typeof value === "object") {
      sample = (value as Clock).sample;
      nowNs = (value as Clock).nowNs;
    }
  } catch (cause) {
    throw invalid(`${name} could not be read`, cause);
  }
  if (typeof sample !== "function" || typeof nowNs !== "function") {
    throw invalid(`${name} must be a clock with sample() and nowNs(), got ${describe(value)}`);
  }
  return value as Clock;
}

/**
 * A source of cycle time. The executor samples it at most once per cycle, when the time is
 * first needed (at the start of the cycle when timers are pending, else when a node reads
 * `ctx.time`), and every node of that cycle sees the same value. Sampling must have no side
 * effects: simulated clocks are moved by their runtime, between cycles.
 *
 * @example A clock frozen at one instant
 * ```ts
 * import { type Clock, type CycleTime, Executor, NodeBuilder } from "@wavelet/wavelet";
 *
 * // Monotonic 5 s, wall time 1000 s after the Unix epoch, forever.
 * const frozen: Clock = {
 *   nowNs: () => 5e9,
 *   sample(out: CycleTime) {
 *     out.monotonicNs = 5e9;
 *     out.setWall(1000, 0, 0);
 *   },
 * };
 * const ex = new Executor();
 * let wallMs = 0;
 * new NodeBuilder(0)
 *   .onInit((e, self) => e.yieldNow(self))
 *   .build(ex, (_self, ctx) => {
 *     wallMs = ctx.time.unixMillis;
 *   });
 * ex.cycle(frozen);
 * if (wallMs !== 1_000_000) throw new Error(`unexpected wall time ${wallMs}`);
 * ```
 */
export interface Clock {
  /** Writes the current monotonic and wall time into `out`. */
  sample(out: CycleTime): void;
  /** The current monotonic time in nanoseconds. */
  nowNs(): number;
}
