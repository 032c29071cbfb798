/**
 * Shards: one graph per core. A {@linkcode ShardedRuntime} starts N Workers, each running a
 * `RealtimeRuntime` that builds the same graph from a shard module ({@linkcode defineShard});
 * records are routed to a shard by a stable hash of their key ({@linkcode shardOf}) through ring
 * channels, so one key's records are handled by one graph in order, and the shards' outputs
 * come back into one node of the main graph. A shard that throws is reported and restarted
 * without stopping the others; `shutdown()` stops every shard gracefully (each runs every
 * `onDrop`). A shard's run can be recorded in its Worker and replayed on its own
 * ({@linkcode replayShard}).
 *
 * @example Routing keys to shards
 * ```ts
 * import { shardOf } from "@wavelet/wavelet/shard";
 *
 * const counts = [0, 0, 0, 0];
 * for (let key = 0; key < 1000; key++) counts[shardOf(key, 4)]++;
 * if (counts.some((c) => c < 200)) throw new Error("keys spread over the four shards");
 * ```
 *
 * @module
 */

export {
  defineShard,
  type ShardBatch,
  type ShardContext,
  type ShardDefinition,
  ShardError,
} from "./src/shard/define.ts";
export {
  ShardedRuntime,
  type ShardOptions,
  type ShardState,
  type ShardStatus,
} from "./src/shard/pool.ts";
export { replayShard, type ReplayShardOptions, type ShardReplay } from "./src/shard/replay.ts";
export { shardOf } from "./src/shard/hash.ts";
