/**
 * Historical sources: nodes that release timestamped records in the cycle whose time reaches
 * them, from an array, an iterable, or a file (CSV or JSON lines, read in chunks, never loaded
 * whole; see the readers module). On a historical runtime they register a timer at each next
 * record's time, so the runtime jumps from record to record.
 *
 * A record without a usable time is a {@linkcode SourceError} with the record's position (its
 * file and line, or its number), thrown out of `runUntilCompletion()`, unless the source was
 * told to skip and count such records. Numeric and string timestamps need their unit stated.
 *
 * @module
 */

import { Control } from "../core/control.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import type { Node } from "../core/node.ts";
import { runtimePort } from "../core/executor.ts";
import { NodeBuilder } from "../core/builder.ts";
import {
  checkFunction,
  checkInstance,
  checkOneOf,
  checkOptions,
  checkString,
  describe,
  describeThrown,
  invalid,
} from "../core/validate.ts";
import { HistoricalRuntime } from "./historical.ts";
import {
  type BadRecordPolicy,
  checkPolicy,
  describePosition,
  RecordStream,
  SourceError,
} from "./readers.ts";

export {
  type BadRecordPolicy,
  type CsvOptions,
  csvRecords,
  type CsvRow,
  jsonLines,
  type JsonLinesOptions,
  readLines,
  type RecordPosition,
  RecordStream,
  SourceError,
} from "./readers.ts";

/**
 * The unit of a numeric or string timestamp: nanoseconds, microseconds, milliseconds or seconds
 * since the Unix epoch.
 *
 * @example Epoch milliseconds, stated
 * ```ts
 * import { HistoricalRuntime, NodeBuilder } from "@wavelet/wavelet";
 * import { historicalSource, type TimeUnit } from "@wavelet/wavelet/replay";
 *
 * const unit: TimeUnit = "ms";
 * const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 5_000_000n });
 * const src = historicalSource(rt, [{ ts: 2, v: 1 }], { timeUnit: unit });
 * let at = -1;
 * new NodeBuilder(0).triggeredBy(src).build(rt.executor, (_self, ctx) => {
 *   at = ctx.time.monotonicNs;
 * });
 * rt.runUntilCompletion();
 * if (at !== 2_000_000) throw new Error(`released at ${at} ns`); // 2 ms
 * ```
 */
export type TimeUnit = "ns" | "us" | "ms" | "s";

/** Decimal digits from each unit down to nanoseconds. */
const UNIT_DIGITS: Record<TimeUnit, number> = { ns: 0, us: 3, ms: 6, s: 9 };

/**
 * Options of {@linkcode historicalSource}.
 *
 * @example Records with ISO timestamps
 * ```ts
 * import { HistoricalRuntime } from "@wavelet/wavelet";
 * import { historicalSource, type HistoricalSourceOptions } from "@wavelet/wavelet/replay";
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
   * The record's time as exact Unix nanoseconds (a bigint). Default: the record's `ts` field:
   * a bigint is nanoseconds (or `timeUnit`s when that is given); a number or a string of
   * decimal digits (with an optional fraction) needs `timeUnit`, and is an error without it.
   * A record whose time cannot be read (no `ts`, not a number, `timeOf` throws) is a bad
   * record (see `onBadRecord`).
   */
  timeOf?: (record: R) => bigint;
  /** The unit of a numeric or string `ts` (not used with `timeOf`). */
  timeUnit?: TimeUnit;
  /**
   * What a bad record does: `"throw"` (default) stops the source with a
   * {@linkcode SourceError} naming the record's position, thrown out of `runUntilCompletion()`
   * after the records before it were delivered; `"skip"` skips it and counts it in
   * {@linkcode HistoricalBatch.skipped}. With a {@linkcode RecordStream} (from `csvRecords` or
   * `jsonLines`), `"skip"` also skips the rows the reader refuses.
   */
  onBadRecord?: BadRecordPolicy;
}

/**
 * The state of a historical source node.
 *
 * @example Records released per cycle
 * ```ts
 * import { HistoricalRuntime, NodeBuilder } from "@wavelet/wavelet";
 * import { type HistoricalBatch, historicalSource } from "@wavelet/wavelet/replay";
 *
 * type Trade = { ts: number; px: number }; // ts in milliseconds
 * const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 10_000_000_000n });
 * const trades = historicalSource<Trade>(rt, [
 *   { ts: 1000, px: 1 },
 *   { ts: 1000, px: 2 },
 *   { ts: 5000, px: 3 },
 * ], { timeUnit: "ms" });
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
  /** Bad records skipped so far (with `onBadRecord: "skip"`; a reader's skips included). */
  skipped: number;
  /** True once the last record was released. */
  ended: boolean;
}

/** A time that cannot be read: a bad record, with the reason. */
class BadTime extends Error {}

const DECIMAL_TS = /^(-?)(\d+)(?:\.(\d+))?$/;

