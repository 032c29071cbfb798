/**
 * Non-blocking sockets over the native library: {@linkcode TcpListener},
 * {@linkcode TcpStream} and {@linkcode UdpSocket}. Each object owns its fd (close it, or let the
 * node that owns it close it); after `close()` the object never touches the fd number again, so
 * a reused fd is never read or written by mistake. I/O is `tryRead` / `tryWrite`: byte counts,
 * {@linkcode WOULD_BLOCK} instead of EAGAIN, 0 for end of stream, typed {@linkcode NetError}s for
 * the rest. Register `fd` with `ctx.registerIo` to run a node on readiness, or use the node
 * builders of `src/net/nodes.ts`.
 *
 * @module
 */

import { ADDR_LEN, Errno, type NativeBackend, SocketOption } from "../../ffi/backend.ts";
import {
  checkBoolean,
  checkInstance,
  checkInteger,
  checkOptions,
  describe,
  invalid,
} from "../core/validate.ts";
import { checkBackend, netBackend, type NetRuntime, SocketAddress } from "./address.ts";
import { NetError, netError } from "./errors.ts";
import { ErrorCode } from "../core/errors.ts";

/**
 * Returned by `tryRead`, `tryWrite` and friends when the call would block (EAGAIN).
 *
 * @example Reading when nothing has arrived yet
 * ```ts
 * import { RealtimeRuntime } from "@wavelet/wavelet";
 * import { TcpListener, TcpStream, WOULD_BLOCK } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * const listener = TcpListener.bind(rt, "127.0.0.1", 0);
 * const client = TcpStream.connect(rt, "127.0.0.1", listener.localAddress.port);
 * let server = listener.accept();
 * for (let i = 0; i < 200 && server === null; i++) {
 *   await new Promise((r) => setTimeout(r, 5));
 *   server = listener.accept();
 * }
 * if (server === null) throw new Error("the connection was accepted");
 * const n = server.tryRead(new Uint8Array(64)); // the client sent nothing
 * server.close();
 * client.close();
 * listener.close();
 * rt.shutdown();
 * if (n !== WOULD_BLOCK) throw new Error("an empty non-blocking read returns WOULD_BLOCK");
 * ```
 */
export const WOULD_BLOCK: -1 = -1;

const TCP = 1;
const UDP = 2;
const EAGAIN = Errno.EAGAIN;

function closedError(op: string, what: string): NetError {
  return new NetError(`Cannot ${op} on a closed ${what}`, {
    code: ErrorCode.SocketClosed,
    op: op,
    errno: 0,
  });
}

/**
 * Checks a buffer and a byte range of it; returns the range's length (`length` defaults to the
 * rest of the buffer after `offset`).
 */
function checkRange(buf: unknown, offset: unknown, length: unknown, op: string): number {
  if (!(buf instanceof Uint8Array)) {
    throw invalid(`Cannot ${op}: the buffer must be a Uint8Array, got ${describe(buf)}`);
  }
  const n = length === undefined && typeof offset === "number" ? buf.length - offset : length;
  if (
    typeof offset !== "number" || typeof n !== "number" || !Number.isInteger(offset) ||
    !Number.isInteger(n) || offset < 0 || n < 0 || offset + n > buf.length
  ) {
    throw invalid(
      `Cannot ${op}: the range [${describe(offset)}, +${describe(n)}) does not fit a ` +
        `Uint8Array of ${buf.length} bytes`,
    );
  }
  return n;
}

/**
 * A checked integer as the FFI takes it: `-0` becomes `0` (Deno's FFI refuses `-0` for an
 * integer parameter, and `-0` passes every range check).
 */
function ffiInt(n: number): number {
  return n === 0 ? 0 : n;
}

/** The largest `int` a socket option or backlog takes. */
const INT32_MAX = 2 ** 31 - 1;

/** Checks an fd argument of the internal constructors. */
function checkFd(fd: unknown, what: string): number {
  return checkInteger(fd, `${what}'s fd`, 0, INT32_MAX);
}

