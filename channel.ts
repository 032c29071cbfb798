/**
 * Channels: bounded queues that feed a node from Workers, from host callbacks, or from the same
 * thread, each with an explicit overflow policy; and adapters between the graph and the host's
 * async world (`sourceFrom`, `sinkTo`).
 *
 * A node is built with a channel through `NodeBuilder.buildWith` and one of
 * {@linkcode ringChannel}, {@linkcode valueChannel}, {@linkcode conflatingChannel},
 * {@linkcode localChannel} or {@linkcode channel}: its cycle function gets the receiver, the
 * build returns the sender.
 *
 * Ring channels are the fast way in from Workers: `trySendMany` publishes a batch with one
 * store, and `recvBatch` takes records into columns (`recordColumns`) at memory speed, nothing
 * allocated per record. Conflating channels keep only the latest record per key (prices,
 * quotes): producers never wait and the node sees each key's newest record once per run.
 *
 * @example Items from the same thread
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { localChannel } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const [count, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   localChannel<string>({ capacity: 64 }),
 *   (self, _ctx, rx) => {
 *     while (rx.tryRecv() !== undefined) self.value++;
 *     return true;
 *   },
 * );
 * tx.trySend("a");
 * tx.trySend("b");
 * rt.runOneCycle();
 * if (count.value !== 2) throw new Error("two items");
 * ```
 *
 * @module
 */

export {
  channel,
  type ChannelCycleFn,
  type ChannelOptions,
  conflatingChannel,
  type ConflatingChannelOptions,
  localChannel,
  type LocalChannelOptions,
  type ReceiverFor,
  ringChannel,
  type RingChannelOptions,
  type SenderFor,
  valueChannel,
  type ValueChannelOptions,
} from "./src/channel/build.ts";
export {
  type RecordView,
  RingReceiver,
  RingSender,
  ValueReceiver,
  ValueSender,
} from "./src/channel/channel.ts";
export {
  ConflatingReceiver,
  ConflatingSender,
  type ConflatingSenderTransferable,
} from "./src/channel/conflate.ts";
export { LocalReceiver, LocalSender } from "./src/channel/local.ts";
export { SharedSender, type SharedSenderTransferable } from "./src/channel/shared.ts";
export { ChannelError, Overflow, RecvStatus, SendStatus } from "./src/channel/status.ts";
export {
  defineRecord,
  type FieldType,
  type RecordColumns,
  recordColumns,
  RecordError,
  type RecordLayout,
  type RecordOf,
} from "./src/channel/record.ts";
export {
  type SinkOptions,
  type SinkState,
  sinkTo,
  sourceFrom,
  type SourceOptions,
} from "./src/channel/adapters.ts";
