/**
 * Node builders for the common network shapes: {@linkcode tcpListenerNode} (accepts
 * connections and spawns a subgraph per connection) and {@linkcode tcpConnectionNode} (reads
 * frames into a reused buffer and writes through an outgoing buffer that drains on writable
 * readiness). A connection node owns its stream: when the peer closes or the connection fails,
 * the node and its descendants are removed and the fd is closed, without disturbing any other
 * connection.
 *
 * @module
 */

import { Control } from "../core/control.ts";
import type { ExecutionContext } from "../core/context.ts";
import type { Executor } from "../core/executor.ts";
import type { Node } from "../core/node.ts";
import { NodeBuilder } from "../core/builder.ts";
import { type IoHandle, Readiness } from "../drivers/io.ts";
import { checkExecutor } from "../core/check_node.ts";
import {
  checkBoolean,
  checkFunction,
  checkInstance,
  checkInteger,
  checkOneOf,
  checkOptions,
  checkString,
  describe,
  invalid,
} from "../core/validate.ts";
import { NetError } from "./errors.ts";
import { ErrorCode } from "../core/errors.ts";
import { TcpStream, WOULD_BLOCK } from "./socket.ts";
import { checkOpen } from "./listener_node.ts";

export {
  tcpListenerNode,
  type TcpListenerNodeOptions,
  type TcpListenerState,
} from "./listener_node.ts";

/** The largest read buffer, frame and output queue a connection takes (1 GiB). */
const MAX_CONNECTION_BYTES = 2 ** 30;

/**
 * How a connection's byte stream is cut into frames.
 *
 * @example A line-echo server and its client
 * ```ts
 * import { ms, NodeBuilder, RealtimeRuntime } from "@wavelet/wavelet";
 * import {
 *   Framing,
 *   tcpConnectionNode,
 *   TcpListener,
 *   tcpListenerNode,
 *   TcpStream,
 * } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * const listener = TcpListener.bind(rt, "127.0.0.1", 0);
 * tcpListenerNode(rt.executor, listener, (ex, stream) => {
 *   const conn = tcpConnectionNode(ex, stream, { framing: Framing.Lines });
 *   new NodeBuilder(0).triggeredBy(conn).build(ex, () => {
 *     const c = conn.value;
 *     for (let i = 0; i < c.frameCount; i++) c.writeFrame(c.frame(i)); // echo each line
 *     return false;
 *   });
 * });
 * const port = listener.localAddress.port;
 * const client = tcpConnectionNode(rt.executor, TcpStream.connect(rt, "127.0.0.1", port), {
 *   framing: Framing.Lines,
 * });
 * const lines: string[] = [];
 * new NodeBuilder(0).triggeredBy(client).build(rt.executor, () => {
 *   const c = client.value;
 *   for (let i = 0; i < c.frameCount; i++) lines.push(new TextDecoder().decode(c.frame(i)));
 *   return false;
 * });
 * client.value.write(new TextEncoder().encode("one\ntwo\n"));
 * for (let i = 0; i < 200 && lines.length < 2; i++) rt.runOneCycle(ms(10));
 * rt.shutdown();
 * if (lines.join() !== "one,two") throw new Error(`got ${lines}`);
 * ```
 */
export const Framing = {
  /** Every read is one frame (whatever bytes arrived). */
  Raw: 0,
  /**
   * Frames end with `\n`; the `\n` (and a `\r` before it, so CRLF lines work) is not part of
   * the frame. A line without a final `\n` is delivered as the last frame when the peer closes.
   * Empty lines are frames of length 0. A line longer than the read buffer grows it (up to
   * `maxFrameBytes`; beyond that the connection fails with `FRAME_TOO_LARGE`).
   */
  Lines: 1,
  /** Each frame is a 4-byte big-endian length followed by that many bytes. */
  LengthPrefixed: 2,
} as const;

/** A value of {@linkcode Framing}. */
export type Framing = typeof Framing[keyof typeof Framing];

