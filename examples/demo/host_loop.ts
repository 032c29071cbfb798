/**
 * The baseline: the same computation as the demo graph on plain host-event-loop code. Producer
 * Workers (the same module, `mode: "post"`) post each millisecond's updates as one batch; the
 * main thread's `onmessage` computes mid, spread and imbalance, records the update-to-handler
 * latency with the same clock and histogram, and feeds the same bar accumulator, whose bars a
 * `setInterval` closes every second.
 *
 * @module
 */

import { BarBook } from "./bars.ts";
import { Histogram } from "../../observe.ts";
import type { ProducerReport, ProducerStart } from "../demo_producer.ts";
import { BAR_NS, SYMBOLS } from "./market.ts";

/** The baseline's options. */
export interface HostLoopOptions {
  seconds: number;
  /** Seconds run first without recording latencies. */
  warmupSeconds: number;
  producers: number;
  ratePerSec: number;
  native: boolean;
  clock: () => number;
  /** Resolves early when it settles (Ctrl-C). */
  abort: Promise<void>;
}

/** What the baseline measured. */
export interface HostLoopResult {
  histogram: Histogram;
  updates: number;
  messages: number;
  seconds: number;
  book: BarBook;
}

/** Runs the baseline for `seconds` (or until `abort`), then stops its Workers. */
export async function runHostLoop(o: HostLoopOptions): Promise<HostLoopResult> {
  const histogram = new Histogram();
  const book = new BarBook();
  const stop = new SharedArrayBuffer(4);
  const workers: Worker[] = [];
  const reports: Promise<ProducerReport>[] = [];
  let updates = 0, messages = 0, recordFrom = Infinity;
  const F = 7;
  const onBatch = (b: Float64Array) => {
    messages++;
    const now = o.clock();
    for (let k = 0; k < b.length; k += F) {
      const sym = b[k], bid = b[k + 1], ask = b[k + 2], bs = b[k + 3], as = b[k + 4];
      const mid = (bid + ask) / 2;
      const spread = ask - bid;
      const imbalance = (bs - as) / (bs + as);
      book.add(sym, mid, spread, imbalance, bs + as);
      if (now >= recordFrom) histogram.record(now - b[k + 6]);
      updates++;
    }
  };
  for (let p = 0; p < o.producers; p++) {
    const w = new Worker(new URL("../demo_producer.ts", import.meta.url).href, { type: "module" });
    workers.push(w);
    reports.push(
      new Promise((resolve, reject) => {
        w.onmessage = (e: MessageEvent) => {
          if (e.data instanceof Float64Array) onBatch(e.data);
          else if (e.data?.done) resolve(e.data);
        };
        w.onerror = (e) => {
          e.preventDefault();
          reject(new Error(`host-loop producer ${p} failed: ${e.message}`));
        };
      }),
    );
    const symbols = [...SYMBOLS.keys()].filter((s) => s % o.producers === p);
    const start: ProducerStart = {
      mode: "post",
      producer: p,
      symbols,
      ratePerSec: o.ratePerSec / o.producers,
      stop,
      native: o.native,
      mainOriginMs: performance.timeOrigin,
    };
    w.postMessage(start);
  }
  const t0 = performance.now();
  recordFrom = o.clock() + o.warmupSeconds * 1e9;
  const barTimer = setInterval(() => book.closeBars(), BAR_NS / 1e6);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    new Promise((r) => (timer = setTimeout(r, (o.warmupSeconds + o.seconds) * 1000))),
    o.abort,
  ]);
  clearTimeout(timer);
  clearInterval(barTimer);
  Atomics.store(new Int32Array(stop), 0, 1);
  await Promise.race([Promise.allSettled(reports), new Promise((r) => setTimeout(r, 2000))]);
  for (const w of workers) w.terminate();
  return { histogram, updates, messages, seconds: (performance.now() - t0) / 1000, book };
}
