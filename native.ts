/**
 * The native layer: loading the C library through `bun:ffi` or `Deno.dlopen` (built from
 * source on first use, or the embedded linux-x64 build), the pure-JS fallback, the errors of
 * failing system calls, and the precision clock. Runtimes load the default backend by
 * themselves; this entry is for choosing one explicitly and for inspecting why loading failed.
 *
 * @example Which backend is live
 * ```ts
 * import { ffiAvailable, loadBackend } from "@wavelet/wavelet/native";
 *
 * const backend = loadBackend();
 * if (ffiAvailable() !== (backend.kind !== "js")) throw new Error("native exactly where FFI is");
 * ```
 *
 * @module
 */

export {
  ffiAvailable,
  loadBackend,
  type LoadBackendOptions,
  loadNative,
  type LoadNativeOptions,
} from "./ffi/load.ts";
export type { LoadAttempt, NativeBackend } from "./ffi/backend.ts";
export {
  NativeError,
  NativeLoadError,
  SystemError,
  type SystemErrorOptions,
  UnsupportedError,
} from "./src/core/system_errors.ts";
export { PrecisionClock, type PrecisionClockOptions } from "./src/clock/precision_clock.ts";
