/**
 * The historical runtime: the same graph, on simulated time, as fast as the data allows.
 *
 * @module
 */

import { HistoricalClock } from "../clock/historical_clock.ts";
import { ExecutorState } from "../core/control.ts";
import { CapacityError, ErrorCode, InvalidArgumentError, WaveletError } from "../core/errors.ts";
import { Executor, runtimePort } from "../core/executor.ts";
import { ReplayError } from "../replay/log.ts";
import { Replayer } from "../replay/tap.ts";
import { checkInteger, checkOptions, describe, invalid } from "../core/validate.ts";

/**
 * Options for {@linkcode HistoricalRuntime}.
 *
 * @example Ten milliseconds in steps of 2.5
 * ```ts
 * import { HistoricalRuntime, type HistoricalRuntimeOptions, ms } from "@wavelet/wavelet";
 *
 * const options: HistoricalRuntimeOptions = {
 *   startUnixNanos: 1_700_000_000_000_000_000n,
 *   endUnixNanos: 1_700_000_000_010_000_000n, // 10 ms later
 *   stepNs: ms(2.5),
 *   maxCyclesPerInstant: 1000,
 * };
 * const rt = new HistoricalRuntime(options);
 * const cycles = rt.runUntilCompletion(); // at 0, 2.5, 5, 7.5 and 10 ms
 * if (cycles !== 5 || !rt.isFinished) throw new Error(`${cycles} cycles`);
 * ```
 */
export interface HistoricalRuntimeOptions {
  /** Start of the interval (exact Unix nanoseconds). */
  startUnixNanos: bigint;
  /** End of the interval (inclusive; the last cycle runs exactly at it). */
  endUnixNanos: bigint;
  /**
   * A fixed step: one cycle every `stepNs` (and at the end), whether or not anything is due.
   * Default: event-driven (each cycle jumps to the next timer deadline).
   */
  stepNs?: number;
  /** Cycles allowed at one instant before a graph that never goes idle is an error (1e6). */
  maxCyclesPerInstant?: number;
  /** Node slots to reserve up front. */
  initialCapacity?: number;
}

/**
 * Runs a graph over a past interval on a {@linkcode HistoricalClock}. Event-driven by default:
 * after each cycle it jumps straight to the next timer deadline (historical sources register a
 * timer at their next record's time), so a sparse 30-minute interval takes a number of cycles
 * proportional to the data, not to the interval. The first cycle runs at the start, the last
 * exactly at the end. Work scheduled for the next cycle (yields) runs at the same instant.
 *
 * It also replays a stimulus log recorded from a realtime run ({@linkcode replayLog}), and can
 * hand its graph over to a live runtime ({@linkcode RealtimeRuntime.adopt}).
 *
 * @example A7 of the reference: 250 us interval, 100 us step
 * ```ts
 * import { HistoricalRuntime, us } from "@wavelet/wavelet";
 *
 * const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 250_000n, stepNs: us(100) });
 * rt.runUntilCompletion(); // 4 cycles, at 0, 100, 200 and 250 us
 * ```
 */
export class HistoricalRuntime {
  /** The executor. */
  readonly executor: Executor;
  /** The simulated clock. */
  readonly clock: HistoricalClock;
  /** End of the interval in elapsed nanoseconds. */
  readonly endNs: number;
  readonly #step: number;
  readonly #maxPerInstant: number;
  #started = false;
  #finished = false;

  /**
   * Creates the runtime at the start of the interval.
   *
   * @param options The interval, and optionally a fixed step, a cycle limit and a capacity.
   * @throws {InvalidArgumentError} If `options` is not an object or a key cannot be read, the
   *   interval's ends are not bigints or are reversed, the step is not a positive finite number,
   *   or `maxCyclesPerInstant` is not an integer >= 1.
   */
  constructor(options: HistoricalRuntimeOptions) {
    if (options === undefined) {
      throw invalid("HistoricalRuntime needs options with startUnixNanos and endUnixNanos");
    }
    const o = checkOptions(options, "HistoricalRuntime's options", [
      "startUnixNanos",
      "endUnixNanos",
      "stepNs",
      "maxCyclesPerInstant",
      "initialCapacity",
    ]);
    const { startUnixNanos, endUnixNanos } = o;
    if (typeof startUnixNanos !== "bigint" || typeof endUnixNanos !== "bigint") {
      throw invalid(
        `startUnixNanos and endUnixNanos must be bigints (exact Unix nanoseconds), got ${
          describe(startUnixNanos)
        } and ${describe(endUnixNanos)}`,
      );
    }
    if (endUnixNanos < startUnixNanos) {
      throw invalid("The interval's start must not be after its end");
    }
    const step = o.stepNs ?? 0;
    if (o.stepNs !== undefined && !(typeof step === "number" && step > 0 && step < Infinity)) {
      throw invalid(
        `stepNs must be a positive finite number of nanoseconds, got ${describe(step)}`,
      );
    }
    const maxPerInstant = o.maxCyclesPerInstant === undefined
      ? 1_000_000
      : checkInteger(o.maxCyclesPerInstant, "maxCyclesPerInstant", 1, Number.MAX_SAFE_INTEGER);
    this.clock = new HistoricalClock({ startUnixNanos });
    this.executor = new Executor({ initialCapacity: o.initialCapacity, clock: this.clock });
    this.endNs = Number(endUnixNanos - startUnixNanos);
    this.#step = step;
    this.#maxPerInstant = maxPerInstant;
  }