/**
 * Options of {@linkcode tcpConnectionNode}.
 *
 * @example Length-prefixed frames and a close callback
 * ```ts
 * import { ms, NodeBuilder, RealtimeRuntime } from "@wavelet/wavelet";
 * import {
 *   Framing,
 *   type TcpConnection,
 *   tcpConnectionNode,
 *   type TcpConnectionOptions,
 *   TcpListener,
 *   tcpListenerNode,
 *   TcpStream,
 * } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * let closedWithError: boolean | null = null;
 * const options: TcpConnectionOptions = {
 *   framing: Framing.LengthPrefixed,
 *   readBufferBytes: 4096,
 *   maxFrameBytes: 1024,
 *   onClose: (c: TcpConnection) => void (closedWithError = c.error !== null),
 * };
 * const listener = TcpListener.bind(rt, "127.0.0.1", 0);
 * tcpListenerNode(rt.executor, listener, (ex, stream) => {
 *   const conn = tcpConnectionNode(ex, stream, { framing: Framing.LengthPrefixed });
 *   conn.value.writeFrame(new Uint8Array([1, 2, 3]));
 *   conn.value.end(); // write the frame, then finish
 * });
 * let size = -1;
 * const stream = TcpStream.connect(rt, "127.0.0.1", listener.localAddress.port);
 * const client = tcpConnectionNode(rt.executor, stream, options);
 * new NodeBuilder(0).triggeredBy(client).build(rt.executor, () => {
 *   if (client.value.frameCount > 0) size = client.value.frameLength(0);
 *   return false;
 * });
 * for (let i = 0; i < 200 && closedWithError === null; i++) rt.runOneCycle(ms(10));
 * rt.shutdown();
 * if (size !== 3 || closedWithError !== false) throw new Error("a 3-byte frame, a clean close");
 * ```
 */
export interface TcpConnectionOptions {
  /** The node's name (default `"tcp-connection"`). */
  name?: string;
  /** How bytes are cut into frames (default `Framing.Raw`). */
  framing?: Framing;
  /**
   * Initial size of the read buffer in bytes (an integer in [1, 2^30], default 64 KiB); it
   * grows for long frames.
   */
  readBufferBytes?: number;
  /** Longest frame accepted (an integer in [1, 2^30], default 16 MiB); longer fails. */
  maxFrameBytes?: number;
  /** Most bytes queued for output (an integer in [1, 2^30], default 64 MiB); more fails. */
  maxPendingBytes?: number;
  /**
   * When the peer finishes sending (EOF): close once the queued output is written (default
   * true). With false the connection stays open for writing until `end()` or `close()`.
   */
  closeOnEof?: boolean;
  /** Called once when the connection closes, with the error that closed it (or null). */
  onClose?: (conn: TcpConnection) => void;
}

const DEFAULT_READ = 64 * 1024;

/**
 * The value of a connection node: the frames read in this cycle, and an outgoing buffer.
 * Frames are views into a buffer that is reused: read them in the cycle they arrive (children
 * of the connection node run in that cycle), copy what must outlive it.
 *
 * @example Writing, reading and the connection's counters
 * ```ts
 * import { ms, NodeBuilder, RealtimeRuntime } from "@wavelet/wavelet";
 * import {
 *   type TcpConnection,
 *   tcpConnectionNode,
 *   TcpListener,
 *   tcpListenerNode,
 *   TcpStream,
 * } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * const listener = TcpListener.bind(rt, "127.0.0.1", 0);
 * tcpListenerNode(rt.executor, listener, (ex, stream) => {
 *   const conn = tcpConnectionNode(ex, stream); // Framing.Raw: every read is one frame
 *   new NodeBuilder(0).triggeredBy(conn).build(ex, () => {
 *     const c = conn.value;
 *     for (let i = 0; i < c.frameCount; i++) c.write(c.buffer, c.frameStart(i), c.frameLength(i));
 *     return false;
 *   });
 * });
 * const port = listener.localAddress.port;
 * const node = tcpConnectionNode(rt.executor, TcpStream.connect(rt, "127.0.0.1", port));
 * const conn: TcpConnection = node.value;
 * conn.write(new TextEncoder().encode("ping"));
 * for (let i = 0; i < 200 && conn.bytesRead < 4; i++) rt.runOneCycle(ms(10));
 * const done = conn.bytesRead === 4 && conn.bytesWritten === 4 && conn.pendingBytes === 0;
 * conn.close();
 * rt.runOneCycle(ms(10));
 * rt.shutdown();
 * if (!done || !conn.isClosed || conn.error !== null) throw new Error("echoed, then closed");
 * ```
 */
