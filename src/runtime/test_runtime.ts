/**
 * The test runtime: an executor driven by a manual clock. It never blocks and needs no native
 * library, so tests are deterministic and fast.
 *
 * @module
 */

import { TestClock } from "../clock/test_clock.ts";
import { ExecutorState } from "../core/control.ts";
import { CapacityError } from "../core/errors.ts";
import { Executor } from "../core/executor.ts";
import { checkInteger, checkOptions } from "../core/validate.ts";

/**
 * Options for {@linkcode TestRuntime}.
 *
 * @example A runtime that starts at a given wall time
 * ```ts
 * import { NodeBuilder, TestRuntime, type TestRuntimeOptions } from "@wavelet/wavelet";
 *
 * const options: TestRuntimeOptions = {
 *   startUnixNanos: 1_700_000_000_000_000_000n,
 *   initialCapacity: 1024,
 * };
 * const rt = new TestRuntime(options);
 * let wall = 0n;
 * new NodeBuilder(0)
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, (_self, ctx) => {
 *     wall = ctx.time.unixNanos;
 *   });
 * rt.runOneCycle();
 * if (wall !== options.startUnixNanos) throw new Error(`wall time ${wall}`);
 * ```
 */
export interface TestRuntimeOptions {
  /** Wall time at elapsed zero, in nanoseconds since the Unix epoch. Default `0n`. */
  startUnixNanos?: bigint;
  /** Node slots to reserve up front. */
  initialCapacity?: number;
}

/**
 * An executor plus a {@linkcode TestClock}. Time moves only through
 * {@linkcode TestRuntime.advanceClock}; each cycle never waits.
 *
 * @example
 * ```ts
 * import { ms, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * let fired = 0;
 * new NodeBuilder(null)
 *   .onInit((ex, self) => {
 *     ex.registerTimerAfter(self, ms(100));
 *   })
 *   .build(rt.executor, () => {
 *     fired++;
 *     return false;
 *   });
 * rt.runOneCycle(); // fired === 0
 * rt.advanceClock(ms(150));
 * rt.runOneCycle(); // fired === 1
 * ```
 */
export class TestRuntime {
  /** The executor. */
  readonly executor: Executor;
  /** The manual clock. */
  readonly clock: TestClock;

  /**
   * Creates a runtime at elapsed zero.
   *
   * @param options Start time and capacity.
   * @throws {InvalidArgumentError} If `options` is not an object, `startUnixNanos` is not a
   *   bigint, or `initialCapacity` is out of the executor's range.
   */
  constructor(options?: TestRuntimeOptions) {
    if (options === undefined) options = {};
    const o = checkOptions(options, "TestRuntime's options", ["startUnixNanos", "initialCapacity"]);
    this.clock = new TestClock({ startUnixNanos: o.startUnixNanos });
    this.executor = new Executor({ initialCapacity: o.initialCapacity, clock: this.clock });
  }

  /** Runs one cycle at the current clock time and returns the executor's state. */
  runOneCycle(): ExecutorState {
    return this.executor.cycle(this.clock);
  }

  /**
   * Moves the clock forward.
   *
   * @param durationNs Nanoseconds; finite and not negative.
   * @throws {InvalidArgumentError} On a negative or non-finite duration, or one that would
   *   make the elapsed time infinite (the clock does not move then).
   */
  advanceClock(durationNs: number): void {
    this.clock.advance(durationNs);
  }

  /**
   * Runs cycles while work is ready at the current time (yields, queued nodes, expired
   * timers), without moving the clock. Stops early on `Terminate`.
   *
   * @param maxCycles Upper bound on cycles (an integer in [0, 2^24]); a node that yields itself
   *   forever never goes idle, and a bound far beyond 2^24 would hold the thread for minutes.
   * @returns The number of cycles run.
   * @throws {InvalidArgumentError} If `maxCycles` is not an integer in [0, 2^24].
   * @throws {CapacityError} If the graph is still busy after `maxCycles` cycles.
   */
  runUntilIdle(maxCycles = 100_000): number {
    checkInteger(maxCycles, "runUntilIdle's maxCycles", 0, 2 ** 24);
    const ex = this.executor;
    let n = 0;
    while (ex.hasScheduledWork() || ex.nextTimerDeadline() <= this.clock.nowNs()) {
      if (n >= maxCycles) {
        throw new CapacityError(
          `The graph was still busy after ${maxCycles} cycles`,
        );
      }
      n++;
      if (this.runOneCycle() === ExecutorState.Terminated) break;
    }
    return n;
  }
}
