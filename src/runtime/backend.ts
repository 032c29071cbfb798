/**
 * The default backend, wired explicitly: the native library when this process may load it
 * (Bun; Deno with `--allow-ffi`), else the pure-JS backend. Nothing is loaded when this module
 * is imported; the first runtime (or rebuilt notifier) that needs a backend loads it.
 *
 * @module
 */

import type { NativeBackend } from "../../ffi/backend.ts";
import { loadBackend } from "../../ffi/load.ts";
import { ErrorCode, WaveletError } from "../core/errors.ts";

/** The live backend, or the pure-JS one with `prefer: "js"`. */
export function defaultBackend(options?: { prefer?: "native" | "js" }): NativeBackend {
  return loadBackend(options);
}

/**
 * How a notifier rebuilt on another thread wakes a runtime parked on its eventfd `fd`.
 *
 * @throws {WaveletError} If this thread cannot load the native library.
 */
export function eventfdWaker(fd: number): { wake(): void } {
  const backend = defaultBackend();
  if (!backend.hasEpoll) {
    throw new WaveletError(
      "This notifier wakes an eventfd, but this thread cannot load the native library " +
        "(give the Worker FFI permission, or run the executor on the pure-JS backend)",
      { code: ErrorCode.Unsupported },
    );
  }
  return { wake: () => backend.eventfdWrite(fd, 1) };
}