export class TcpConnection {
  /** The stream (owned by the connection node). */
  readonly stream: TcpStream;
  /** The framing. */
  readonly framing: Framing;
  /** The read buffer the frames point into (it may be replaced when it grows). */
  buffer: Uint8Array;
  /** How many frames were read in this cycle. */
  frameCount = 0;
  /** True once the peer finished sending (end of stream). */
  eof = false;
  /** The error that failed the connection, or null. */
  error: NetError | null = null;
  /** Bytes read so far. */
  bytesRead = 0;
  /** Bytes written to the socket so far. */
  bytesWritten = 0;
  /** @internal */
  _starts: Int32Array = new Int32Array(64);
  /** @internal */
  _lengths: Int32Array = new Int32Array(64);
  /** @internal Unconsumed bytes are buffer[_head, _tail). */
  _head = 0;
  /** @internal */
  _tail = 0;
  /** @internal Outgoing bytes are _out[_outHead, _outTail). */
  _out: Uint8Array = new Uint8Array(0);
  /** @internal */
  _outHead = 0;
  /** @internal */
  _outTail = 0;
  /** @internal */
  _ex: Executor | null = null;
  /** @internal */
  _node: Node<TcpConnection> | null = null;
  /** @internal */
  _handle: IoHandle | null = null;
  /** @internal The interest currently registered. */
  _interest = 0;
  /** @internal */
  _ending = false;
  /** @internal */
  _closed = false;
  /** @internal */
  _eofSignalled = false;
  /** @internal */
  readonly _maxFrame: number;
  /** @internal */
  readonly _maxPending: number;
  /** @internal */
  readonly _closeOnEof: boolean;

  /**
   * @internal Use {@linkcode tcpConnectionNode}.
   *
   * @param stream The stream.
   * @param options The node options.
   * @throws {InvalidArgumentError} If `stream` is not a TcpStream or an option has the wrong
   *   type or range.
   */
  constructor(stream: TcpStream, options: TcpConnectionOptions) {
    checkInstance(stream, TcpStream, "A TcpConnection's stream");
    const o = connectionOptions(options);
    this.stream = stream;
    this.framing = o.framing;
    this.buffer = new Uint8Array(o.readBufferBytes);
    this._maxFrame = o.maxFrameBytes;
    this._maxPending = o.maxPendingBytes;
    this._closeOnEof = o.closeOnEof;
  }

  /** True once the connection is closed (its node left the graph or is leaving it). */
  get isClosed(): boolean {
    return this._closed;
  }

  /** Bytes queued and not yet written to the socket. */
  get pendingBytes(): number {
    return this._outTail - this._outHead;
  }

  /**
   * Where frame `i` (0-based, below `frameCount`) starts in {@linkcode TcpConnection.buffer}.
   *
   * @param i The frame index.
   * @returns The byte offset.
   */
  frameStart(i: number): number {
    this.#checkFrame(i);
    return this._starts[i];
  }

  /**
   * The length of frame `i` in bytes.
   *
   * @param i The frame index.
   * @returns The byte count.
   */
  frameLength(i: number): number {
    this.#checkFrame(i);
    return this._lengths[i];
  }

  /**
   * Frame `i` as a view into the read buffer (valid in this cycle only).
   *
   * @param i The frame index.
   * @returns A `Uint8Array` view.
   */
  frame(i: number): Uint8Array {
    this.#checkFrame(i);
    const s = this._starts[i];
    return this.buffer.subarray(s, s + this._lengths[i]);
  }

  /**
   * Writes bytes: straight to the socket when nothing is queued, the rest into the outgoing
   * buffer, which drains when the socket becomes writable (Writable interest is registered
   * only while output is pending).
   *
   * @param buf The bytes.
   * @param offset Start in `buf` (default 0).
   * @param length Bytes (default: to the end of `buf`).
   * @returns False when the connection is closed or failed (the bytes are dropped).
   * @throws {InvalidArgumentError} For a source that is not a Uint8Array or a range that does
   *   not fit it.
   */
  write(buf: Uint8Array, offset = 0, length?: number): boolean {
    length = checkBytes(buf, offset, length);
    if (this._closed || this.error !== null || this._ending) return false;
    if (length <= 0) return true;
    let done = 0;
    if (this._outTail === this._outHead && !this.stream.isConnecting) {
      try {
        const n = this.stream.tryWrite(buf, offset, length);
        if (n !== WOULD_BLOCK) done = n;
      } catch (err) {
        this._fail(err);
        return false;
      }
      this.bytesWritten += done;
      if (done === length) return true;
    }
    return this._queue(buf, offset + done, length - done);
  }

