/**
 * The realtime clock: wall time with monotonic precision.
 *
 * @module
 */

import { hostOs } from "../runtime/host.ts";
import { checkInteger, checkNumber, checkOptions, describe, invalid } from "../core/validate.ts";
import { CycleTime } from "../core/time.ts";
import type { NativeBackend } from "../../ffi/backend.ts";
import { type Clock, notCycleTime } from "./clock.ts";

/** The clock readings a {@linkcode PrecisionClock} needs (any backend provides them). */
export type ClockSource = Pick<NativeBackend, "monotonicNs" | "realtime">;

/** Calibration defaults for one operating system. */
export interface PrecisionClockDefaults {
  /** A calibration is accurate when its bracket is at most this many nanoseconds. */
  thresholdNs: number;
  /** The most bracketed readings one calibration takes. */
  maxRetries: number;
}

/** Default resync interval: one hour, in nanoseconds. */
export const DEFAULT_RESYNC_INTERVAL_NS = 3600e9;

/**
 * The calibration defaults for an operating system (those of the reference implementation).
 *
 * @param os `"linux"`, `"darwin"`, `"windows"` or anything else.
 * @returns Linux 500 ns / 5, macOS 1000 ns / 10, Windows 2000 ns / 20, other 1500 ns / 15.
 *
 * @example
 * ```ts
 * import { precisionClockDefaults } from "./precision_clock.ts";
 * precisionClockDefaults("linux"); // { thresholdNs: 500, maxRetries: 5 }
 * ```
 */
export function precisionClockDefaults(os: string): PrecisionClockDefaults {
  switch (os) {
    case "linux":
      return { thresholdNs: 500, maxRetries: 5 };
    case "darwin":
      return { thresholdNs: 1000, maxRetries: 10 };
    case "windows":
      return { thresholdNs: 2000, maxRetries: 20 };
    default:
      return { thresholdNs: 1500, maxRetries: 15 };
  }
}

/**
 * Options for {@linkcode PrecisionClock}.
 *
 * @example Recalibrating every minute
 * ```ts
 * import { CycleTime, seconds } from "@wavelet/wavelet";
 * import {
 *   loadBackend,
 *   PrecisionClock,
 *   type PrecisionClockOptions,
 * } from "@wavelet/wavelet/native";
 *
 * const options: PrecisionClockOptions = {
 *   resyncIntervalNs: seconds(60),
 *   thresholdNs: 2_000,
 *   maxRetries: 3,
 * };
 * const clock = new PrecisionClock(loadBackend(), options);
 * const t = new CycleTime();
 * clock.sample(t);
 * if (clock.maxRetries !== 3 || clock.resyncIntervalNs !== 60e9) throw new Error("options kept");
 * if (Math.abs(t.unixMillis - Date.now()) > 1000) throw new Error("wall time is about now");
 * ```
 */
export interface PrecisionClockOptions {
  /** How often to recalibrate, in nanoseconds (default one hour). */
  resyncIntervalNs?: number;
  /** Bracket width at or under which a calibration counts as accurate (OS default). */
  thresholdNs?: number;
  /** The most bracketed readings per calibration (OS default). */
  maxRetries?: number;
}

/** Initial "best" bracket: anything wider than a second is rejected. */
const MAX_UNCERTAINTY_NS = 1e9;

/** The most bracketed readings one calibration may take (each is three clock reads). */
export const MAX_RETRIES = 10_000;

/**
 * Wall time with monotonic-clock precision: the wall clock is read once per calibration,
 * bracketed by two monotonic readings, and the wall time of a sample is that reading plus the
 * monotonic time elapsed since. Between calibrations wall time advances exactly with the
 * monotonic clock (immune to NTP steps); a recalibration, every `resyncIntervalNs`, may move it
 * by the drift accumulated meanwhile (even backwards).
 *
 * Calibration takes up to `maxRetries` bracketed readings (monotonic t1, wall w, monotonic
 * t2), keeps the one with the narrowest bracket `t2 - t1` (under 1 s), assumes the wall reading
 * happened at the bracket's midpoint, and stops early once a bracket is within
 * `thresholdNs`. `isAccurate` tells whether the kept bracket was within the threshold.
 *
 * @example
 * ```ts ignore
 * import { CycleTime } from "@wavelet/wavelet";
 * import { PrecisionClock } from "@wavelet/wavelet/native";
 * import { loadBackend } from "../../ffi/load.ts";
 *
 * const clock = new PrecisionClock(loadBackend());
 * const t = new CycleTime();
 * clock.sample(t);
 * console.log(t.unixNanos, clock.isAccurate);
 * ```
 */