/** Checks a {@linkcode SocketOption} number (`readable`: one that can be read back). */
function checkSocketOption(option: unknown, readable: boolean): number {
  const max = readable ? SocketOption.Broadcast : SocketOption.Linger;
  if (typeof option !== "number" || !Number.isInteger(option) || option < 1 || option > max) {
    throw invalid(
      `A socket option must be a SocketOption value${readable ? " other than Linger" : ""}, got ${
        describe(option)
      }`,
    );
  }
  return option;
}

function open(b: NativeBackend, family: number, type: number, what: string): number {
  const fd = b.socketCreate(family, type);
  if (fd < 0) throw netError("create", -fd, what);
  return fd;
}

function setOpt(b: NativeBackend, fd: number, opt: number, value: number, name: string): void {
  const rc = b.socketSetOption(fd, opt, value);
  if (rc < 0) throw netError(`set ${name} on`, -rc, `fd ${fd}`);
}

function addressOf(b: NativeBackend, fd: number, peer: boolean): SocketAddress {
  const out = new Uint8Array(ADDR_LEN);
  const rc = b.socketAddress(fd, peer, out);
  if (rc < 0) {
    throw netError(peer ? "read the peer address of" : "read the address of", -rc, `fd ${fd}`);
  }
  return new SocketAddress(out);
}

/**
 * What every socket shares: its fd, closing it exactly once, and its local address.
 *
 * @example Closing any socket
 * ```ts
 * import { RealtimeRuntime } from "@wavelet/wavelet";
 * import { type Socket, TcpListener, UdpSocket } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * const sockets: Socket[] = [TcpListener.bind(rt, "127.0.0.1", 0), UdpSocket.bind(rt, "127.0.0.1", 0)];
 * for (const s of sockets) s.close();
 * rt.shutdown();
 * if (!sockets.every((s) => s.isClosed)) throw new Error("all closed");
 * ```
 */
export abstract class Socket {
  /** The socket's fd. */
  readonly fd: number;
  /** The backend the fd belongs to. */
  protected readonly backend: NativeBackend;
  #closed = false;
  #local: SocketAddress | null = null;

  /**
   * Wraps an fd (subclasses only).
   *
   * @param backend The backend.
   * @param fd The socket fd.
   * @param what The class, for messages.
   * @throws {InvalidArgumentError} If `backend` is not a backend or `fd` not an fd number.
   */
  protected constructor(backend: NativeBackend, fd: number, what: string) {
    checkBackend(backend, `A ${what}'s backend`);
    checkFd(fd, `A ${what}`);
    this.backend = backend;
    this.fd = fd;
  }

  /** What the socket is called in messages ("listener", "stream", "UDP socket"). */
  protected abstract readonly noun: string;

