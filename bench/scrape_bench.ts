/**
 * What scraping costs the demo: the demo runs as a child process with the metrics endpoint on
 * (`--http 0`), once left alone and once scraped 100 times a second (`GET /metrics` every 10 ms
 * from this process, one request at a time over a kept-alive connection, as Prometheus does),
 * alternating A B B A ... so drift hits both sides alike. Each run's update-to-sink p50 comes
 * from the demo's summary; the endpoint's own time per scrape comes from its handler nodes'
 * `wavelet_node_time_seconds_total`.
 *
 *     deno run -A bench/scrape_bench.ts [PAIRS] [SECONDS]     (or: bun run ...)
 *
 * Prints a markdown section between SCRAPE_MD_BEGIN and SCRAPE_MD_END.
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isBun = typeof g.Bun !== "undefined";
const runtime = isBun ? `bun ${g.Bun.version}` : `deno ${g.Deno.version.deno}`;
const pairs = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 8);
const demo = new URL("../examples/demo.ts", import.meta.url).pathname;

interface Run {
  scraped: boolean;
  p50Ns: number;
  p99Ns: number;
  updates: number;
  scrapes: number;
  /** Client-side wall time per scrape (request to last byte). */
  scrapeMs: number;
  /** The endpoint's handler time per scrape, from its own metrics. */
  handlerUs: number;
  bytes: number;
}

function parseNs(v: string, unit: string): number {
  const x = Number(v);
  return unit === "ns" ? x : unit === "µs" ? x * 1e3 : unit === "ms" ? x * 1e6 : x * 1e9;
}

function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

async function once(scraped: boolean): Promise<Run> {
  const args = isBun ? ["run", demo] : ["run", "-A", demo];
  const child = spawn(process.execPath, [
    ...args,
    "--seconds",
    String(seconds),
    "--host-seconds",
    "0",
    "--warmup",
    "1",
    "--http",
    "0",
  ], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const exited = new Promise<void>((r) => child.once("close", () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (d: Uint8Array) => {
      out += new TextDecoder().decode(d);
      const m = /inspector on (http:\/\/\S+)/.exec(out);
      if (m !== null) resolve(m[1]);
    });
    exited.then(() => reject(new Error(`the demo ended before serving:\n${out}`)));
  });
  let scrapes = 0, scrapeMs = 0, bytes = 0, last = "";
  let stop = false;
  const scraper = (async () => {
    if (!scraped) return;
    const target = new URL("/metrics", url);
    let next = performance.now();
    while (!stop) {
      next += 10;
      const t0 = performance.now();
      try {
        const text = await (await fetch(target)).text();
        scrapeMs += performance.now() - t0;
        scrapes++;
        bytes = text.length;
        last = text;
      } catch {
        break; // the demo stopped serving
      }
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else next = performance.now();
    }
  })();
  // Stop scraping just before the graph stops (its endpoint goes with it).
  await new Promise((r) => setTimeout(r, (seconds - 0.3) * 1000));
  stop = true;
  await scraper;
  await exited;
  const m = /latency update->sink .*?: p50 ([\d.]+) (ns|µs|ms|s)\s+p99 ([\d.]+) (ns|µs|ms|s)/
    .exec(out);
  const u = /^updates ([\d,]+)/m.exec(out);
  if (m === null || u === null) throw new Error(`no summary in the demo's output:\n${out}`);
  const handlerS = sample(last, 'wavelet_node_time_seconds_total{node="wavelet-http-handler"}');
  return {
    scraped,
    p50Ns: parseNs(m[1], m[2]),
    p99Ns: parseNs(m[3], m[4]),
    updates: Number(u[1].replace(/,/g, "")),
    scrapes,
    scrapeMs: scrapes > 0 ? scrapeMs / scrapes : NaN,
    handlerUs: scrapes > 0 ? (handlerS * 1e6) / scrapes : NaN,
    bytes,
  };
}

const runs: Run[] = [];
for (let i = 0; i < pairs; i++) {
  const order = i % 2 === 0 ? [false, true] : [true, false];
  for (const scraped of order) {
    const r = await once(scraped);
    console.log(
      `${scraped ? "scraped" : "alone  "}  p50 ${(r.p50Ns / 1e3).toFixed(2)} us  p99 ${
        (r.p99Ns / 1e3).toFixed(1)
      } us  updates ${r.updates}  scrapes ${r.scrapes}`,
    );
    runs.push(r);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const alone = runs.filter((r) => !r.scraped), scraped = runs.filter((r) => r.scraped);
const a50 = median(alone.map((r) => r.p50Ns)), s50 = median(scraped.map((r) => r.p50Ns));
const us = (ns: number) => `${(ns / 1e3).toFixed(2)} µs`;
const lines = [
  `#### ${runtime}`,
  "",
  `${pairs} pairs of ${seconds} s demo runs (\`--http 0\`, 1 s warm-up, default rate and producers), alternating.`,
  "",
  "| run | update->sink p50 | p99 | updates | scrapes | client ms / scrape | handler µs / scrape |",
  "|---|--:|--:|--:|--:|--:|--:|",
  ...runs.map((r) =>
    `| ${r.scraped ? "scraped 100/s" : "alone"} | ${us(r.p50Ns)} | ${
      us(r.p99Ns)
    } | ${r.updates} | ${r.scraped ? r.scrapes : "-"} | ${
      r.scraped ? r.scrapeMs.toFixed(2) : "-"
    } | ${r.scraped ? r.handlerUs.toFixed(0) : "-"} |`
  ),
  "",
  `Median p50: alone ${us(a50)}, scraped ${us(s50)}: **${
    ((s50 / a50 - 1) * 100).toFixed(1)
  }%** (budget: under 5%). /metrics is ${scraped[0]?.bytes ?? "?"} bytes.`,
  "",
];
console.log("SCRAPE_MD_BEGIN");
console.log(lines.join("\n"));
console.log("SCRAPE_MD_END");