export class PrecisionClock implements Clock {
  /** How often the clock recalibrates, in nanoseconds. */
  readonly resyncIntervalNs: number;
  /** Bracket width at or under which a calibration counts as accurate, in nanoseconds. */
  readonly thresholdNs: number;
  /** The most bracketed readings per calibration. */
  readonly maxRetries: number;
  readonly #source: ClockSource;
  readonly #wall = new Float64Array(2);
  #baseInstant = 0;
  #baseSec = 0;
  #baseSub = 0;
  #lastResync = 0;
  #accurate = false;
  #uncertainty = Infinity;

  /**
   * Creates the clock and calibrates it once.
   *
   * @param source The backend whose clocks are read (native or pure-JS).
   * @param options Resync interval, threshold and retries.
   * @throws {InvalidArgumentError} If `source` lacks `monotonicNs` or `realtime`, `options` is
   * not an object, the interval is not a finite number >= 1, the threshold not a finite number
   * >= 0, or the retry count not an integer in [0, 10 000].
   */
  constructor(source: ClockSource, options?: PrecisionClockOptions) {
    if (options === undefined) options = {};
    let mono: unknown, real: unknown;
    try {
      if (source !== null && typeof source === "object") {
        mono = source.monotonicNs;
        real = source.realtime;
      }
    } catch (cause) {
      throw invalid("PrecisionClock's source could not be read", cause);
    }
    if (typeof mono !== "function" || typeof real !== "function") {
      throw invalid(
        `PrecisionClock needs a source with monotonicNs() and realtime(), got ${describe(source)}`,
      );
    }
    const o = checkOptions(options, "PrecisionClock's options", [
      "resyncIntervalNs",
      "thresholdNs",
      "maxRetries",
    ]);
    const d = precisionClockDefaults(hostOs());
    this.resyncIntervalNs = checkNumber(
      o.resyncIntervalNs === undefined ? DEFAULT_RESYNC_INTERVAL_NS : o.resyncIntervalNs,
      "The resync interval",
      1,
      Infinity,
    );
    this.thresholdNs = checkNumber(
      o.thresholdNs === undefined ? d.thresholdNs : o.thresholdNs,
      "The measurement threshold",
      0,
      Infinity,
    );
    this.maxRetries = checkInteger(
      o.maxRetries === undefined ? d.maxRetries : o.maxRetries,
      "The retry count",
      0,
      MAX_RETRIES,
    );
    this.#source = source;
    this.resync();
  }

  /** Whether the last calibration's bracket was within {@linkcode thresholdNs}. */
  get isAccurate(): boolean {
    return this.#accurate;
  }

  /** The bracket width of the last calibration in ns (`Infinity` when unbracketed). */
  get uncertaintyNs(): number {
    return this.#uncertainty;
  }

  /** Recalibrates now against the wall clock. */
  resync(): void {
    const src = this.#source, wall = this.#wall;
    let best = MAX_UNCERTAINTY_NS;
    let found = false;
    for (let i = 0; i < this.maxRetries; i++) {
      const t1 = src.monotonicNs();
      src.realtime(wall);
      const t2 = src.monotonicNs();
      const u = t2 - t1;
      if (u < best) {
        best = u;
        found = true;
        this.#baseInstant = t1 + u / 2;
        this.#baseSec = wall[0];
        this.#baseSub = wall[1];
        if (u <= this.thresholdNs) break;
      }
    }
    if (found) {
      this.#uncertainty = best;
      this.#accurate = best <= this.thresholdNs;
    } else {
      src.realtime(wall);
      this.#baseInstant = src.monotonicNs();
      this.#baseSec = wall[0];
      this.#baseSub = wall[1];
      this.#uncertainty = Infinity;
      this.#accurate = false;
    }
    this.#lastResync = this.#baseInstant;
  }

  /**
   * Writes the current monotonic and wall time into `out`, recalibrating first when the resync
   * interval has passed.
   *
   * @throws {InvalidArgumentError} If `out` is not a CycleTime.
   */
  sample(out: CycleTime): void {
    if (!(out instanceof CycleTime)) throw notCycleTime(out);
    let now = this.#source.monotonicNs();
    if (now - this.#lastResync >= this.resyncIntervalNs) {
      this.resync();
      now = this.#source.monotonicNs();
    }
    out.monotonicNs = now;
    // Whole nanoseconds (the base instant is a bracket midpoint, possibly x.5); floor keeps
    // successive samples non-decreasing. Elapsed saturates at 0.
    const elapsed = Math.floor(now - this.#baseInstant);
    out.setWall(this.#baseSec, this.#baseSub, elapsed > 0 ? elapsed : 0);
  }

  /** The current monotonic time in nanoseconds. */
  nowNs(): number {
    return this.#source.monotonicNs();
  }
}
