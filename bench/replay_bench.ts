/**
 * Replay throughput: records per second through a 5-node graph (source -> 3 transforms -> sink)
 * on the historical runtime, in two ways:
 *
 * 1. Historical source: `historicalSource` over N in-memory records -> `HistoricalRuntime.
 *    runUntilCompletion()`. Event-driven: the runtime jumps from record time to record time.
 * 2. Replay of a recorded log: a `RealtimeRuntime` in Spin mode, fed by a ring channel from the
 *    same thread (the harness sends a batch, then runs one cycle), records its stimuli
 *    (`startRecording()`); `HistoricalRuntime.replayLog()` then reruns the same graph from the
 *    log. Timed: the replay only (the graph is built before the clock starts). The same live
 *    run is also timed with and without recording, alternated, to give the cost of recording.
 *
 * Each comes in two densities: one record per cycle (every record is its own instant: the
 * per-cycle cost dominates) and 16 records per cycle (bursts). The graph:
 * - source: the records released this cycle (historical source) or read from the channel;
 * - `vwap`: the batch's volume-weighted price (sum px * qty / sum qty);
 * - `ema`: an exponential average of `vwap` (alpha 0.1);
 * - `signal`: `vwap - ema`;
 * - `sink`: counts records and adds up `signal` (the checksum).
 * Every run's record count and checksum are compared with a plain loop doing the same arithmetic
 * on the same batches (and the replay's with the recorded live run), so no run can skip work.
 *
 *     deno run -A bench/replay_bench.ts      bun run bench/replay_bench.ts
 *
 * At the end a JSON block between `REPLAY_JSON_BEGIN` and `REPLAY_JSON_END`, which
 * `scripts/bench_report.ts` reads. `WAVELET_REPLAY_SCALE=0.1` scales the record counts.
 *
 * @module
 */

import {
  Control,
  ExecutionMode,
  type Executor,
  HistoricalRuntime,
  type Node,
  NodeBuilder,
  RealtimeRuntime,
} from "../mod.ts";
import { channel, defineRecord, Overflow, RecvStatus, SendStatus } from "../channel.ts";
import { historicalSource } from "../replay.ts";
import process from "node:process";
import { median, runtimeName, runtimeVersion } from "./_common.ts";

const SCALE = Number(process.env.WAVELET_REPLAY_SCALE ?? "1") || 1;
const N_HIST = Math.max(10_000, Math.round(400_000 * SCALE));
const N_REPLAY = Math.max(10_000, Math.round(200_000 * SCALE));
const REPEATS = 7;
const ALPHA = 0.1;

// ------------------------------------------------------------------ data and reference

interface Rec {
  ts: bigint;
  px: number;
  qty: number;
}

/** Deterministic pseudo-random prices and sizes. */
function makeRecords(n: number, perCycle: number): Rec[] {
  const out: Rec[] = new Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    const px = 100 + (x % 1000) / 100;
    const qty = 1 + (x >>> 10) % 100;
    // `perCycle` records share each timestamp (1 us apart).
    out[i] = { ts: BigInt(Math.floor(i / perCycle)) * 1000n, px, qty };
  }
  return out;
}

interface Totals {
  records: number;
  checksum: number;
}

/** The graph's arithmetic as a plain loop over the same batches. */
function reference(recs: Rec[], perCycle: number): Totals {
  let ema = 0, checksum = 0, first = true;
  for (let i = 0; i < recs.length; i += perCycle) {
    let pv = 0, vol = 0;
    for (let j = i; j < Math.min(recs.length, i + perCycle); j++) {
      pv += recs[j].px * recs[j].qty;
      vol += recs[j].qty;
    }
    const vwap = pv / vol;
    ema = first ? vwap : ema + ALPHA * (vwap - ema);
    first = false;
    checksum += vwap - ema;
  }
  return { records: recs.length, checksum };
}

// ------------------------------------------------------------------ the graph

interface Batch {
  pv: number;
  vol: number;
  n: number;
}

/** The three transforms and the sink, below a source whose value says what arrived. */
function transformsAndSink(ex: Executor, src: Node<unknown>, batch: () => Batch): Totals {
  const totals: Totals = { records: 0, checksum: 0 };
  const vwap = new NodeBuilder(0).named("vwap").triggeredBy(src).build(ex, (self) => {
    const b = batch();
    if (b.n === 0) return Control.Unchanged;
    self.value = b.pv / b.vol;
    return Control.Broadcast;
  });
  let first = true;
  const ema = new NodeBuilder(0).named("ema").triggeredBy(vwap).build(ex, (self) => {
    self.value = first ? vwap.value : self.value + ALPHA * (vwap.value - self.value);
    first = false;
    return Control.Broadcast;
  });
  const signal = new NodeBuilder(0).named("signal").triggeredBy(ema).build(ex, (self) => {
    self.value = vwap.value - ema.value;
    return Control.Broadcast;
  });
  new NodeBuilder(0).named("sink").triggeredBy(signal).build(ex, () => {
    totals.records += batch().n;
    totals.checksum += signal.value;
    return Control.Unchanged;
  });
  return totals;
}

