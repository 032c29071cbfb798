/**
 * The Bun waiter: a Worker that makes the blocking epoll wait for an async caller on the main
 * thread (Bun has no nonblocking FFI calls). It waits on an "armed" word, calls
 * `wv_epoll_wait` into shared buffers, then publishes the result and notifies the caller, whose
 * `Atomics.waitAsync` resolves on its event loop. See `waiter.ts`.
 *
 * Self-contained on purpose (no imports): Bun runs it as TypeScript from the repository and from
 * the npm package alike. The word indices mirror `waiter_layout.ts`.
 *
 * @module
 */

const READY = 0, ARM = 1, DONE = 2, N = 3, EPFD = 4, MAX = 5, QUIT = 6;

/** This module runs as a Worker: its global scope is a worker scope. */
const scope = self as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  close(): void;
};

interface Start {
  path: string;
  ctl: SharedArrayBuffer;
  events: SharedArrayBuffer;
  f64: SharedArrayBuffer;
}

scope.onmessage = (e: MessageEvent<Start>) => {
  // deno-lint-ignore no-explicit-any
  const ffi = (import.meta as any).require("bun:ffi");
  const lib = ffi.dlopen(e.data.path, {
    // int32_t wv_epoll_wait(epfd, events_out, events_cap, max_events, timeout_ns, clock_out,
    // clock_cap): the declaration of ffi/symbols.ts (ABI 2), repeated here to stay import-free.
    wv_epoll_wait: { args: ["i32", "ptr", "i32", "i32", "f64", "ptr", "i32"], returns: "i32" },
  });
  const wait = lib.symbols.wv_epoll_wait;
  const ctl = new Int32Array(e.data.ctl);
  const events = new Int32Array(e.data.events);
  const timeout = new Float64Array(e.data.f64, 0, 1);
  const clock = new Float64Array(e.data.f64, 8, 1);
  Atomics.store(ctl, READY, 1);
  Atomics.notify(ctl, READY);
  for (;;) {
    Atomics.wait(ctl, ARM, 0);
    if (Atomics.load(ctl, QUIT) !== 0) break;
    const n = wait(ctl[EPFD], events, events.byteLength, ctl[MAX], timeout[0], clock, 8);
    ctl[N] = n;
    Atomics.store(ctl, ARM, 0);
    Atomics.store(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
  lib.close();
  scope.close();
};