  /** True once closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** The local address (with the actual port when bound to port 0). */
  get localAddress(): SocketAddress {
    this.checkOpen("read the address");
    // A stream's address is read each time: it is bound by the connect, which may be under way.
    if (this.#local !== null) return this.#local;
    const a = addressOf(this.backend, this.fd, false);
    if (this.noun !== "stream") this.#local = a;
    return a;
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.backend.close(this.fd);
  }

  /**
   * Refuses an action on a closed socket.
   *
   * @throws {NetError} `SOCKET_CLOSED` once closed.
   */
  protected checkOpen(action: string): void {
    if (this.#closed) throw closedError(action, this.noun);
  }
}

/**
 * Options of {@linkcode TcpListener.bind}.
 *
 * @example Two listeners sharing a port
 * ```ts
 * import { RealtimeRuntime } from "@wavelet/wavelet";
 * import { TcpListener, type TcpListenerOptions } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * const options: TcpListenerOptions = { backlog: 128, reuseAddress: true, reusePort: true };
 * const a = TcpListener.bind(rt, "127.0.0.1", 0, options);
 * const b = TcpListener.bind(rt, "127.0.0.1", a.localAddress.port, options); // SO_REUSEPORT
 * const shared = a.localAddress.port === b.localAddress.port;
 * a.close();
 * b.close();
 * rt.shutdown();
 * if (!shared) throw new Error("both listen on one port");
 * ```
 */
export interface TcpListenerOptions {
  /** The accept queue length (default: the system's maximum). */
  backlog?: number;
  /** `SO_REUSEADDR` (default true: a restarted server can bind at once). */
  reuseAddress?: boolean;
  /** `SO_REUSEPORT` (default false): several listeners share the port. */
  reusePort?: boolean;
  /** `IPV6_V6ONLY` for an IPv6 address (default: the system's, usually dual-stack). */
  v6Only?: boolean;
}

/**
 * A listening TCP socket.
 *
 * @example
 * ```ts ignore
 * import { RealtimeRuntime } from "@wavelet/wavelet";
 * import { TcpListener } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * const listener = TcpListener.bind(rt, "127.0.0.1", 0); // port 0: any free port
 * console.log(listener.localAddress.port);
 * const stream = listener.accept(); // null until a client connects
 * listener.close();
 * rt.shutdown();
 * ```
 */
export class TcpListener extends Socket {
  /** @internal */
  protected readonly noun = "listener";

  /**
   * @internal Wraps a listening fd (use {@linkcode TcpListener.bind}).
   *
   * @param backend The backend.
   * @param fd The listening fd.
   * @throws {InvalidArgumentError} If `backend` is not a backend or `fd` not an fd number.
   */
  constructor(backend: NativeBackend, fd: number) {
    super(backend, fd, "TcpListener");
  }

  /**
   * Creates a socket, binds it to `host:port` and listens.
   *
   * @param rt The runtime (its backend creates the socket).
   * @param host A numeric IPv4 or IPv6 address (`"0.0.0.0"`, `"::"`, `"127.0.0.1"`, `"::1"`).
   * @param port The port; 0 picks a free one (read it back from `localAddress.port`).
   * @param options Backlog and socket options.
   * @returns The listener.
   * @throws {NetError} `INVALID_ADDRESS` for an address that does not parse, `ADDRESS_IN_USE`
   *   when the port is taken, `SOCKET_FAILED` otherwise.
   * @throws {UnsupportedError} On the pure-JS backend.
   * @throws {InvalidArgumentError} If `rt` has no backend or an option has the wrong type or
   *   range (`backlog` is an integer in [0, 2^31 - 1], the others booleans).
   */
  static override bind(
    rt: NetRuntime,
    host: string,
    port: number,
    options?: TcpListenerOptions,
  ): TcpListener {
    if (options === undefined) options = {};
    const b = netBackend(rt, "TcpListener.bind's runtime");
    const o = checkOptions(options, "TcpListener.bind's options", [
      "backlog",
      "reuseAddress",
      "reusePort",
      "v6Only",
    ]);
    const backlog = o.backlog === undefined
      ? 0
      : checkInteger(o.backlog, "TcpListener.bind's backlog option", 0, INT32_MAX);
    const reuseAddress = o.reuseAddress === undefined
      ? true
      : checkBoolean(o.reuseAddress, "TcpListener.bind's reuseAddress option");
    const reusePort = o.reusePort === undefined
      ? false
      : checkBoolean(o.reusePort, "TcpListener.bind's reusePort option");
    const v6Only = o.v6Only === undefined
      ? undefined
      : checkBoolean(o.v6Only, "TcpListener.bind's v6Only option");
    const addr = SocketAddress.parse(rt, host, port);
    const fd = open(b, addr.family, TCP, "a TCP listener");
    try {
      if (reuseAddress) setOpt(b, fd, SocketOption.ReuseAddr, 1, "SO_REUSEADDR");
      if (reusePort) setOpt(b, fd, SocketOption.ReusePort, 1, "SO_REUSEPORT");
      if (v6Only !== undefined && addr.family === 6) {
        setOpt(b, fd, SocketOption.V6Only, v6Only ? 1 : 0, "IPV6_V6ONLY");
      }
      let rc = b.socketBind(fd, addr._bytes);
      if (rc < 0) {
        const e = netError("bind a TCP listener to", -rc, addr.toString());
        if (-rc === Errno.EADDRINUSE) {
          throw new NetError(
            `Cannot listen on ${addr}: the address is already in use (EADDRINUSE)`,
            { code: ErrorCode.AddressInUse, op: "bind", errno: -rc },
          );
        }
        throw e;
      }
      rc = b.socketListen(fd, ffiInt(backlog));
      if (rc < 0) throw netError("listen on", -rc, addr.toString());
    } catch (e) {
      b.close(fd);
      throw e;
    }
    return new TcpListener(b, fd);
  }

  /**
   * Accepts one pending connection.
   *
   * @returns A non-blocking stream, or null when no connection is pending.
   * @throws {NetError} `SOCKET_CLOSED` after `close()`; `SOCKET_FAILED` for EMFILE and other
   *   failures (a connection reset before it was accepted is skipped).
   */
  accept(): TcpStream | null {
    this.checkOpen("accept");
    for (;;) {
      const fd = this.backend.socketAccept(this.fd, null);
      if (fd >= 0) return new TcpStream(this.backend, fd, false);
      if (fd === -EAGAIN) return null;
      if (fd === -Errno.ECONNABORTED) continue;
      throw netError("accept on", -fd, `fd ${this.fd}`);
    }
  }
}

/**
 * Options of {@linkcode TcpStream.connect}.
 *
 * @example A larger receive buffer
 * ```ts
 * import { RealtimeRuntime } from "@wavelet/wavelet";
 * import {
 *   SocketOption,
 *   TcpListener,
 *   TcpStream,
 *   type TcpStreamOptions,
 * } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * const listener = TcpListener.bind(rt, "127.0.0.1", 0);
 * const options: TcpStreamOptions = { noDelay: true, receiveBufferSize: 64 * 1024 };
 * const stream = TcpStream.connect(rt, "127.0.0.1", listener.localAddress.port, options);
 * const noDelay = stream.getOption(SocketOption.NoDelay);
 * const rcvBuf = stream.getOption(SocketOption.ReceiveBuffer);
 * stream.close();
 * listener.close();
 * rt.shutdown();
 * if (noDelay !== 1 || rcvBuf < 64 * 1024) throw new Error("the options were applied");
 * ```
 */
export interface TcpStreamOptions {
  /** `TCP_NODELAY` (default true: small writes leave at once). */
  noDelay?: boolean;
  /** `SO_SNDBUF` in bytes (the kernel doubles it). */
  sendBufferSize?: number;
  /** `SO_RCVBUF` in bytes (the kernel doubles it). */
  receiveBufferSize?: number;
}

/**
 * A connected (or connecting) TCP stream.
 *
 * @example
 * ```ts ignore
 * import { RealtimeRuntime } from "@wavelet/wavelet";
 * import { TcpStream, WOULD_BLOCK } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * const s = TcpStream.connect(rt, "127.0.0.1", 8080); // connection under way
 * // ... once the fd is writable:
 * if (s.finishConnect()) s.tryWrite(new TextEncoder().encode("hello\n"));
 * const buf = new Uint8Array(4096);
 * const n = s.tryRead(buf); // bytes, 0 at EOF, or WOULD_BLOCK
 * s.close();
 * rt.shutdown();
 * ```
 */
export class TcpStream extends Socket {
  /** @internal */
  protected readonly noun = "stream";
  #connecting: boolean;
  readonly #recv: NativeBackend["socketRecv"];
  readonly #send: NativeBackend["socketSend"];

  /**
   * @internal Wraps a connected or connecting fd (use {@linkcode TcpStream.connect} or
   * {@linkcode TcpListener.accept}).
   *
   * @param backend The backend.
   * @param fd The socket fd.
   * @param connecting True while a non-blocking connect is under way.
   * @throws {InvalidArgumentError} If `backend` is not a backend, `fd` not an fd number or
   *   `connecting` not a boolean.
   */
  constructor(backend: NativeBackend, fd: number, connecting: boolean) {
    checkBoolean(connecting, "A TcpStream's connecting flag");
    super(backend, fd, "TcpStream");
    this.#connecting = connecting;
    this.#recv = backend.socketRecv.bind(backend);
    this.#send = backend.socketSend.bind(backend);
  }

  /**
   * Starts a non-blocking connection to `host:port`. The stream is returned at once; it is
   * connected when its fd becomes writable and {@linkcode TcpStream.finishConnect} returns true.
   *
   * @param rt The runtime (its backend creates the socket).
   * @param host A numeric IPv4 or IPv6 address.
   * @param port The port.
   * @param options Socket options.
   * @returns The stream (connecting, or already connected).
   * @throws {NetError} `INVALID_ADDRESS`, or the connect failure when the kernel reports it at
   *   once (`CONNECTION_REFUSED`, `SOCKET_FAILED` for ENETUNREACH, ...).
   * @throws {InvalidArgumentError} If `rt` has no backend or an option has the wrong type or
   *   range (buffer sizes are integers in [1, 2^30], `noDelay` a boolean).
   */
  static connect(
    rt: NetRuntime,
    host: string,
    port: number,
    options?: TcpStreamOptions,
  ): TcpStream {
    if (options === undefined) options = {};
    const b = netBackend(rt, "TcpStream.connect's runtime");
    const o = checkOptions(options, "TcpStream.connect's options", [
      "noDelay",
      "sendBufferSize",
      "receiveBufferSize",
    ]);
    const noDelay = o.noDelay === undefined
      ? true
      : checkBoolean(o.noDelay, "TcpStream.connect's noDelay option");
    const sendBuffer = o.sendBufferSize === undefined
      ? undefined
      : checkInteger(o.sendBufferSize, "TcpStream.connect's sendBufferSize option", 1, 2 ** 30);
    const receiveBuffer = o.receiveBufferSize === undefined ? undefined : checkInteger(
      o.receiveBufferSize,
      "TcpStream.connect's receiveBufferSize option",
      1,
      2 ** 30,
    );
    const addr = SocketAddress.parse(rt, host, port);
    const fd = open(b, addr.family, TCP, "a TCP stream");
    let rc: number;
    try {
      if (noDelay) setOpt(b, fd, SocketOption.NoDelay, 1, "TCP_NODELAY");
      if (sendBuffer !== undefined) {
        setOpt(b, fd, SocketOption.SendBuffer, sendBuffer, "SO_SNDBUF");
      }
      if (receiveBuffer !== undefined) {
        setOpt(b, fd, SocketOption.ReceiveBuffer, receiveBuffer, "SO_RCVBUF");
      }
      rc = b.socketConnect(fd, addr._bytes);
      if (rc < 0 && rc !== -Errno.EINPROGRESS) throw netError("connect to", -rc, addr.toString());
    } catch (e) {
      b.close(fd);
      throw e;
    }
    return new TcpStream(b, fd, rc !== 0);
  }

  /** True while a non-blocking connect is under way. */
  get isConnecting(): boolean {
    return this.#connecting;
  }

  /**
   * Completes a non-blocking connect; call it when the fd is writable.
   *
   * @returns True when connected, false while the connect is still under way.
   * @throws {NetError} The connect failure (`CONNECTION_REFUSED`, ...).
   */
  finishConnect(): boolean {
    this.checkOpen("finish connecting");
    if (!this.#connecting) return true;
    const err = this.backend.socketError(this.fd);
    if (err !== 0) throw netError("connect", err < 0 ? -err : err, `fd ${this.fd}`);
    const rc = this.backend.socketAddress(this.fd, true, new Uint8Array(ADDR_LEN));
    if (rc === -Errno.ENOTCONN) return false;
    if (rc < 0) throw netError("connect", -rc, `fd ${this.fd}`);
    this.#connecting = false;
    return true;
  }

  /**
   * Reads what is available into `buf[offset, offset + length)`.
   *
   * @param buf The destination.
   * @param offset Where to start writing in `buf` (default 0).
   * @param length At most this many bytes (default: to the end of `buf`); must be > 0.
   * @returns The byte count (> 0), 0 at end of stream, or {@linkcode WOULD_BLOCK}.
   * @throws {InvalidArgumentError} For a destination that is not a Uint8Array, or an empty or
   *   out-of-range one (0 means EOF).
   * @throws {NetError} `CONNECTION_RESET`, `SOCKET_CLOSED`, `SOCKET_FAILED`.
   */
  tryRead(buf: Uint8Array, offset = 0, length?: number): number {
    this.checkOpen("read");
    if (!(buf instanceof Uint8Array) || offset !== 0 || length !== undefined) {
      length = checkRange(buf, offset, length, "read");
    } else {
      length = buf.length;
    }
    if (length === 0) {
      throw invalid(
        "Cannot read into an empty range: a read of 0 bytes would look like end of stream",
      );
    }
    const n = this.#recv(this.fd, buf, ffiInt(offset), length);
    if (n >= 0) return n;
    if (n === -EAGAIN) return WOULD_BLOCK;
    throw netError("read from", -n, `fd ${this.fd}`);
  }

  /**
   * Writes as much of `buf[offset, offset + length)` as the send buffer takes.
   *
   * @param buf The source.
   * @param offset Where to start in `buf` (default 0).
   * @param length How many bytes (default: to the end of `buf`); 0 writes nothing.
   * @returns The byte count written (maybe fewer than `length`), or {@linkcode WOULD_BLOCK}.
   * @throws {NetError} `BROKEN_PIPE` (never a SIGPIPE), `CONNECTION_RESET`, `SOCKET_CLOSED`.
   * @throws {InvalidArgumentError} For a source that is not a Uint8Array or an out-of-range
   *   range.
   */
  tryWrite(buf: Uint8Array, offset = 0, length?: number): number {
    this.checkOpen("write");
    if (!(buf instanceof Uint8Array) || offset !== 0 || length !== undefined) {
      length = checkRange(buf, offset, length, "write");
    } else {
      length = buf.length;
    }
    if (length === 0) return 0;
    const n = this.#send(this.fd, buf, ffiInt(offset), length);
    if (n >= 0) return n;
    if (n === -EAGAIN) return WOULD_BLOCK;
    throw netError("write to", -n, `fd ${this.fd}`);
  }

  /**
   * Shuts down one or both directions (`"write"` sends EOF to the peer).
   *
   * @param how `"read"`, `"write"` (default) or `"both"`.
   * @throws {InvalidArgumentError} If `how` is none of those.
   * @throws {NetError} `SOCKET_FAILED` (ENOTCONN when not connected).
   */
  shutdown(how: "read" | "write" | "both" = "write"): void {
    this.checkOpen("shut down");
    const h = how === "read" ? 0 : how === "write" ? 1 : how === "both" ? 2 : -1;
    if (h < 0) {
      throw invalid(`shutdown() takes "read", "write" or "both", got ${describe(how)}`);
    }
    const rc = this.backend.socketShutdown(this.fd, h);
    if (rc < 0) throw netError("shut down", -rc, `fd ${this.fd}`);
  }

  /**
   * Sets a socket option.
   *
   * @param option A {@linkcode SocketOption} number.
   * @param value The value (booleans as 0/1, sizes in bytes, linger seconds or -1), an
   *   integer in [-2^31, 2^31 - 1].
   * @throws {InvalidArgumentError} If `option` is not a SocketOption or `value` not an int32.
   * @throws {NetError} If the kernel refuses it.
   */
  setOption(option: number, value: number): void {
    this.checkOpen("set an option");
    checkSocketOption(option, false);
    checkInteger(value, "A socket option's value", -(2 ** 31), INT32_MAX);
    setOpt(this.backend, this.fd, option, ffiInt(value), `option ${option}`);
  }

  /**
   * Reads a socket option.
   *
   * @param option A {@linkcode SocketOption} number (not `Linger`).
   * @returns The value.
   * @throws {InvalidArgumentError} If `option` is not a readable SocketOption.
   * @throws {NetError} If the kernel refuses it.
   */
  getOption(option: number): number {
    this.checkOpen("read an option");
    checkSocketOption(option, true);
    const v = this.backend.socketGetOption(this.fd, option);
    if (v < 0) throw netError(`read option ${option} of`, -v, `fd ${this.fd}`);
    return v;
  }

  /** The peer's address. */
  get peerAddress(): SocketAddress {
    this.checkOpen("read the peer address");
    return addressOf(this.backend, this.fd, true);
  }
}

/**
 * Options of {@linkcode UdpSocket.bind}.
 *
 * @example Two UDP sockets on one port
 * ```ts
 * import { RealtimeRuntime } from "@wavelet/wavelet";
 * import { UdpSocket, type UdpSocketOptions } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * const options: UdpSocketOptions = { reuseAddress: true, reusePort: true, broadcast: true };
 * const a = UdpSocket.bind(rt, "127.0.0.1", 0, options);
 * const b = UdpSocket.bind(rt, "127.0.0.1", a.localAddress.port, options);
 * const shared = a.localAddress.port === b.localAddress.port;
 * a.close();
 * b.close();
 * rt.shutdown();
 * if (!shared) throw new Error("SO_REUSEPORT lets both bind the port");
 * ```
 */
export interface UdpSocketOptions {
  /** `SO_REUSEADDR` (default false). */
  reuseAddress?: boolean;
  /** `SO_REUSEPORT` (default false). */
  reusePort?: boolean;
  /** `SO_BROADCAST` (default false). */
  broadcast?: boolean;
}

/**
 * A UDP socket.
 *
 * @example
 * ```ts ignore
 * import { RealtimeRuntime } from "@wavelet/wavelet";
 * import { SocketAddress, UdpSocket } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * const a = UdpSocket.bind(rt, "127.0.0.1", 0);
 * const b = UdpSocket.bind(rt, "127.0.0.1", 0);
 * b.trySend(new Uint8Array([1, 2, 3]), a.localAddress);
 * const buf = new Uint8Array(1500);
 * const n = a.tryReceive(buf); // 3 (or WOULD_BLOCK before it arrives); sender: a.lastSender
 * a.close();
 * b.close();
 * rt.shutdown();
 * ```
 */
export class UdpSocket extends Socket {
  /** @internal */
  protected readonly noun = "UDP socket";
  readonly #from = new Uint8Array(ADDR_LEN);
  #fromValid = false;

  /**
   * @internal Wraps a UDP fd (use {@linkcode UdpSocket.bind}).
   *
   * @param backend The backend.
   * @param fd The socket fd.
   * @throws {InvalidArgumentError} If `backend` is not a backend or `fd` not an fd number.
   */
  constructor(backend: NativeBackend, fd: number) {
    super(backend, fd, "UdpSocket");
  }

  /**
   * Creates a UDP socket bound to `host:port`.
   *
   * @param rt The runtime.
   * @param host A numeric IPv4 or IPv6 address.
   * @param port The port; 0 picks a free one.
   * @param options Socket options.
   * @returns The socket.
   * @throws {NetError} `INVALID_ADDRESS`, `ADDRESS_IN_USE`, `SOCKET_FAILED`.
   * @throws {InvalidArgumentError} If `rt` has no backend or an option is not a boolean.
   */
  static override bind(
    rt: NetRuntime,
    host: string,
    port: number,
    options?: UdpSocketOptions,
  ): UdpSocket {
    if (options === undefined) options = {};
    const b = netBackend(rt, "UdpSocket.bind's runtime");
    const o = checkOptions(options, "UdpSocket.bind's options", [
      "reuseAddress",
      "reusePort",
      "broadcast",
    ]);
    const flag = (v: unknown, name: string) =>
      v === undefined ? false : checkBoolean(v, `UdpSocket.bind's ${name} option`);
    const reuseAddress = flag(o.reuseAddress, "reuseAddress");
    const reusePort = flag(o.reusePort, "reusePort");
    const broadcast = flag(o.broadcast, "broadcast");
    const addr = SocketAddress.parse(rt, host, port);
    const fd = open(b, addr.family, UDP, "a UDP socket");
    try {
      if (reuseAddress) setOpt(b, fd, SocketOption.ReuseAddr, 1, "SO_REUSEADDR");
      if (reusePort) setOpt(b, fd, SocketOption.ReusePort, 1, "SO_REUSEPORT");
      if (broadcast) setOpt(b, fd, SocketOption.Broadcast, 1, "SO_BROADCAST");
      const rc = b.socketBind(fd, addr._bytes);
      if (rc < 0) throw netError("bind a UDP socket to", -rc, addr.toString());
    } catch (e) {
      b.close(fd);
      throw e;
    }
    return new UdpSocket(b, fd);
  }

  /** The sender of the last datagram `tryReceive` returned, or null. */
  get lastSender(): SocketAddress | null {
    return this.#fromValid ? new SocketAddress(this.#from.slice()) : null;
  }

  /**
   * Sends `buf[offset, offset + length)` as one datagram (an empty datagram is allowed).
   *
   * @param buf The payload.
   * @param to The destination (parse it once with `SocketAddress.parse`).
   * @param offset Start in `buf` (default 0).
   * @param length Bytes (default: to the end of `buf`).
   * @returns The byte count, or {@linkcode WOULD_BLOCK}.
   * @throws {NetError} `SOCKET_FAILED` (EMSGSIZE for a datagram that is too big, ...).
   * @throws {InvalidArgumentError} For a payload that is not a Uint8Array, an out-of-range
   *   range, or a destination that is not a SocketAddress.
   */
  trySend(
    buf: Uint8Array,
    to: SocketAddress,
    offset = 0,
    length?: number,
  ): number {
    this.checkOpen("send");
    if (!(buf instanceof Uint8Array) || offset !== 0 || length !== undefined) {
      length = checkRange(buf, offset, length, "send");
    } else {
      length = buf.length;
    }
    checkInstance(to, SocketAddress, "A datagram's destination");
    const n = this.backend.socketSendTo(this.fd, buf, ffiInt(offset), ffiInt(length), to._bytes);
    if (n >= 0) return n;
    if (n === -EAGAIN) return WOULD_BLOCK;
    throw netError("send a datagram to", -n, to.toString());
  }

  /**
   * Receives one datagram into `buf[offset, offset + length)` (a longer one is truncated).
   *
   * @param buf The destination.
   * @param offset Start in `buf` (default 0).
   * @param length At most this many bytes (default: to the end of `buf`).
   * @returns The byte count (0 for an empty datagram), or {@linkcode WOULD_BLOCK}.
   * @throws {NetError} `SOCKET_FAILED`, `SOCKET_CLOSED`.
   * @throws {InvalidArgumentError} For a destination that is not a Uint8Array or an
   *   out-of-range range.
   */
  tryReceive(buf: Uint8Array, offset = 0, length?: number): number {
    this.checkOpen("receive");
    if (!(buf instanceof Uint8Array) || offset !== 0 || length !== undefined) {
      length = checkRange(buf, offset, length, "receive");
    } else {
      length = buf.length;
    }
    const n = this.backend.socketRecvFrom(this.fd, buf, ffiInt(offset), ffiInt(length), this.#from);
    if (n >= 0) {
      this.#fromValid = true;
      return n;
    }
    if (n === -EAGAIN) return WOULD_BLOCK;
    throw netError("receive a datagram on", -n, `fd ${this.fd}`);
  }
}