/** Source 1: a historical source over in-memory records. */
function historicalGraph(rt: HistoricalRuntime, recs: Rec[]): Totals {
  const src = historicalSource(rt, recs, { name: "quotes", timeOf: (r) => r.ts });
  const b: Batch = { pv: 0, vol: 0, n: 0 };
  let seen = -1;
  // The transforms read the batch once per cycle; the sums are computed on first read.
  const batch = () => {
    const v = src.value;
    if (seen !== v.released) {
      seen = v.released;
      let pv = 0, vol = 0;
      const rs = v.records;
      for (let i = 0; i < rs.length; i++) {
        pv += rs[i].px * rs[i].qty;
        vol += rs[i].qty;
      }
      b.pv = pv;
      b.vol = vol;
      b.n = rs.length;
    }
    return b;
  };
  return transformsAndSink(rt.executor, src as Node<unknown>, batch);
}

const Quote = defineRecord({ px: "f64", qty: "u32" });

/** Source 2: a ring channel node that drains what arrived this cycle. */
function channelGraph(ex: Executor) {
  const q = { px: 0, qty: 0 };
  const [feed, tx] = new NodeBuilder<Batch>({ pv: 0, vol: 0, n: 0 })
    .named("feed")
    .buildWith(
      ex,
      channel({ kind: "ring", record: Quote, capacity: 1024, overflow: Overflow.Reject }),
      (self, _ctx, rx) => {
        const v = self.value;
        let pv = 0, vol = 0, n = 0;
        while (rx.tryRecv(q) === RecvStatus.Item) {
          pv += q.px * q.qty;
          vol += q.qty;
          n++;
        }
        v.pv = pv;
        v.vol = vol;
        v.n = n;
        return n > 0 ? Control.Broadcast : Control.Unchanged;
      },
    );
  const totals = transformsAndSink(ex, feed as Node<unknown>, () => feed.value);
  return { tx, totals };
}

// ------------------------------------------------------------------ measurements

function sameTotals(a: Totals, b: Totals, what: string): void {
  const close = Math.abs(a.checksum - b.checksum) <= 1e-9 * Math.max(1, Math.abs(b.checksum));
  if (a.records !== b.records || !close) {
    throw new Error(
      `${what}: ${a.records} records, checksum ${a.checksum}; expected ${b.records}, ${b.checksum}`,
    );
  }
}

interface HistResult {
  perCycle: number;
  records: number;
  cycles: number;
  /** Median over the repeats. */
  ms: number;
  recordsPerSec: number;
  /** Every repeat's records/s. */
  samples: number[];
}

function benchHistorical(perCycle: number): HistResult {
  const recs = makeRecords(N_HIST, perCycle);
  const ref = reference(recs, perCycle);
  const endNs = BigInt(Math.ceil(N_HIST / perCycle)) * 1000n;
  const times: number[] = [];
  let cycles = 0;
  for (let r = 0; r < REPEATS + 1; r++) {
    const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: endNs });
    const totals = historicalGraph(rt, recs);
    const t0 = performance.now();
    cycles = rt.runUntilCompletion();
    const ms = performance.now() - t0;
    sameTotals(totals, ref, `historical ${perCycle}/cycle`);
    if (r > 0) times.push(ms); // the first repeat warms the JIT
  }
  const ms = median(times);
  return {
    perCycle,
    records: N_HIST,
    cycles,
    ms,
    recordsPerSec: N_HIST / (ms / 1e3),
    samples: times.map((t) => Math.round(N_HIST / (t / 1e3))),
  };
}

interface ReplayResult extends HistResult {
  logBytes: number;
  logBytesPerRecord: number;
  /** The recorded live run (Spin, same-thread sender, recording on), records/s. */
  liveRecordsPerSec: number;
  /** The same live run without recording, records/s (median of the repeats). */
  liveUnrecordedRecordsPerSec: number;
  /** The recorded live run's median records/s over the repeats. */
  liveRecordedMedianPerSec: number;
}

