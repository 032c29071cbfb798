/**
 * The stimulus log: a compact binary record of everything outside the graph that a realtime
 * run saw, so a historical runtime can run the same graph through the same cycles again.
 *
 * Format version 3. All numbers are little-endian; every CRC is CRC-32 (IEEE).
 *
 * - Header: the 8-byte magic `WVLOG\x03\0\0` (the sixth byte is the format version), a u32 body
 *   length, the body, and a u32 CRC of everything before it. The body: u32 graph fingerprint
 *   (the CRC of the graph description), u32 node count, u8 1 when the description follows (0
 *   when it was larger than {@linkcode MAX_STORED_DESCRIPTION} and only its fingerprint is
 *   kept), then the description: for each live node in id order its name, depth, parents (as
 *   indexes into the same list) with their relationship, and the descriptors its features gave
 *   it (a channel's kind and record layout).
 * - Blocks: `B`, u32 payload length, u32 cycle count, the payload (whole cycles), and a u32
 *   CRC of the block from its `B`. A block is sealed (and checksummed) once it holds about
 *   {@linkcode BLOCK_BYTES}, never per entry.
 * - End: `E`, u32 block count, f64 cycle count, u32 CRC of the end marker. Nothing follows it,
 *   so a log cut anywhere, even between blocks, is detected.
 *
 * The CRCs are chained: each continues the previous one (the header's, then each block's), so
 * blocks dropped, repeated, swapped or taken from another log are detected as well.
 *
 * A block's payload is a sequence of entries, each a one-byte kind:
 * - `CYCLE` f64 epoch, f64 monotonic ns, f64 wall seconds, u32 wall nanoseconds: starts the
 *   entries of one cycle (only cycles that ran a node or saw a stimulus are written);
 * - `NODE` u32 ref, f64 id offset, u8 named, u32 byte length, UTF-8 name: introduces a node
 *   built after the fingerprint was taken (spawned), by its creation order since then;
 * - `NOTIFY` u32 ref: a notifier scheduled the node in this cycle;
 * - `IO` u32 ref, u32 readiness bits: I/O readiness scheduled the node;
 * - `OBS` u32 ref, u8 observation kind, u32 byte length, bytes: a value the node read from the
 *   outside (a channel item, an empty or closed result, a queue length, ...), in order;
 * - `ITEMS` u32 ref, u16 count (at least 1), u32 byte length of each item, then the items'
 *   bytes: `count` consecutive receives of the node that each returned an item of that length
 *   (format 3; one entry for a drained burst, where format 2 wrote an `OBS` per item);
 * - `EMPTY`, `CLOSED`, `MORE0`, `MORE1` u32 ref: a receive that found nothing, or the channel
 *   closed, and a decision not to run (0) or to run (1) the node again (format 3; the same
 *   observations as an `OBS` entry, in 5 bytes instead of 10 or 18).
 *
 * Format 2 is format 3 without the last two kinds of entry: this module reads both, and
 * refuses those entries in a format 2 log.
 *
 * A ref names a node: refs below the header's node count are the fingerprinted nodes in id
 * order; the rest are introduced by `NODE` entries, in order.
 *
 * @module
 */

import { ErrorCode, WaveletError } from "../core/errors.ts";
import { crc32 } from "./crc32.ts";

/** The format version this module writes (it reads this one and {@linkcode LOG_VERSION_2}). */
export const LOG_VERSION = 3;

/** The previous format version, still read: format 3 less `ITEMS`, `EMPTY`, `CLOSED`, `MORE*`. */
export const LOG_VERSION_2 = 2;

/** The log's magic bytes (the sixth is {@linkcode LOG_VERSION}). */
export const LOG_MAGIC: Uint8Array = new Uint8Array([
  0x57,
  0x56,
  0x4c,
  0x4f,
  0x47,
  LOG_VERSION,
  0,
  0,
]);

/** Entry kinds inside a block. */
export const Entry = {
  Node: 1,
  Cycle: 2,
  Notify: 3,
  Io: 4,
  Obs: 5,
  Items: 6,
  Empty: 7,
  Closed: 8,
  More0: 9,
  More1: 10,
} as const;

/** The most items one `ITEMS` entry holds (its count is a u16). */
export const MAX_RUN = 0xffff;

/** Frame tags after the header. */
export const Frame = { Block: 0x42, End: 0x45 } as const;

/** A block is sealed once its payload reaches this many bytes. */
export const BLOCK_BYTES = 1 << 16;

/** Graph descriptions larger than this are kept as their fingerprint only. */
export const MAX_STORED_DESCRIPTION = 1 << 20;

