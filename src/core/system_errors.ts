/**
 * The errors of calls into the operating system: {@linkcode SystemError}, the base that carries
 * the operation and the errno, and its kinds for the native layer (socket errors extend it in
 * `src/net/errors.ts`). One status-to-exception function ({@linkcode checkStatus}) turns a
 * `-errno` into a {@linkcode NativeError}.
 *
 * @module
 */

import { errnoName, type LoadAttempt } from "../../ffi/backend.ts";
import { ErrorCode, WaveletError, type WaveletErrorOptions } from "./errors.ts";

/**
 * Options of a {@linkcode SystemError}: the operation and the errno, with the usual ones.
 *
 * @example A system error by hand
 * ```ts
 * import { SystemError, type SystemErrorOptions } from "@wavelet/wavelet/native";
 *
 * const options: SystemErrorOptions = { op: "connect", errno: 111 };
 * const e = new SystemError("Cannot connect", options);
 * if (e.errnoName !== "ECONNREFUSED") throw new Error(e.errnoName);
 * ```
 */
export interface SystemErrorOptions extends WaveletErrorOptions {
  /** The operation that failed, for example `"epoll_ctl"` or `"connect"`. */
  op?: string;
  /** The positive errno value, or 0 when there is none. */
  errno?: number;
}

/**
 * A call into the operating system failed: the base of native and socket errors, carrying what
 * was done (`op`) and the errno.
 *
 * @example Branching on the errno of any system error
 * ```ts
 * import { loadBackend, SystemError } from "@wavelet/wavelet/native";
 *
 * const backend = loadBackend();
 * if (backend.hasEpoll) {
 *   try {
 *     backend.close(123_456);
 *   } catch (e) {
 *     if (!(e instanceof SystemError) || e.errnoName !== "EBADF") throw e;
 *   }
 * }
 * ```
 */
export class SystemError extends WaveletError {
  /** The operation that failed. */
  readonly op: string;
  /** The positive errno value, or 0. */
  readonly errno: number;
  /** The errno's symbolic name (`"EBADF"`), or `""` when errno is 0. */
  readonly errnoName: string;

  /**
   * Creates the error. Making it never throws, whatever it is given.
   *
   * @param message A sentence saying what failed and why.
   * @param options `op`, `errno`, `code`, `cause`.
   */
  constructor(message: string, options?: SystemErrorOptions) {
    super(message, options);
    let op: unknown, errno: unknown;
    try {
      op = options?.op;
      errno = options?.errno;
    } catch {
      // Options that cannot be read name no operation.
    }
    this.op = typeof op === "string" ? op : "call";
    this.errno = typeof errno === "number" && Number.isInteger(errno) && errno > 0 ? errno : 0;
    this.errnoName = this.errno > 0 ? errnoName(this.errno) : "";
  }
}

/**
 * A native call failed with an errno.
 *
 * @example Closing a bad file descriptor
 * ```ts
 * import { loadBackend, NativeError } from "@wavelet/wavelet/native";
 *
 * const backend = loadBackend();
 * if (backend.hasEpoll) {
 *   let caught: unknown;
 *   try {
 *     backend.close(-1);
 *   } catch (e) {
 *     caught = e;
 *   }
 *   if (!(caught instanceof NativeError) || caught.errnoName !== "EBADF" || caught.errno !== 9) {
 *     throw new Error("expected a NativeError with EBADF");
 *   }
 * }
 * ```
 */
export class NativeError extends SystemError {
  /** `NATIVE_CALL_FAILED`. */
  static override readonly defaultCode: ErrorCode = ErrorCode.NativeCallFailed;

  /**
   * Creates the error.
   *
   * @param op The operation that failed.
   * @param errno The positive errno value.
   * @param detail Optional words on what was being done.
   */
  constructor(op: string, errno: number, detail?: string) {
    const o = typeof op === "string" ? op : "call";
    const e = typeof errno === "number" && Number.isInteger(errno) && errno >= 0 ? errno : 0;
    const more = typeof detail === "string" && detail !== "" ? ` (${detail})` : "";
    super(`Native ${o} failed with ${errnoName(e)}${more}`, { op: o, errno: e });
  }
}

