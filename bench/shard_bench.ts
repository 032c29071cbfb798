/**
 * Shard benchmark: records per second through 1, 2 and 4 shards (one graph per Worker) of a
 * `ShardedRuntime`, against the same computation in one graph on the main thread.
 *
 * Run with `deno run -A bench/shard_bench.ts` or `bun run bench/shard_bench.ts`
 * (`WAVELET_SHARD_RECORDS`, default 1 000 000; `WAVELET_SHARD_REPS`, default 3).
 *
 * What is measured: the main thread's producer node routes N records `{ key: u32, v: f64 }`
 * over 10 000 keys to the shards (`send`, a full ring retried on the next cycle); each shard
 * keeps a per-key sum after `work` rounds of integer mixing per record (0: the routing cost
 * alone; 200: about a microsecond of work per record), and emits one record per key when the
 * pool shuts down (its onDrop), which the main graph checks against the expected sums. The time
 * runs from the first send to the last final record received (Workers already started); a send refused by
 * a full ring waits 50 us on a timer (spinning would take the core a shard needs). With
 * `echo`, each shard also sends one record per input back to the main graph's output node. The
 * baseline is one node on the main thread doing the same per-record work, fed in the same
 * batches. Median of the repeats; prints a Markdown table and a `SHARD_JSON` line.
 *
 * @module
 */

import process from "node:process";
import { Control, ExecutionMode, NodeBuilder, RealtimeRuntime, us } from "../mod.ts";
import { SendStatus } from "../channel.ts";
import { ShardedRuntime } from "../shard.ts";
import bench, { type BenchParams, mix } from "./shard_bench_shard.ts";

const N = Number(process.env.WAVELET_SHARD_RECORDS ?? 1_000_000);
const REPS = Number(process.env.WAVELET_SHARD_REPS ?? 3);
const KEYS = 10_000;

/** The expected per-key sums (v = 1 for every record). */
function expected(work: number): Float64Array {
  const e = new Float64Array(KEYS);
  for (let i = 0; i < N; i++) e[i % KEYS] += 1 + mix(i % KEYS, work);
  return e;
}

async function sharded(shards: number, work: number, echo: boolean): Promise<number> {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const params: BenchParams = { work, echo };
  const pool = await ShardedRuntime.start(rt.executor, bench, { shards, params });
  const sums = new Float64Array(KEYS);
  let finals = 0, echoes = 0, i = 0, t0 = 0;
  const rec = { key: 0, v: 1 };
  new NodeBuilder(0)
    .onInit((ex, self) => ex.yieldNow(self))
    .build(rt.executor, (self, ctx) => {
      if (t0 === 0) t0 = performance.now();
      let full = false;
      for (let n = 0; n < 8192 && i < N; n++) {
        rec.key = i % KEYS;
        if (pool.send(rec) !== SendStatus.Sent) {
          full = true;
          break;
        }
        i++;
      }
      // A full shard: wait a little rather than spin on the core the shards need.
      if (full) ctx.registerTimerAfter(self, us(50));
      else if (i < N) ctx.yieldNow();
      else void pool.shutdown();
      return Control.Unchanged;
    });
  const out = pool.output!;
  let t1 = 0;
  new NodeBuilder(0).triggeredBy(out).build(rt.executor, () => {
    for (const r of out.value.items) {
      if (r.kind === 1) {
        sums[r.key] = r.sum;
        finals++;
      } else echoes++;
    }
    if (!out.value.ended) return Control.Unchanged;
    t1 = performance.now();
    return Control.Terminate;
  });
  await rt.run();
  const want = expected(work);
  if (finals !== KEYS || (echo && echoes !== N)) {
    throw new Error(`${finals} finals, ${echoes} echoes`);
  }
  for (let k = 0; k < KEYS; k++) {
    if (sums[k] !== want[k]) throw new Error(`key ${k}: ${sums[k]} where ${want[k]} was due`);
  }
  return N / ((t1 - t0) / 1000);
}

async function mainThread(work: number): Promise<number> {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const sums = new Map<number, number>();
  let i = 0, t0 = 0, t1 = 0;
  new NodeBuilder(0)
    .onInit((ex, self) => ex.yieldNow(self))
    .build(rt.executor, (_self, ctx) => {
      if (t0 === 0) t0 = performance.now();
      for (let n = 0; n < 8192 && i < N; n++, i++) {
        const key = i % KEYS;
        sums.set(key, (sums.get(key) ?? 0) + 1 + mix(key, work));
      }
      if (i < N) {
        ctx.yieldNow();
        return Control.Unchanged;
      }
      t1 = performance.now();
      return Control.Terminate;
    });
  await rt.run();
  const want = expected(work);
  for (let k = 0; k < KEYS; k++) if (sums.get(k) !== want[k]) throw new Error(`key ${k}`);
  return N / ((t1 - t0) / 1000);
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
const rows: { work: number; echo: boolean; contender: string; rate: number }[] = [];
for (const work of [0, 200]) {
  for (const echo of [false, true]) {
    const configs: [string, () => Promise<number>][] = [
      ["main thread", () => mainThread(work)],
      ["1 shard", () => sharded(1, work, echo)],
      ["2 shards", () => sharded(2, work, echo)],
      ["4 shards", () => sharded(4, work, echo)],
    ];
    for (const [contender, run] of configs) {
      if (echo && contender === "main thread") continue;
      const rates: number[] = [];
      for (let r = 0; r < REPS; r++) rates.push(await run());
      rows.push({ work, echo, contender, rate: median(rates) });
      console.error(
        `${runtime} work ${work} echo ${echo} ${contender}: ${median(rates).toFixed(0)}/s`,
      );
    }
  }
}
const fmt = (r: number) => `${(r / 1e6).toFixed(2)} M/s`;
console.log(`| runtime | work rounds | output per record | contender | records/s |`);
console.log(`|---|--:|---|---|--:|`);
for (const r of rows) {
  console.log(
    `| ${runtime} | ${r.work} | ${r.echo ? "yes" : "no"} | ${r.contender} | ${fmt(r.rate)} |`,
  );
}
console.log(`SHARD_JSON ${JSON.stringify({ runtime, records: N, reps: REPS, rows })}`);