  /**
   * Writes one frame in this connection's framing: a 4-byte big-endian length first for
   * `LengthPrefixed`, a `\n` after for `Lines`, nothing added for `Raw`.
   *
   * @param payload The frame's bytes.
   * @returns False when the connection is closed or failed.
   * @throws {InvalidArgumentError} If `payload` is not a Uint8Array.
   */
  writeFrame(payload: Uint8Array): boolean {
    checkInstance(payload, Uint8Array, "A frame's payload");
    if (this.framing === Framing.LengthPrefixed) {
      // Header and payload leave in one send: copied into a reused scratch buffer.
      const n = payload.length;
      if (this._scratch.length < n + 4) {
        this._scratch = new Uint8Array(Math.max(n + 4, this._scratch.length * 2));
      }
      const h = this._scratch;
      h[0] = n >>> 24;
      h[1] = (n >>> 16) & 255;
      h[2] = (n >>> 8) & 255;
      h[3] = n & 255;
      h.set(payload, 4);
      return this.write(h, 0, n + 4);
    }
    if (!this.write(payload)) return false;
    return this.framing === Framing.Lines ? this.write(NEWLINE) : true;
  }

  #checkFrame(i: number): void {
    if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i >= this.frameCount) {
      throw invalid(
        `A frame index must be an integer in [0, ${this.frameCount}), got ${describe(i)}`,
      );
    }
  }

  /** @internal Scratch for a length-prefixed frame. */
  _scratch: Uint8Array = new Uint8Array(256);

  /**
   * Ends the connection gracefully: the queued output is written, then the write half is shut
   * down and the connection closed (its node leaves the graph).
   */
  end(): void {
    if (this._closed || this._ending) return;
    this._ending = true;
    if (this.pendingBytes === 0) this._finish();
  }

  /** Closes the connection now, dropping queued output; its node leaves the graph. */
  close(): void {
    if (this._closed) return;
    this._finish();
  }

  /** @internal Appends to the outgoing buffer and asks for Writable readiness. */
  _queue(buf: Uint8Array, offset: number, length: number): boolean {
    const used = this._outTail - this._outHead;
    if (used + length > this._maxPending) {
      this._fail(
        new NetError(
          `Cannot queue ${length} more bytes: ${used} are pending and the limit is ${this._maxPending}`,
          { code: ErrorCode.OutputOverflow, op: "write", errno: 0 },
        ),
      );
      return false;
    }
    if (this._outTail + length > this._out.length) {
      if (used + length <= this._out.length) {
        this._out.copyWithin(0, this._outHead, this._outTail);
      } else {
        let cap = Math.max(this._out.length * 2, 4096);
        while (cap < used + length) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(this._out.subarray(this._outHead, this._outTail));
        this._out = next;
      }
      this._outHead = 0;
      this._outTail = used;
    }
    this._out.set(buf.subarray(offset, offset + length), this._outTail);
    this._outTail += length;
    this._setInterest();
    return true;
  }

  /** @internal Writes queued bytes until the socket would block. */
  _flush(): void {
    while (this._outHead < this._outTail && !this._closed) {
      let n: number;
      try {
        n = this.stream.tryWrite(this._out, this._outHead, this._outTail - this._outHead);
      } catch (err) {
        this._fail(err);
        return;
      }
      if (n === WOULD_BLOCK) break;
      this._outHead += n;
      this.bytesWritten += n;
    }
    if (this._outHead === this._outTail) {
      this._outHead = this._outTail = 0;
      if (this._ending) {
        this._finish();
        return;
      }
    }
    this._setInterest();
  }

  /** @internal Registers Readable (until EOF) plus Writable while output is pending. */
  _setInterest(): void {
    if (this._closed || this._ex === null || this._handle === null) return;
    let want = this.eof ? 0 : Readiness.Readable;
    if (this._outTail > this._outHead || this.stream.isConnecting) want |= Readiness.Writable;
    if (want === 0) want = Readiness.Writable; // EOF and nothing to write: closing soon
    if (want !== this._interest) {
      this._ex.reregisterIo(this._handle, want);
      this._interest = want;
    }
  }

  /** @internal Records a failure and closes. */
  _fail(err: unknown): void {
    if (this.error === null) {
      this.error = err instanceof NetError ? err : new NetError(
        err instanceof Error ? err.message : `The connection failed with ${describe(err)}`,
        { code: ErrorCode.SocketFailed, op: "io", errno: 0 },
      );
    }
    this._finish();
  }

  /** @internal Removes the node (which closes the stream). */
  _finish(): void {
    if (this._closed) return;
    this._closed = true;
    if (this._ending && this.error === null && !this.stream.isClosed) {
      try {
        this.stream.shutdown("write");
      } catch {
        // The peer is gone already; closing is all that is left.
      }
    }
    if (this._ex !== null && this._node !== null && this._node.isAlive) this._ex.remove(this._node);
    else this.stream.close();
  }
}

