/**
 * Typed errors. Every error the runtime raises on purpose is a {@linkcode WaveletError} with a
 * stable machine-readable `code`, so callers can branch on `err.code` instead of parsing text.
 *
 * @module
 */

/**
 * Every error code the runtime raises. Codes are stable across versions.
 *
 * @example Branching on a code
 * ```ts
 * import { ErrorCode, TestRuntime, WaveletError } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * let code: string | undefined;
 * try {
 *   rt.advanceClock(-1);
 * } catch (e) {
 *   if (e instanceof WaveletError) code = e.code;
 * }
 * if (code !== ErrorCode.InvalidArgument) throw new Error(`unexpected code ${code}`);
 * ```
 */
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
  /** A record sent on a ring channel had a field that cannot be stored, or could not be read. */
  InvalidRecord: "INVALID_RECORD",
  /** A replay could not follow its log (different graph or code). */
  ReplayMismatch: "REPLAY_MISMATCH",
  /** A stimulus log is damaged, cut short, or of another format version. */
  ReplayLogInvalid: "REPLAY_LOG_INVALID",
  /** A historical source met a record it cannot use (bad syntax, no usable time). */
  SourceBadRecord: "SOURCE_BAD_RECORD",
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
  /** A host string is not a numeric IPv4 or IPv6 address, or a port is out of range. */
  InvalidAddress: "INVALID_ADDRESS",
  /** The address is already in use (EADDRINUSE): another socket listens on that port. */
  AddressInUse: "ADDRESS_IN_USE",
  /** Nobody listens at the address (ECONNREFUSED). */
  ConnectionRefused: "CONNECTION_REFUSED",
  /** The peer reset the connection (ECONNRESET). */
  ConnectionReset: "CONNECTION_RESET",
  /** Writing to a connection the peer closed (EPIPE); no SIGPIPE is ever raised. */
  BrokenPipe: "BROKEN_PIPE",
  /** The socket object was closed; its fd is never touched again. */
  SocketClosed: "SOCKET_CLOSED",
  /** A frame was longer than the connection's `maxFrameBytes`. */
  FrameTooLarge: "FRAME_TOO_LARGE",
  /** More output was queued than the connection's `maxPendingBytes` allows. */
  OutputOverflow: "OUTPUT_OVERFLOW",
  /** Any other failing socket call. */
  SocketFailed: "SOCKET_FAILED",
  /** A factory's `get` was called before a function was attached. */
  FactoryNotAttached: "FACTORY_NOT_ATTACHED",
  /** A factory's `attach` was called on a factory that already has a function. */
  FactoryAlreadyAttached: "FACTORY_ALREADY_ATTACHED",
  /** A factory's function (directly or through other factories) asked for what it builds. */
  FactoryCycle: "FACTORY_CYCLE",
  /** A factory's function returned something that is not a live node of its executor. */
  FactoryBadResult: "FACTORY_BAD_RESULT",
  /** A shard's graph threw, or its Worker failed (`@wavelet/wavelet/shard`). */
  ShardFailed: "SHARD_FAILED",
  /** The NATS server cannot be reached or the connection closed (`@wavelet/wavelet/nats`). */
  NatsDisconnected: "NATS_DISCONNECTED",
  /** A JetStream request got no answer in time. */
  NatsTimeout: "NATS_TIMEOUT",
  /** A JetStream consumer or stream does not exist (deleted, or never created). */
  NatsNotFound: "NATS_NOT_FOUND",
  /** Another JetStream failure (the server's answer is in the message). */
  NatsFailed: "NATS_FAILED",
  /** An error without a more specific code. */
  Failed: "FAILED",
} as const;

