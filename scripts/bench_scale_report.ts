/**
 * Writes `bench/SCALE.md`, the scaling-out figures (shards on one machine, JetStream on
 * loopback), from the raw outputs `bash scripts/bench.sh --scale` saved in bench/out/:
 * `scale_shard_<runtime>.txt` (bench/shard_bench.ts) and `scale_js_<runtime>.txt`
 * (bench/jetstream_bench.ts), each starting with the load average when it ran.
 * `scripts/bench_report.ts` copies the file into bench/RESULTS.md.
 *
 * Run: `deno run --allow-read --allow-write scripts/bench_scale_report.ts bench/out bench/SCALE.md`
 *
 * @module
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

const [outDir = "bench/out", target = "bench/SCALE.md"] = process.argv.slice(2);
const env = existsSync(join(outDir, "env.txt"))
  ? readFileSync(join(outDir, "env.txt"), "utf8")
  : "";
const cores = /cores=(\d+)/.exec(env)?.[1] ?? "?";

/** The Markdown table rows and the load line of one raw output, or null when it is missing. */
function read(file: string): { load: string; rows: string[] } | null {
  const p = join(outDir, file);
  if (!existsSync(p)) return null;
  const text = readFileSync(p, "utf8").split("\n");
  const load = text.find((l) => l.startsWith("load "))?.slice(5) ?? "?";
  return { load, rows: text.filter((l) => l.startsWith("| ") && !l.startsWith("| runtime")) };
}

const lines: string[] = [
  "## Scaling out: shards and JetStream",
  "",
  "Reproduce: `bash scripts/bench.sh --scale`, which runs",
  "",
  "```sh",
  "deno run -A bench/shard_bench.ts       # > bench/out/scale_shard_deno.txt",
  "bun run bench/shard_bench.ts           # > bench/out/scale_shard_bun.txt",
  "deno run -A bench/jetstream_bench.ts   # > bench/out/scale_js_deno.txt (needs nats-server)",
  "bun run bench/jetstream_bench.ts       # > bench/out/scale_js_bun.txt",
  "```",
  "",
  `Measured on this ${cores}-core machine, shared with other work (the load average when each ` +
  "part started is shown): it cannot show shard scaling, since the main thread's router and " +
  "the shards' Workers compete for the same two cores; no machine with free cores was " +
  "available for these figures.",
  "",
  "### Shards: records per second",
  "",
  "The main graph routes 1 000 000 records `{ key: u32, v: f64 }` over 10 000 keys to the " +
  "shards (`ShardedRuntime.send`); each shard keeps a per-key sum after `work` rounds of " +
  "integer mixing per record (0: the routing cost alone; 200: about 1.5 us of work per " +
  "record), and emits its sums at shutdown, which the benchmark checks. With an output per " +
  "record, each shard also sends one record per input back into the main graph. The " +
  "baseline is one node on the main thread doing the same work. From the first send to the " +
  "last record back; median of 3.",
  "",
  "| runtime | work rounds | output per record | contender | records/s |",
  "|---|--:|---|---|--:|",
];
const loads: string[] = [];
for (const rt of ["deno", "bun"]) {
  const r = read(`scale_shard_${rt}.txt`);
  if (r === null) lines.push(`| ${rt} | | | not run | |`);
  else {
    lines.push(...r.rows);
    loads.push(`shards ${rt}: ${r.load}`);
  }
}
lines.push(
  "",
  "### JetStream on loopback: wavelet's nodes against a plain consumer",
  "",
  "The same pipeline two ways: consume an input stream, turn each message into a result on " +
    "`out.<key>` (100 keys) published with a message id from the input, and acknowledge the " +
    "input once the result is stored. wavelet: `jetStreamSource` -> a node -> `jetStreamSink` " +
    "with `commitAfter`, on a `RealtimeRuntime` with `run()` (one publication in flight per " +
    "subject). Plain: a `fetch` loop publishing each result (at most 256 in flight, any " +
    "subject) and acknowledging on its publish acknowledgement. Throughput: 50 000 messages " +
    "already stored, until the last result arrives at a core subscription. Latency: 1000 " +
    "messages/s for 5 s, from just before the producer's publish to the result's arrival " +
    "(same process clock), after 10% warm-up.",
  "",
  "| runtime | contender | throughput (msg/s) | latency p50 (ms) | p99 (ms) | max (ms) |",
  "|---|---|--:|--:|--:|--:|",
);
for (const rt of ["deno", "bun"]) {
  const r = read(`scale_js_${rt}.txt`);
  if (r === null) lines.push(`| ${rt} | not run | | | | |`);
  else {
    lines.push(...r.rows);
    loads.push(`JetStream ${rt}: ${r.load}`);
  }
}
lines.push("", `Load average (1, 5, 15 min) at the start: ${loads.join("; ")}.`, "");
writeFileSync(target, lines.join("\n"));
