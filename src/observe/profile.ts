/**
 * Profiling: time per node and a histogram of cycle durations, measured by an instrument that
 * wraps the nodes' cycle functions (the executor's hot loop is untouched, and with no profiler
 * attached nothing is wrapped).
 *
 * @module
 */

import { Executor } from "../core/executor.ts";
import type { AnyCycleFn, Instrument } from "../core/hooks.ts";
import type { Node } from "../core/node.ts";
import { checkInstance, checkOptions, describe, invalid } from "../core/validate.ts";
import { Histogram, type HistogramSnapshot } from "./histogram.ts";

/**
 * Options of {@linkcode profile}.
 *
 * @example Node times on a fake clock
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { profile, type ProfileOptions } from "@wavelet/wavelet/observe";
 *
 * const rt = new TestRuntime();
 * let fakeNow = 0;
 * const options: ProfileOptions = {
 *   cycleTime: false,
 *   nowNs: () => (fakeNow += 1000), // every reading 1 us after the previous one
 * };
 * const profiler = profile(rt.executor, options);
 * new NodeBuilder(0)
 *   .named("work")
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, () => false);
 * rt.runOneCycle();
 * const report = profiler.report();
 * if (report.cycleTime !== undefined) throw new Error("cycle times were not asked for");
 * if (report.nodes[0].timeNs !== 1000) throw new Error("one run of 1 us");
 * profiler.stop();
 * ```
 */
export interface ProfileOptions {
  /** Measure the time spent in each node's cycle function (default true). */
  nodeTime?: boolean;
  /** Record every cycle's duration in a histogram (default true). */
  cycleTime?: boolean;
  /** The clock, in nanoseconds (default `performance.now()`). */
  nowNs?: () => number;
}

/**
 * What a {@linkcode Profiler} measured.
 *
 * @example Reading a report
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { profile, type ProfileReport } from "@wavelet/wavelet/observe";
 *
 * const rt = new TestRuntime();
 * const profiler = profile(rt.executor);
 * new NodeBuilder(0).named("a").onInit((ex, s) => ex.yieldNow(s)).build(rt.executor, () => false);
 * rt.runOneCycle();
 * const r: ProfileReport = profiler.report();
 * if (r.cycleTime?.count !== 1 || r.nodes[0].name !== "a") throw new Error("one cycle of a");
 * ```
 */
export interface ProfileReport {
  /** Per live node that ran while profiled, in id order: time in its cycle function, in ns. */
  nodes: { id: number; name: string | undefined; timeNs: number }[];
  /** Cycle durations (unless `cycleTime: false`). */
  cycleTime?: HistogramSnapshot;
}

/**
 * A running profile, from {@linkcode profile}.
 *
 * @example Profiling a stretch of cycles
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { profile, type Profiler } from "@wavelet/wavelet/observe";
 *
 * const rt = new TestRuntime();
 * new NodeBuilder(0).onInit((ex, s) => ex.yieldNow(s)).build(rt.executor, () => false);
 * const profiler: Profiler = profile(rt.executor);
 * rt.runOneCycle();
 * profiler.stop(); // the original cycle functions run again
 * if (profiler.report().cycleTime?.count !== 1) throw new Error("one cycle");
 * ```
 */
export interface Profiler {
  /** What was measured so far (also after `stop`). */
  report(): ProfileReport;
  /** Detaches the profiler (idempotent); its report stays readable. */
  stop(): void;
}

/**
 * Starts profiling an executor: time per node and a histogram of cycle durations. Costs a
 * clock read around every node run and every cycle while attached; several profilers may be
 * attached at once.
 *
 * @throws {InvalidArgumentError} If `executor` is not an executor, an option is of the wrong
 *   type, or `nowNs` throws or returns something other than a finite number when first read.
 */
export function profile(executor: Executor, options?: ProfileOptions): Profiler {
  if (options === undefined) options = {};
  checkInstance(executor, Executor, "profile's executor");
  const o = checkOptions(options, "Profile options", ["nodeTime", "cycleTime", "nowNs"]);
  for (const k of ["nodeTime", "cycleTime"] as const) {
    if (o[k] !== undefined && typeof o[k] !== "boolean") {
      throw invalid(`${k} must be a boolean, got ${describe(o[k])}`);
    }
  }
  const clock = o.nowNs;
  if (clock !== undefined && typeof clock !== "function") {
    throw invalid(`nowNs must be a function, got ${describe(clock)}`);
  }
  if (clock !== undefined) {
    // One reading up front: a clock that fails or answers something else is refused now.
    let t: unknown;
    try {
      t = clock();
    } catch (cause) {
      throw invalid("nowNs threw when read", cause);
    }
    if (typeof t !== "number" || !Number.isFinite(t)) {
      throw invalid(`nowNs must return a finite number of nanoseconds, got ${describe(t)}`);
    }
  }
  // A later reading that is not a number becomes NaN, and a NaN duration is not recorded.
  const now = clock === undefined ? () => performance.now() * 1e6 : () => {
    const t = clock();
    return typeof t === "number" ? t : NaN;
  };
  const nodeTime = o.nodeTime ?? true;
  const hist = (o.cycleTime ?? true) ? new Histogram() : null;
  const times = new Map<Node<unknown>, number>();
  let cycleStart = 0;
  const instrument: Instrument = {
    wrap: (_slot: number, fn: AnyCycleFn): AnyCycleFn =>
      !nodeTime ? fn : (self, ctx) => {
        const t0 = now();
        try {
          return fn(self, ctx);
        } finally {
          const d = now() - t0;
          if (Number.isFinite(d)) times.set(self, (times.get(self) ?? 0) + d);
        }
      },
    cause: () => {},
    cycleStart: () => {
      if (hist !== null) cycleStart = now();
    },
    cycleEnd: () => {
      if (hist === null) return;
      const d = now() - cycleStart;
      if (Number.isFinite(d) && d >= 0) hist.record(d);
    },
  };
  executor.attachInstrument(instrument);
  let attached = true;
  return {
    report(): ProfileReport {
      const nodes = [...times].filter(([n]) => n.isAlive).sort(([a], [b]) => a.id - b.id)
        .map(([n, t]) => ({ id: n.id, name: n.name, timeNs: t }));
      const r: ProfileReport = { nodes };
      if (hist !== null) r.cycleTime = hist.snapshot();
      return r;
    },
    stop(): void {
      if (!attached) return;
      attached = false;
      executor.detachInstrument(instrument);
    },
  };
}