const NEWLINE = new Uint8Array([10]);

/** Checks a byte range of a buffer; returns its length (default: the rest after `offset`). */
function checkBytes(buf: unknown, offset: unknown, length: unknown): number {
  if (!(buf instanceof Uint8Array)) {
    throw invalid(`A connection writes a Uint8Array, got ${describe(buf)}`);
  }
  const n = length === undefined && typeof offset === "number" ? buf.length - offset : length;
  if (
    typeof offset !== "number" || typeof n !== "number" || !Number.isInteger(offset) ||
    !Number.isInteger(n) || offset < 0 || n < 0 || offset + n > buf.length
  ) {
    throw invalid(
      `Cannot write the range [${describe(offset)}, +${
        describe(n)
      }) of a Uint8Array of ${buf.length} bytes`,
    );
  }
  return n;
}

/** The checked options of a connection, defaults applied. */
interface ConnectionSettings {
  name: string;
  framing: Framing;
  readBufferBytes: number;
  maxFrameBytes: number;
  maxPendingBytes: number;
  closeOnEof: boolean;
  onClose: ((conn: TcpConnection) => void) | undefined;
}

function connectionOptions(options: TcpConnectionOptions | undefined): ConnectionSettings {
  const w = "tcpConnectionNode's";
  const o = checkOptions(options, `${w} options`, [
    "name",
    "framing",
    "readBufferBytes",
    "maxFrameBytes",
    "maxPendingBytes",
    "closeOnEof",
    "onClose",
  ]);
  const bytes = (v: unknown, name: string, dflt: number) =>
    v === undefined ? dflt : checkInteger(v, `${w} ${name} option`, 1, MAX_CONNECTION_BYTES);
  return {
    name: o.name === undefined ? "tcp-connection" : checkString(o.name, `${w} name option`),
    framing: o.framing === undefined ? Framing.Raw : checkOneOf(
      o.framing,
      [Framing.Raw, Framing.Lines, Framing.LengthPrefixed],
      `${w} framing option`,
    ),
    readBufferBytes: bytes(o.readBufferBytes, "readBufferBytes", DEFAULT_READ),
    maxFrameBytes: bytes(o.maxFrameBytes, "maxFrameBytes", 16 * 1024 * 1024),
    maxPendingBytes: bytes(o.maxPendingBytes, "maxPendingBytes", 64 * 1024 * 1024),
    closeOnEof: o.closeOnEof === undefined
      ? true
      : checkBoolean(o.closeOnEof, `${w} closeOnEof option`),
    onClose: o.onClose === undefined
      ? undefined
      : checkFunction<(conn: TcpConnection) => void>(o.onClose, `${w} onClose option`),
  };
}

