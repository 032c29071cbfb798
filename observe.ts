/**
 * The operator's view of a running graph: profiling (time per node, cycle durations), a trace
 * of why each node ran, and the histogram they use.
 *
 * @example Profiling a few cycles
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { profile } from "@wavelet/wavelet/observe";
 *
 * const rt = new TestRuntime();
 * new NodeBuilder(0).named("work").onInit((ex, s) => ex.yieldNow(s)).build(rt.executor, () => false);
 * const profiler = profile(rt.executor);
 * rt.runOneCycle();
 * const report = profiler.report();
 * profiler.stop();
 * if (report.cycleTime?.count !== 1 || report.nodes[0].name !== "work") throw new Error("one run");
 * ```
 *
 * @module
 */

export {
  profile,
  type ProfileOptions,
  type Profiler,
  type ProfileReport,
} from "./src/observe/profile.ts";
export { trace, type TraceEntry, type TraceOptions, type Tracer } from "./src/observe/trace.ts";
export { Histogram, type HistogramSnapshot } from "./src/observe/histogram.ts";
export {
  type AnyCycleFn,
  CAUSE_IO,
  CAUSE_NOTIFY,
  CAUSE_SCHEDULE,
  CAUSE_TIMER,
  CAUSE_YIELD,
  type Instrument,
} from "./src/core/hooks.ts";
