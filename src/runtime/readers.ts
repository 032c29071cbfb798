/**
 * File readers for historical sources: lines, JSON lines and CSV (RFC 4180), read in 64 KiB
 * chunks, never loaded whole, in time linear in the file's size however long its lines are.
 *
 * A record the reader cannot use (malformed JSON, a CSV row with the wrong number of cells, an
 * unterminated quote, bytes that are not UTF-8, a mapper that throws) is a
 * {@linkcode SourceError} naming the file and the line, thrown when the iteration reaches it.
 * With `onBadRecord: "skip"` such records are skipped instead and counted in
 * {@linkcode RecordStream.skipped}. Either way nothing is dropped without a trace.
 *
 * @module
 */

import { closeSync, openSync, readSync } from "node:fs";
import { ErrorCode, WaveletError } from "../core/errors.ts";
import {
  checkFunction,
  checkOneOf,
  checkOptions,
  checkString,
  describeThrown,
  invalid,
} from "../core/validate.ts";

/** Where a bad record was found. */
export interface RecordPosition {
  /** The file, for records read from one. */
  path?: string;
  /** The line the record starts on (1-based), for records read from a file. */
  line?: number;
  /** The record's number in its source (1-based), when known. */
  record?: number;
}

/** The cause in error options, read without letting a throwing getter escape. */
function causeOf(options: unknown): unknown {
  try {
    return options !== null && typeof options === "object"
      ? (options as ErrorOptions).cause
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A historical source met a record it cannot use: malformed JSON, a CSV row with the wrong
 * number of cells or an unterminated quote, bytes that are not UTF-8, a record without a
 * usable time. Code `SOURCE_BAD_RECORD`; the file and line (or the record's number) are in
 * the message and in {@linkcode SourceError.path}, {@linkcode SourceError.line} and
 * {@linkcode SourceError.record}; what the parser said is the `cause`.
 *
 * @example A malformed JSON line
 * ```ts
 * import { ErrorCode } from "@wavelet/wavelet";
 * import { jsonLines, SourceError } from "@wavelet/wavelet/replay";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "wavelet-"));
 * const path = join(dir, "trades.jsonl");
 * writeFileSync(path, '{"ts":"1","px":1}\n{"ts":"2","px":\n');
 * let caught: unknown;
 * try {
 *   for (const _ of jsonLines(path));
 * } catch (e) {
 *   caught = e;
 * }
 * rmSync(dir, { recursive: true });
 * if (!(caught instanceof SourceError) || caught.code !== ErrorCode.SourceBadRecord) {
 *   throw new Error("expected a SourceError");
 * }
 * if (caught.line !== 2 || !caught.message.startsWith("Line 2 of")) throw new Error(caught.message);
 * ```
 */
export class SourceError extends WaveletError {
  /** The file, for records read from one. */
  readonly path: string | undefined;
  /** The line the record starts on (1-based), for records read from a file. */
  readonly line: number | undefined;
  /** The record's number in its source (1-based), when known. */
  readonly record: number | undefined;
  /** @internal False for errors no policy may skip (a bad CSV header). */
  readonly _skippable: boolean;

  /**
   * Creates an error.
   *
   * @param message A sentence saying what is wrong with the record (its position is added).
   * @param where Where the record is.
   * @param options Standard error options (`cause`: what the parser said).
   */
  constructor(
    message: string,
    where: RecordPosition,
    options?: ErrorOptions & { skippable?: boolean },
  ) {
    // Made on error paths: whatever it is given, it must not throw something else.
    const at = positionOf(where);
    let skippable = true;
    try {
      skippable = options?.skippable !== false;
    } catch { /* unreadable options: the default */ }
    const text = typeof message === "string" ? message : "the record is bad";
    super(`${describePosition(at)}: ${text}`, {
      cause: causeOf(options),
      code: ErrorCode.SourceBadRecord,
    });
    this.path = at.path;
    this.line = at.line;
    this.record = at.record;
    this._skippable = skippable;
  }
}

/** The readable, well-typed fields of a position. */
function positionOf(where: unknown): RecordPosition {
  const at: RecordPosition = {};
  try {
    if (where !== null && typeof where === "object") {
      const { path, line, record } = where as RecordPosition;
      if (typeof path === "string") at.path = path;
      if (typeof line === "number") at.line = line;
      if (typeof record === "number") at.record = record;
    }
  } catch { /* an unreadable position is left out */ }
  return at;
}

/** "Line 3 of /tmp/x.csv", "Record 7": the start of an error message. */
export function describePosition(where: RecordPosition): string {
  if (where.path !== undefined) {
    return where.line !== undefined ? `Line ${where.line} of ${where.path}` : where.path;
  }
  return `Record ${where.record ?? "?"}`;
}

/** What a reader does with a record it cannot use. */
export type BadRecordPolicy = "throw" | "skip";

/** @internal Checks an `onBadRecord` option. */
export function checkPolicy(policy: unknown): BadRecordPolicy {
  if (policy === undefined) return "throw";
  return checkOneOf(policy, ["throw", "skip"] as const, "onBadRecord");
}

const CHUNK = 1 << 16;
const NEWLINE = 0x0a;
const CR = 0x0d;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Splits a file into lines: the bytes are searched for newlines, the whole lines of a chunk are
 * decoded at once, and a line that spans chunks is gathered as bytes (in a buffer that grows by
 * doubling) and decoded once when its end arrives, so a line of any length costs time linear in
 * its length. Decoding is strict: bytes that are not UTF-8 are an error naming the line.
 */
class LineReader {
  readonly path: string;
  #fd: number;
  readonly #chunk = new Uint8Array(CHUNK);
  #pos = 0;
  #len = 0;
  #acc = new Uint8Array(0);
  #accLen = 0;
  /** Whole lines decoded from the chunk, not yet returned. */
  #text = "";
  #textPos = 0;
  /** The chunk's bytes before this hold a line that is not UTF-8: decoded line by line. */
  #slowEnd = 0;
  #eof = false;
  /** The number of the line last returned (1-based). */
  line = 0;
  /** True when the line last returned ended with CRLF. */
  crlf = false;

  constructor(path: string) {
    this.path = checkString(path, "The file's path");
    try {
      this.#fd = openSync(path, "r");
    } catch (cause) {
      throw invalid(`Cannot open ${path}: ${(cause as Error).message}`, cause);
    }
  }

  #append(from: number, to: number): void {
    const n = to - from;
    if (this.#accLen + n > this.#acc.length) {
      let cap = Math.max(CHUNK, this.#acc.length * 2);
      while (cap < this.#accLen + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.#acc.subarray(0, this.#accLen));
      this.#acc = next;
    }
    this.#acc.set(this.#chunk.subarray(from, to), this.#accLen);
    this.#accLen += n;
  }

  /**
   * The next line without its line end, or null at the end of the file.
   *
   * @throws {SourceError} If the line is not UTF-8 (the reader has moved past it).
   */
  next(): string | null {
    const chunk = this.#chunk;
    for (;;) {
      if (this.#textPos < this.#text.length) return this.#fromText();
      if (this.#pos < this.#len) {
        let nl = chunk.indexOf(NEWLINE, this.#pos);
        if (nl >= this.#len) nl = -1; // past the bytes read: stale data from an earlier chunk
        if (nl >= 0) {
          if (this.#accLen > 0 || this.#pos < this.#slowEnd) {
            // The end of a line begun in an earlier chunk, or a line of a block with bad bytes:
            // decoded on its own.
            let bytes: Uint8Array;
            if (this.#accLen === 0) bytes = chunk.subarray(this.#pos, nl);
            else {
              this.#append(this.#pos, nl);
              bytes = this.#acc.subarray(0, this.#accLen);
            }
            this.#pos = nl + 1;
            return this.#finish(bytes, true);
          }
          // Every whole line left in the chunk, decoded at once (a newline byte never occurs
          // inside a multi-byte character, so the block ends on a character boundary).
          const last = chunk.lastIndexOf(NEWLINE, this.#len - 1);
          try {
            this.#text = utf8.decode(chunk.subarray(this.#pos, last + 1));
            this.#textPos = 0;
            this.#pos = last + 1;
          } catch {
            this.#slowEnd = last + 1; // find the bad line, one line at a time
          }
          continue;
        }
        this.#append(this.#pos, this.#len);
      }
      this.#pos = this.#len = this.#slowEnd = 0;
      if (this.#eof || this.#fd < 0) break;
      let n: number;
      try {
        n = readSync(this.#fd, chunk, 0, CHUNK, null);
      } catch (cause) {
        // A directory, or an I/O error: not a record's fault, so no policy skips it.
        throw invalid(`Cannot read ${this.path}: ${(cause as Error).message}`, cause);
      }
      if (n === 0) this.#eof = true;
      this.#len = n;
    }
    if (this.#accLen === 0) return null;
    return this.#finish(this.#acc.subarray(0, this.#accLen), false); // no newline at the end
  }

  /** The next line of the decoded block (which ends with a newline). */
  #fromText(): string {
    const text = this.#text;
    const nl = text.indexOf("\n", this.#textPos);
    let line = text.slice(this.#textPos, nl);
    this.#textPos = nl + 1;
    if (this.#textPos >= text.length) {
      this.#text = "";
      this.#textPos = 0;
    }
    this.line++;
    this.crlf = line.length > 0 && line.charCodeAt(line.length - 1) === CR;
    if (this.crlf) line = line.slice(0, -1);
    if (this.line === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1); // a BOM
    return line;
  }

  #finish(bytes: Uint8Array, ended: boolean): string {
    this.line++;
    this.crlf = ended && bytes.length > 0 && bytes[bytes.length - 1] === CR;
    let from = 0, to = bytes.length;
    if (this.crlf) to--;
    if (this.line === 1 && to >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      from = 3; // a UTF-8 byte order mark starts the file, not the first line's text
    }
    this.#accLen = 0;
    try {
      return utf8.decode(bytes.subarray(from, to));
    } catch (cause) {
      throw new SourceError("the bytes are not valid UTF-8", {
        path: this.path,
        line: this.line,
      }, { cause });
    }
  }

  close(): void {
    if (this.#fd >= 0) {
      closeSync(this.#fd);
      this.#fd = -1;
    }
    this.#acc = new Uint8Array(0);
    this.#accLen =
      this.#pos =
      this.#len =
      this.#slowEnd =
      this.#textPos =
        0;
    this.#text = "";
  }
}

/**
 * Reads a file line by line in 64 KiB chunks (never the whole file), in time linear in its
 * size however long its lines are.
 *
 * @param path The file.
 * @returns The lines, without their line ends (LF or CRLF); empty lines skipped; the last line
 *   delivered even without a final newline; a UTF-8 byte order mark at the start dropped.
 * @throws {SourceError} When a line is not valid UTF-8 (with its line number).
 *
 * @example Reading a small file
 * ```ts
 * import { readLines } from "@wavelet/wavelet/replay";
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
export function readLines(path: string): Generator<string> {
  // The path is checked now; the file is opened when the iteration starts (and closed by it).
  return lines(checkString(path, "readLines' path"));
}

function* lines(path: string): Generator<string> {
  const r = new LineReader(path);
  try {
    for (let line = r.next(); line !== null; line = r.next()) if (line.length > 0) yield line;
  } finally {
    r.close();
  }
}

/**
 * The records of a file, one at a time: an iterator that also says where it is
 * ({@linkcode RecordStream.line}) and how many bad records it skipped
 * ({@linkcode RecordStream.skipped}). A bad record throws a {@linkcode SourceError} from
 * `next()` (unless skipped); the stream stays usable after it and goes on with the next record.
 * The file is closed at the end, by `return()` (a `for...of` loop left early), or by
 * {@linkcode RecordStream.close}.
 *
 * @example Counting the rows a reader skipped
 * ```ts
 * import { csvRecords, type RecordStream } from "@wavelet/wavelet/replay";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "wavelet-"));
 * const path = join(dir, "q.csv");
 * writeFileSync(path, "ts,px\n1,10\n2\n3,30\n"); // line 3 has one cell too few
 * const rows: RecordStream<Record<string, string | number>> = csvRecords(path, {
 *   onBadRecord: "skip",
 * });
 * const px = [...rows].map((r) => r.px);
 * rmSync(dir, { recursive: true });
 * if (px.join() !== "10,30" || rows.skipped !== 1) throw new Error(`${px}, ${rows.skipped}`);
 * ```
 */
export class RecordStream<R> implements IterableIterator<R> {
  /** The file read. */
  readonly path: string;
  readonly #lines: LineReader;
  readonly #parse: Parser<R>;
  readonly #skip: boolean;
  readonly #at = { line: 0 };
  #skipped = 0;
  #done = false;

  /** @internal Streams are made by {@linkcode jsonLines} and {@linkcode csvRecords}. */
  constructor(path: string, parse: Parser<R>, policy: BadRecordPolicy) {
    this.path = path;
    this.#lines = new LineReader(path);
    this.#parse = parse;
    this.#skip = policy === "skip";
  }

  /** The line the record last returned (or refused) starts on (1-based; 0 before the first). */
  get line(): number {
    return this.#at.line;
  }

  /** Bad records skipped so far (with `onBadRecord: "skip"`). */
  get skipped(): number {
    return this.#skipped;
  }

  /**
   * The next record.
   *
   * @throws {SourceError} On a bad record (unless skipped); the stream goes on after it.
   */
  next(): IteratorResult<R> {
    while (!this.#done) {
      let rec: R | typeof END;
      try {
        rec = this.#parse(this.#lines, this.#at);
      } catch (e) {
        if (e instanceof SourceError && e._skippable) {
          this.#at.line = e.line ?? this.#at.line;
          if (this.#skip) {
            this.#skipped++;
            continue;
          }
        } else this.close(); // not a record's fault: the stream cannot go on
        throw e;
      }
      if (rec === END) break;
      return { value: rec, done: false };
    }
    this.close();
    return { value: undefined, done: true };
  }

  /** Stops reading and closes the file. */
  return(): IteratorResult<R> {
    this.close();
    return { value: undefined, done: true };
  }

  /** Closes the file; later calls to `next()` report the end. */
  close(): void {
    this.#done = true;
    this.#lines.close();
  }

  /** The stream itself. */
  [Symbol.iterator](): RecordStream<R> {
    return this;
  }
}

/**
 * The iterator side of {@linkcode RecordStream}, stated again as an interface: `deno pack`
 * leaves the class's `[Symbol.iterator]` method out of the published .d.ts, and without it
 * TypeScript consumers could neither compile the declaration nor loop over a stream.
 */
export interface RecordStream<R> extends IterableIterator<R> {}

/** Returned by a parser at the end of the file. */
const END: unique symbol = Symbol("end");

/** Reads the next record from `lines`, setting `at.line` to the line it starts on. */
type Parser<R> = (lines: LineReader, at: { line: number }) => R | typeof END;

/**
 * Options of {@linkcode jsonLines}.
 *
 * @example Typed records from a mapper
 * ```ts
 * import { jsonLines, type JsonLinesOptions } from "@wavelet/wavelet/replay";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * interface Trade {
 *   ts: bigint;
 *   px: number;
 * }
 * const options: JsonLinesOptions<Trade> = {
 *   map: (v) => {
 *     const o = v as { ts: string; px: number };
 *     if (typeof o.px !== "number") throw new Error("px must be a number");
 *     return { ts: BigInt(o.ts), px: o.px };
 *   },
 *   onBadRecord: "skip",
 * };
 * const dir = mkdtempSync(join(tmpdir(), "wavelet-"));
 * const path = join(dir, "t.jsonl");
 * writeFileSync(path, '{"ts":"5","px":1.5}\n{"ts":"6","px":"x"}\n');
 * const trades = [...jsonLines(path, options)];
 * rmSync(dir, { recursive: true });
 * if (trades.length !== 1 || trades[0].ts !== 5n) throw new Error("one good trade");
 * ```
 */
export interface JsonLinesOptions<R> {
  /** Turns each parsed line into a record; throwing makes it a bad record. */
  map?: (value: unknown) => R;
  /** `"throw"` (default): a bad line is a {@linkcode SourceError}; `"skip"`: skipped, counted. */
  onBadRecord?: BadRecordPolicy;
}

/**
 * Streams a JSON-lines file: one JSON value per line (blank lines skipped).
 *
 * @param path The file.
 * @param options A mapper that types and checks each record, and the bad-record policy.
 * @returns The records, in file order (`R` is the mapper's result type, or what you declare).
 * @throws {SourceError} From the iteration, on a line that is not JSON or that the mapper
 *   rejects, with its line number (unless `onBadRecord: "skip"`).
 *
 * @example Reading JSON lines
 * ```ts
 * import { jsonLines } from "@wavelet/wavelet/replay";
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
export function jsonLines<R = Record<string, unknown>>(
  path: string,
  options?: JsonLinesOptions<R>,
): RecordStream<R> {
  if (options === undefined) options = {};
  checkString(path, "jsonLines' path");
  const o = checkOptions(options, "jsonLines' options", ["map", "onBadRecord"]);
  const policy = checkPolicy(o.onBadRecord);
  const map = checkMap(o.map);
  return new RecordStream<R>(path, (lines, at) => {
    for (;;) {
      const text = lines.next();
      if (text === null) return END;
      if (text.trim() === "") continue;
      const where = { path, line: lines.line };
      at.line = lines.line;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (cause) {
        throw new SourceError(`the line is not valid JSON (${(cause as Error).message})`, where, {
          cause,
        });
      }
      return map === undefined ? value as R : mapped(map, value, where);
    }
  }, policy);
}

function checkMap<F>(map: F | undefined): F | undefined {
  return map === undefined ? undefined : checkFunction<F>(map, "map");
}

function mapped<V, R>(map: (v: V) => R, value: V, where: RecordPosition): R {
  try {
    return map(value);
  } catch (cause) {
    throw new SourceError(`the mapper rejected the record (${describeThrown(cause)})`, where, {
      cause,
    });
  }
}

/** A CSV row by its header's names, before any conversion. */
export type CsvRow = Record<string, string>;

/**
 * Options of {@linkcode csvRecords}.
 *
 * @example A row mapper that types each record
 * ```ts
 * import { type CsvOptions, csvRecords } from "@wavelet/wavelet/replay";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * interface Quote {
 *   ts: bigint;
 *   sym: string;
 *   px: number;
 * }
 * const options: CsvOptions<Quote> = {
 *   map: (row) => ({ ts: BigInt(row.ts), sym: row.sym, px: Number(row.px) }),
 * };
 * const dir = mkdtempSync(join(tmpdir(), "wavelet-"));
 * const path = join(dir, "q.csv");
 * writeFileSync(path, "ts,sym,px\n1700000000000000001,ABC,10.5\n");
 * const [q] = [...csvRecords(path, options)];
 * rmSync(dir, { recursive: true });
 * if (q.ts !== 1700000000000000001n || q.px !== 10.5) throw new Error(JSON.stringify(q.sym));
 * ```
 */
export interface CsvOptions<R> {
  /**
   * Turns each row (cells by header name, as strings) into a record; throwing makes it a bad
   * record. Without it, cells that are decimal numbers become numbers (integers only when
   * exact: within 2^53), except the `ts` column, which stays a string; the rest stay strings.
   */
  map?: (row: CsvRow) => R;
  /** `"throw"` (default): a bad row is a {@linkcode SourceError}; `"skip"`: skipped, counted. */
  onBadRecord?: BadRecordPolicy;
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

function convertCell(name: string, cell: string): string | number {
  if (name === "ts" || !DECIMAL.test(cell)) return cell;
  const num = Number(cell);
  if (!Number.isFinite(num)) return cell;
  if (INTEGER.test(cell) && !Number.isSafeInteger(num)) return cell; // keep every digit
  return num;
}

/**
 * Streams a CSV file (RFC 4180) with a header row: each row becomes an object keyed by the
 * header's names. Quoted fields may contain commas, doubled quotes and line breaks (a quoted
 * line break joins the lines into one record, the break kept as it was in the file). Blank lines
 * between records are skipped. A row with another number of cells than the header, an
 * unterminated quote, or a quote inside an unquoted field is a bad record.
 *
 * @param path The file.
 * @param options A row mapper that types each record, and the bad-record policy.
 * @returns The records, in file order: the mapper's results, or rows with numbers converted
 *   (see {@linkcode CsvOptions.map}) typed as `R` (declare it, or take the default).
 * @throws {SourceError} From the iteration, on a bad row, with the line it starts on (unless
 *   `onBadRecord: "skip"`); always on a bad header (empty or repeated names).
 *
 * @example Reading CSV with nanosecond timestamps
 * ```ts
 * import { csvRecords } from "@wavelet/wavelet/replay";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "wavelet-"));
 * const path = join(dir, "quotes.csv");
 * writeFileSync(path, 'ts,sym,px,note\n1700000000000000001,ABC,10.5,"a, ""b""\nc"\n');
 * const [rec] = [...csvRecords(path)];
 * rmSync(dir, { recursive: true });
 * // ts stays a string (every digit kept); px becomes a number; quotes and the break are kept
 * if (rec.ts !== "1700000000000000001" || rec.px !== 10.5 || rec.note !== 'a, "b"\nc') {
 *   throw new Error(`record: ${JSON.stringify(rec)}`);
 * }
 * ```
 */
export function csvRecords<R = Record<string, string | number>>(
  path: string,
  options?: CsvOptions<R>,
): RecordStream<R> {
  if (options === undefined) options = {};
  checkString(path, "csvRecords' path");
  const o = checkOptions(options, "csvRecords' options", ["map", "onBadRecord"]);
  const policy = checkPolicy(o.onBadRecord);
  const map = checkMap(o.map);
  let header: string[] | undefined;
  const cells: string[] = [];
  return new RecordStream<R>(path, (lines, at) => {
    if (header === undefined) {
      const start = readCsvRecord(lines, path, cells);
      if (start === 0) return END;
      const where = { path, line: start };
      const seen = new Set<string>();
      for (const name of cells) {
        if (name === "" || seen.has(name)) {
          // A header is not a row to skip: every record after it would be misread.
          throw new SourceError(
            `the CSV header has ${name === "" ? "an empty name" : `the name "${name}" twice`}`,
            where,
            { skippable: false },
          );
        }
        seen.add(name);
      }
      header = cells.slice();
    }
    const start = readCsvRecord(lines, path, cells);
    if (start === 0) return END;
    const where = { path, line: start };
    at.line = start;
    if (cells.length !== header.length) {
      throw new SourceError(
        `the row has ${cells.length} cells where the header has ${header.length}`,
        where,
      );
    }
    if (map !== undefined) {
      const row: CsvRow = {};
      for (let i = 0; i < header.length; i++) row[header[i]] = cells[i];
      return mapped(map, row, where);
    }
    const rec: Record<string, string | number> = {};
    for (let i = 0; i < header.length; i++) rec[header[i]] = convertCell(header[i], cells[i]);
    return rec as R;
  }, policy);
}

/**
 * Reads one CSV record into `out` (its cells); returns the line it starts on, or 0 at the end
 * of the file. Blank lines before it are skipped.
 *
 * @throws {SourceError} On an unterminated quote or a misplaced quote (the reader has moved
 *   past the record).
 */
function readCsvRecord(lines: LineReader, path: string, out: string[]): number {
  out.length = 0;
  let text = lines.next();
  while (text === "") text = lines.next();
  if (text === null) return 0;
  const start = lines.line;
  const bad = (what: string) => new SourceError(what, { path, line: start });
  let cell = "";
  let i = 0;
  for (;;) {
    // At the start of a cell.
    if (text.charCodeAt(i) === 0x22) {
      // A quoted cell: up to the closing quote, across lines.
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          cell += text.slice(i);
          const nl = lines.crlf ? "\r\n" : "\n";
          const more = lines.next();
          if (more === null) throw bad("a quoted field is not closed before the end of the file");
          cell += nl;
          text = more;
          i = 0;
          continue;
        }
        cell += text.slice(i, q);
        if (text.charCodeAt(q + 1) === 0x22) {
          cell += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      if (i < text.length && text.charCodeAt(i) !== 0x2c) {
        throw bad(`a quoted field is followed by "${text[i]}" instead of a comma or a line end`);
      }
    } else {
      let comma = text.indexOf(",", i);
      if (comma < 0) comma = text.length;
      const raw = text.slice(i, comma);
      if (raw.includes('"')) throw bad("a quote inside an unquoted field (quote the whole field)");
      cell = raw;
      i = comma;
    }
    out.push(cell);
    cell = "";
    if (i >= text.length) return start;
    i++; // the comma
  }
}
