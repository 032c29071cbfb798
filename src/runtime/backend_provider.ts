/**
 * Where `src/` gets a live backend without importing the loader: `mod.ts` installs
 * `ffi/load.ts`'s `loadBackend` here, so the dependency direction stays
 * `mod.ts -> src -> ffi/backend.ts (types)` and only `ffi/load.ts` decides which backend is live.
 *
 * @module
 */

import type { NativeBackend } from "../../ffi/backend.ts";
import { ErrorCode, WaveletError } from "../errors.ts";
import { setWakerFactory } from "../drivers/notify.ts";

/** Returns the live backend (native when possible, else the pure-JS one). */
export type BackendProvider = (options?: { prefer?: "native" | "js" }) => NativeBackend;

let provider: BackendProvider | undefined;

/** Installs the backend provider and the eventfd waker used by rebuilt notifiers. */
export function installBackendProvider(p: BackendProvider): void {
  provider = p;
  setWakerFactory((t) => {
    const backend = p();
    if (!backend.hasEpoll) {
      throw new WaveletError(
        ErrorCode.InvalidArgument,
        "This notifier wakes an eventfd, but this thread cannot load the native library " +
          "(give the Worker FFI permission, or run the executor on the pure-JS backend)",
      );
    }
    const fd = t.wakeFd;
    return { wake: () => backend.eventfdWrite(fd, 1) };
  });
}

/** The live backend, or the pure-JS one with `prefer: "js"`. */
export function defaultBackend(options?: { prefer?: "native" | "js" }): NativeBackend {
  if (provider === undefined) {
    throw new WaveletError(
      ErrorCode.InvalidArgument,
      "No backend provider is installed: import the runtime from mod.ts, or pass a backend",
    );
  }
  return provider(options);
}

const wakeFdPool = new Map<NativeBackend, number[]>();

/**
 * An eventfd to wake a parked executor. Wake eventfds are pooled rather than closed: a Worker
 * may still hold a stale notifier that writes the fd after its runtime shut down, and a pooled
 * eventfd turns that into a harmless spurious wake instead of a write into a reused fd.
 */
export function takeWakeFd(backend: NativeBackend): number {
  const pool = wakeFdPool.get(backend);
  if (pool !== undefined && pool.length > 0) {
    const fd = pool.pop()!;
    backend.eventfdRead(fd); // discard stale counts
    return fd;
  }
  return backend.eventfdCreate(0, 0);
}

/** Returns a wake eventfd to the pool. */
export function returnWakeFd(backend: NativeBackend, fd: number): void {
  let pool = wakeFdPool.get(backend);
  if (pool === undefined) wakeFdPool.set(backend, pool = []);
  pool.push(fd);
}
