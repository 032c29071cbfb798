/**
 * Producer Worker for `bench/latency_bench.ts`: sends one stimulus per sample to the main thread
 * and stamps the native monotonic clock (the same CLOCK_MONOTONIC the main thread reads) just
 * before sending it.
 *
 * Per sample: wait until the main thread acknowledged the previous sample (spin on the ACK
 * word), sleep a random 20-100 us gap (`Atomics.wait` with a timeout), write the stamp into the
 * shared buffer, then send:
 * - `notify`: `notifier.notify()` (a wavelet Notifier rebuilt from its transferable);
 * - `post`: `postMessage(0)`;
 * - `atomics`: store 1 into the FLAG word and `Atomics.notify` it;
 * - `eventfd`: write the eventfd `fd` through the native backend (the raw FFI floor, no runtime).
 *
 * @module
 */

import { loadBackend } from "../native.ts";
import { Notifier, type NotifierTransferable } from "../mod.ts";

// Word indices of the shared Int32 area and the stamp's byte offset (the same constants are in
// bench/latency_bench.ts; not imported from there, which would run the benchmark here).
const ACK = 0;
const FLAG = 1;
const GO = 2;
const STUCK = 3;
const STAMP_BYTE_OFFSET = 16;

/** The start message. */
interface LatencyWorkerStart {
  kind: "notify" | "post" | "atomics" | "eventfd";
  sab: SharedArrayBuffer;
  total: number;
  seed: number;
  notifier?: NotifierTransferable;
  fd?: number;
}

// deno-lint-ignore no-explicit-any
const scope = self as any;

scope.onmessage = (e: MessageEvent<LatencyWorkerStart>) => {
  const { kind, sab, total, seed } = e.data;
  const fd = e.data.fd ?? -1;
  const backend = loadBackend();
  const i32 = new Int32Array(sab);
  const stamp = new Float64Array(sab, STAMP_BYTE_OFFSET, 1);
  const notifier = e.data.notifier ? Notifier.fromTransferable(e.data.notifier) : null;
  const sleepWord = new Int32Array(new SharedArrayBuffer(4));
  scope.postMessage("ready");
  while (Atomics.load(i32, GO) === 0) Atomics.wait(i32, GO, 0, 1000);
  let x = seed | 1;
  for (let i = 0; i < total; i++) {
    // Wait for the previous sample's acknowledgement; give up after 10 s (a stuck consumer).
    if (Atomics.load(i32, ACK) !== i) {
      const giveUp = backend.monotonicNs() + 10e9;
      let spins = 0;
      while (Atomics.load(i32, ACK) !== i) {
        if ((++spins & 0xfff) === 0 && backend.monotonicNs() > giveUp) {
          Atomics.store(i32, STUCK, 1);
          scope.postMessage("stuck");
          // Unblock a parked consumer so it sees STUCK.
          if (kind === "notify") notifier!.notify();
          else if (kind === "eventfd") backend.eventfdWrite(fd, 1);
          else if (kind === "atomics") Atomics.notify(i32, FLAG);
          return;
        }
      }
    }
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const gapUs = 20 + ((x >>> 0) % 80);
    Atomics.wait(sleepWord, 0, 0, gapUs / 1000);
    stamp[0] = backend.monotonicNs();
    if (kind === "notify") notifier!.notify();
    else if (kind === "eventfd") backend.eventfdWrite(fd, 1);
    else if (kind === "post") scope.postMessage(0);
    else {
      Atomics.store(i32, FLAG, 1);
      Atomics.notify(i32, FLAG, 1);
    }
  }
  scope.postMessage("done");
};
