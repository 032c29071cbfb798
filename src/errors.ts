/**
 * Typed errors. Every error the runtime raises on purpose is a {@linkcode WaveletError} with a
 * stable machine-readable `code`, so callers can branch on `err.code` instead of parsing text.
 *
 * @module
 */

/** Every error code the runtime raises. Codes are stable across versions. */
export const ErrorCode = {
  /** A node was scheduled at a depth lower than the one being drained. */
  ScheduleLowerDepth: "SCHEDULE_LOWER_DEPTH",
  /** An operation named a node that has left the graph. */
  NodeRemoved: "NODE_REMOVED",
  /** A node of another executor was used. */
  ForeignNode: "FOREIGN_NODE",
  /** `onInit` was set twice on one builder. */
  OnInitTwice: "ON_INIT_TWICE",
  /** `onDrop` was set twice on one builder. */
  OnDropTwice: "ON_DROP_TWICE",
  /** A builder was used after one of its terminal methods already built a node. */
  BuilderConsumed: "BUILDER_CONSUMED",
  /** A node was built while the executor was running nodes. */
  BuildDuringCycle: "BUILD_DURING_CYCLE",
  /** An argument had the wrong type or an out-of-range value. */
  InvalidArgument: "INVALID_ARGUMENT",
  /** A timer deadline was negative, NaN or infinite. */
  InvalidDeadline: "INVALID_DEADLINE",
  /** A timeout was negative or NaN. */
  InvalidTimeout: "INVALID_TIMEOUT",
  /** An execution context was used outside the cycle that handed it out. */
  ContextExpired: "CONTEXT_EXPIRED",
  /** `cycle()` was called from inside a running cycle. */
  ReentrantCycle: "REENTRANT_CYCLE",
  /** A fixed capacity (timers, notifiers) was exceeded. */
  CapacityExceeded: "CAPACITY_EXCEEDED",
  /** A notifier was used after its executor's runtime shut down. */
  NotifierClosed: "NOTIFIER_CLOSED",
  /** A channel sender was used after `close()`. */
  ChannelClosed: "CHANNEL_CLOSED",
  /** A serialized item did not fit the channel's item size. */
  ChannelItemTooLarge: "CHANNEL_ITEM_TOO_LARGE",
  /** A blocking send on the receiving thread would never wake. */
  ChannelWouldDeadlock: "CHANNEL_WOULD_DEADLOCK",
  /** A replay could not follow its log (different graph or code). */
  ReplayMismatch: "REPLAY_MISMATCH",
  /** A runtime was used after it shut down. */
  RuntimeShutDown: "RUNTIME_SHUT_DOWN",
  /** A native call returned `-errno`. */
  NativeCallFailed: "NATIVE_CALL_FAILED",
  /** No native library file was found or could be built. */
  NativeNotFound: "NATIVE_NOT_FOUND",
  /** A file was found but is not a loadable wavelet library. */
  NativeInvalidLibrary: "NATIVE_INVALID_LIBRARY",
  /** A wavelet library was found but was built for another ABI version. */
  NativeAbiMismatch: "NATIVE_ABI_MISMATCH",
  /** FFI is not available here (Node, or Deno without `--allow-ffi`). */
  NativeUnavailable: "NATIVE_UNAVAILABLE",
  /** The operation needs the native backend (epoll, eventfd, timerfd, signals). */
  Unsupported: "UNSUPPORTED",
} as const;

/** A value of {@linkcode ErrorCode}. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/**
 * Base class of every error the runtime throws on purpose.
 *
 * @example Branching on the code
 * ```ts
 * import { ErrorCode, NodeBuilder, TestRuntime, WaveletError } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const a = new NodeBuilder(0).build(rt.executor, () => false);
 * a.remove();
 * try {
 *   new NodeBuilder(0).triggeredBy(a).build(rt.executor, () => false);
 * } catch (e) {
 *   if (e instanceof WaveletError && e.code === ErrorCode.NodeRemoved) {
 *     // the parent is gone
 *   }
 * }
 * ```
 */
export class WaveletError extends Error {
  /** The stable error code. */
  readonly code: ErrorCode;
  /**
   * Creates an error.
   *
   * @param code The stable error code.
   * @param message A sentence saying what failed and why.
   * @param options Standard error options (`cause`).
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A scheduling rule was broken (for example scheduling at a lower depth). */
export class SchedulerError extends WaveletError {}

/** An operation named a node that has left the graph. */
export class NodeRemovedError extends WaveletError {}

/** A node that belongs to another executor was used. */
export class ForeignNodeError extends WaveletError {}

/** A builder was misused (set twice, reused, built at the wrong time). */
export class BuilderError extends WaveletError {}

/** An argument had the wrong type or an out-of-range value. */
export class InvalidArgumentError extends WaveletError {}

/** An execution context was used after its cycle ended. */
export class ContextError extends WaveletError {}

/** A fixed capacity was exceeded. */
export class CapacityError extends WaveletError {}
