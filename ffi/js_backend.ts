/**
 * The pure-JS backend: no FFI. Used on Node, on Deno without `--allow-ffi`, or when asked for
 * (`loadBackend({ prefer: "js" })`). Clocks come from the host (`performance.now()`, and wall
 * time calibrated against `Date.now()`), waits from host timers. Everything that needs epoll,
 * eventfd, timerfd or the signal bridge throws {@linkcode UnsupportedError} (whatever the
 * arguments: the operation itself is missing). `realtime` and `sleep` check their arguments
 * as the native backend does (`ffi/args.ts`).
 *
 * @module
 */

import { ABI_VERSION } from "./symbols.ts";
import type { NativeBackend } from "./backend.ts";
import { UnsupportedError } from "../src/core/system_errors.ts";
import { checkedSleep, checkRealtimeOut, REALTIME_BYTES } from "./args.ts";

const WHY = "the pure-JS backend has no epoll, eventfd, timerfd, sockets or signal bridge " +
  "(load the native backend: Bun, or Deno with --allow-ffi)";

/** How often the wall-clock offset is checked against `Date.now()`, in milliseconds. */
const RECHECK_MS = 1000;

/**
 * The pure-JS backend. Its monotonic clock is `performance.now()` in nanoseconds (microsecond
 * resolution or better on Bun and Deno). Its wall clock is `performance.now()` plus an offset
 * taken at a `Date.now()` millisecond edge, so it has sub-millisecond resolution and follows
 * `Date.now()` to within about a millisecond; the offset is re-taken when the two drift apart
 * by more than 1 ms (NTP steps).
 */
export class JsBackend implements NativeBackend {
  /** See {@linkcode NativeBackend.kind}. */
  readonly kind = "js" as const;
  /** See {@linkcode NativeBackend.path}. */
  readonly path = null;
  /** See {@linkcode NativeBackend.abiVersion}. */
  readonly abiVersion: number = ABI_VERSION;
  /** See {@linkcode NativeBackend.hasEpoll}. */
  readonly hasEpoll = false;
  /** Wall ms minus performance.now() ms. */
  #offsetMs = NaN;
  #lastCheckMs = -Infinity;

  /** See {@linkcode NativeBackend.monotonicNs}. */
  monotonicNs(): number {
    return performance.now() * 1e6;
  }

