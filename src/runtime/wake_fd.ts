/**
 * The wake eventfds of realtime runtimes: opened, reused, and closed only once no notifier can
 * write them any more.
 *
 * @module
 */

import type { NativeBackend } from "../../ffi/backend.ts";
import type { NotifyQueue } from "../drivers/notify.ts";

/**
 * Wake eventfds whose notification area still had a writer inside `notify()` when their
 * runtime shut down (a Worker stopped in the middle of a wake-up, or starved for longer than
 * {@linkcode WAKE_DRAIN_MS}). Such an fd is never closed, since that writer may still write
 * it and the number could belong to another file by then; it is reused by the next runtime
 * instead, where a stale write is a harmless spurious wake-up.
 */
const quarantine = new Map<NativeBackend, number[]>();

/** How long a runtime's shutdown waits for notifiers that are writing its wake eventfd. */
export const WAKE_DRAIN_MS = 500;

/** An eventfd to wake a parked executor: a quarantined one, else a new one. */
export function openWakeFd(backend: NativeBackend): number {
  const kept = quarantine.get(backend);
  if (kept !== undefined && kept.length > 0) {
    const fd = kept.pop()!;
    backend.eventfdRead(fd); // discard stale counts
    return fd;
  }
  return backend.eventfdCreate(0, 0);
}

/**
 * Takes back a wake eventfd of a runtime that failed to start, into quarantine: it may have
 * come from there (a stuck writer may still write it), and the next runtime reuses it.
 */
export function abandonWakeFd(backend: NativeBackend, fd: number): void {
  let kept = quarantine.get(backend);
  if (kept === undefined) quarantine.set(backend, kept = []);
  kept.push(fd);
}

/**
 * Closes a runtime's wake eventfd once no notifier can write it any more: `queue` must be
 * closed already (so every later `notify()` throws), then the writers still inside a wake-up
 * are waited for. One that does not finish in time sends the fd to quarantine instead.
 */
export function closeWakeFd(backend: NativeBackend, fd: number, queue: NotifyQueue): void {
  if (queue.drainWriters(WAKE_DRAIN_MS)) {
    backend.close(fd);
    return;
  }
  let kept = quarantine.get(backend);
  if (kept === undefined) quarantine.set(backend, kept = []);
  kept.push(fd);
}
