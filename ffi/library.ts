/**
 * The native backend over a loaded library: {@linkcode LibraryBackend}, the
 * {@linkcode NativeBackend} that `ffi/load.ts` builds around the functions `ffi/bun.ts` or
 * `ffi/deno.ts` bound. Every method checks its arguments (`ffi/args.ts`) before the FFI call;
 * failing calls throw {@linkcode NativeError} (the socket calls return `-errno` instead).
 *
 * @module
 */

import { ADDR_LEN, Errno, MAX_EPOLL_EVENTS, type NativeBackend } from "./backend.ts";
import { checkStatus, NativeError } from "../src/core/system_errors.ts";
import { hostSleep } from "./sleep.ts";
import {
  checkBits32,
  checkByteRange,
  checkedSleep,
  checkInt,
  checkInt32,
  checkRealtimeOut,
  checkView,
  checkWait,
  CLOCK_BYTES,
  describe,
  EVENT_BYTES,
  I32_MAX,
  invalidArgument,
  isDetached,
  REALTIME_BYTES,
} from "./args.ts";
import { BunWaiterPool } from "./bun/waiter.ts";
import type { RawLibrary } from "./symbols.ts";

const ENCODER = new TextEncoder();

/**
 * The argument types of `signalBridgeAdd`: an int32 eventfd, and signal numbers that are
 * integers in [1, 31] (which signals the bridge allows is the C side's answer, EINVAL).
 */
function checkSignalArgs(eventfd: unknown, signals: unknown): void {
  const what = "add to the signal bridge";
  checkInt32(what, "eventfd", eventfd);
  if (signals === undefined) return;
  if (!Array.isArray(signals)) {
    throw invalidArgument(
      what,
      `signals must be an array of signal numbers, got ${describe(signals)}`,
    );
  }
  for (const s of signals) checkInt(what, "a signal number", s, 1, 31);
}

// Checked integers are passed as `x | 0`: that changes nothing but -0, which Deno's FFI refuses
// for an i32 (a TypeError) while Bun takes it as 0.

/** A buffer's byte size as a C `int32_t` capacity (the C side never needs more). */
function capOf(v: ArrayBufferView): number {
  const n = v.byteLength;
  return n < I32_MAX ? n : I32_MAX;
}

/** A backend-owned place for one async wait to write into (see `epollWaitAsync`). */
interface WaitScratch {
  readonly events: Int32Array;
  readonly clock: Float64Array;
}

const WAIT = "wait on epoll";
const RECV = "receive from a socket";
const SEND = "send on a socket";

/**
 * The native backend over a loaded library. Constructed by `ffi/load.ts`. Every method checks
 * its arguments (see `ffi/args.ts`) before the FFI call.
 */
export class LibraryBackend implements NativeBackend {
  /** See {@linkcode NativeBackend.kind}. */
  readonly kind: "bun" | "deno";
  /** See {@linkcode NativeBackend.path}. */
  readonly path: string;
  /** See {@linkcode NativeBackend.abiVersion}. */
  readonly abiVersion: number;
  /** See {@linkcode NativeBackend.hasEpoll}. */
  readonly hasEpoll = true;
  readonly #lib: RawLibrary;
  readonly #monotonic: () => number;
  readonly #wait: RawLibrary["wv_epoll_wait"];
  #waiters: BunWaiterPool | undefined;
  #noWaiter = false;
  /** Buffers of async waits: the native side never writes into caller memory off-thread. */
  readonly #scratch: WaitScratch[] = [];
  readonly #recv: RawLibrary["wv_socket_recv"];
  readonly #send: RawLibrary["wv_socket_send"];
  /** Scratch buffer for address text (numeric addresses are short). */
  readonly #text = new Uint8Array(64);

  /**
   * Wraps an opened library.
   *
   * @param lib The library functions from `ffi/bun/open.ts` or `ffi/deno/open.ts`.
   * @param kind Which loader opened it.
   * @param path The library file.
   */
  constructor(lib: RawLibrary, kind: "bun" | "deno", path: string) {
    this.#lib = lib;
    this.kind = kind;
    this.path = path;
    this.abiVersion = lib.wv_abi_version();
    this.#monotonic = lib.wv_clock_monotonic_ns;
    this.#wait = lib.wv_epoll_wait;
    this.#recv = lib.wv_socket_recv;
    this.#send = lib.wv_socket_send;
  }

  /** See {@linkcode NativeBackend.monotonicNs}. */
  monotonicNs(): number {
    return this.#monotonic();
  }

