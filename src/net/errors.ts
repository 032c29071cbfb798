/**
 * Typed errors of the network layer. Every failure of a socket call becomes a
 * {@linkcode NetError} whose `code` says what happened in the terms users branch on (address in
 * use, connection refused, reset, broken pipe, ...) and which keeps the operation and errno.
 *
 * @module
 */

import { type ErrorCode, WaveletError } from "../core/errors.ts";
import { Errno, errnoName } from "../../ffi/backend.ts";

/**
 * Error codes of the network layer (stable strings, like `ErrorCode`).
 *
 * @example Branching on the error code
 * ```ts
 * import { NetError, NetErrorCode, RealtimeRuntime, TcpListener } from "@wavelet/wavelet";
 *
 * function codeOf(f: () => unknown): string | null {
 *   try {
 *     f();
 *     return null;
 *   } catch (e) {
 *     if (e instanceof NetError) return e.code;
 *     throw e;
 *   }
 * }
 * const rt = new RealtimeRuntime();
 * const a = TcpListener.bind(rt, "127.0.0.1", 0, { reusePort: false });
 * const port = a.localAddress.port;
 * const badHost = codeOf(() => TcpListener.bind(rt, "localhost", 0)); // names are not resolved
 * const inUse = codeOf(() => TcpListener.bind(rt, "127.0.0.1", port));
 * a.close();
 * rt.shutdown();
 * if (badHost !== NetErrorCode.InvalidAddress) throw new Error("expected INVALID_ADDRESS");
 * if (inUse !== NetErrorCode.AddressInUse) throw new Error("expected ADDRESS_IN_USE");
 * ```
 */
export const NetErrorCode = {
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
} as const;

/** A value of {@linkcode NetErrorCode}. */
export type NetErrorCode = typeof NetErrorCode[keyof typeof NetErrorCode];

/**
 * A socket operation failed. `code` classifies it; `op` and `errno` say which call failed and
 * how (errno is 0 for failures found without a system call).
 *
 * @example Branching on a refused connection
 * ```ts ignore
 * import { NetError, NetErrorCode } from "@wavelet/wavelet";
 *
 * try {
 *   stream.finishConnect();
 * } catch (e) {
 *   if (e instanceof NetError && e.code === NetErrorCode.ConnectionRefused) {
 *     // retry later
 *   }
 * }
 * ```
 */
export class NetError extends WaveletError {
  /** The operation that failed, for example `"connect"`. */
  readonly op: string;
  /** The positive errno value, or 0. */
  readonly errno: number;
  /** The errno's symbolic name (`"ECONNRESET"`), or `""` when errno is 0. */
  readonly errnoName: string;

  /**
   * Creates the error.
   *
   * @param code The classification.
   * @param op The operation that failed.
   * @param errno The positive errno value, or 0.
   * @param message A sentence saying what failed and why.
   */
  constructor(code: NetErrorCode, op: string, errno: number, message: string) {
    // Made on error paths: whatever it is given, it must not throw something else.
    errno = typeof errno === "number" && Number.isInteger(errno) && errno >= 0 ? errno : 0;
    super(code as unknown as ErrorCode, typeof message === "string" ? message : "Network error");
    this.op = typeof op === "string" ? op : "call";
    this.errno = errno;
    this.errnoName = errno > 0 ? errnoName(errno) : "";
  }
}

/** The code of a failing errno. */
function codeOf(errno: number): NetErrorCode {
  switch (errno) {
    case Errno.EADDRINUSE:
      return NetErrorCode.AddressInUse;
    case Errno.ECONNREFUSED:
      return NetErrorCode.ConnectionRefused;
    case Errno.ECONNRESET:
      return NetErrorCode.ConnectionReset;
    case Errno.EPIPE:
      return NetErrorCode.BrokenPipe;
    default:
      return NetErrorCode.SocketFailed;
  }
}

/**
 * @internal Builds the error of a failed socket call.
 *
 * @param op The operation.
 * @param errno The positive errno value.
 * @param what Words on the target, for example `"127.0.0.1:80"`.
 */
export function netError(op: string, errno: number, what: string): NetError {
  return new NetError(
    codeOf(errno),
    op,
    errno,
    `Cannot ${op} ${what}: ${errnoName(errno)}`,
  );
}