/** Exact Unix nanoseconds from a decimal string in `unit`s (rounded half away from zero). */
function decimalToNanos(text: string, unit: TimeUnit): bigint {
  const m = DECIMAL_TS.exec(text);
  if (m === null) throw new BadTime(`its "ts" ("${text}") is not a decimal number`);
  const digits = UNIT_DIGITS[unit];
  const frac = m[3] ?? "";
  let v = BigInt(m[2]) * 10n ** BigInt(digits) +
    (digits === 0 ? 0n : BigInt(frac.slice(0, digits).padEnd(digits, "0")));
  if (frac.length > digits && frac.charCodeAt(digits) >= 0x35) v += 1n; // "5".."9"
  return m[1] === "-" ? -v : v;
}

/** Exact Unix nanoseconds from a number in `unit`s. */
function numberToNanos(ts: number, unit: TimeUnit): bigint {
  if (!Number.isFinite(ts)) throw new BadTime(`its "ts" (${ts}) is not a finite number`);
  const scale = 10 ** UNIT_DIGITS[unit];
  if (Number.isInteger(ts)) {
    if (!Number.isSafeInteger(ts)) {
      throw new BadTime(
        `its "ts" (${ts}) is beyond 2^53, where numbers lose digits; write it as a string or a bigint`,
      );
    }
    return BigInt(ts) * BigInt(scale);
  }
  const whole = Math.trunc(ts);
  return BigInt(whole) * BigInt(scale) + BigInt(Math.round((ts - whole) * scale));
}

/** The default reading of a record's time: its `ts` field. */
function tsOf(record: unknown, unit: TimeUnit | undefined, where: () => string): bigint {
  if (record === null || typeof record !== "object" || !("ts" in record)) {
    throw new BadTime(`it has no "ts" field (pass timeOf to read its time from elsewhere)`);
  }
  const ts = (record as { ts: unknown }).ts;
  if (typeof ts === "bigint") {
    return unit === undefined ? ts : ts * 10n ** BigInt(UNIT_DIGITS[unit]);
  }
  if (typeof ts !== "number" && typeof ts !== "string") {
    throw new BadTime(`its "ts" is a ${ts === null ? "null" : typeof ts}, not a time`);
  }
  if (unit === undefined) {
    // Not a bad record: the source's options are incomplete, whatever the records hold.
    throw new InvalidArgumentError(
      `${where()} has a ${typeof ts} "ts" (${
        typeof ts === "string" ? `"${ts}"` : ts
      }) and the source has no timeUnit: say which unit it is in ("ns", "us", "ms" or "s")`,
    );
  }
  return typeof ts === "number" ? numberToNanos(ts, unit) : decimalToNanos(ts, unit);
}

/**
 * A node that replays timestamped records: in each cycle it broadcasts the records whose time
 * is at or before the cycle's time, in order (records out of time order are released as soon
 * as they are reached, never reordered). Records before the interval's start come out in the
 * first cycle. The first record is read when the source is built (a bad one throws from here);
 * each later one as the record before it is released.
 *
 * A bad record (see {@linkcode HistoricalSourceOptions.onBadRecord}) stops the source: the
 * records before it are released as usual, then the {@linkcode SourceError} is thrown out of
 * `runUntilCompletion()` (or `runOneCycle()`) in the next cycle at the same instant. The
 * runtime stays usable; the source releases nothing more and closes its file. An error thrown
 * by the iterable itself is thrown out the same way.
 *
 * @param rt The historical runtime.
 * @param records The records, in time order: an array, any iterable, or a
 *   {@linkcode RecordStream} from `csvRecords` or `jsonLines` (whose file and line then name
 *   bad records).
 * @param options Name, how to read each record's time, what to do with bad records.
 * @returns The source node; its value is a {@linkcode HistoricalBatch}.
 * @throws {InvalidArgumentError} On invalid options, when a record's `ts` is a number or a
 *   string and there is no `timeUnit`, or when `timeOf` returns something else than a bigint.
 * @throws {SourceError} When the first record is bad (and not skipped).
 *
 * @example Epoch-millisecond records, released at their own times
 * ```ts
 * import { HistoricalRuntime, NodeBuilder } from "@wavelet/wavelet";
 * import { historicalSource } from "@wavelet/wavelet/replay";
 *
 * const rt = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 10_000_000_000n });
 * const trades = historicalSource(rt, [{ ts: 1000, px: 1 }, { ts: 5000, px: 2 }], {
 *   timeUnit: "ms",
 * });
 * const at: number[] = [];
 * new NodeBuilder(0).triggeredBy(trades).build(rt.executor, (_self, ctx) => {
 *   at.push(ctx.time.monotonicNs);
 * });
 * rt.runUntilCompletion(); // about one cycle per record, not per microsecond
 * if (at.join() !== "1000000000,5000000000") throw new Error(`released at ${at}`);
 * ```
 */
