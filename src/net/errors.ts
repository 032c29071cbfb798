/**
 * The errors of the network layer: {@linkcode NetError}, a {@linkcode SystemError} whose code
 * classifies the failure (`ADDRESS_IN_USE`, `CONNECTION_REFUSED`, `CONNECTION_RESET`,
 * `BROKEN_PIPE`, `SOCKET_CLOSED`, `INVALID_ADDRESS`, `FRAME_TOO_LARGE`, `OUTPUT_OVERFLOW`,
 * `SOCKET_FAILED`; all in {@linkcode ErrorCode}).
 *
 * @module
 */

import { ErrorCode } from "../core/errors.ts";
import { SystemError } from "../core/system_errors.ts";
import { Errno, errnoName } from "../../ffi/backend.ts";

/**
 * A socket operation failed. `code` classifies it, `op` and `errno` say what the OS answered.
 *
 * @example Branching on the error code
 * ```ts
 * import { ErrorCode, RealtimeRuntime } from "@wavelet/wavelet";
 * import { NetError, TcpListener } from "@wavelet/wavelet/net";
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
 * if (badHost !== ErrorCode.InvalidAddress) throw new Error("expected INVALID_ADDRESS");
 * if (inUse !== ErrorCode.AddressInUse) throw new Error("expected ADDRESS_IN_USE");
 * ```
 */
export class NetError extends SystemError {
  /** `SOCKET_FAILED` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.SocketFailed;
}

/** The code of a failing errno. */
function codeOf(errno: number): ErrorCode {
  switch (errno) {
    case Errno.EADDRINUSE:
      return ErrorCode.AddressInUse;
    case Errno.ECONNREFUSED:
      return ErrorCode.ConnectionRefused;
    case Errno.ECONNRESET:
      return ErrorCode.ConnectionReset;
    case Errno.EPIPE:
      return ErrorCode.BrokenPipe;
    default:
      return ErrorCode.SocketFailed;
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
  return new NetError(`Cannot ${op} ${what}: ${errnoName(errno)}`, {
    code: codeOf(errno),
    op,
    errno,
  });
}