/**
 * A value of {@linkcode ErrorCode}.
 *
 * @example A function over codes
 * ```ts
 * import { ErrorCode } from "@wavelet/wavelet";
 *
 * function isRetryable(code: ErrorCode): boolean {
 *   return code === ErrorCode.CapacityExceeded;
 * }
 * if (!isRetryable(ErrorCode.CapacityExceeded) || isRetryable(ErrorCode.NodeRemoved)) {
 *   throw new Error("only CAPACITY_EXCEEDED is retryable here");
 * }
 * ```
 */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/** A message as text whatever was passed: making an error must never throw another one. */
function textOf(message: unknown): string {
  if (typeof message === "string") return message;
  try {
    return String(message);
  } catch {
    return `(a ${typeof message} that cannot be shown as text)`;
  }
}

/** The `cause` of error options, read without letting a throwing getter escape. */
function optionsOf(options: unknown): ErrorOptions | undefined {
  if (options === null || typeof options !== "object") return undefined;
  try {
    return "cause" in options ? { cause: (options as ErrorOptions).cause } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Options of a {@linkcode WaveletError}: the standard `cause`, and a `code` when the class's
 * default code is not the one.
 *
 * @example An error with a cause and a code
 * ```ts
 * import { ErrorCode, InvalidArgumentError, type WaveletErrorOptions } from "@wavelet/wavelet";
 *
 * const options: WaveletErrorOptions = { code: ErrorCode.InvalidTimeout, cause: new Error("x") };
 * const e = new InvalidArgumentError("A timeout must be >= 0", options);
 * if (e.code !== "INVALID_TIMEOUT" || e.cause === undefined) throw new Error("code and cause");
 * ```
 */
export interface WaveletErrorOptions extends ErrorOptions {
  /** The code, when not the class's default. */
  code?: ErrorCode;
}

/** The options' code and cause, read without letting a throwing getter escape. */
function codeOf(options: unknown, fallback: ErrorCode): ErrorCode {
  if (options === null || typeof options !== "object") return fallback;
  try {
    const c = (options as WaveletErrorOptions).code;
    return typeof c === "string" ? c : fallback;
  } catch {
    return fallback;
  }
}

/**
 * Base class of every error the runtime throws on purpose.
 *
 * Each class has a default code (`InvalidArgumentError` is `INVALID_ARGUMENT`, ...); pass
 * `{ code }` in the options for a more precise one.
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
  /** The code a class's errors get when none is given. */
  static readonly defaultCode: ErrorCode = ErrorCode.Failed;
  /** The stable error code. */
  readonly code: ErrorCode;
  /**
   * Creates an error. Making an error never throws, whatever it is given.
   *
   * @param message A sentence saying what failed and why.
   * @param options `cause`, and `code` when not the class's default.
   */
  constructor(message: string, options?: WaveletErrorOptions) {
    super(textOf(message), optionsOf(options));
    this.code = codeOf(options, (new.target as typeof WaveletError).defaultCode);
    this.name = new.target.name;
  }
}

/**
 * A scheduling rule was broken (for example scheduling at a lower depth).
 *
 * @example Scheduling a node that already ran
 * ```ts
 * import { NodeBuilder, SchedulerError, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const errors: unknown[] = [];
 * rt.executor.onError = (e) => errors.push(e);
 * const root = new NodeBuilder(0)
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, () => true);
 * new NodeBuilder(0).triggeredBy(root).build(rt.executor, (_self, ctx) => {
 *   ctx.scheduleNode(root); // depth 0 is below the depth being run (1)
 * });
 * rt.runOneCycle();
 * if (!(errors[0] instanceof SchedulerError)) throw new Error("expected a SchedulerError");
 * ```
 */
export class SchedulerError extends WaveletError {
  /** `SCHEDULE_LOWER_DEPTH` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.ScheduleLowerDepth;
}

/**
 * An operation named a node that has left the graph.
 *
 * @example Building on a removed parent
 * ```ts
 * import { NodeBuilder, NodeRemovedError, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const parent = new NodeBuilder(0).build(rt.executor, () => false);
 * parent.remove();
 * let caught: unknown;
 * try {
 *   new NodeBuilder(0).triggeredBy(parent).build(rt.executor, () => false);
 * } catch (e) {
 *   caught = e;
 * }
 * if (!(caught instanceof NodeRemovedError)) throw new Error("expected a NodeRemovedError");
 * ```
 */
export class NodeRemovedError extends WaveletError {
  /** `NODE_REMOVED` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.NodeRemoved;
}

/**
 * A node that belongs to another executor was used.
 *
 * @example Mixing two executors
 * ```ts
 * import { ForeignNodeError, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const a = new TestRuntime();
 * const b = new TestRuntime();
 * const nodeOfA = new NodeBuilder(0).build(a.executor, () => false);
 * let caught: unknown;
 * try {
 *   new NodeBuilder(0).triggeredBy(nodeOfA).build(b.executor, () => false);
 * } catch (e) {
 *   caught = e;
 * }
 * if (!(caught instanceof ForeignNodeError)) throw new Error("expected a ForeignNodeError");
 * ```
 */
export class ForeignNodeError extends WaveletError {
  /** `FOREIGN_NODE` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.ForeignNode;
}

/**
 * A builder was misused (set twice, reused, built at the wrong time).
 *
 * @example Setting onInit twice
 * ```ts
 * import { BuilderError, ErrorCode, NodeBuilder } from "@wavelet/wavelet";
 *
 * const builder = new NodeBuilder(0).onInit(() => {});
 * let caught: unknown;
 * try {
 *   builder.onInit(() => {});
 * } catch (e) {
 *   caught = e;
 * }
 * if (!(caught instanceof BuilderError) || caught.code !== ErrorCode.OnInitTwice) {
 *   throw new Error("expected a BuilderError with code ON_INIT_TWICE");
 * }
 * ```
 */
export class BuilderError extends WaveletError {
  /** `BUILDER_CONSUMED` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.BuilderConsumed;
}

/**
 * An argument had the wrong type or an out-of-range value.
 *
 * @example Moving a clock backwards
 * ```ts
 * import { InvalidArgumentError, TestClock } from "@wavelet/wavelet";
 *
 * const clock = new TestClock();
 * let caught: unknown;
 * try {
 *   clock.advance(-5);
 * } catch (e) {
 *   caught = e;
 * }
 * if (!(caught instanceof InvalidArgumentError)) throw new Error("expected InvalidArgumentError");
 * if (clock.nowNs() !== 0) throw new Error("the clock did not move");
 * ```
 */
export class InvalidArgumentError extends WaveletError {
  /** `INVALID_ARGUMENT` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.InvalidArgument;
}

/**
 * An execution context was used after its cycle ended.
 *
 * @example Keeping a context past its cycle
 * ```ts
 * import { ContextError, type ExecutionContext, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * let saved: ExecutionContext | undefined;
 * new NodeBuilder(0)
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, (_self, ctx) => {
 *     saved = ctx; // a mistake: the context is only valid during this cycle
 *   });
 * rt.runOneCycle();
 * let caught: unknown;
 * try {
 *   saved?.yieldNow();
 * } catch (e) {
 *   caught = e;
 * }
 * if (!(caught instanceof ContextError)) throw new Error("expected a ContextError");
 * ```
 */
export class ContextError extends WaveletError {
  /** `CONTEXT_EXPIRED` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.ContextExpired;
}

/**
 * A fixed capacity was exceeded.
 *
 * @example A graph that never goes idle
 * ```ts
 * import { CapacityError, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * new NodeBuilder(0)
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, (_self, ctx) => ctx.yieldNow()); // busy forever
 * let caught: unknown;
 * try {
 *   rt.runUntilIdle(10);
 * } catch (e) {
 *   caught = e;
 * }
 * if (!(caught instanceof CapacityError)) throw new Error("expected a CapacityError");
 * ```
 */
export class CapacityError extends WaveletError {
  /** `CAPACITY_EXCEEDED` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.CapacityExceeded;
}
