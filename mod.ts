/**
 * wavelet: a deterministic, glitch-free reactive stream-processing runtime for Deno and Bun.
 *
 * A program is a graph of nodes. Each cycle, the executor collects stimuli (yields, timers,
 * I/O and cross-thread notifications), then runs the scheduled nodes in ascending depth, so a
 * node never runs before a parent that runs in the same cycle, and runs at most once per cycle.
 * A node returns a {@linkcode Control}: `Broadcast` runs its Trigger children in the same cycle,
 * `Unchanged` stops propagation, `Sweep` removes it and its descendants, `Terminate` stops.
 *
 * This entry holds the core (nodes, builder, executor, contexts), the three runtimes, time and
 * errors. Features are sub-path entries: `@wavelet/wavelet/channel` (channels and stream
 * adapters), `/net` (TCP and UDP nodes), `/std` (the node library and factories), `/replay`
 * (recording sinks, historical sources), `/testing`, `/observe` (profiling, tracing,
 * histograms) and `/native` (the backend loader and native errors).
 *
 * @example A source and a derived node on the test runtime
 * ```ts
 * import { Control, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const src = new NodeBuilder(0)
 *   .named("src")
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, (self) => {
 *     self.value += 1;
 *     return Control.Broadcast;
 *   });
 * const doubled = new NodeBuilder(0)
 *   .triggeredBy(src)
 *   .build(rt.executor, (self) => {
 *     self.value = src.value * 2;
 *     return Control.Broadcast;
 *   });
 * rt.runOneCycle();
 * console.log(doubled.value, rt.executor.hasMutated(doubled)); // 2 true
 * ```
 *
 * @module
 */

export { Control, ExecutionMode, ExecutorState, nameOf, Relationship } from "./src/core/control.ts";
export {
  BuilderError,
  CapacityError,
  ContextError,
  ErrorCode,
  ForeignNodeError,
  InvalidArgumentError,
  NodeRemovedError,
  SchedulerError,
  WaveletError,
  type WaveletErrorOptions,
} from "./src/core/errors.ts";
export { CycleTime, ms, ns, seconds, splitUnixNanos, us } from "./src/core/time.ts";
export type { Clock } from "./src/clock/clock.ts";
export { TestClock, type TestClockOptions } from "./src/clock/test_clock.ts";
export { HistoricalClock } from "./src/clock/historical_clock.ts";
export { Executor, type ExecutorOptions } from "./src/core/executor.ts";
export type { ExecutorStats, NodeStats } from "./src/core/inspect.ts";
export { type CycleFn, ExecutionContext } from "./src/core/context.ts";
export {
  type ErrorHandler,
  type ErrorPhase,
  type ErrorReport,
  printError,
} from "./src/core/report.ts";
export { type DropFn, Node } from "./src/core/node.ts";
export {
  type AttachedCycleFn,
  type Attachment,
  type InitFn,
  NodeBuilder,
} from "./src/core/builder.ts";
export type { TimerHandle } from "./src/drivers/timer.ts";
export { type IoHandle, Readiness } from "./src/drivers/io.ts";
export { Notifier, NotifierClosedError, type NotifierTransferable } from "./src/drivers/notify.ts";
export { TestRuntime, type TestRuntimeOptions } from "./src/runtime/test_runtime.ts";
export {
  RealtimeRuntime,
  type RealtimeRuntimeOptions,
  RuntimeShutDownError,
} from "./src/runtime/realtime.ts";
export { HistoricalRuntime, type HistoricalRuntimeOptions } from "./src/runtime/historical.ts";