/**
 * Builds a connection node over `stream`: it runs when the socket is readable (or writable
 * while output is pending), reads what is available into its buffer, cuts it into frames and
 * broadcasts when frames arrived (or at end of stream: `eof` is then true). Its children read
 * `node.value.frame(i)` for `i < frameCount` in the same cycle and answer with
 * `node.value.write()` / `writeFrame()`.
 *
 * The node owns the stream. When the peer closes (after the queued output is written, with
 * `closeOnEof`), when a read or write fails (reset, broken pipe: `value.error` says which), or
 * on `end()` / `close()`, the node and its descendants are removed and the fd is closed.
 * Usable between cycles and inside `spawnSubgraph` (as {@linkcode tcpListenerNode} does).
 *
 * @param ex The executor.
 * @param stream A connected or connecting stream (a connect that fails closes the node with
 *   `error.code === "CONNECTION_REFUSED"`).
 * @param options Framing, buffer sizes, limits and the close callback.
 * @returns The node.
 * @throws {WaveletError} `UNSUPPORTED` without a native runtime.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type or range (the
 *   byte sizes are integers in [1, 2^30]).
 * @throws {NetError} `SOCKET_CLOSED` if the stream is closed.
 *
 * @example A client that connects to a server and reads its greeting
 * ```ts
 * import { ms, RealtimeRuntime } from "@wavelet/wavelet";
 * import {
 *   tcpConnectionNode,
 *   TcpListener,
 *   tcpListenerNode,
 *   TcpStream,
 * } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * const listener = TcpListener.bind(rt, "127.0.0.1", 0);
 * tcpListenerNode(rt.executor, listener, (ex, stream) => {
 *   const conn = tcpConnectionNode(ex, stream);
 *   conn.value.write(new TextEncoder().encode("hello"));
 *   conn.value.end();
 * });
 * const port = listener.localAddress.port;
 * const client = tcpConnectionNode(rt.executor, TcpStream.connect(rt, "127.0.0.1", port));
 * let greeting = "";
 * const decoder = new TextDecoder();
 * for (let i = 0; i < 200 && client.isAlive; i++) {
 *   rt.runOneCycle(ms(10));
 *   const c = client.value;
 *   for (let f = 0; f < c.frameCount; f++) greeting += decoder.decode(c.frame(f));
 * }
 * const eof = client.value.eof; // the server ended: the node left the graph
 * rt.shutdown();
 * if (greeting !== "hello" || !eof) throw new Error(`got ${greeting}`);
 * ```
 */
export function tcpConnectionNode(
  ex: Executor,
  stream: TcpStream,
  options?: TcpConnectionOptions,
): Node<TcpConnection> {
  if (options === undefined) options = {};
  checkExecutor(ex, "tcpConnectionNode's executor");
  checkInstance(stream, TcpStream, "tcpConnectionNode's stream");
  checkOpen(stream, "stream");
  const settings = connectionOptions(options);
  const conn = new TcpConnection(stream, settings);
  const onClose = settings.onClose;
  const node = new NodeBuilder(conn)
    .named(settings.name)
    .onInit((e, self) => {
      conn._ex = e;
      conn._node = self;
      e.own(self, () => {
        conn._closed = true;
        stream.close();
      });
      const interest = Readiness.Readable | (stream.isConnecting ? Readiness.Writable : 0);
      conn._handle = e.registerIo(stream.fd, self, interest);
      conn._interest = interest;
    })
    .onDrop(() => {
      conn._closed = true;
      conn.frameCount = 0;
      if (onClose !== undefined) onClose(conn);
    })
    .build(ex, runConnection);
  return node;
}

function runConnection(self: Node<TcpConnection>, ctx: ExecutionContext): Control {
  const c = self.value;
  c.frameCount = 0;
  if (c._closed) return Control.Sweep;
  const r = ctx.ioReadiness(c._handle!);
  const s = c.stream;
  if (s.isConnecting) {
    if ((r & (Readiness.Writable | Readiness.Error | Readiness.HangUp)) === 0) {
      return Control.Unchanged;
    }
    try {
      if (!s.finishConnect()) return Control.Unchanged;
    } catch (err) {
      c._fail(err);
      return Control.Sweep;
    }
    c._setInterest();
  }
  if (c.eof) {
    // Already signalled: waiting for the output to drain before closing.
    if ((r & Readiness.Writable) !== 0 || c.pendingBytes === 0) c._flush();
    if (c.pendingBytes === 0 && c._closeOnEof) c._finish();
    return c._closed ? Control.Sweep : Control.Unchanged;
  }
  if ((r & Readiness.Writable) !== 0 && c.pendingBytes > 0) {
    c._flush();
    if (c._closed) return Control.Sweep;
  }
  if (
    (r & (Readiness.Readable | Readiness.ReadHangUp | Readiness.HangUp | Readiness.Error)) !== 0
  ) {
    readAvailable(c);
    if (c.error !== null) return Control.Sweep;
    if (c.eof) {
      // Children see the last frames and eof now; the node decides on closing next cycle.
      ctx.yieldNow(self);
      return Control.Broadcast;
    }
  }
  return c.frameCount > 0 ? Control.Broadcast : Control.Unchanged;
}

