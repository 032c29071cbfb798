/**
 * NATS JetStream nodes: a source on a durable pull consumer whose messages are acknowledged
 * only after the cycle that consumed them completed (and the sinks stored what it produced), a
 * sink that publishes with message ids derived from its input (JetStream's de-duplication makes
 * redelivered inputs produce no duplicate outputs), partitions owned by processes through one
 * durable consumer per partition, and a local `nats-server` for tests and examples. Uses the
 * official clients (`@nats-io/transport-node`, `@nats-io/jetstream`), which live on the host
 * event loop: run the graph with `run()`.
 *
 * @example Where keys go
 * ```ts
 * import { partitionMapping, partitionOf } from "@wavelet/wavelet/nats";
 *
 * const [from, to] = partitionMapping("orders", 4); // for the server's mappings
 * const p = partitionOf("acct-7", 4); // orders.acct-7 is stored as orders.<p>.acct-7
 * if (from !== "orders.*" || !to.includes("partition(4,1)") || p < 0 || p > 3) {
 *   throw new Error("a mapping and a partition");
 * }
 * ```
 *
 * @module
 */

export { JetStreamError } from "./src/nats/errors.ts";
export {
  type CommitGate,
  type JetStreamBatch,
  type JetStreamMessage,
  JetStreamSource,
  jetStreamSource,
  type JetStreamSourceOptions,
  type JetStreamSourceState,
  type NatsConnectionLike,
} from "./src/nats/source.ts";
export {
  type JetStreamOutput,
  JetStreamSink,
  jetStreamSink,
  type JetStreamSinkOptions,
  type JetStreamSinkState,
} from "./src/nats/sink.ts";
export {
  ensureStream,
  PartitionedSource,
  partitionedSource,
  type PartitionedSourceOptions,
  partitionMapping,
  partitionOf,
  type PartitionState,
  type StreamOptions,
} from "./src/nats/partitions.ts";
export {
  type NatsServer,
  natsServerAvailable,
  type NatsServerOptions,
  startNatsServer,
} from "./src/nats/server.ts";
