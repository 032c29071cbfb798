/**
 * The stimulus log: a compact binary record of everything outside the graph that a realtime
 * run saw, so a historical runtime can run the same graph through the same cycles again.
 *
 * Layout: the 8-byte magic `WVLOG\x01\0\0`, then entries, each a one-byte kind:
 * - `NAME` u32 id, u16 byte length, UTF-8 name: introduces a node name (once per name);
 * - `CYCLE` f64 epoch, f64 monotonic ns, f64 wall seconds, u32 wall nanoseconds: starts the
 *   entries of one cycle (only cycles that ran a node or saw a stimulus are written);
 * - `NOTIFY` u32 name id: a notifier scheduled the node in this cycle;
 * - `IO` u32 name id, u32 readiness bits: I/O readiness scheduled the node;
 * - `OBS` u32 name id, u8 observation kind, u32 byte length, bytes: a value the node read from
 *   the outside (a channel item, an empty or closed result, a queue length, ...), in order.
 *
 * All numbers are little-endian.
 *
 * @module
 */

import { ErrorCode, WaveletError } from "../errors.ts";

/** The log's magic bytes. */
export const LOG_MAGIC: Uint8Array = new Uint8Array([0x57, 0x56, 0x4c, 0x4f, 0x47, 1, 0, 0]);

/** Entry kinds. */
export const Entry = { Name: 1, Cycle: 2, Notify: 3, Io: 4, Obs: 5 } as const;

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

/**
 * A replay could not follow the log: the graph or the code differs from the recorded run.
 *
 * @example Replaying into a graph that lacks a recorded node
 * ```ts
 * import {
 *   ErrorCode,
 *   HistoricalRuntime,
 *   ms,
 *   NodeBuilder,
 *   RealtimeRuntime,
 *   ReplayError,
 * } from "@wavelet/wavelet";
 *
 * const live = new RealtimeRuntime();
 * live.startRecording();
 * const [, tx] = new NodeBuilder(0).named("orders").buildWithChannel(
 *   live.executor,
 *   { kind: "local", capacity: 4 },
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
export class ReplayError extends WaveletError {}

/** Appends entries to a growable byte buffer. */
export class LogWriter {
  #buf = new Uint8Array(1 << 16);
  #view = new DataView(this.#buf.buffer);
  #len = 0;

  /** Creates a writer; `withMagic` (default true) starts it with the log's magic bytes. */
  constructor(withMagic = true) {
    if (withMagic) this.bytes(LOG_MAGIC);
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
  }

  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** Writes one byte. */
  u8(v: number): void {
    this.#ensure(1);
    this.#buf[this.#len++] = v;
  }

  /** Writes a little-endian u16. */
  u16(v: number): void {
    this.#ensure(2);
    this.#view.setUint16(this.#len, v, true);
    this.#len += 2;
  }

  /** Writes a little-endian u32. */
  u32(v: number): void {
    this.#ensure(4);
    this.#view.setUint32(this.#len, v >>> 0, true);
    this.#len += 4;
  }

  /** Writes a little-endian f64. */
  f64(v: number): void {
    this.#ensure(8);
    this.#view.setFloat64(this.#len, v, true);
    this.#len += 8;
  }

  /** Writes raw bytes. */
  bytes(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }
}

/** Reads entries from log bytes. */
export class LogReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  /**
   * Opens log bytes.
   *
   * @throws {ReplayError} If the bytes do not start with the magic.
   */
  constructor(bytes: Uint8Array) {
    this.#buf = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < LOG_MAGIC.length; i++) {
      if (bytes[i] !== LOG_MAGIC[i]) {
        throw new ReplayError(ErrorCode.ReplayMismatch, "Not a wavelet stimulus log (bad magic)");
      }
    }
    this.#pos = LOG_MAGIC.length;
  }

  /** True when every byte was read. */
  get done(): boolean {
    return this.#pos >= this.#buf.length;
  }

  #need(n: number): void {
    if (this.#pos + n > this.#buf.length) {
      throw new ReplayError(ErrorCode.ReplayMismatch, "The stimulus log is truncated");
    }
  }

  /** Reads one byte. */
  u8(): number {
    this.#need(1);
    return this.#buf[this.#pos++];
  }

  /** Reads a u16. */
  u16(): number {
    this.#need(2);
    const v = this.#view.getUint16(this.#pos, true);
    this.#pos += 2;
    return v;
  }

  /** Reads a u32. */
  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  /** Reads an f64. */
  f64(): number {
    this.#need(8);
    const v = this.#view.getFloat64(this.#pos, true);
    this.#pos += 8;
    return v;
  }

  /** Skips `n` bytes. */
  skip(n: number): void {
    this.#need(n);
    this.#pos += n;
  }

  /** Reads `n` bytes as a view into the log (no copy). */
  view(n: number): Uint8Array {
    this.#need(n);
    const b = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return b;
  }

  /** Reads `n` bytes (a copy). */
  bytes(n: number): Uint8Array {
    this.#need(n);
    const b = this.#buf.slice(this.#pos, this.#pos + n);
    this.#pos += n;
    return b;
  }
}
