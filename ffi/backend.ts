/**
 * The backend contract between the runtime and the OS: {@linkcode NativeBackend}, implemented
 * by the native library (through `ffi/bun/open.ts` or `ffi/deno/open.ts`) and by the pure-JS fallback
 * (`ffi/js_backend.ts`). Also the typed errors of the native layer: one status-to-exception
 * function ({@linkcode checkStatus}) turns a `-errno` into a {@linkcode NativeError}.
 *
 * `src/` imports only the types of this file; `ffi/load.ts` decides which backend is live.
 *
 * @module
 */

/** Linux errno values the runtime names in messages and branches on. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOSPC: 28,
  EPIPE: 32,
  ERANGE: 34,
  ENOSYS: 38,
  ELOOP: 40,
  EOVERFLOW: 75,
  ENOTSOCK: 88,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
  EAFNOSUPPORT: 97,
  ENOPROTOOPT: 92,
  EMSGSIZE: 90,
  EISCONN: 106,
  ESHUTDOWN: 108,
} as const;

const ERRNO_NAMES: string[] = [];
for (const [name, value] of Object.entries(Errno)) ERRNO_NAMES[value] = name;

/**
 * The symbolic name of an errno value.
 *
 * @param errno A positive errno value.
 * @returns `"EBADF"`, ..., or `"errno <n>"` for a value not in {@linkcode Errno}.
 */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

/**
 * One place the loader looked for the library, and why it was not used.
 *
 * @example Listing where the loader looked
 * ```ts
 * import { type LoadAttempt, loadNative, NativeLoadError } from "@wavelet/wavelet/native";
 *
 * let attempts: readonly LoadAttempt[] = [];
 * try {
 *   loadNative({ path: "/nonexistent/libwavelet.so" });
 * } catch (e) {
 *   if (e instanceof NativeLoadError) attempts = e.attempts;
 * }
 * const [first] = attempts;
 * // "missing" where FFI is available, "unavailable" where it is not
 * if (first?.path !== "/nonexistent/libwavelet.so") throw new Error("the path was tried");
 * if (first.failure !== "missing" && first.failure !== "unavailable") {
 *   throw new Error(`unexpected failure ${first.failure}: ${first.reason}`);
 * }
 * ```
 */
export interface LoadAttempt {
  /** The file (or the action, for a build) that was tried. */
  readonly path: string;
  /** How it failed: missing, not a wavelet library, wrong ABI, build failed, not writable. */
  readonly failure: "missing" | "invalid" | "abi" | "build" | "write" | "unavailable";
  /** What went wrong, in words. */
  readonly reason: string;
}

/** epoll_ctl operations. */
export const EpollOp = { Add: 1, Del: 2, Mod: 3 } as const;

/** epoll event bits. */
export const EpollEvents = {
  In: 0x001,
  Pri: 0x002,
  Out: 0x004,
  Err: 0x008,
  Hup: 0x010,
  RdHup: 0x2000,
  // Literals, not shifts: the npm build's declaration emit types a shifted member as `any`.
  Exclusive: 0x10000000,
  WakeUp: 0x20000000,
  OneShot: 0x40000000,
  EdgeTriggered: 0x80000000,
} as const;

/** Flags of {@linkcode NativeBackend.eventfdCreate}. */
export const EventfdFlags = { Semaphore: 1, Blocking: 2 } as const;

/**
 * Bytes of a socket address buffer (`WV_ADDR_LEN`; layout in `ffi/native/wavelet.h`).
 *
 * @example Parsing a socket address
 * ```ts
 * import { ADDR_LEN } from "./backend.ts";
 * import { loadBackend } from "@wavelet/wavelet/native";
 *
 * const backend = loadBackend();
 * if (backend.hasEpoll) {
 *   const addr = new Uint8Array(ADDR_LEN);
 *   const family = backend.addrParse("127.0.0.1", 8080, addr);
 *   if (family !== 4) throw new Error(`expected IPv4, got ${family}`);
 * }
 * ```
 */
export const ADDR_LEN = 24;