/** Reads until would-block, EOF or a full buffer, and cuts frames. */
function readAvailable(c: TcpConnection): void {
  // Drop the bytes consumed in earlier cycles.
  if (c._head > 0) {
    if (c._tail > c._head) c.buffer.copyWithin(0, c._head, c._tail);
    c._tail -= c._head;
    c._head = 0;
  }
  for (;;) {
    let space = c.buffer.length - c._tail;
    if (space === 0) {
      if (c.frameCount > 0 || c.framing === Framing.Raw) break; // read more next cycle
      // One frame fills the whole buffer: grow it, up to the frame limit.
      const limit = c._maxFrame + (c.framing === Framing.LengthPrefixed ? 4 : 1);
      if (c.buffer.length >= limit) {
        c._fail(
          new NetError(`Cannot read a frame longer than maxFrameBytes (${c._maxFrame})`, {
            code: ErrorCode.FrameTooLarge,
            op: "read",
            errno: 0,
          }),
        );
        return;
      }
      const next = new Uint8Array(Math.min(c.buffer.length * 2, limit));
      next.set(c.buffer.subarray(0, c._tail));
      c.buffer = next;
      space = next.length - c._tail;
    }
    let n: number;
    try {
      n = c.stream.tryRead(c.buffer, c._tail, space);
    } catch (err) {
      c._fail(err);
      return;
    }
    if (n === WOULD_BLOCK) break;
    if (n === 0) {
      c.eof = true;
      break;
    }
    c.bytesRead += n;
    const from = c._tail;
    c._tail += n;
    cut(c, from);
    if (c.error !== null) return;
    if (n < space) break; // the socket is drained: no need for a read that says EAGAIN
  }
  if (c.eof && c.framing === Framing.Raw) return;
  if (c.eof && c.framing === Framing.Lines && c._tail > c._head) {
    // The last line without a newline is still a frame.
    pushFrame(c, c._head, c._tail - c._head);
    c._head = c._tail;
  }
}

/** Cuts the frames completed by the bytes from `from` on. */
function cut(c: TcpConnection, from: number): void {
  const buf = c.buffer;
  if (c.framing === Framing.Raw) {
    pushFrame(c, from, c._tail - from);
    c._head = c._tail;
    return;
  }
  if (c.framing === Framing.Lines) {
    let i = from;
    for (;;) {
      const nl = buf.indexOf(10, i);
      if (nl < 0 || nl >= c._tail) break;
      let end = nl;
      if (end > c._head && buf[end - 1] === 13) end--;
      pushFrame(c, c._head, end - c._head);
      c._head = nl + 1;
      i = nl + 1;
    }
    if (c._tail - c._head > c._maxFrame) {
      c._fail(
        new NetError(`Cannot read a line longer than maxFrameBytes (${c._maxFrame})`, {
          code: ErrorCode.FrameTooLarge,
          op: "read",
          errno: 0,
        }),
      );
    }
    return;
  }
  for (;;) {
    const avail = c._tail - c._head;
    if (avail < 4) return;
    const h = c._head;
    const len = ((buf[h] << 24) | (buf[h + 1] << 16) | (buf[h + 2] << 8) | buf[h + 3]) >>> 0;
    if (len > c._maxFrame) {
      c._fail(
        new NetError(`Cannot read a frame of ${len} bytes: maxFrameBytes is ${c._maxFrame}`, {
          code: ErrorCode.FrameTooLarge,
          op: "read",
          errno: 0,
        }),
      );
      return;
    }
    if (avail < 4 + len) return;
    pushFrame(c, h + 4, len);
    c._head = h + 4 + len;
  }
}

function pushFrame(c: TcpConnection, start: number, length: number): void {
  const i = c.frameCount;
  if (i === c._starts.length) {
    const s = new Int32Array(i * 2), l = new Int32Array(i * 2);
    s.set(c._starts);
    l.set(c._lengths);
    c._starts = s;
    c._lengths = l;
  }
  c._starts[i] = start;
  c._lengths[i] = length;
  c.frameCount = i + 1;
}
