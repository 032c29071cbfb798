/**
 * wavelet: a deterministic, glitch-free reactive stream-processing runtime for Deno and Bun.
 *
 * A program is a graph of nodes. Each cycle, the executor collects stimuli (yields, timers,
 * I/O and cross-thread notifications), then runs the scheduled nodes in ascending depth, so a
 * node never runs before a parent that runs in the same cycle, and runs at most once per cycle.
 * A node returns a {@linkcode Control}: `Broadcast` runs its Trigger children in the same cycle,
 * `Unchanged` stops propagation, `Sweep` removes it and its descendants, `Terminate` stops.
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
} from "./src/core/errors.ts";
export { CycleTime, ms, ns, seconds, splitUnixNanos, us } from "./src/core/time.ts";
export type { Clock } from "./src/clock/clock.ts";
export { TestClock, type TestClockOptions } from "./src/clock/test_clock.ts";
export {
  type ErrorHandler,
  type ErrorPhase,
  type ErrorReport,
  ExecutionContext,
  Executor,
  type ExecutorOptions,
  type ExecutorStats,
  type NodeStats,
  type Poller,
  printError,
  type ProfilingOptions,
  type TraceEntry,
} from "./src/core/executor.ts";
export { type CycleFn, type DropFn, type InitFn, Node, NodeBuilder } from "./src/core/node.ts";
export type { TimerHandle } from "./src/drivers/timer.ts";
export { MAX_TIMERS } from "./src/drivers/timer.ts";
export { TestRuntime, type TestRuntimeOptions } from "./src/runtime/test_runtime.ts";
export {
  AtomicsWaker,
  Notifier,
  NotifierClosedError,
  type NotifierTransferable,
  type Waker,
} from "./src/drivers/notify.ts";
export { PrecisionClock, type PrecisionClockOptions } from "./src/clock/precision_clock.ts";
export {
  RealtimeRuntime,
  type RealtimeRuntimeOptions,
  RuntimeShutDownError,
} from "./src/runtime/realtime.ts";
export type { LoadAttempt, NativeBackend } from "./ffi/backend.ts";
export { NativeError, NativeErrorCode, NativeLoadError, UnsupportedError } from "./ffi/backend.ts";
export {
  ffiAvailable,
  loadBackend,
  type LoadBackendOptions,
  loadNative,
  type LoadNativeOptions,
} from "./ffi/load.ts";

// The one wiring step: src/ obtains live backends through this provider (see
// src/runtime/backend_provider.ts), so src/ never imports the loader itself.
import { loadBackend as _loadBackend } from "./ffi/load.ts";
import { installBackendProvider as _installBackendProvider } from "./src/runtime/backend_provider.ts";
_installBackendProvider(_loadBackend);
export { type IoHandle, type IoPoller, Readiness } from "./src/drivers/io.ts";
export {
  type ChannelCycleFn,
  ChannelError,
  type ChannelOptions,
  defineRecord,
  type FieldType,
  type LocalChannelOptions,
  LocalReceiver,
  LocalSender,
  Overflow,
  type ReceiverFor,
  RecordError,
  type RecordLayout,
  type RecordOf,
  type RecordView,
  RecvStatus,
  type RingChannelOptions,
  RingReceiver,
  RingSender,
  type SenderFor,
  SendStatus,
  SharedSender,
  type SharedSenderTransferable,
  type ValueChannelOptions,
  ValueReceiver,
  ValueSender,
} from "./src/channel/channel.ts";
export { ADDR_LEN, SocketOption } from "./ffi/backend.ts";
export { NetError, NetErrorCode } from "./src/net/errors.ts";
export { type NetRuntime, SocketAddress } from "./src/net/address.ts";
export {
  TcpListener,
  type TcpListenerOptions,
  TcpStream,
  type TcpStreamOptions,
  UdpSocket,
  type UdpSocketOptions,
  WOULD_BLOCK,
} from "./src/net/socket.ts";
export {
  Framing,
  TcpConnection,
  tcpConnectionNode,
  type TcpConnectionOptions,
  tcpListenerNode,
  type TcpListenerNodeOptions,
  type TcpListenerState,
} from "./src/net/nodes.ts";
export {
  type SinkOptions,
  type SinkState,
  sinkTo,
  sourceFrom,
  type SourceOptions,
} from "./src/channel/adapters.ts";
export {
  FactoryError,
  type FactoryErrorKind,
  KeyedFactory,
  type KeyedFactoryFn,
  SimpleFactory,
  type SimpleFactoryFn,
} from "./src/factory.ts";
export {
  type CycleRunner,
  type Probe,
  probe,
  type ProbeOptions,
  type ProbeRecord,
  type PushBatchHandle,
  pushBatchNode,
  type PushHandle,
  pushNode,
  type PushNodeOptions,
  runCycles,
  runUntil,
} from "./src/testing.ts";
export * from "./src/std/mod.ts";
export { HistoricalClock } from "./src/clock/historical_clock.ts";
export { HistoricalRuntime, type HistoricalRuntimeOptions } from "./src/runtime/historical.ts";
export {
  type BadRecordPolicy,
  type CsvOptions,
  csvRecords,
  type CsvRow,
  type HistoricalBatch,
  historicalSource,
  type HistoricalSourceOptions,
  jsonLines,
  type JsonLinesOptions,
  readLines,
  type RecordPosition,
  RecordStream,
  SourceError,
  type TimeUnit,
} from "./src/runtime/sources.ts";
export { type LogSink, Recorder, Replayer } from "./src/replay/tap.ts";
export { fileSink } from "./src/replay/file_sink.ts";
export { ReplayError } from "./src/replay/log.ts";
export { Histogram, type HistogramSnapshot } from "./src/observe/histogram.ts";