/**
 * Socket option numbers of {@linkcode NativeBackend.socketSetOption}.
 *
 * @example Setting TCP_NODELAY on a socket
 * ```ts
 * import { SocketOption } from "@wavelet/wavelet/net";
 * import { loadBackend } from "@wavelet/wavelet/native";
 *
 * const backend = loadBackend();
 * if (backend.hasEpoll) {
 *   const fd = backend.socketCreate(4, 1); // IPv4 TCP, never connected
 *   try {
 *     if (backend.socketSetOption(fd, SocketOption.NoDelay, 1) !== 0) throw new Error("set");
 *     if (backend.socketGetOption(fd, SocketOption.NoDelay) !== 1) throw new Error("read back");
 *   } finally {
 *     backend.close(fd);
 *   }
 * }
 * ```
 */
export const SocketOption = {
  /** `SO_REUSEADDR` (0 or 1). */
  ReuseAddr: 1,
  /** `SO_REUSEPORT` (0 or 1). */
  ReusePort: 2,
  /** `TCP_NODELAY` (0 or 1). */
  NoDelay: 3,
  /** `SO_RCVBUF` in bytes (the kernel doubles it). */
  ReceiveBuffer: 4,
  /** `SO_SNDBUF` in bytes (the kernel doubles it). */
  SendBuffer: 5,
  /** `IPV6_V6ONLY` (0 or 1). */
  V6Only: 6,
  /** `SO_KEEPALIVE` (0 or 1). */
  KeepAlive: 7,
  /** `SO_BROADCAST` (0 or 1). */
  Broadcast: 8,
  /** `SO_LINGER`: seconds, or < 0 for off; 0 makes `close` send a reset. Cannot be read. */
  Linger: 9,
} as const;

/** The most events one epoll wait returns (the C side clamps to it). */
export const MAX_EPOLL_EVENTS = 1024;

/**
 * The OS services the runtime needs. The native backend implements all of them; the pure-JS
 * backend implements the clocks and `sleep`, and throws {@linkcode UnsupportedError} for the
 * rest whatever the arguments (`hasEpoll` is false). Failing native calls throw
 * {@linkcode NativeError}; EINTR never surfaces. Timestamps are f64 nanoseconds.
 *
 * Arguments are checked before anything reaches C, the same way on Bun and Deno; a bad one
 * throws `InvalidArgumentError` with code `INVALID_ARGUMENT` (a promise-returning method
 * rejects with it) and nothing happens:
 * - Integers (fds, counts, flags, offsets, lengths, ports) must be numbers that are integers
 *   in the stated range, an int32 where none is stated. NaN, Infinity, fractions, strings and
 *   other types are refused, never coerced. An fd is any int32: a closed or negative one is the
 *   kernel's to refuse (a `NativeError` with EBADF, or `-EBADF` from the socket calls).
 * - Buffers must be typed arrays of the stated class (byte buffers are `Uint8Array`s, a
 *   subclass such as Node's `Buffer` included; other views are refused because offsets and
 *   lengths count elements), over any `ArrayBuffer` or `SharedArrayBuffer` (resizable and
 *   growable ones included), and at least as many BYTES long as the C side reads or writes. A
 *   view whose buffer was transferred (detached), or a view over a resizable buffer that was
 *   shrunk past it, reads a `byteLength` of 0, so it is refused wherever a byte would be read
 *   or written (a detached one always). Nothing is written outside a buffer's view.
 *
 * The epoll wait's buffers are best long-lived (allocated once): the Deno binding caches each
 * buffer's pointer (taken again when the view's `byteLength` changed, so never stale).
 *
 * @example Clocks and an eventfd
 * ```ts
 * import { loadBackend, type NativeBackend } from "@wavelet/wavelet/native";
 *
 * const backend: NativeBackend = loadBackend();
 * const t0 = backend.monotonicNs();
 * if (Math.abs(backend.realtimeNs() / 1e6 - Date.now()) > 1000) throw new Error("wall time");
 * if (backend.hasEpoll) {
 *   const fd = backend.eventfdCreate();
 *   try {
 *     backend.eventfdWrite(fd, 3);
 *     if (backend.eventfdRead(fd) !== 3) throw new Error("the counter was 3");
 *     if (backend.eventfdRead(fd) !== 0) throw new Error("reading resets it");
 *   } finally {
 *     backend.close(fd);
 *   }
 * }
 * if (backend.monotonicNs() < t0) throw new Error("monotonic time never goes back");
 * ```
 */