/** Bytes of a block's frame around its payload: tag, length, cycle count, CRC. */
export const BLOCK_OVERHEAD = 13;

/** Bytes of the end marker. */
export const END_BYTES = 17;

/** What a receiver observation was. */
export const Obs = {
  /** `tryRecv` returned an item; payload: its bytes. */
  Item: 1,
  /** `tryRecv` found nothing; no payload. */
  Empty: 2,
  /** `tryRecv` found the channel closed; no payload. */
  Closed: 3,
  /** A number read from the outside (`length`, `dropped`, `isClosed`); payload: f64. */
  Number: 4,
  /** The channel wrapper decided to run the node again next cycle (1) or not (0); f64. */
  More: 5,
} as const;

/** Whether an observation of `kind` may carry `n` payload bytes (what a log may hold). */
export function fitsObservation(kind: unknown, n: number): boolean {
  return kind === Obs.Item || ((kind === Obs.Empty || kind === Obs.Closed) && n === 0) ||
    ((kind === Obs.Number || kind === Obs.More) && n === 8);
}

/**
 * A replay could not follow its log. The code says why: `REPLAY_MISMATCH` when the graph or the
 * code differs from the recorded run (a missing node, a different edge or channel layout, a
 * node reading more or less than it did), `REPLAY_LOG_INVALID` when the log itself is damaged,
 * cut short, or of another format version.
 *
 * @example Replaying into a graph that lacks a recorded node
 * ```ts
 * import {
 *   ErrorCode,
 *   HistoricalRuntime,
 *   ms,
 *   NodeBuilder,
 *   RealtimeRuntime,
 * } from "@wavelet/wavelet";
 * import { ReplayError } from "@wavelet/wavelet/replay";
 * import { channel } from "@wavelet/wavelet/channel";
 *
 * const live = new RealtimeRuntime();
 * live.startRecording();
 * const [, tx] = new NodeBuilder(0).named("orders").buildWith(
 *   live.executor,
 *   channel({ kind: "local", capacity: 4 }),
 *   (_self, _ctx, rx) => rx.tryRecv() !== undefined,
 * );
 * tx.trySend("buy");
 * live.runOneCycle(ms(10));
 * const log = live.recordedBytes()!;
 * live.shutdown();
 *
 * const hist = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 1n }); // no "orders"
 * let code = "";
 * try {
 *   hist.replayLog(log);
 * } catch (e) {
 *   if (e instanceof ReplayError) code = e.code;
 * }
 * if (code !== ErrorCode.ReplayMismatch) throw new Error("expected REPLAY_MISMATCH");
 * ```
 */
export class ReplayError extends WaveletError {
  /** `REPLAY_MISMATCH` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.ReplayMismatch;
}

/** A ReplayError for a damaged, cut or foreign log. */
export function invalidLog(message: string): ReplayError {
  return new ReplayError(message, { code: ErrorCode.ReplayLogInvalid });
}

// The reader moves numbers byte by byte through these (reading is not the hot side).
const f64Scratch = new Float64Array(1);
const f64Bytes = new Uint8Array(f64Scratch.buffer);

/**
 * Appends entries to a growable byte buffer (little-endian; every supported host is too).
 * Multi-byte fields are stored through a DataView, whose unaligned stores both V8 and
 * JavaScriptCore compile to single instructions: writing a record byte by byte cost two to three
 * times as much, and recording is mostly writing.
 */
export class LogWriter {
  #buf: Uint8Array;
  #dv: DataView;
  #len = 0;
  /**
   * The open `ITEMS` run: it goes on while nothing else was written after it (`#len` is still
   * `#runEnd`), for the same ref and item length. -1: none.
   */
  #runEnd = -1;
  /** Where the open run's u16 count lies. */
  #runAt = 0;
  #runRef = -1;
  #runBytes = -1;
  #runCount = 0;

  /** A writer with room for `capacity` bytes to start with (it grows as needed). */
  constructor(capacity = 1 << 16) {
    this.#buf = new Uint8Array(Math.max(64, capacity));
    this.#dv = new DataView(this.#buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#len;
  }

  /** The written bytes (a view; copy to keep). */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  /** Forgets everything written (after the caller flushed it somewhere). */
  reset(): void {
    this.#len = 0;
    this.#runEnd = -1;
  }

  /**
   * Hands over the written bytes (a view of the current buffer, which the writer no longer
   * touches) and starts again on a new buffer of `capacity` bytes (default: the same as now).
   */
  take(capacity: number = this.#buf.length): Uint8Array {
    const out = this.#buf.subarray(0, this.#len);
    this.#buf = new Uint8Array(Math.max(64, capacity));
    this.#dv = new DataView(this.#buf.buffer);
    this.#len = 0;
    this.#runEnd = -1;
    return out;
  }

