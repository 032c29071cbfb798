/**
 * Recording and replay, and the historical sources a `HistoricalRuntime` replays: a
 * `RealtimeRuntime` records every stimulus (`startRecording(fileSink(path))`), and
 * `HistoricalRuntime.replayLog` reruns the graph bit for bit; `historicalSource` feeds a graph
 * from time-stamped records (`readLines`, `jsonLines`, `csvRecords`).
 *
 * @example Time-stamped records released at their time
 * ```ts
 * import { HistoricalRuntime, NodeBuilder } from "@wavelet/wavelet";
 * import { historicalSource } from "@wavelet/wavelet/replay";
 *
 * const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 5_000_000n });
 * const src = historicalSource(rt, [{ ts: 1, px: 10 }, { ts: 3, px: 11 }], { timeUnit: "ms" });
 * const seen: number[] = [];
 * new NodeBuilder(0).triggeredBy(src).build(rt.executor, () => {
 *   for (const r of src.value.records) seen.push(r.px);
 * });
 * rt.runUntilCompletion();
 * if (seen.join() !== "10,11") throw new Error(`seen ${seen}`);
 * ```
 *
 * @module
 */

export { type LogSink } from "./src/replay/tap.ts";
export { fileSink } from "./src/replay/file_sink.ts";
export { ReplayError } from "./src/replay/log.ts";
export {
  type HistoricalBatch,
  historicalSource,
  type HistoricalSourceOptions,
  type TimeUnit,
} from "./src/runtime/sources.ts";
export {
  type BadRecordPolicy,
  type CsvOptions,
  csvRecords,
  type CsvRow,
  jsonLines,
  type JsonLinesOptions,
  readLines,
  type RecordPosition,
  RecordStream,
  SourceError,
} from "./src/runtime/readers.ts";