  /** Takes the offset at a Date.now() edge (spins up to 1 ms). */
  #calibrate(): void {
    const start = Date.now();
    let wall = start, mono = performance.now();
    const limit = mono + 2;
    while (wall === start && mono < limit) {
      wall = Date.now();
      mono = performance.now();
    }
    this.#offsetMs = wall - mono;
    this.#lastCheckMs = mono;
  }

  #wallMs(): number {
    const mono = performance.now();
    if (mono - this.#lastCheckMs >= RECHECK_MS || this.#offsetMs !== this.#offsetMs) {
      const predicted = this.#offsetMs + mono;
      if (!(Math.abs(Date.now() - predicted) <= 1.5)) this.#calibrate();
      this.#lastCheckMs = mono;
      return this.#offsetMs + performance.now();
    }
    return this.#offsetMs + mono;
  }

  /** See {@linkcode NativeBackend.realtime}. */
  realtime(out: Float64Array): void {
    // The same check as the native backend's: a short array would silently drop the writes.
    if (!(out instanceof Float64Array && out.byteLength >= REALTIME_BYTES)) checkRealtimeOut(out);
    const wallMs = this.#wallMs();
    const sec = Math.floor(wallMs / 1e3);
    let sub = Math.round((wallMs - sec * 1e3) * 1e6);
    let s = sec;
    if (sub >= 1e9) {
      sub -= 1e9;
      s += 1;
    }
    out[0] = s;
    out[1] = sub;
  }

  /** See {@linkcode NativeBackend.realtimeNs}. */
  realtimeNs(): number {
    return this.#wallMs() * 1e6;
  }

  /** See {@linkcode NativeBackend.epollCreate}. */
  epollCreate(): number {
    throw new UnsupportedError("create an epoll instance", WHY);
  }
  /** See {@linkcode NativeBackend.epollCtl}. */
  epollCtl(_epfd: number, _op: number, _fd: number, _events: number, _data: number): void {
    throw new UnsupportedError("register with epoll", WHY);
  }
  /** See {@linkcode NativeBackend.epollWait}. */
  epollWait(
    _epfd: number,
    _events: Int32Array,
    _maxEvents: number,
    _timeoutNs: number,
    _clockOut: Float64Array | null,
  ): number {
    throw new UnsupportedError("wait on epoll", WHY);
  }
  /** See {@linkcode NativeBackend.epollWaitAsync}. */
  epollWaitAsync(
    _epfd: number,
    _events: Int32Array,
    _maxEvents: number,
    _timeoutNs: number,
    _clockOut: Float64Array | null,
  ): Promise<number> {
    return Promise.reject(new UnsupportedError("wait on epoll", WHY));
  }
  /** See {@linkcode NativeBackend.eventfdCreate}. */
  eventfdCreate(_initval?: number, _flags?: number): number {
    throw new UnsupportedError("create an eventfd", WHY);
  }
  /** See {@linkcode NativeBackend.eventfdWrite}. */
  eventfdWrite(_fd: number, _value?: number): void {
    throw new UnsupportedError("write an eventfd", WHY);
  }
  /** See {@linkcode NativeBackend.eventfdRead}. */
  eventfdRead(_fd: number): number {
    throw new UnsupportedError("read an eventfd", WHY);
  }
  /** See {@linkcode NativeBackend.timerfdCreate}. */
  timerfdCreate(): number {
    throw new UnsupportedError("create a timerfd", WHY);
  }
  /** See {@linkcode NativeBackend.timerfdSettime}. */
  timerfdSettime(_fd: number, _absDeadlineNs: number): void {
    throw new UnsupportedError("arm a timerfd", WHY);
  }
  /** See {@linkcode NativeBackend.timerfdRead}. */
  timerfdRead(_fd: number): number {
    throw new UnsupportedError("read a timerfd", WHY);
  }
  /** See {@linkcode NativeBackend.close}. */
  close(_fd: number): void {
    throw new UnsupportedError("close a native fd", WHY);
  }
  /** See {@linkcode NativeBackend.signalBridgeAdd}. */
  signalBridgeAdd(_eventfd: number, _signals?: readonly number[]): void {
    throw new UnsupportedError("add to the signal bridge", WHY);
  }
  /** See {@linkcode NativeBackend.signalBridgeRemove}. */
  signalBridgeRemove(_eventfd: number): void {
    throw new UnsupportedError("remove from the signal bridge", WHY);
  }
  /** See {@linkcode NativeBackend.signalBridgeReassert}. */
  signalBridgeReassert(): number {
    return 0;
  }
  /** See {@linkcode NativeBackend.signalBridgeLast}. */
  signalBridgeLast(): number {
    return 0;
  }
  /** See {@linkcode NativeBackend.signalBridgeCount}. */
  signalBridgeCount(): number {
    return 0;
  }
  /** See {@linkcode NativeBackend.addrParse}. */
  addrParse(_host: string, _port: number, _out: Uint8Array): number {
    throw new UnsupportedError("parse a socket address", WHY);
  }
  /** See {@linkcode NativeBackend.socketCreate}. */
  socketCreate(_family: number, _type: number): number {
    throw new UnsupportedError("create a socket", WHY);
  }
  /** See {@linkcode NativeBackend.socketBind}. */
  socketBind(_fd: number, _addr: Uint8Array): number {
    throw new UnsupportedError("bind a socket", WHY);
  }
  /** See {@linkcode NativeBackend.socketListen}. */
  socketListen(_fd: number, _backlog: number): number {
    throw new UnsupportedError("listen on a socket", WHY);
  }
  /** See {@linkcode NativeBackend.socketAccept}. */
  socketAccept(_fd: number, _addrOut: Uint8Array | null): number {
    throw new UnsupportedError("accept a connection", WHY);
  }
  /** See {@linkcode NativeBackend.socketConnect}. */
  socketConnect(_fd: number, _addr: Uint8Array): number {
    throw new UnsupportedError("connect a socket", WHY);
  }
  /** See {@linkcode NativeBackend.socketError}. */
  socketError(_fd: number): number {
    throw new UnsupportedError("read a socket error", WHY);
  }
  /** See {@linkcode NativeBackend.socketRecv}. */
  socketRecv(_fd: number, _buf: Uint8Array, _offset: number, _len: number): number {
    throw new UnsupportedError("receive from a socket", WHY);
  }
  /** See {@linkcode NativeBackend.socketSend}. */
  socketSend(_fd: number, _buf: Uint8Array, _offset: number, _len: number): number {
    throw new UnsupportedError("send on a socket", WHY);
  }
  /** See {@linkcode NativeBackend.socketRecvFrom}. */
  socketRecvFrom(
    _fd: number,
    _buf: Uint8Array,
    _offset: number,
    _len: number,
    _addrOut: Uint8Array | null,
  ): number {
    throw new UnsupportedError("receive a datagram", WHY);
  }
  /** See {@linkcode NativeBackend.socketSendTo}. */
  socketSendTo(
    _fd: number,
    _buf: Uint8Array,
    _offset: number,
    _len: number,
    _addr: Uint8Array,
  ): number {
    throw new UnsupportedError("send a datagram", WHY);
  }
  /** See {@linkcode NativeBackend.socketShutdown}. */
  socketShutdown(_fd: number, _how: number): number {
    throw new UnsupportedError("shut a socket down", WHY);
  }
  /** See {@linkcode NativeBackend.socketSetOption}. */
  socketSetOption(_fd: number, _option: number, _value: number): number {
    throw new UnsupportedError("set a socket option", WHY);
  }
  /** See {@linkcode NativeBackend.socketGetOption}. */
  socketGetOption(_fd: number, _option: number): number {
    throw new UnsupportedError("read a socket option", WHY);
  }
  /** See {@linkcode NativeBackend.socketAddress}. */
  socketAddress(_fd: number, _peer: boolean, _out: Uint8Array): number {
    throw new UnsupportedError("read a socket address", WHY);
  }
  /** See {@linkcode NativeBackend.sleep}. */
  sleep(timeoutNs: number): Promise<void> {
    return checkedSleep(timeoutNs);
  }
}