  /** Forgets what was written after the first `n` bytes. */
  truncate(n: number): void {
    if (n < this.#len) this.#len = n;
    this.#runEnd = -1;
  }

  /** Leaves `n` bytes (a field patched later; their content is undefined until then). */
  skip(n: number): void {
    this.#ensure(n);
    this.#len += n;
  }

  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#dv = new DataView(next.buffer);
  }

  /** Writes one byte. */
  u8(v: number): void {
    this.#ensure(1);
    this.#buf[this.#len++] = v;
  }

  /** Writes a little-endian u32. */
  u32(v: number): void {
    this.#ensure(4);
    this.#dv.setUint32(this.#len, v >>> 0, true);
    this.#len += 4;
  }

  /** Overwrites the u32 at `at` (a field reserved earlier). */
  patchU32(at: number, v: number): void {
    this.#dv.setUint32(at, v >>> 0, true);
  }

  /** Writes a little-endian f64. */
  f64(v: number): void {
    this.#ensure(8);
    this.#dv.setFloat64(this.#len, v, true);
    this.#len += 8;
  }

  /** Overwrites the f64 at `at` (a field reserved earlier). */
  patchF64(at: number, v: number): void {
    this.#dv.setFloat64(at, v, true);
  }

  /** Writes raw bytes. */
  bytes(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  /** Appends what `w` holds. */
  append(w: LogWriter): void {
    const n = w.#len;
    this.#ensure(n);
    this.#buf.set(w.#buf.subarray(0, n), this.#len);
    this.#len += n;
  }

  /**
   * Logs a receive of the node `ref` that returned an item of `n` bytes: appends it to the open
   * `ITEMS` run when that run is the last thing written and is of the same node and item length,
   * else starts a run. Returns where the item's bytes go (`n` bytes, reserved).
   */
  #item(ref: number, n: number): number {
    const at = this.#len;
    if (at + 11 + n > this.#buf.length) this.#ensure(11 + n);
    const d = this.#dv;
    if (
      at === this.#runEnd && ref === this.#runRef && n === this.#runBytes &&
      this.#runCount < MAX_RUN
    ) {
      d.setUint16(this.#runAt, ++this.#runCount, true);
      this.#len = this.#runEnd = at + n;
      return at;
    }
    d.setUint8(at, Entry.Items);
    d.setUint32(at + 1, ref, true);
    d.setUint16(at + 5, 1, true);
    d.setUint32(at + 7, n, true);
    this.#runAt = at + 5;
    this.#runRef = ref;
    this.#runBytes = n;
    this.#runCount = 1;
    this.#len = this.#runEnd = at + 11 + n;
    return at + 11;
  }

  /**
   * Logs a receive that returned an item whose bytes are the `n` words of `words` from index
   * `at` (little-endian words).
   */
  itemWords(ref: number, words: Int32Array, at: number, n: number): void {
    const q = this.#item(ref, n << 2), d = this.#dv;
    for (let k = 0; k < n; k++) d.setInt32(q + (k << 2), words[at + k], true);
  }

  /** Logs a receive that returned an item whose bytes are `payload`. */
  itemBytes(ref: number, payload: Uint8Array): void {
    const n = payload.length, q = this.#item(ref, n), d = this.#dv;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const p = payload;
      d.setInt32(q + i, p[i] | p[i + 1] << 8 | p[i + 2] << 16 | p[i + 3] << 24, true);
    }
    for (; i < n; i++) d.setUint8(q + i, payload[i]);
  }

  /** Writes a 5-byte entry: `kind` (`NOTIFY`, `EMPTY`, `CLOSED`, `MORE0`, `MORE1`) and `ref`. */
  mark(kind: number, ref: number): void {
    const at = this.#len;
    if (at + 5 > this.#buf.length) this.#ensure(5);
    const d = this.#dv;
    d.setUint8(at, kind);
    d.setUint32(at + 1, ref, true);
    this.#len = at + 5;
  }

  /**
   * Writes an `OBS` entry: `ref`, observation `kind`, and `payload` (null: none), in one bounds
   * check; the payload is stored four bytes at a time.
   */
  obs(ref: number, kind: number, payload: Uint8Array | null): void {
    const n = payload === null ? 0 : payload.length;
    if (this.#len + 10 + n > this.#buf.length) this.#ensure(10 + n);
    const d = this.#dv, at = this.#len;
    d.setUint8(at, Entry.Obs);
    d.setUint32(at + 1, ref, true);
    d.setUint8(at + 5, kind);
    d.setUint32(at + 6, n, true);
    const q = at + 10;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const p = payload!;
      d.setInt32(q + i, p[i] | p[i + 1] << 8 | p[i + 2] << 16 | p[i + 3] << 24, true);
    }
    for (; i < n; i++) d.setUint8(q + i, payload![i]);
    this.#len = q + n;
  }

  /** Writes an `OBS` entry of a number: `ref`, `kind`, 8 bytes, the f64 `v`. */
  obsNumber(ref: number, kind: number, v: number): void {
    if (this.#len + 18 > this.#buf.length) this.#ensure(18);
    const d = this.#dv, at = this.#len;
    d.setUint8(at, Entry.Obs);
    d.setUint32(at + 1, ref, true);
    d.setUint8(at + 5, kind);
    d.setUint32(at + 6, 8, true);
    d.setFloat64(at + 10, v, true);
    this.#len = at + 18;
  }

  /** The CRC-32 of the bytes written from `from` on, continuing the running CRC `seed`. */
  crcFrom(from: number, seed = 0): number {
    return crc32(this.#buf, from, this.#len, seed);
  }
}

/** Reads numbers from log bytes within `[pos, end)`; reading past `end` is a damaged log. */
export class LogReader {
  readonly #buf: Uint8Array;
  /** The next byte to read. */
  pos: number;
  /** One past the last readable byte. */
  end: number;

  /** Opens `bytes[start, end)`. */
  constructor(bytes: Uint8Array, start = 0, end: number = bytes.length) {
    this.#buf = bytes;
    this.pos = start;
    this.end = end;
  }

  /** True when every byte up to `end` was read. */
  get done(): boolean {
    return this.pos >= this.end;
  }

  #need(n: number): void {
    if (this.pos + n > this.end) {
      throw invalidLog(
        `The stimulus log is cut short or damaged: ${n} bytes needed at offset ${this.pos}`,
      );
    }
  }

  /** Reads one byte. */
  u8(): number {
    this.#need(1);
    return this.#buf[this.pos++];
  }

  /** Reads a u32. */
  u32(): number {
    this.#need(4);
    const b = this.#buf, at = this.pos;
    this.pos = at + 4;
    return (b[at] | b[at + 1] << 8 | b[at + 2] << 16 | b[at + 3] << 24) >>> 0;
  }

  /** Reads an f64. */
  f64(): number {
    this.#need(8);
    const b = this.#buf, at = this.pos, s = f64Bytes;
    s[0] = b[at];
    s[1] = b[at + 1];
    s[2] = b[at + 2];
    s[3] = b[at + 3];
    s[4] = b[at + 4];
    s[5] = b[at + 5];
    s[6] = b[at + 6];
    s[7] = b[at + 7];
    this.pos = at + 8;
    return f64Scratch[0];
  }

  /** Skips `n` bytes. */
  skip(n: number): void {
    this.#need(n);
    this.pos += n;
  }

  /** Reads `n` bytes as a view into the log (no copy). */
  view(n: number): Uint8Array {
    this.#need(n);
    const b = this.#buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

/** The graph a log was recorded from, as its header gives it. */
export interface LogHeader {
  /** CRC-32 of the graph description. */
  fingerprint: number;
  /** Live nodes when the fingerprint was taken. */
  nodeCount: number;
  /** The description, or null when only the fingerprint was kept. */
  description: Uint8Array | null;
}

/** A verified log: its header and where each block's payload lies. */
export interface LogLayout {
  /** The format version (2 or 3). */
  version: number;
  /** The header. */
  header: LogHeader;
  /** `[start, end)` of each block's payload, in order. */
  blocks: { start: number; end: number; cycles: number }[];
  /** Cycles in the whole log (the end marker's count, equal to the blocks' sum). */
  cycles: number;
}

/**
 * Encodes the header for a graph `description` with fingerprint `fingerprint`; `crc` is its
 * checksum, which the first block's checksum continues.
 */
export function encodeHeader(
  fingerprint: number,
  nodeCount: number,
  description: Uint8Array,
): { bytes: Uint8Array; crc: number } {
  const stored = description.length <= MAX_STORED_DESCRIPTION;
  const w = new LogWriter();
  w.bytes(LOG_MAGIC);
  w.u32(9 + (stored ? description.length : 0));
  w.u32(fingerprint);
  w.u32(nodeCount);
  w.u8(stored ? 1 : 0);
  if (stored) w.bytes(description);
  const crc = w.crcFrom(0);
  w.u32(crc);
  return { bytes: w.view().slice(), crc };
}

/** Appends the end marker for `blocks` blocks and `cycles` cycles; `chain`: the last CRC. */
export function writeEnd(w: LogWriter, blocks: number, cycles: number, chain: number): void {
  const at = w.length;
  w.u8(Frame.End);
  w.u32(blocks);
  w.f64(cycles);
  w.u32(w.crcFrom(at, chain));
}

/**
 * Checks a whole log's framing: the magic and version, the header's CRC, every block's CRC and
 * length, and the end marker's counts. Entries inside the blocks are not read here.
 *
 * @throws {ReplayError} `REPLAY_LOG_INVALID` on any damage, truncation or other version.
 */
export function readLayout(bytes: Uint8Array): LogLayout {
  if (!(bytes instanceof Uint8Array)) {
    throw invalidLog(`A stimulus log must be a Uint8Array, got ${typeof bytes}`);
  }
  for (let i = 0; i < 5; i++) {
    if (bytes[i] !== LOG_MAGIC[i]) {
      throw invalidLog("Not a wavelet stimulus log: the bytes do not start with WVLOG");
    }
  }
  const version = bytes[5];
  if ((version !== LOG_VERSION && version !== LOG_VERSION_2) || bytes[6] !== 0 || bytes[7] !== 0) {
    throw invalidLog(
      version === 1
        ? "This stimulus log has format version 1, which this wavelet no longer reads; " +
          "record the run again"
        : `This stimulus log has format version ${version}.${bytes[6]}.${bytes[7]}; ` +
          `this wavelet reads versions ${LOG_VERSION_2} and ${LOG_VERSION}`,
    );
  }
  const r = new LogReader(bytes, LOG_MAGIC.length);
  const bodyLen = r.u32();
  if (bodyLen < 9 || bodyLen > bytes.length) {
    throw invalidLog(`The stimulus log's header is damaged (length ${bodyLen})`);
  }
  const bodyStart = r.pos;
  r.skip(bodyLen);
  const headerEnd = r.pos;
  let chain = r.u32();
  if (chain !== crc32(bytes, 0, headerEnd)) {
    throw invalidLog("The stimulus log's header is damaged (checksum mismatch)");
  }
  const h = new LogReader(bytes, bodyStart, headerEnd);
  const fingerprint = h.u32();
  const nodeCount = h.u32();
  const stored = h.u8();
  if (stored > 1 || (stored === 0 && bodyLen !== 9)) {
    throw invalidLog("The stimulus log's header is damaged (description flag)");
  }
  const description = stored === 1 ? bytes.subarray(h.pos, headerEnd) : null;
  if (description !== null && crc32(description) !== fingerprint) {
    throw invalidLog("The stimulus log's graph description does not match its fingerprint");
  }
  const blocks: LogLayout["blocks"] = [];
  let cycles = 0;
  for (;;) {
    if (r.done) {
      throw invalidLog(
        `The stimulus log is cut short: it ends after ${blocks.length} blocks without its end ` +
          "marker (was the recording closed?)",
      );
    }
    const at = r.pos;
    const tag = r.u8();
    if (tag === Frame.Block) {
      const len = r.u32();
      const n = r.u32();
      const start = r.pos;
      if (len > r.end - start) {
        throw invalidLog(`The stimulus log is cut short or damaged in block ${blocks.length + 1}`);
      }
      r.skip(len);
      const crc = r.u32();
      if (crc !== crc32(bytes, at, start + len, chain)) {
        throw invalidLog(
          `Block ${blocks.length + 1} of the stimulus log is damaged (checksum mismatch)`,
        );
      }
      if (n === 0 || len === 0) {
        throw invalidLog(`Block ${blocks.length + 1} of the stimulus log is empty`);
      }
      chain = crc;
      blocks.push({ start, end: start + len, cycles: n });
      cycles += n;
    } else if (tag === Frame.End) {
      const nBlocks = r.u32();
      const nCycles = r.f64();
      if (r.u32() !== crc32(bytes, at, r.pos - 4, chain)) {
        throw invalidLog("The stimulus log's end marker is damaged (checksum mismatch)");
      }
      if (nBlocks !== blocks.length || nCycles !== cycles) {
        throw invalidLog(
          `The stimulus log is missing data: its end marker counts ${nBlocks} blocks and ` +
            `${nCycles} cycles, the log holds ${blocks.length} and ${cycles}`,
        );
      }
      if (!r.done) {
        throw invalidLog(
          `The stimulus log has ${r.end - r.pos} unexpected bytes after its end marker`,
        );
      }
      return { version, header: { fingerprint, nodeCount, description }, blocks, cycles };
    } else {
      throw invalidLog(`The stimulus log is damaged: unknown frame tag ${tag} at offset ${at}`);
    }
  }
}