/**
 * The one status-to-exception function: returns `status` when it is `>= 0`, else throws a
 * {@linkcode NativeError} for `-status`.
 *
 * @param op The operation, for the message.
 * @param status A native return value (`>= 0` or `-errno`).
 * @returns `status`.
 * @throws {NativeError} When `status < 0`.
 */
export function checkStatus(op: string, status: number): number {
  if (status < 0) throw new NativeError(op, -status);
  return status;
}

/**
 * An operation the live backend cannot do (the pure-JS backend has no epoll).
 *
 * @example Asking the pure-JS backend for an eventfd
 * ```ts
 * import { loadBackend, UnsupportedError } from "@wavelet/wavelet/native";
 *
 * const js = loadBackend({ prefer: "js" }); // clocks and sleep only
 * let caught: unknown;
 * try {
 *   js.eventfdCreate();
 * } catch (e) {
 *   caught = e;
 * }
 * if (js.hasEpoll || !(caught instanceof UnsupportedError)) {
 *   throw new Error("expected an UnsupportedError");
 * }
 * ```
 */
export class UnsupportedError extends SystemError {
  /** `UNSUPPORTED`. */
  static override readonly defaultCode: ErrorCode = ErrorCode.Unsupported;

  /**
   * Creates the error.
   *
   * @param op The operation.
   * @param why Why it is not available.
   */
  constructor(op: string, why: string) {
    const o = typeof op === "string" ? op : "do that";
    const w = typeof why === "string" ? why : "the backend does not support it";
    super(`Cannot ${o}: ${w}`, { op: o });
  }
}

/**
 * The native library could not be loaded. `attempts` lists every path tried; `cause` is the
 * last underlying error. The code says the most specific failure: a wrong ABI
 * (`NATIVE_ABI_MISMATCH`), else a file that is not a wavelet library
 * (`NATIVE_INVALID_LIBRARY`), else FFI not permitted (`NATIVE_UNAVAILABLE`), else nothing found
 * (`NATIVE_NOT_FOUND`).
 *
 * @example Loading a library that is not there
 * ```ts
 * import { ErrorCode } from "@wavelet/wavelet";
 * import { loadNative, NativeLoadError } from "@wavelet/wavelet/native";
 *
 * let caught: unknown;
 * try {
 *   loadNative({ path: "/nonexistent/libwavelet.so" });
 * } catch (e) {
 *   caught = e;
 * }
 * if (!(caught instanceof NativeLoadError)) throw new Error("expected a NativeLoadError");
 * const code = caught.code;
 * if (code !== ErrorCode.NativeNotFound && code !== ErrorCode.NativeUnavailable) {
 *   throw new Error(`unexpected code ${code}`);
 * }
 * ```
 */
export class NativeLoadError extends WaveletError {
  /** Every path tried, in order. */
  readonly attempts: readonly LoadAttempt[];

  /**
   * Creates the error.
   *
   * @param attempts Every path tried.
   * @param cause The last underlying error.
   */
  constructor(attempts: readonly LoadAttempt[], cause?: unknown) {
    // Made on error paths: whatever it is given, it must not throw something else.
    const list0: LoadAttempt[] = [];
    try {
      if (Array.isArray(attempts)) {
        for (const a of attempts) {
          if (a !== null && typeof a === "object") {
            list0.push({ path: String(a.path), failure: a.failure, reason: String(a.reason) });
          }
        }
      }
    } catch {
      // Attempts that cannot be read are left out.
    }
    attempts = list0;
    const has = (f: LoadAttempt["failure"]) => attempts.some((a) => a.failure === f);
    const code = has("abi")
      ? ErrorCode.NativeAbiMismatch
      : has("invalid")
      ? ErrorCode.NativeInvalidLibrary
      : has("unavailable")
      ? ErrorCode.NativeUnavailable
      : ErrorCode.NativeNotFound;
    const list = attempts.map((a) => `  - ${a.path}: ${a.reason}`).join("\n");
    super(`Cannot load the wavelet native library; tried:\n${list}`, { cause, code });
    this.attempts = attempts;
  }
}
