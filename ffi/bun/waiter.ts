/**
 * The async epoll wait on Bun: a waiter Worker blocks in `wv_epoll_wait` while the main thread
 * awaits `Atomics.waitAsync` on a shared word, so the host event loop keeps running and the
 * wake-up reaches JavaScript within microseconds (the polling fallback it replaces woke on
 * host-timer ticks, about a millisecond). One waiter serves one wait at a time; concurrent waits
 * get more waiters. Waiters are unref'd: they never keep the process alive.
 *
 * @module
 */

import {
  ARM,
  CTL_WORDS,
  DONE,
  EPFD,
  MAX,
  N,
  QUIT,
  READY,
  WAITER_MAX_EVENTS,
} from "./waiter_layout.ts";

class Waiter {
  readonly ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  readonly events = new Int32Array(new SharedArrayBuffer(WAITER_MAX_EVENTS * 8));
  readonly f64 = new Float64Array(new SharedArrayBuffer(16));
  readonly worker: Worker;
  readonly ready: Promise<void>;
  busy = false;

  constructor(path: string) {
    // Bun runs the (import-free) TypeScript worker module as is, from the repository and from
    // the npm package (which ships it uncompiled).
    this.worker = new Worker(new URL("./waiter_worker.ts", import.meta.url).href, {
      type: "module",
    });
    (this.worker as unknown as { unref?: () => void }).unref?.();
    this.worker.postMessage({
      path,
      ctl: this.ctl.buffer,
      events: this.events.buffer,
      f64: this.f64.buffer,
    });
    const r = Atomics.waitAsync(this.ctl, READY, 0);
    const started = r.async ? r.value.then(() => {}) : Promise.resolve();
    const failed = new Promise<void>((_, reject) => {
      this.worker.onerror = (e) => {
        e.preventDefault?.();
        reject(new Error(`The epoll waiter Worker failed to start: ${e.message}`));
      };
    });
    this.ready = Promise.race([started, failed]);
  }

  async wait(
    epfd: number,
    events: Int32Array,
    maxEvents: number,
    timeoutNs: number,
    clockOut: Float64Array | null,
  ): Promise<number> {
    await this.ready;
    const ctl = this.ctl;
    const max = Math.min(maxEvents, WAITER_MAX_EVENTS);
    ctl[EPFD] = epfd;
    ctl[MAX] = max;
    this.f64[0] = timeoutNs === Infinity ? -1 : timeoutNs;
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, ARM, 1);
    Atomics.notify(ctl, ARM);
    const r = Atomics.waitAsync(ctl, DONE, 0);
    if (r.async) await r.value;
    const n = ctl[N];
    if (n > 0) events.set(this.events.subarray(0, 2 * n));
    if (clockOut !== null) clockOut[0] = this.f64[1];
    return n;
  }

  stop(): void {
    Atomics.store(this.ctl, QUIT, 1);
    Atomics.store(this.ctl, ARM, 1);
    Atomics.notify(this.ctl, ARM);
  }
}

/** A pool of waiters for one library file. */
export class BunWaiterPool {
  readonly #path: string;
  readonly #idle: Waiter[] = [];

  /** Creates a pool for the library at `path` (loaded again by each waiter Worker). */
  constructor(path: string) {
    this.#path = path;
  }

  /**
   * Waits like `wv_epoll_wait` without blocking the calling thread; resolves the count (or
   * -errno). The Worker writes only into the waiter's shared buffers; the results are copied
   * into `events` and `clockOut` on this thread once the wait is done. The backend passes its
   * own buffers here (see `epollWaitAsync` in `ffi/library.ts`), never a caller's.
   */
  async wait(
    epfd: number,
    events: Int32Array,
    maxEvents: number,
    timeoutNs: number,
    clockOut: Float64Array | null,
  ): Promise<number> {
    const w = this.#idle.pop() ?? new Waiter(this.#path);
    try {
      await w.ready; // a Worker that cannot start rejects here: the caller falls back
    } catch (err) {
      w.worker.terminate();
      throw err;
    }
    try {
      return await w.wait(epfd, events, maxEvents, timeoutNs, clockOut);
    } finally {
      this.#idle.push(w);
    }
  }

  /** Stops every idle waiter. */
  close(): void {
    for (const w of this.#idle.splice(0)) w.stop();
  }
}