  /** True once the last cycle (at the end of the interval) ran or a node terminated. */
  get isFinished(): boolean {
    return this.#finished;
  }

  /** Runs one cycle at the clock's current time. */
  runOneCycle(): ExecutorState {
    this.#started = true;
    const st = this.executor.cycle(this.clock);
    if (st === ExecutorState.Terminated) this.#finished = true;
    return st;
  }

  /**
   * Runs cycles until the end of the interval (or `Terminate`).
   *
   * @returns The number of cycles run.
   * @throws {CapacityError} If the graph keeps scheduling work at one instant forever.
   */
  runUntilCompletion(): number {
    const ex = this.executor, clock = this.clock, end = this.endNs;
    let cycles = 0;
    if (!this.#started) {
      cycles++;
      if (this.runOneCycle() === ExecutorState.Terminated) return cycles;
    }
    let atInstant = 0;
    while (!this.#finished) {
      const now = clock.nowNs();
      let next: number;
      if (ex.hasScheduledWork()) {
        next = now;
        if (++atInstant > this.#maxPerInstant) {
          throw new CapacityError(
            `The graph kept scheduling work at ${now} ns for ${this.#maxPerInstant} cycles`,
          );
        }
      } else {
        atInstant = 0;
        next = this.#step > 0 ? now + this.#step : ex.nextTimerDeadline();
        if (next <= now) next = now;
      }
      if (next > end) {
        if (now >= end) {
          this.#finished = true;
          break;
        }
        next = end;
      }
      clock.setElapsed(next);
      cycles++;
      this.runOneCycle();
      if (next >= end && !ex.hasScheduledWork() && ex.nextTimerDeadline() > end) {
        this.#finished = true;
      }
    }
    return cycles;
  }

  /**
   * Replays a stimulus log recorded by a realtime run of the same graph: every recorded cycle
   * runs again with its number and its exact time (the recorded monotonic and wall time), the
   * nodes that notifiers and I/O scheduled are scheduled, and channel reads return what they
   * returned then. The graph must be built the same way before calling this: the log's header
   * holds the graph's fingerprint (node names in id order, depths, edges with their relationship,
   * channel kinds and record layouts, as the graph was when the first recorded cycle started),
   * and a graph with another fingerprint is refused before any cycle runs, with what differs.
   * Clock readings made outside cycles (for example `rt.clock.nowNs()` while building) are not
   * recorded: read time through `ctx.time` (bootstrap a timer from the node's first run).
   *
   * The whole log is checked before the first cycle (every block's checksum, the end marker,
   * every entry), so a damaged or cut log never runs. A difference found while replaying (a node
   * reading more, less or something else than it did, a stimulus for a node the graph no longer
   * has, the graph terminating before the log ends) stops the replay after the cycle it was
   * found in and is thrown from here; when it was found inside a node's cycle function, the
   * executor also reported it to `onError` and removed that node, as it does with any node
   * exception. The executor stays usable either way.
   *
   * @param log The log bytes (`RealtimeRuntime.recordedBytes()` or a file's contents).
   * @returns The number of cycles replayed.
   * @throws {ReplayError} `REPLAY_LOG_INVALID` if the log is damaged, cut short or of another
   *   format version; `REPLAY_MISMATCH` if the graph or the code does not match the log.
   * @throws {WaveletError} `REENTRANT_CYCLE` if called from inside a cycle, `INVALID_ARGUMENT`
   *   if the executor is already replaying.
   */
  replayLog(log: Uint8Array): number {
    const ex = this.executor, port = runtimePort(ex);
    if (ex.inCycle) {
      throw new WaveletError("Cannot replay a log inside a cycle", {
        code: ErrorCode.ReentrantCycle,
      });
    }
    if (port.hook !== null) {
      throw new InvalidArgumentError(
        "This executor is already recording or replaying",
      );
    }
    const r = new Replayer(log);
    r.bind(ex);
    port.attachHook(r);
    try {
      let cycles = 0;
      while (r.nextCycle()) {
        this.clock.setExact(Math.max(r.mono, this.clock.nowNs()), r.sec, r.sub);
        port.setNextEpoch(r.epoch);
        this.#started = true;
        cycles++;
        const st = ex.cycle(this.clock);
        if (r.failure !== null) throw r.failure;
        if (st === ExecutorState.Terminated) {
          this.#finished = true;
          if (cycles < r.cycleCount) {
            throw new ReplayError(
              `The replayed graph terminated in cycle ${r.epoch}, but the log has ${
                r.cycleCount - cycles
              } more cycles`,
            );
          }
          break;
        }
      }
      return cycles;
    } finally {
      port.attachHook(null);
    }
  }
}
