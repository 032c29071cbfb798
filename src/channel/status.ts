/**
 * The small vocabulary channels share: what a send and a receive report, what a full channel
 * does, and the error a misused sender or receiver raises.
 *
 * @module
 */

import { ErrorCode, WaveletError } from "../core/errors.ts";

/**
 * What a send did.
 *
 * @example Branching on the send result
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, SendStatus } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const [node, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   channel({ kind: "local", capacity: 1 }),
 *   () => false,
 * );
 * const first = tx.trySend("a");
 * const second = tx.trySend("b"); // the reject policy: full
 * node.remove();
 * const third = tx.trySend("c"); // the receiver is gone
 * if (first !== SendStatus.Sent || second !== SendStatus.Full || third !== SendStatus.Closed) {
 *   throw new Error("expected Sent, Full, Closed");
 * }
 * ```
 */
export const SendStatus = {
  /** The item is queued. */
  Sent: 0,
  /** The queue is full; the item was not queued (reject policy, or block timed out). */
  Full: 1,
  /** The receiver is gone; the item was not queued. */
  Closed: 2,
} as const;
/** A value of {@linkcode SendStatus}. */
export type SendStatus = typeof SendStatus[keyof typeof SendStatus];

/**
 * What a receive found.
 *
 * @example Branching on the receive result
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, defineRecord, RecvStatus } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const seen: number[] = [];
 * const out = { n: 0 };
 * const [, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   channel({ kind: "ring", record: defineRecord({ n: "i32" }), capacity: 4 }),
 *   (_self, _ctx, rx) => {
 *     for (;;) {
 *       const s = rx.tryRecv(out);
 *       if (s === RecvStatus.Item) seen.push(out.n);
 *       else {
 *         if (s === RecvStatus.Closed) seen.push(-1);
 *         return false;
 *       }
 *     }
 *   },
 * );
 * tx.trySend({ n: 5 });
 * tx.close();
 * rt.runOneCycle();
 * if (seen.join() !== "5,-1") throw new Error("an item, then Closed");
 * ```
 */
export const RecvStatus = {
  /** Nothing queued right now. */
  Empty: 0,
  /** An item was received. */
  Item: 1,
  /** Nothing queued and every sender closed: nothing will ever come. */
  Closed: 2,
} as const;
/** A value of {@linkcode RecvStatus}. */
export type RecvStatus = typeof RecvStatus[keyof typeof RecvStatus];

/**
 * What a full channel does with a new item.
 *
 * @example Dropping the oldest item when full
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, Overflow } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const seen: unknown[] = [];
 * const [, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   channel({ kind: "local", capacity: 2, overflow: Overflow.DropOldest }),
 *   (_self, _ctx, rx) => {
 *     for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) seen.push(v);
 *     return false;
 *   },
 * );
 * tx.trySend(1);
 * tx.trySend(2);
 * tx.trySend(3); // full: 1 is dropped
 * rt.runOneCycle();
 * if (tx.dropped !== 1 || seen.join() !== "2,3") throw new Error("expected 1 dropped, [2, 3]");
 * ```
 */
export const Overflow = {
  /** `trySend` returns `SendStatus.Full` and the caller keeps the item. */
  Reject: "reject",
  /** The oldest queued item is dropped (and counted) to make room. */
  DropOldest: "dropOldest",
  /** The producing Worker blocks until there is room or `blockTimeoutMs` passes. */
  Block: "block",
} as const;
/** A value of {@linkcode Overflow}. */
export type Overflow = typeof Overflow[keyof typeof Overflow];

/**
 * A channel sender or receiver was misused (closed sender, oversized item, blocking here).
 *
 * @example Sending on a closed sender
 * ```ts
 * import { ErrorCode, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, ChannelError } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const [, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   channel({ kind: "local", capacity: 4 }),
 *   () => false,
 * );
 * tx.close();
 * let code = "";
 * try {
 *   tx.trySend(1);
 * } catch (e) {
 *   if (e instanceof ChannelError) code = e.code;
 * }
 * if (code !== ErrorCode.ChannelClosed) throw new Error("expected CHANNEL_CLOSED");
 * ```
 */
export class ChannelError extends WaveletError {
  /** `CHANNEL_CLOSED` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.ChannelClosed;
}
