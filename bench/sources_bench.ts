/**
 * File readers of the historical sources: how long `readLines` takes on one 64 MiB line (the
 * shape that made a reader quadratic), and how many lines or records per second `readLines`,
 * `jsonLines` and `csvRecords` read from files of many short lines.
 *
 *     deno run -A bench/sources_bench.ts      bun run bench/sources_bench.ts
 *
 * `WAVELET_SOURCES_LONG_MIB=16` changes the long line's size; `WAVELET_SOURCES_ROWS=100000` the
 * short-line files' row count. Each figure is the median of `REPEATS` runs after one warm-up (the
 * long line: the median of 3, no warm-up, since a quadratic reader takes tens of seconds on it).
 * Every run checks what it read (line lengths, record counts and a sum), so no run can skip work.
 *
 * @module
 */

import { csvRecords, jsonLines, readLines } from "../replay.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { median, runtimeName, runtimeVersion } from "./_common.ts";

const LONG_MIB = Number(process.env.WAVELET_SOURCES_LONG_MIB ?? "64") || 64;
const ROWS = Number(process.env.WAVELET_SOURCES_ROWS ?? "500000") || 500_000;
const REPEATS = 5;

function time(runs: number, warm: boolean, fn: () => void): number {
  if (warm) fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

const dir = mkdtempSync(join(tmpdir(), "wavelet-sources-bench-"));
try {
  // One long line (then a short one, so the reader must also find the line end).
  const longPath = join(dir, "long.txt");
  const longBytes = LONG_MIB * 1024 * 1024;
  const long = new Uint8Array(longBytes + 6);
  long.fill(0x61, 0, longBytes); // "a"
  long.set(new TextEncoder().encode("\nshort"), longBytes);
  writeFileSync(longPath, long);

  // Many short rows, as CSV and as JSON lines.
  const csvPath = join(dir, "rows.csv");
  const jsonPath = join(dir, "rows.jsonl");
  const csv: string[] = ["ts,sym,px,qty"];
  const jl: string[] = [];
  let expectQty = 0;
  for (let i = 0; i < ROWS; i++) {
    const ts = 1_700_000_000_000_000_000n + BigInt(i) * 1000n;
    const qty = 1 + (i % 100);
    expectQty += qty;
    csv.push(`${ts},ABC,${100 + (i % 1000) / 100},${qty}`);
    jl.push(`{"ts":"${ts}","sym":"ABC","px":${100 + (i % 1000) / 100},"qty":${qty}}`);
  }
  writeFileSync(csvPath, csv.join("\n") + "\n");
  writeFileSync(jsonPath, jl.join("\n") + "\n");

  console.log(`wavelet file readers on ${runtimeName} ${runtimeVersion}`);
  const longMs = time(3, false, () => {
    const lens: number[] = [];
    for (const line of readLines(longPath)) lens.push(line.length);
    if (lens.length !== 2 || lens[0] !== longBytes || lens[1] !== 5) {
      throw new Error(`readLines read lines of ${lens}`);
    }
  });
  console.log(`  readLines, one ${LONG_MIB} MiB line: ${longMs.toFixed(0)} ms`);

  const linesMs = time(REPEATS, true, () => {
    let n = 0;
    for (const _ of readLines(csvPath)) n++;
    if (n !== ROWS + 1) throw new Error(`readLines read ${n} lines`);
  });
  const jsonMs = time(REPEATS, true, () => {
    let q = 0;
    for (const r of jsonLines<{ qty: number }>(jsonPath)) q += r.qty;
    if (q !== expectQty) throw new Error(`jsonLines summed ${q}`);
  });
  const csvMs = time(REPEATS, true, () => {
    let q = 0;
    for (const r of csvRecords(csvPath)) q += r.qty as number;
    if (q !== expectQty) throw new Error(`csvRecords summed ${q}`);
  });
  const rate = (ms: number) => `${(ROWS / (ms / 1e3) / 1e6).toFixed(2)} M/s`;
  console.log(`  readLines, ${ROWS} short lines: ${linesMs.toFixed(0)} ms (${rate(linesMs)})`);
  console.log(`  jsonLines, ${ROWS} records: ${jsonMs.toFixed(0)} ms (${rate(jsonMs)})`);
  console.log(`  csvRecords, ${ROWS} records: ${csvMs.toFixed(0)} ms (${rate(csvMs)})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