export interface NativeBackend {
  /** Which implementation this is. */
  readonly kind: "bun" | "deno" | "js";
  /** The loaded library file, or null for the JS backend. */
  readonly path: string | null;
  /** The library's ABI version (the JS backend reports the expected one). */
  readonly abiVersion: number;
  /** True when epoll, eventfd, timerfd and the signal bridge are available. */
  readonly hasEpoll: boolean;
  /** CLOCK_MONOTONIC (or the host's monotonic clock) in nanoseconds. */
  monotonicNs(): number;
  /**
   * Writes the wall time into `out`: `out[0]` whole Unix seconds, `out[1]` nanoseconds.
   *
   * @throws {InvalidArgumentError} Unless `out` is a Float64Array of at least 16 bytes.
   */
  realtime(out: Float64Array): void;
  /** The wall time in nanoseconds since the Unix epoch, rounded to a double. */
  realtimeNs(): number;
  /** Creates an epoll instance and returns its fd. */
  epollCreate(): number;
  /**
   * `epoll_ctl`; `data` (u32) comes back with the events.
   *
   * @throws {InvalidArgumentError} Unless `epfd` and `fd` are int32, `op` is 1, 2 or 3
   * ({@linkcode EpollOp}), and `events` and `data` are 32-bit integers (int32 or uint32).
   */
  epollCtl(epfd: number, op: number, fd: number, events: number, data: number): void;
  /**
   * Waits up to `timeoutNs` (negative or `Infinity`: forever, 0: poll) and writes up to
   * `maxEvents` pairs (events, data) into `events` (at most 1024 per call); writes the
   * monotonic time sampled right after the wait into `clockOut[0]`. Returns the number of
   * events. A failed wait writes nothing.
   *
   * @throws {InvalidArgumentError} Unless `epfd` is an int32, `maxEvents` an integer >= 1,
   * `events` an Int32Array of at least `8 * maxEvents` bytes, `timeoutNs` a number (not NaN),
   * and `clockOut` null or a Float64Array of at least 8 bytes.
   * @throws {NativeError} When `epoll_pwait2` fails (EBADF, EINVAL for an fd that is not an
   * epoll fd).
   */
  epollWait(
    epfd: number,
    events: Int32Array,
    maxEvents: number,
    timeoutNs: number,
    clockOut: Float64Array | null,
  ): number;
  /**
   * The same wait without blocking the host event loop. Deno runs the call on another thread
   * (`nonblocking` FFI); on Bun a waiter Worker makes the blocking call and the caller awaits
   * `Atomics.waitAsync`. The other thread writes into buffers the backend owns; the results
   * are copied into `events` and `clockOut` when the wait settles, after checking them again.
   * Never throws: bad arguments, and a failed wait, reject the promise.
   *
   * @throws {InvalidArgumentError} (rejects) For the arguments {@linkcode epollWait} refuses,
   * and when `events` or `clockOut` was detached or shrunk while the wait was in flight (the
   * events it returned are then not delivered; a level-triggered fd reports again).
   */
  epollWaitAsync(
    epfd: number,
    events: Int32Array,
    maxEvents: number,
    timeoutNs: number,
    clockOut: Float64Array | null,
  ): Promise<number>;
  /**
   * Creates an eventfd (non-blocking unless {@linkcode EventfdFlags.Blocking}).
   *
   * @throws {InvalidArgumentError} Unless `initval` (default 0) is an integer in
   * [0, 2^32 - 1] and `flags` (default 0) one in [0, 3] ({@linkcode EventfdFlags}).
   */
  eventfdCreate(initval?: number, flags?: number): number;
  /**
   * Adds `value` (default 1) to the eventfd counter. Safe from any thread.
   *
   * @throws {InvalidArgumentError} Unless `fd` is an int32 and `value` an integer in
   * [1, 2^53].
   */
  eventfdWrite(fd: number, value?: number): void;
  /**
   * Reads and resets the counter; 0 when nothing was pending.
   *
   * @throws {InvalidArgumentError} Unless `fd` is an int32.
   */
  eventfdRead(fd: number): number;
  /** Creates a non-blocking CLOCK_MONOTONIC timerfd. */
  timerfdCreate(): number;
  /**
   * Arms the timerfd at an absolute monotonic deadline in ns; 0 disarms.
   *
   * @throws {InvalidArgumentError} Unless `fd` is an int32 and `absDeadlineNs` a number in
   * [0, 9.2e18].
   */
  timerfdSettime(fd: number, absDeadlineNs: number): void;
  /**
   * Reads and resets the expiration count; 0 when it has not expired.
   *
   * @throws {InvalidArgumentError} Unless `fd` is an int32.
   */
  timerfdRead(fd: number): number;
  /**
   * Closes a file descriptor.
   *
   * @throws {InvalidArgumentError} Unless `fd` is an int32.
   */
  close(fd: number): void;
  /**
   * Adds `eventfd` to the signal bridge: a process-wide set of eventfds that a C signal
   * handler writes when SIGINT or SIGTERM (or the given signal numbers) arrive, so that every
   * loop parked on a member wakes. The first member of a signal puts the handler in place; it
   * chains to the handler it replaced when that was a function, except one that would end the
   * process (SIG_DFL, SIG_IGN, or a handler installed with SA_RESETHAND).
   *
   * @throws {InvalidArgumentError} Unless `eventfd` is an int32 and `signals` an array of
   *   integers in [1, 31].
   * @throws {NativeError} `EINVAL` for a signal other than SIGINT, SIGTERM, SIGHUP, SIGQUIT,
   *   SIGUSR1 or SIGUSR2; `EEXIST` if it is already a member; `ENOSPC` when 1024 are.
   */
  signalBridgeAdd(eventfd: number, signals?: readonly number[]): void;
  /**
   * Removes `eventfd` from the signal bridge; a signal that loses its last member gets its
   * previous handler back. Returns once no handler can still write the eventfd, so it may be
   * closed at once.
   *
   * @throws {InvalidArgumentError} Unless `eventfd` is an int32.
   * @throws {NativeError} `ENOENT` if it is not a member; `EBUSY` if a handler on another
   *   thread did not finish in time (the eventfd left the set but must not be closed).
   */
  signalBridgeRemove(eventfd: number): void;
  /**
   * Puts the bridge's handler back on every bridged signal whose handler someone else replaced
   * since (a host runtime that installs its own later); the bridge then chains to it.
   *
   * @returns How many signals were taken back (0: nothing had changed).
   */
  signalBridgeReassert(): number;
  /** The last signal number the bridge received, or 0. */
  signalBridgeLast(): number;
  /** How many bridged signals arrived so far (no syscall; for spinning loops). */
  signalBridgeCount(): number;
  /**
   * Resolves after about `timeoutNs` using host timers (millisecond granularity); a negative
   * timeout resolves on the next timer tick.
   *
   * @throws {InvalidArgumentError} (rejects) Unless `timeoutNs` is a finite number.
   */
  sleep(timeoutNs: number): Promise<void>;

