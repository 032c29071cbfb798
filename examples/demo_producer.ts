/**
 * A producer Worker of the demo: publishes order-book updates for its symbols at a steady rate,
 * each stamped with the shared monotonic clock, until the main thread raises the stop flag.
 *
 * - `mode: "ring"`: every update goes straight into the demo graph's ring channel.
 * - `mode: "post"`: the host-loop baseline; each millisecond's updates go to the main thread
 *   as one `postMessage` batch (a transferred Float64Array).
 *
 * The pacing is the same in both modes: wake every millisecond, make the updates that are due.
 *
 * @module
 */

import { loadBackend } from "../native.ts";
import { RingSender, SendStatus, type SharedSenderTransferable } from "../channel.ts";
import { BookWalk, newUpdate, sharedClock, type Update } from "./demo/market.ts";

/** This module runs as a Worker: its global scope is a worker scope. */
const scope = self as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

/** The start message. */
export interface ProducerStart {
  mode: "ring" | "post";
  /** Ring mode: the channel's sender. */
  sender?: SharedSenderTransferable;
  producer: number;
  symbols: number[];
  ratePerSec: number;
  /** Int32 flag: 0 = run, 1 = stop. */
  stop: SharedArrayBuffer;
  /** Whether the main thread uses the native backend. */
  native: boolean;
  /** The main thread's performance.timeOrigin (pure-JS backend clock alignment). */
  mainOriginMs: number;
}

/** The final report: `made = sent + full + refused`. */
export interface ProducerReport {
  done: true;
  producer: number;
  /** Updates made. */
  made: number;
  /** Updates queued into the ring (post mode: posted). */
  sent: number;
  /** Sends that found the ring full (a blocking send that timed out). */
  full: number;
  /** Sends refused because the graph had stopped (its ring was closed). */
  refused: number;
}

/** Fields per update in a post-mode batch. */
export const POST_FIELDS = 7;

scope.onmessage = (e: MessageEvent<ProducerStart>) => {
  const m = e.data;
  scope.postMessage("started");
  const backend = loadBackend({ prefer: m.native ? "native" : "js" });
  const now = sharedClock(backend, m.mainOriginMs);
  const stop = new Int32Array(m.stop);
  const walk = new BookWalk(m.symbols, 1000 + m.producer);
  const rec = newUpdate();
  rec.producer = m.producer;
  const tx = m.mode === "ring"
    ? RingSender.fromTransferable<typeof Update.fields>(m.sender!)
    : undefined;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const perNs = m.ratePerSec / 1e9;
  const t0 = now();
  let made = 0, sent = 0, full = 0, refused = 0;
  while (Atomics.load(stop, 0) === 0) {
    const due = Math.floor((now() - t0) * perNs) - made;
    // Catch up at most 50 ms of updates after a stall, so a stall cannot turn into a flood.
    const n = Math.min(due, Math.ceil(m.ratePerSec / 20));
    if (n > 0) {
      if (tx !== undefined) {
        for (let i = 0; i < n; i++) {
          walk.next(rec);
          rec.stamp = now();
          made++;
          const s = tx.trySend(rec);
          if (s === SendStatus.Sent) sent++;
          else if (s === SendStatus.Full) full++;
          else {
            refused++;
            break;
          }
        }
      } else {
        const batch = new Float64Array(n * POST_FIELDS);
        for (let i = 0, o = 0; i < n; i++, o += POST_FIELDS) {
          walk.next(rec);
          batch[o] = rec.sym;
          batch[o + 1] = rec.bid;
          batch[o + 2] = rec.ask;
          batch[o + 3] = rec.bidSize;
          batch[o + 4] = rec.askSize;
          batch[o + 5] = rec.seq;
          batch[o + 6] = now();
        }
        scope.postMessage(batch, [batch.buffer]);
        made += n;
        sent += n;
      }
      if (tx !== undefined && tx.isClosed) break;
    }
    Atomics.wait(sleeper, 0, 0, 1); // sleep ~1 ms
  }
  tx?.close();
  const report: ProducerReport = { done: true, producer: m.producer, made, sent, full, refused };
  scope.postMessage(report);
};
