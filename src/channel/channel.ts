/**
 * Channels: bounded queues that feed a node from Workers, from host callbacks, or from the same
 * thread, each with an explicit overflow policy chosen at creation.
 *
 * - **Ring channel** (`kind: "ring"`, `ring.ts`): fixed-size binary records with a layout
 *   declared once (`defineRecord`), in a `SharedArrayBuffer`; one single-producer ring
 *   per sender (see `rings.ts`), one consumer, no locks. The fastest way in from a Worker.
 * - **Value channel** (`kind: "value"`, `value.ts`): any structured-cloneable value from any
 *   thread, serialized (`node:v8`) into fixed-size cells of the same kind of rings.
 * - **Conflating channel** (`kind: "conflate"`, `conflate.ts`): the latest record per key wins;
 *   producers never wait, and the node sees each key's newest record once per cycle.
 * - **Local channel** (`kind: "local"`, `local.ts`): any JS value from the same thread (host
 *   callbacks, promises, streams), with `sendAsync` for backpressure.
 *
 * An item is always published before the wake-up, wake-ups are never lost (the notifier path),
 * and a receiver that returns with items left is run again in the next cycle. A Worker that
 * dies holding a sender is noticed (its thread is gone): what it sent is delivered and it stops
 * counting as an open sender.
 *
 * @module
 */

export { type RecordView, RingReceiver, RingSender } from "./ring.ts";
export { ValueReceiver, ValueSender } from "./value.ts";
