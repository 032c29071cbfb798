/**
 * The clock contract shared by every runtime.
 *
 * @module
 */

import type { CycleTime } from "../time.ts";

/**
 * A source of cycle time. The executor samples it at most once per cycle, when the time is
 * first needed (at the start of the cycle when timers are pending, else when a node reads
 * `ctx.time`), and every node of that cycle sees the same value. Sampling must have no side
 * effects: simulated clocks are moved by their runtime, between cycles.
 */
export interface Clock {
  /** Writes the current monotonic and wall time into `out`. */
  sample(out: CycleTime): void;
  /** The current monotonic time in nanoseconds. */
  nowNs(): number;
}
