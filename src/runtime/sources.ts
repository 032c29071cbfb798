/**
 * Historical sources: nodes that release timestamped records in the cycle whose time reaches
 * them, from an array, an iterable, or a file (CSV or JSON lines, read in chunks, never loaded
 * whole). On a historical runtime they register a timer at each next record's time, so the
 * runtime jumps from record to record.
 *
 * @module
 */

import { closeSync, openSync, readSync } from "node:fs";
import { Control } from "../control.ts";
import { ErrorCode, InvalidArgumentError } from "../errors.ts";
import { type Node, NodeBuilder } from "../node.ts";
import type { HistoricalRuntime } from "./historical.ts";

/**
 * Options of {@linkcode historicalSource}.
 *
 * @example Records with ISO timestamps
 * ```ts
 * import {
 *   HistoricalRuntime,
 *   historicalSource,
 *   type HistoricalSourceOptions,
 * } from "@wavelet/wavelet";
 *
 * interface Tick {
 *   at: string;
 *   px: number;
 * }
 * const nanos = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;
 * const options: HistoricalSourceOptions<Tick> = { name: "ticks", timeOf: (t) => nanos(t.at) };
 * const rt = new HistoricalRuntime({
 *   startUnixNanos: nanos("2024-01-02T00:00:00Z"),
 *   endUnixNanos: nanos("2024-01-02T00:01:00Z"),
 * });
 * const ticks = historicalSource(rt, [
 *   { at: "2024-01-02T00:00:01Z", px: 100 },
 *   { at: "2024-01-02T00:00:30Z", px: 101 },
 * ], options);
 * rt.runUntilCompletion();
 * if (ticks.name !== "ticks" || ticks.value.released !== 2) throw new Error("both released");
 * ```
 */
export interface HistoricalSourceOptions<R> {
  /** Debug name of the node. */
  name?: string;
  /**
   * The record's time as exact Unix nanoseconds. Default: the `ts` field, read as nanoseconds
   * when it is a bigint or a string of digits, as milliseconds when it is a number.
   */
  timeOf?: (record: R) => bigint;
}

/**
 * The state of a historical source node.
 *
 * @example Records released per cycle
 * ```ts
 * import {
 *   type HistoricalBatch,
 *   HistoricalRuntime,
 *   historicalSource,
 *   NodeBuilder,
 * } from "@wavelet/wavelet";
 *
 * type Trade = { ts: number; px: number }; // ts in milliseconds
 * const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 10_000_000_000n });
 * const trades = historicalSource<Trade>(rt, [
 *   { ts: 1000, px: 1 },
 *   { ts: 1000, px: 2 },
 *   { ts: 5000, px: 3 },
 * ]);
 * const sizes: number[] = [];
 * new NodeBuilder(0).triggeredBy(trades).build(rt.executor, () => {
 *   const batch: HistoricalBatch<Trade> = trades.value;
 *   sizes.push(batch.records.length);
 * });
 * rt.runUntilCompletion();
 * if (sizes.join() !== "2,1" || !trades.value.ended || trades.value.released !== 3) {
 *   throw new Error(`batches of ${sizes}`);
 * }
 * ```
 */
export interface HistoricalBatch<R> {
  /** The records released in this cycle (the array is reused: copy to keep). */
  records: R[];
  /** Records released so far. */
  released: number;
  /** True once the last record was released. */
  ended: boolean;
}

function defaultTimeOf(record: unknown): bigint {
  const ts = (record as { ts?: unknown })?.ts;
  if (typeof ts === "bigint") return ts;
  if (typeof ts === "string" && /^-?\d+$/.test(ts)) return BigInt(ts);
  if (typeof ts === "number" && Number.isFinite(ts)) return BigInt(Math.round(ts * 1e6));
  throw new InvalidArgumentError(
    ErrorCode.InvalidArgument,
    `A record has no usable "ts" field (got ${typeof ts}); pass a timeOf option`,
  );
}

/**
 * A node that replays timestamped records: in each cycle it broadcasts the records whose time
 * is at or before the cycle's time, in order (records out of time order are released as soon
 * as they are reached, never reordered). Records before the interval's start come out in the
 * first cycle.
 *
 * @example
 * ```ts
 * import { historicalSource, HistoricalRuntime } from "@wavelet/wavelet";
 *
 * const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 10_000_000_000n });
 * const trades = historicalSource(rt, [{ ts: 1000, px: 1 }, { ts: 5000, px: 2 }]);
 * const cycles = rt.runUntilCompletion(); // about one cycle per record, not per microsecond
 * ```
 */