  // Sockets. These return the raw status (`>= 0` or `-errno`) instead of throwing, so the
  // network layer (`src/net/`) can branch on EAGAIN and map errors to its typed errors without
  // a try/catch in the hot path; a bad argument still throws InvalidArgumentError, as above
  // (fds and numbers int32; `buf[offset, offset + len)` inside an attached Uint8Array, offset
  // and len >= 0). Addresses travel in Uint8Arrays of at least ADDR_LEN (24) bytes (layout in
  // `ffi/native/wavelet.h`). The pure-JS backend throws UnsupportedError for all of them.

  /**
   * Parses a numeric IPv4/IPv6 address and a port into `out`; returns the family (4, 6), or
   * -EINVAL when `host` is not a numeric address.
   *
   * @throws {InvalidArgumentError} Unless `host` is a string, `port` an integer in
   * [0, 65535] and `out` a Uint8Array of at least 24 bytes.
   */
  addrParse(host: string, port: number, out: Uint8Array): number;
  /**
   * A non-blocking socket: family 4 or 6, type 1 = TCP, 2 = UDP; returns the fd or -errno.
   *
   * @throws {InvalidArgumentError} Unless `family` and `type` are int32 (other values: -EINVAL).
   */
  socketCreate(family: number, type: number): number;
  /**
   * `bind(2)`; returns 0 or -errno.
   *
   * @throws {InvalidArgumentError} Unless `fd` is an int32 and `addr` a Uint8Array of at least
   * 24 bytes.
   */
  socketBind(fd: number, addr: Uint8Array): number;
  /**
   * `listen(2)`; returns 0 or -errno.
   *
   * @throws {InvalidArgumentError} Unless `fd` and `backlog` are int32 (< 1: SOMAXCONN).
   */
  socketListen(fd: number, backlog: number): number;
  /**
   * `accept4(2)` (non-blocking, close-on-exec); returns the new fd or -errno (-EAGAIN).
   *
   * @throws {InvalidArgumentError} Unless `fd` is an int32 and `addrOut` null or a Uint8Array
   * of at least 24 bytes.
   */
  socketAccept(fd: number, addrOut: Uint8Array | null): number;
  /**
   * Non-blocking `connect(2)`; returns 0, -EINPROGRESS or -errno.
   *
   * @throws {InvalidArgumentError} Unless `fd` is an int32 and `addr` a Uint8Array of at least
   * 24 bytes.
   */
  socketConnect(fd: number, addr: Uint8Array): number;
  /**
   * Takes `SO_ERROR`: 0, a positive errno value, or -errno.
   *
   * @throws {InvalidArgumentError} Unless `fd` is an int32.
   */
  socketError(fd: number): number;
  /**
   * `recv(2)` into `buf[offset, offset + len)`; returns the count, 0 at EOF, or -errno.
   *
   * @throws {InvalidArgumentError} Unless `fd` is an int32 and the range lies in an attached
   * Uint8Array (`offset`, `len` integers >= 0).
   */
  socketRecv(fd: number, buf: Uint8Array, offset: number, len: number): number;
  /**
   * `send(2)` of `buf[offset, offset + len)` with MSG_NOSIGNAL; returns the count or -errno.
   *
   * @throws {InvalidArgumentError} Unless `fd` is an int32 and the range lies in an attached
   * Uint8Array (`offset`, `len` integers >= 0).
   */
  socketSend(fd: number, buf: Uint8Array, offset: number, len: number): number;
  /**
   * `recvfrom(2)` of one datagram; the sender goes to `addrOut`; returns the count or -errno.
   *
   * @throws {InvalidArgumentError} As {@linkcode socketRecv}, and unless `addrOut` is null or a
   * Uint8Array of at least 24 bytes.
   */
  socketRecvFrom(
    fd: number,
    buf: Uint8Array,
    offset: number,
    len: number,
    addrOut: Uint8Array | null,
  ): number;
  /**
   * `sendto(2)` of one datagram to `addr`; returns the count or -errno.
   *
   * @throws {InvalidArgumentError} As {@linkcode socketSend}, and unless `addr` is a
   * Uint8Array of at least 24 bytes.
   */
  socketSendTo(fd: number, buf: Uint8Array, offset: number, len: number, addr: Uint8Array): number;
  /**
   * `shutdown(2)`: 0 read, 1 write, 2 both; returns 0 or -errno.
   *
   * @throws {InvalidArgumentError} Unless `fd` and `how` are int32 (other values: -EINVAL).
   */
  socketShutdown(fd: number, how: number): number;
  /**
   * Sets an option ({@linkcode SocketOption}); returns 0 or -errno.
   *
   * @throws {InvalidArgumentError} Unless `fd`, `option` and `value` are int32 (an unknown
   * option: -ENOPROTOOPT).
   */
  socketSetOption(fd: number, option: number, value: number): number;
  /**
   * Reads an option ({@linkcode SocketOption}, not `Linger`); returns it or -errno.
   *
   * @throws {InvalidArgumentError} Unless `fd` and `option` are int32.
   */
  socketGetOption(fd: number, option: number): number;
  /**
   * getsockname (`peer` false) or getpeername into `out`; returns the family or -errno.
   *
   * @throws {InvalidArgumentError} Unless `fd` is an int32, `peer` a boolean and `out` a
   * Uint8Array of at least 24 bytes.
   */
  socketAddress(fd: number, peer: boolean, out: Uint8Array): number;
}

/** Signal numbers on Linux. */
export const Signal = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

/** Host timers fire at once for delays beyond this (about 24.8 days): longer sleeps chain. */
