/**
 * Replaying one shard on its own: a shard's run recorded in its Worker (the `record` option of
 * the sharded runtime) reruns on this thread, without Workers and without the other shards,
 * into the same graph built from the same declaration, and yields the same outputs.
 *
 * @module
 */

import { HistoricalRuntime } from "../runtime/historical.ts";
import { checkInstance, checkInteger, checkOptions, describe, invalid } from "../core/validate.ts";
import type { FieldType, RecordOf } from "../channel/record.ts";
import { buildShardGraph, isShardDefinition, noOutput, type ShardDefinition } from "./define.ts";

/** The default when the option is absent (null is no absence: it is checked and refused). */
const orDefault = <T>(v: T | undefined, d: T): T => v === undefined ? d : v;

/**
 * Options of {@linkcode replayShard}: what the recorded shard was started with.
 *
 * @example The third of four shards, first start
 * ```ts
 * import type { ReplayShardOptions } from "@wavelet/wavelet/shard";
 *
 * const options: ReplayShardOptions = { shard: 2, shards: 4, incarnation: 0 };
 * if (options.shard !== 2) throw new Error("shard 2");
 * ```
 */
export interface ReplayShardOptions {
  /** The shard's index. */
  shard: number;
  /** How many shards there were. */
  shards: number;
  /** Which start of the shard was recorded (default 0). */
  incarnation?: number;
  /** The `params` the sharded runtime was given. */
  params?: unknown;
  /** The `maxBatch` the sharded runtime was given (default 1024). */
  maxBatch?: number;
}

/**
 * What a replayed shard produced.
 *
 * @example Counting outputs
 * ```ts
 * import type { ShardReplay } from "@wavelet/wavelet/shard";
 *
 * const r: ShardReplay<{ key: "u32" }> = { outputs: [{ key: 1 }], cycles: 3 };
 * if (r.outputs.length !== 1) throw new Error("one");
 * ```
 */
export interface ShardReplay<O extends Record<string, FieldType>> {
  /** Every record the shard emitted, in order (copies), including those of its `onDrop`s. */
  outputs: RecordOf<O>[];
  /** Cycles replayed. */
  cycles: number;
}

/**
 * Replays a shard's recorded run: builds the declaration's graph on a historical runtime exactly
 * as the shard's Worker did, reruns the recorded cycles (same times, same records read), then
 * removes the graph (every `onDrop` runs, as at the shard's shutdown) and returns what it
 * emitted.
 *
 * @param definition The shard declaration the recorded shard ran.
 * @param log The recorded log (the file's bytes).
 * @param options The shard's index, count, incarnation and params.
 * @returns The emitted records and the number of cycles.
 * @throws {InvalidArgumentError} If an argument is not valid.
 * @throws {ReplayError} If the log is damaged or the graph differs from the recorded one.
 *
 * @example Replaying a recorded shard
 * ```ts ignore
 * import { readFileSync } from "node:fs";
 * import { replayShard } from "@wavelet/wavelet/shard";
 * import sums from "./sum_shard.ts";
 *
 * const log = new Uint8Array(readFileSync("shard-0.wvlog"));
 * const { outputs } = replayShard(sums, log, { shard: 0, shards: 4 });
 * console.log(outputs.length);
 * ```
 */
export function replayShard<
  I extends Record<string, FieldType>,
  O extends Record<string, FieldType>,
  P,
>(
  definition: ShardDefinition<I, O, P>,
  log: Uint8Array,
  options: ReplayShardOptions,
): ShardReplay<O> {
  if (!isShardDefinition(definition)) {
    throw invalid(
      `The shard declaration must come from defineShard(), got ${describe(definition)}`,
    );
  }
  checkInstance(log, Uint8Array, "The log");
  const o = checkOptions(options, "replayShard's options", [
    "shard",
    "shards",
    "incarnation",
    "params",
    "maxBatch",
  ]);
  const shards = checkInteger(o.shards, "The shards option", 1, 256);
  const shard = checkInteger(o.shard, "The shard option", 0, shards - 1);
  const info = {
    shard,
    shards,
    incarnation: checkInteger(orDefault(o.incarnation, 0), "The incarnation option", 0, 2 ** 31),
    params: o.params === undefined ? undefined : structuredClone(o.params),
    capacity: 1,
    maxBatch: checkInteger(orDefault(o.maxBatch, 1024), "The maxBatch option", 1, 1 << 20),
  };
  const outputs: RecordOf<O>[] = [];
  const layout = definition.output;
  const emit = layout === null
    ? () => {
      throw noOutput(shard);
    }
    : (r: Partial<RecordOf<O>>) => {
      const copy = {} as Record<string, number>;
      for (const n of layout.names) copy[n] = (r as Record<string, number>)[n] ?? 0;
      outputs.push(copy as RecordOf<O>);
    };
  const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  const tx = buildShardGraph(
    rt.executor,
    definition as ShardDefinition<I, O, unknown>,
    info,
    emit,
    () => {},
    () => {},
  );
  tx.close();
  const cycles = rt.replayLog(log);
  rt.executor.removeAll();
  return { outputs, cycles };
}