  /** See {@linkcode NativeBackend.realtime}. */
  realtime(out: Float64Array): void {
    if (!(out instanceof Float64Array && out.byteLength >= REALTIME_BYTES)) checkRealtimeOut(out);
    checkStatus("clock_realtime", this.#lib.wv_clock_realtime(out, capOf(out)));
  }

  /** See {@linkcode NativeBackend.realtimeNs}. */
  realtimeNs(): number {
    return checkStatus("clock_realtime", this.#lib.wv_clock_realtime_ns());
  }

  /** See {@linkcode NativeBackend.epollCreate}. */
  epollCreate(): number {
    return checkStatus("epoll_create", this.#lib.wv_epoll_create());
  }

  /** See {@linkcode NativeBackend.epollCtl}. */
  epollCtl(epfd: number, op: number, fd: number, events: number, data: number): void {
    const what = "register with epoll";
    checkInt32(what, "epfd", epfd);
    checkInt(what, "op", op, 1, 3);
    checkInt32(what, "fd", fd);
    const ev = checkBits32(what, "events", events), token = checkBits32(what, "data", data);
    const rc = this.#lib.wv_epoll_ctl(epfd | 0, op | 0, fd | 0, ev, token);
    if (rc < 0) throw new NativeError("epoll_ctl", -rc, `epfd ${epfd}, op ${op}, fd ${fd}`);
  }

  /** See {@linkcode NativeBackend.epollWait}. */
  epollWait(
    epfd: number,
    events: Int32Array,
    maxEvents: number,
    timeoutNs: number,
    clockOut: Float64Array | null,
  ): number {
    // The checks of every Park cycle: a few comparisons; the explaining path only on failure.
    if (
      !(typeof epfd === "number" && (epfd | 0) === epfd && events instanceof Int32Array &&
        typeof maxEvents === "number" && (maxEvents | 0) === maxEvents && maxEvents > 0 &&
        events.byteLength >= maxEvents * EVENT_BYTES && typeof timeoutNs === "number" &&
        timeoutNs === timeoutNs &&
        (clockOut === null || (clockOut instanceof Float64Array && clockOut.byteLength >= 8)))
    ) checkWait(WAIT, epfd, events, maxEvents, timeoutNs, clockOut);
    const n = this.#wait(
      epfd | 0,
      events,
      capOf(events),
      maxEvents | 0,
      timeoutNs,
      clockOut,
      clockOut === null ? 0 : capOf(clockOut),
    );
    return n >= 0 ? n : checkStatus("epoll_wait", n);
  }

  /** See {@linkcode NativeBackend.epollWaitAsync}. */
  epollWaitAsync(
    epfd: number,
    events: Int32Array,
    maxEvents: number,
    timeoutNs: number,
    clockOut: Float64Array | null,
  ): Promise<number> {
    try {
      checkWait(WAIT, epfd, events, maxEvents, timeoutNs, clockOut);
    } catch (e) {
      return Promise.reject(e);
    }
    // The wait writes into backend-owned buffers, copied out once it settled and the caller's
    // buffers were checked again: a caller buffer transferred or shrunk meanwhile is never
    // written by the other thread (Deno's nonblocking call, Bun's waiter Worker).
    const s = this.#scratch.pop() ??
      { events: new Int32Array(2 * MAX_EPOLL_EVENTS), clock: new Float64Array(1) };
    const max = maxEvents < MAX_EPOLL_EVENTS ? maxEvents : MAX_EPOLL_EVENTS;
    return this.#waitInto(s, epfd, max, timeoutNs).then(
      (n) => this.#deliver(s, n, events, maxEvents, clockOut),
      (e) => {
        this.#scratch.push(s);
        throw e;
      },
    );
  }

  /** Starts an async wait into `s`; resolves the raw count (or -errno). */
  #waitInto(s: WaitScratch, epfd: number, max: number, timeoutNs: number): Promise<number> {
    const asyncWait = this.#lib.wv_epoll_wait_async;
    if (asyncWait !== undefined) {
      return asyncWait(
        epfd | 0,
        s.events,
        s.events.byteLength,
        max,
        timeoutNs,
        s.clock,
        CLOCK_BYTES,
      );
    }
    if (this.kind === "bun" && typeof Atomics.waitAsync === "function" && !this.#noWaiter) {
      // A waiter Worker makes the blocking wait; this thread awaits Atomics.waitAsync.
      this.#waiters ??= new BunWaiterPool(this.path);
      return this.#waiters.wait(epfd | 0, s.events, max, timeoutNs, s.clock).catch(() => {
        // No Worker here (a sandbox, a missing module): poll instead, from now on.
        this.#noWaiter = true;
        return this.#pollWait(epfd, s.events, max, timeoutNs, s.clock);
      });
    }
    return this.#pollWait(epfd, s.events, max, timeoutNs, s.clock);
  }

  /** Hands a settled async wait's results to the caller's buffers, if they are still there. */
  #deliver(
    s: WaitScratch,
    n: number,
    events: Int32Array,
    maxEvents: number,
    clockOut: Float64Array | null,
  ): number {
    try {
      if (n < 0) return checkStatus("epoll_wait", n);
      if (
        !(events.byteLength >= maxEvents * EVENT_BYTES) ||
        (clockOut !== null && !(clockOut.byteLength >= CLOCK_BYTES))
      ) {
        throw invalidArgument(
          WAIT,
          `the events or clockOut buffer was detached or shrunk while the wait was in flight, ` +
            (n === 1 ? "so the event it returned was" : `so the ${n} events it returned were`) +
            " not delivered",
        );
      }
      const from = s.events;
      for (let i = 0; i < 2 * n; i++) events[i] = from[i];
      if (clockOut !== null) clockOut[0] = s.clock[0];
      return n;
    } finally {
      this.#scratch.push(s);
    }
  }

  /** The async wait without a nonblocking FFI: zero-timeout polls between host timer ticks. */
  async #pollWait(
    epfd: number,
    events: Int32Array,
    maxEvents: number,
    timeoutNs: number,
    clockOut: Float64Array,
  ): Promise<number> {
    const forever = timeoutNs < 0 || timeoutNs === Infinity;
    const deadline = forever ? Infinity : this.monotonicNs() + timeoutNs;
    for (;;) {
      const n = this.epollWait(epfd, events, maxEvents, 0, clockOut);
      if (n > 0) return n;
      const left = deadline - this.monotonicNs();
      if (left <= 0) return 0;
      if (left < 1e6) {
        // Less than a host timer tick left: finish with a short blocking wait.
        return this.epollWait(epfd, events, maxEvents, left, clockOut);
      }
      await hostSleep(Math.min(left - 1e6, 1e6));
    }
  }

  /** See {@linkcode NativeBackend.eventfdCreate}. */
  eventfdCreate(initval = 0, flags = 0): number {
    checkInt("create an eventfd", "initval", initval, 0, 0xffffffff);
    checkInt("create an eventfd", "flags", flags, 0, 3);
    return checkStatus("eventfd_create", this.#lib.wv_eventfd_create(initval >>> 0, flags | 0));
  }

  /** See {@linkcode NativeBackend.eventfdWrite}. */
  eventfdWrite(fd: number, value = 1): void {
    if (
      !(typeof fd === "number" && (fd | 0) === fd && typeof value === "number" &&
        value >= 1 && value <= 2 ** 53 && Math.floor(value) === value)
    ) {
      checkInt32("write an eventfd", "fd", fd);
      checkInt("write an eventfd", "value", value, 1, 2 ** 53);
    }
    const rc = this.#lib.wv_eventfd_write(fd | 0, value);
    if (rc < 0) throw new NativeError("eventfd_write", -rc, `fd ${fd}`);
  }

  /** See {@linkcode NativeBackend.eventfdRead}. */
  eventfdRead(fd: number): number {
    checkInt32("read an eventfd", "fd", fd);
    const n = this.#lib.wv_eventfd_read(fd | 0);
    if (n >= 0) return n;
    if (n === -Errno.EAGAIN) return 0;
    throw new NativeError("eventfd_read", -n, `fd ${fd}`);
  }

  /** See {@linkcode NativeBackend.timerfdCreate}. */
  timerfdCreate(): number {
    return checkStatus("timerfd_create", this.#lib.wv_timerfd_create());
  }

  /** See {@linkcode NativeBackend.timerfdSettime}. */
  timerfdSettime(fd: number, absDeadlineNs: number): void {
    checkInt32("arm a timerfd", "fd", fd);
    if (!(typeof absDeadlineNs === "number" && absDeadlineNs >= 0 && absDeadlineNs <= 9.2e18)) {
      throw invalidArgument(
        "arm a timerfd",
        `absDeadlineNs must be a number of nanoseconds in [0, 9.2e18], got ${
          describe(absDeadlineNs)
        }`,
      );
    }
    const rc = this.#lib.wv_timerfd_settime(fd | 0, absDeadlineNs);
    if (rc < 0) {
      throw new NativeError("timerfd_settime", -rc, `fd ${fd}, deadline ${absDeadlineNs} ns`);
    }
  }

  /** See {@linkcode NativeBackend.timerfdRead}. */
  timerfdRead(fd: number): number {
    checkInt32("read a timerfd", "fd", fd);
    const n = this.#lib.wv_timerfd_read(fd | 0);
    if (n >= 0) return n;
    if (n === -Errno.EAGAIN) return 0;
    throw new NativeError("timerfd_read", -n, `fd ${fd}`);
  }

  /** See {@linkcode NativeBackend.close}. */
  close(fd: number): void {
    checkInt32("close a fd", "fd", fd);
    const rc = this.#lib.wv_close(fd | 0);
    if (rc < 0) throw new NativeError("close", -rc, `fd ${fd}`);
  }

  /** See {@linkcode NativeBackend.signalBridgeAdd}. */
  signalBridgeAdd(eventfd: number, signals?: readonly number[]): void {
    checkSignalArgs(eventfd, signals);
    let mask = 0;
    for (const s of signals ?? []) mask = (mask | (1 << s)) >>> 0;
    const rc = this.#lib.wv_signal_bridge_add(eventfd | 0, mask);
    if (rc < 0) throw new NativeError("signal_bridge_add", -rc, `eventfd ${eventfd}`);
  }

  /** See {@linkcode NativeBackend.signalBridgeRemove}. */
  signalBridgeRemove(eventfd: number): void {
    checkInt32("remove from the signal bridge", "eventfd", eventfd);
    const rc = this.#lib.wv_signal_bridge_remove(eventfd | 0);
    if (rc < 0) throw new NativeError("signal_bridge_remove", -rc, `eventfd ${eventfd}`);
  }

  /** See {@linkcode NativeBackend.signalBridgeReassert}. */
  signalBridgeReassert(): number {
    return checkStatus("signal_bridge_reassert", this.#lib.wv_signal_bridge_reassert());
  }

  /** See {@linkcode NativeBackend.signalBridgeLast}. */
  signalBridgeLast(): number {
    return this.#lib.wv_signal_bridge_last();
  }

  /** See {@linkcode NativeBackend.signalBridgeCount}. */
  signalBridgeCount(): number {
    return this.#lib.wv_signal_bridge_count();
  }

  /** See {@linkcode NativeBackend.sleep}. */
  sleep(timeoutNs: number): Promise<void> {
    return checkedSleep(timeoutNs);
  }

  /** See {@linkcode NativeBackend.addrParse}. */
  addrParse(host: string, port: number, out: Uint8Array): number {
    const what = "parse a socket address";
    if (typeof host !== "string") {
      throw invalidArgument(what, `host must be a string, got ${describe(host)}`);
    }
    checkInt(what, "port", port, 0, 65535);
    checkView(what, "out", out, Uint8Array, ADDR_LEN);
    const text = this.#text;
    const { read, written } = ENCODER.encodeInto(host, text);
    if (read !== host.length || written === 0) return -Errno.EINVAL;
    return this.#lib.wv_addr_parse(text, written, port | 0, out, capOf(out));
  }

  /** See {@linkcode NativeBackend.socketCreate}. */
  socketCreate(family: number, type: number): number {
    checkInt32("create a socket", "family", family);
    checkInt32("create a socket", "type", type);
    return this.#lib.wv_socket_create(family | 0, type | 0);
  }

  /** See {@linkcode NativeBackend.socketBind}. */
  socketBind(fd: number, addr: Uint8Array): number {
    checkInt32("bind a socket", "fd", fd);
    checkView("bind a socket", "addr", addr, Uint8Array, ADDR_LEN);
    return this.#lib.wv_socket_bind(fd | 0, addr, capOf(addr));
  }

  /** See {@linkcode NativeBackend.socketListen}. */
  socketListen(fd: number, backlog: number): number {
    checkInt32("listen on a socket", "fd", fd);
    checkInt32("listen on a socket", "backlog", backlog);
    return this.#lib.wv_socket_listen(fd | 0, backlog | 0);
  }

  /** See {@linkcode NativeBackend.socketAccept}. */
  socketAccept(fd: number, addrOut: Uint8Array | null): number {
    checkInt32("accept a connection", "fd", fd);
    checkView("accept a connection", "addrOut", addrOut, Uint8Array, ADDR_LEN, true);
    return this.#lib.wv_socket_accept(fd | 0, addrOut, addrOut === null ? 0 : capOf(addrOut));
  }

  /** See {@linkcode NativeBackend.socketConnect}. */
  socketConnect(fd: number, addr: Uint8Array): number {
    checkInt32("connect a socket", "fd", fd);
    checkView("connect a socket", "addr", addr, Uint8Array, ADDR_LEN);
    return this.#lib.wv_socket_connect(fd | 0, addr, capOf(addr));
  }

  /** See {@linkcode NativeBackend.socketError}. */
  socketError(fd: number): number {
    checkInt32("read a socket error", "fd", fd);
    return this.#lib.wv_socket_error(fd | 0);
  }

  /** See {@linkcode NativeBackend.socketRecv}. */
  socketRecv(fd: number, buf: Uint8Array, offset: number, len: number): number {
    if (
      !(typeof fd === "number" && (fd | 0) === fd && buf instanceof Uint8Array &&
        typeof offset === "number" && (offset | 0) === offset && offset >= 0 &&
        typeof len === "number" && (len | 0) === len && len >= 0 &&
        offset + len <= buf.byteLength && (buf.byteLength !== 0 || !isDetached(buf)))
    ) {
      checkInt32(RECV, "fd", fd);
      checkByteRange(RECV, buf, offset, len);
    }
    return this.#recv(fd | 0, buf, capOf(buf), offset | 0, len | 0, 0);
  }

  /** See {@linkcode NativeBackend.socketSend}. */
  socketSend(fd: number, buf: Uint8Array, offset: number, len: number): number {
    if (
      !(typeof fd === "number" && (fd | 0) === fd && buf instanceof Uint8Array &&
        typeof offset === "number" && (offset | 0) === offset && offset >= 0 &&
        typeof len === "number" && (len | 0) === len && len >= 0 &&
        offset + len <= buf.byteLength && (buf.byteLength !== 0 || !isDetached(buf)))
    ) {
      checkInt32(SEND, "fd", fd);
      checkByteRange(SEND, buf, offset, len);
    }
    return this.#send(fd | 0, buf, capOf(buf), offset | 0, len | 0, 0);
  }

  /** See {@linkcode NativeBackend.socketRecvFrom}. */
  socketRecvFrom(
    fd: number,
    buf: Uint8Array,
    offset: number,
    len: number,
    addrOut: Uint8Array | null,
  ): number {
    const what = "receive a datagram";
    checkInt32(what, "fd", fd);
    checkByteRange(what, buf, offset, len);
    checkView(what, "addrOut", addrOut, Uint8Array, ADDR_LEN, true);
    return this.#lib.wv_socket_recvfrom(
      fd | 0,
      buf,
      capOf(buf),
      offset | 0,
      len | 0,
      addrOut,
      addrOut === null ? 0 : capOf(addrOut),
    );
  }

  /** See {@linkcode NativeBackend.socketSendTo}. */
  socketSendTo(fd: number, buf: Uint8Array, offset: number, len: number, addr: Uint8Array): number {
    const what = "send a datagram";
    checkInt32(what, "fd", fd);
    checkByteRange(what, buf, offset, len);
    checkView(what, "addr", addr, Uint8Array, ADDR_LEN);
    return this.#lib.wv_socket_sendto(
      fd | 0,
      buf,
      capOf(buf),
      offset | 0,
      len | 0,
      addr,
      capOf(addr),
    );
  }

  /** See {@linkcode NativeBackend.socketShutdown}. */
  socketShutdown(fd: number, how: number): number {
    checkInt32("shut a socket down", "fd", fd);
    checkInt32("shut a socket down", "how", how);
    return this.#lib.wv_socket_shutdown(fd | 0, how | 0);
  }

  /** See {@linkcode NativeBackend.socketSetOption}. */
  socketSetOption(fd: number, option: number, value: number): number {
    checkInt32("set a socket option", "fd", fd);
    checkInt32("set a socket option", "option", option);
    checkInt32("set a socket option", "value", value);
    return this.#lib.wv_socket_setopt(fd | 0, option | 0, value | 0);
  }

  /** See {@linkcode NativeBackend.socketGetOption}. */
  socketGetOption(fd: number, option: number): number {
    checkInt32("read a socket option", "fd", fd);
    checkInt32("read a socket option", "option", option);
    return this.#lib.wv_socket_getopt(fd | 0, option | 0);
  }

  /** See {@linkcode NativeBackend.socketAddress}. */
  socketAddress(fd: number, peer: boolean, out: Uint8Array): number {
    const what = "read a socket address";
    checkInt32(what, "fd", fd);
    if (typeof peer !== "boolean") {
      throw invalidArgument(what, `peer must be a boolean, got ${describe(peer)}`);
    }
    checkView(what, "out", out, Uint8Array, ADDR_LEN);
    return this.#lib.wv_socket_address(fd | 0, peer ? 1 : 0, out, capOf(out));
  }
}