function recordLive(
  recs: Rec[],
  perCycle: number,
  record = true,
): { log: Uint8Array | null; ms: number; totals: Totals } {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Spin });
  const { tx, totals } = channelGraph(rt.executor);
  if (record) rt.startRecording();
  const t0 = performance.now();
  let i = 0, idle = 0;
  while (totals.records < recs.length) {
    const end = Math.min(recs.length, i + perCycle);
    for (; i < end; i++) {
      if (tx.trySend(recs[i]) !== SendStatus.Sent) {
        throw new Error("The ring channel refused a record");
      }
    }
    rt.runOneCycle();
    if (i >= recs.length && ++idle > 1000) throw new Error("The live run stopped receiving");
  }
  const ms = performance.now() - t0;
  const log = rt.recordedBytes();
  tx.close();
  rt.shutdown();
  return { log, ms, totals };
}

function benchReplay(perCycle: number): ReplayResult {
  const recs = makeRecords(N_REPLAY, perCycle);
  const ref = reference(recs, perCycle);
  const live = recordLive(recs, perCycle);
  // The live run's batches are the sends between cycles, so its totals match the reference.
  sameTotals(live.totals, ref, `live ${perCycle}/cycle`);
  // The cost of recording: the same live run with and without it, alternated, after a warm-up.
  const plainMs: number[] = [], recMs: number[] = [];
  recordLive(recs, perCycle, false);
  for (let r = 0; r < REPEATS; r++) {
    const plain = recordLive(recs, perCycle, false);
    sameTotals(plain.totals, ref, `live unrecorded ${perCycle}/cycle`);
    plainMs.push(plain.ms);
    const rec = recordLive(recs, perCycle, true);
    sameTotals(rec.totals, ref, `live recorded ${perCycle}/cycle`);
    recMs.push(rec.ms);
  }
  const log = live.log!;
  const times: number[] = [];
  let cycles = 0;
  for (let r = 0; r < REPEATS + 1; r++) {
    const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
    const { totals } = channelGraph(h.executor);
    const t0 = performance.now();
    cycles = h.replayLog(log);
    const ms = performance.now() - t0;
    sameTotals(totals, live.totals, `replay ${perCycle}/cycle`);
    if (r > 0) times.push(ms);
  }
  const ms = median(times);
  return {
    perCycle,
    records: N_REPLAY,
    cycles,
    ms,
    recordsPerSec: N_REPLAY / (ms / 1e3),
    samples: times.map((t) => Math.round(N_REPLAY / (t / 1e3))),
    logBytes: log.length,
    logBytesPerRecord: log.length / N_REPLAY,
    liveRecordsPerSec: N_REPLAY / (live.ms / 1e3),
    liveUnrecordedRecordsPerSec: N_REPLAY / (median(plainMs) / 1e3),
    liveRecordedMedianPerSec: N_REPLAY / (median(recMs) / 1e3),
  };
}

// ------------------------------------------------------------------ main

console.log(`wavelet replay throughput on ${runtimeName} ${runtimeVersion}`);
console.log(
  `historical source: ${N_HIST} records; recorded log: ${N_REPLAY} records; median of ${REPEATS}`,
);
const historical = [benchHistorical(1), benchHistorical(16)];
for (const h of historical) {
  console.log(
    `  historicalSource, ${String(h.perCycle).padStart(2)} record(s)/cycle: ` +
      `${(h.recordsPerSec / 1e6).toFixed(3)} M records/s (${h.cycles} cycles, ${
        h.ms.toFixed(1)
      } ms)`,
  );
}
const replay = [benchReplay(1), benchReplay(16)];
for (const r of replay) {
  console.log(
    `  replayLog,        ${String(r.perCycle).padStart(2)} record(s)/cycle: ` +
      `${(r.recordsPerSec / 1e6).toFixed(3)} M records/s (${r.cycles} cycles, ${
        r.ms.toFixed(1)
      } ms; log ${(r.logBytes / 1e6).toFixed(2)} MB = ${
        r.logBytesPerRecord.toFixed(1)
      } B/record; ` +
      `recorded live run ${(r.liveRecordsPerSec / 1e6).toFixed(3)} M records/s)`,
  );
  const cost = 1 - r.liveRecordedMedianPerSec / r.liveUnrecordedRecordsPerSec;
  console.log(
    `  live run,         ${String(r.perCycle).padStart(2)} record(s)/cycle: ` +
      `${(r.liveUnrecordedRecordsPerSec / 1e6).toFixed(3)} M records/s unrecorded, ${
        (r.liveRecordedMedianPerSec / 1e6).toFixed(3)
      } M records/s recorded (recording costs ${(cost * 100).toFixed(1)}%)`,
  );
}

const json = {
  runtime: runtimeName,
  version: runtimeVersion,
  repeats: REPEATS,
  historical,
  replay,
};
console.log("\nREPLAY_JSON_BEGIN");
console.log(JSON.stringify(json, null, 2));
console.log("REPLAY_JSON_END");