export function historicalSource<R>(
  rt: HistoricalRuntime,
  records: Iterable<R>,
  options?: HistoricalSourceOptions<R>,
): Node<HistoricalBatch<R>> {
  if (options === undefined) options = {};
  checkInstance(rt, HistoricalRuntime, "historicalSource's runtime");
  const o = checkOptions(options, "historicalSource's options", [
    "name",
    "timeOf",
    "timeUnit",
    "onBadRecord",
  ]);
  const policy = checkPolicy(o.onBadRecord);
  const unit = o.timeUnit;
  if (unit !== undefined) checkOneOf(unit, ["ns", "us", "ms", "s"] as const, "timeUnit");
  const timeOf = o.timeOf === undefined
    ? undefined
    : checkFunction<(record: R) => bigint>(o.timeOf, "timeOf");
  if (timeOf !== undefined && unit !== undefined) {
    throw invalid("timeUnit applies to the ts field only; timeOf returns Unix nanoseconds itself");
  }
  if (o.name !== undefined) checkString(o.name, "historicalSource's name");
  let iterate: unknown;
  try {
    iterate = records === null || records === undefined
      ? undefined
      : (records as Iterable<R>)[Symbol.iterator];
  } catch (cause) {
    throw invalid("records could not be read: reading its Symbol.iterator threw", cause);
  }
  if (typeof iterate !== "function") {
    throw invalid(`records must be iterable, got ${describe(records)}`);
  }
  const skip = policy === "skip";
  const stream = records instanceof RecordStream ? records as RecordStream<R> : null;
  const it = (iterate as () => Iterator<R>).call(records);
  const clock = rt.clock;
  let index = 0, skipped = 0;
  const where = () =>
    stream !== null
      ? describePosition({ path: stream.path, line: stream.line })
      : describePosition({ record: index });
  const position = () =>
    stream !== null ? { path: stream.path, line: stream.line, record: index } : { record: index };

  // The next record and its time (elapsed ns), read one ahead of the cycle that releases it.
  let has = false, pending: R | undefined, pendingAt = 0;
  // A bad record met while releasing the records before it: thrown in the next cycle.
  let failure: { error: unknown } | null = null;
  let stopped = false, closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    has = false;
    pending = undefined;
    try {
      it.return?.();
    } catch { /* closing a failed iterator: its first error is the one reported */ }
  };
  const pull = (): void => {
    for (;;) {
      let r: IteratorResult<R>;
      try {
        r = it.next();
      } catch (e) {
        // A RecordStream goes on after a bad row; any other iterator may be dead after throwing.
        if (skip && stream !== null && e instanceof SourceError && e._skippable) {
          index++;
          skipped++;
          continue;
        }
        throw e;
      }
      if (r.done) {
        has = false;
        pending = undefined;
        return;
      }
      index++;
      let t: bigint;
      try {
        t = timeOf !== undefined ? timeOf(r.value) : tsOf(r.value, unit, where);
      } catch (e) {
        if (e instanceof InvalidArgumentError) throw e;
        const reason = e instanceof BadTime ? e.message : `timeOf threw (${describeThrown(e)})`;
        const bad = new SourceError(`the record has no usable time: ${reason}`, position(), {
          cause: e instanceof BadTime ? undefined : e,
        });
        if (skip) {
          skipped++;
          continue;
        }
        throw bad;
      }
      if (typeof t !== "bigint") {
        throw new InvalidArgumentError(
          `timeOf must return a bigint of Unix nanoseconds; for ${where()} it returned a ${typeof t}`,
        );
      }
      pending = r.value;
      pendingAt = clock.toElapsed(t);
      has = true;
      return;
    }
  };
  const counted = () => skipped + (stream?.skipped ?? 0);

  try {
    pull();
  } catch (e) {
    close();
    throw e;
  }
  if (!has) close();

  const hub = runtimePort(rt.executor).ingest;
  const b = new NodeBuilder<HistoricalBatch<R>>({
    records: [],
    released: 0,
    skipped: counted(),
    ended: !has,
  });
  if (o.name !== undefined) b.named(o.name);
  // A bad record must reach the caller of runUntilCompletion(), not only onError.
  b.allowPanic(true);
  try {
    const source = b
      .onInit((ex, self) => {
        if (has) ex.registerTimer(self, Math.max(0, pendingAt));
      })
      .onDrop(close)
      .build(rt.executor, (self, ctx) => {
        const v = self.value;
        v.records.length = 0;
        if (failure !== null) {
          // The cycle after the records before the bad one were delivered.
          const { error } = failure;
          failure = null;
          throw error;
        }
        if (stopped) return Control.Unchanged;
        const now = ctx.time.monotonicNs;
        // Data age: the oldest record released counts from the instant it was due.
        if (has && pendingAt <= now && hub.on) hub.note(hub.runStart - (now - pendingAt));
        while (has && pendingAt <= now) {
          v.records.push(pending!);
          try {
            pull();
          } catch (error) {
            failure = { error };
            stopped = true;
            close();
            ctx.yieldNow(self);
          }
        }
        v.released += v.records.length;
        v.skipped = counted();
        if (has) ctx.registerTimer(self, Math.max(0, pendingAt));
        else if (!stopped && !v.ended) {
          v.ended = true;
          close();
        }
        return v.records.length > 0 ? Control.Broadcast : Control.Unchanged;
      });
    return source;
  } catch (e) {
    close(); // the build was refused (inside a cycle): the file is not left open
    throw e;
  }
}