export function historicalSource<R>(
  rt: HistoricalRuntime,
  records: Iterable<R>,
  options: HistoricalSourceOptions<R> = {},
): Node<HistoricalBatch<R>> {
  const timeOf = options.timeOf ?? (defaultTimeOf as (r: R) => bigint);
  const it = records[Symbol.iterator]();
  let next: IteratorResult<R> = it.next();
  const clock = rt.clock;
  const b = new NodeBuilder<HistoricalBatch<R>>({ records: [], released: 0, ended: false });
  if (options.name !== undefined) b.named(options.name);
  const arm = (
    ex: { registerTimer: (n: Node<unknown>, d: number) => unknown },
    self: Node<unknown>,
  ) => {
    if (!next.done) ex.registerTimer(self, Math.max(0, clock.toElapsed(timeOf(next.value))));
  };
  return b
    .onInit((ex, self) => {
      if (next.done) return;
      arm(ex, self);
    })
    .build(rt.executor, (self, ctx) => {
      const v = self.value;
      v.records.length = 0;
      const now = ctx.time.monotonicNs;
      while (!next.done && clock.toElapsed(timeOf(next.value)) <= now) {
        v.records.push(next.value);
        next = it.next();
      }
      v.released += v.records.length;
      if (next.done) v.ended = true;
      else arm(ctx, self);
      return v.records.length > 0 ? Control.Broadcast : Control.Unchanged;
    });
}

/**
 * Reads a file line by line in 64 KiB chunks (never the whole file).
 *
 * @param path The file.
 * @returns The lines, without their line ends; empty lines skipped.
 *
 * @example Reading a small file
 * ```ts
 * import { readLines } from "@wavelet/wavelet";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "wavelet-"));
 * const path = join(dir, "log.txt");
 * writeFileSync(path, "first\r\n\nsecond\nthird");
 * const lines = [...readLines(path)];
 * rmSync(dir, { recursive: true });
 * if (lines.join("|") !== "first|second|third") throw new Error(`lines: ${lines}`);
 * ```
 */
export function* readLines(path: string): Generator<string> {
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(1 << 16);
    const dec = new TextDecoder();
    let rest = "";
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      rest += dec.decode(buf.subarray(0, n), { stream: true });
      let nl: number;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, nl).replace(/\r$/, "");
        rest = rest.slice(nl + 1);
        if (line.length > 0) yield line;
      }
    }
    rest += dec.decode();
    if (rest.length > 0) yield rest.replace(/\r$/, "");
  } finally {
    closeSync(fd);
  }
}

/**
 * Streams a JSON-lines file: one JSON object per line.
 *
 * @param path The file.
 * @returns The parsed records, in file order.
 *
 * @example Reading JSON lines
 * ```ts
 * import { jsonLines } from "@wavelet/wavelet";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "wavelet-"));
 * const path = join(dir, "trades.jsonl");
 * writeFileSync(path, '{"ts":1000,"px":1.5}\n{"ts":2000,"px":2.5}\n');
 * const prices = [...jsonLines<{ ts: number; px: number }>(path)].map((r) => r.px);
 * rmSync(dir, { recursive: true });
 * if (prices.join() !== "1.5,2.5") throw new Error(`prices: ${prices}`);
 * ```
 */
export function* jsonLines<R = Record<string, unknown>>(path: string): Generator<R> {
  for (const line of readLines(path)) yield JSON.parse(line) as R;
}

/**
 * Streams a CSV file with a header row: each row becomes an object keyed by the header's
 * names; fields that look like numbers become numbers, except a `ts` field of digits, which
 * stays a string so nanosecond timestamps keep every digit. Quoted fields may contain commas
 * and doubled quotes; they may not contain line breaks.
 *
 * @param path The file.
 * @returns The records, in file order.
 *
 * @example Reading CSV with nanosecond timestamps
 * ```ts
 * import { csvRecords } from "@wavelet/wavelet";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "wavelet-"));
 * const path = join(dir, "quotes.csv");
 * writeFileSync(path, 'ts,sym,px,note\n1700000000000000001,ABC,10.5,"a, ""b"""\n');
 * const [rec] = [...csvRecords(path)];
 * rmSync(dir, { recursive: true });
 * // ts stays a string (every digit kept); px becomes a number; quotes are undone
 * if (rec.ts !== "1700000000000000001" || rec.px !== 10.5 || rec.note !== 'a, "b"') {
 *   throw new Error(`record: ${JSON.stringify(rec)}`);
 * }
 * ```
 */
export function* csvRecords(path: string): Generator<Record<string, string | number>> {
  let header: string[] | undefined;
  for (const line of readLines(path)) {
    const cells = splitCsv(line);
    if (header === undefined) {
      header = cells;
      continue;
    }
    const rec: Record<string, string | number> = {};
    for (let i = 0; i < header.length; i++) {
      const name = header[i], cell = cells[i] ?? "";
      const num = Number(cell);
      rec[name] = name === "ts" || cell === "" || !Number.isFinite(num) ? cell : num;
    }
    yield rec;
  }
}

function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
