/**
 * I/O readiness: file descriptors registered in the runtime's epoll set, each tied to a node.
 * Readiness schedules the node (de-duplicated like every stimulus) and is recorded per
 * registration for the cycle, so the node can ask what it got. Registrations belong to their
 * node and are removed with it; the fd itself stays owned by whoever opened it.
 *
 * @module
 */

import { describe } from "../core/validate.ts";
import { CapacityError, ErrorCode, InvalidArgumentError, WaveletError } from "../core/errors.ts";

/**
 * Readiness bits (the epoll values). An interest is a combination of `Readable`, `Writable`
 * and optionally `EdgeTriggered`; `Error` and `HangUp` are always reported.
 *
 * @example Waking a node when an eventfd is readable
 * ```ts
 * import { ms, NodeBuilder, Readiness, RealtimeRuntime } from "@wavelet/wavelet";
 *
 * const rt = new RealtimeRuntime();
 * const b = rt.backend;
 * const fd = b.hasEpoll ? b.eventfdCreate() : -1; // -1: the pure-JS backend has no epoll
 * try {
 *   if (fd >= 0) {
 *     let got = 0;
 *     const node = new NodeBuilder(0).build(rt.executor, (_self, ctx) => {
 *       got = ctx.ioReadiness(handle);
 *       b.eventfdRead(fd); // consume, or a level-triggered fd stays ready
 *     });
 *     const handle = rt.executor.registerIo(fd, node, Readiness.Readable);
 *     b.eventfdWrite(fd, 1);
 *     rt.runOneCycle(ms(100));
 *     if ((got & Readiness.Readable) === 0) throw new Error("the node saw Readable");
 *   }
 * } finally {
 *   rt.shutdown(); // removes the registration
 *   if (fd >= 0) b.close(fd); // the fd stays the caller's to close
 * }
 * ```
 */
export const Readiness = {
  // The values of ffi/backend.ts's EpollEvents, written as literals (the npm build's declaration
  // emit types a member copied from another constant as `any`); a test checks they agree.
  /** Data (or a connection, or EOF) can be read without blocking. */
  Readable: 0x001,
  /** Data can be written without blocking (or a connect completed). */
  Writable: 0x004,
  /** An error is pending on the fd (read `SO_ERROR`, or just try the I/O). */
  Error: 0x008,
  /** The peer closed the connection both ways. */
  HangUp: 0x010,
  /** The peer shut down its writing half (EOF after the buffered data). */
  ReadHangUp: 0x2000,
  /** Edge-triggered registration: report changes only; the node must read until EAGAIN. */
  EdgeTriggered: 0x80000000,
} as const;

/**
 * Identifies one I/O registration. It names its executor, so a handle given to another
 * executor is refused instead of touching an unrelated registration; treat it as opaque.
 *
 * @example Registering and deregistering
 * ```ts
 * import { type IoHandle, NodeBuilder, Readiness, RealtimeRuntime } from "@wavelet/wavelet";
 *
 * const rt = new RealtimeRuntime();
 * const b = rt.backend;
 * const fd = b.hasEpoll ? b.eventfdCreate() : -1; // -1: the pure-JS backend has no epoll
 * try {
 *   if (fd >= 0) {
 *     const node = new NodeBuilder(0).build(rt.executor, () => false);
 *     const handle: IoHandle = rt.executor.registerIo(fd, node, Readiness.Writable);
 *     rt.runOneCycle(); // an eventfd is always writable
 *     if ((rt.executor.ioReadiness(handle) & Readiness.Writable) === 0) throw new Error("ready");
 *     if (!rt.executor.deregisterIo(handle)) throw new Error("it was registered");
 *     if (rt.executor.deregisterIo(handle)) throw new Error("deregistered only once");
 *   }
 * } finally {
 *   rt.shutdown(); // removes the registration
 *   if (fd >= 0) b.close(fd); // the fd stays the caller's to close
 * }
 * ```
 */
export class IoHandle {
  /** @internal The executor that issued the handle. */
  readonly _owner: object;
  /** @internal The driver's id of the registration. */
  readonly _id: number;

  /** @internal */
  constructor(owner: object, id: number) {
    this._owner = owner;
    this._id = id;
  }
}

/**
 * What the I/O driver needs from the runtime's poller (the epoll set).
 *
 * @example A poller that records registrations
 * ```ts
 * import { type IoPoller, Readiness } from "./io.ts";
 *
 * // What an epoll set does, kept in a map (RealtimeRuntime is the real implementation).
 * const registered = new Map<number, { events: number; token: number }>();
 * const poller: IoPoller = {
 *   ioAdd: (fd, events, token) => void registered.set(fd, { events, token }),
 *   ioModify: (fd, events, token) => void registered.set(fd, { events, token }),
 *   ioRemove: (fd) => void registered.delete(fd),
 * };
 * poller.ioAdd(7, Readiness.Readable, 0);
 * poller.ioModify(7, Readiness.Readable | Readiness.Writable, 0);
 * if (registered.get(7)?.events !== (Readiness.Readable | Readiness.Writable)) {
 *   throw new Error("the interest changed");
 * }
 * poller.ioRemove(7);
 * if (registered.size !== 0) throw new Error("removed");
 * ```
 */
export interface IoPoller {
  /** Adds `fd` with `events`; events come back tagged with `token`. */
  ioAdd(fd: number, events: number, token: number): void;
  /** Changes the events of a registered fd. */
  ioModify(fd: number, events: number, token: number): void;
  /** Removes `fd` from the set (a closed fd is fine). */
  ioRemove(fd: number): void;
}

const TOKEN_BITS = 24;
const TOKENS = 1 << TOKEN_BITS;
const INTEREST_MASK = (Readiness.Readable | Readiness.Writable | Readiness.EdgeTriggered) >>> 0;

/** The registration table of one executor. */
export class IoDriver {
  readonly #poller: IoPoller;
  #fd = new Int32Array(64).fill(-1);
  #slot = new Int32Array(64);
  #gen = new Int32Array(64);
  #interest = new Uint32Array(64);
  #ready = new Int32Array(64);
  #readyTick = new Int32Array(64).fill(-1);
  #reuse = new Int32Array(64);
  #free: number[] = [];
  #next = 0;
  #count = 0;

  /** Creates a driver over a poller. */
  constructor(poller: IoPoller) {
    this.#poller = poller;
  }

  /** Live registrations. */
  get count(): number {
    return this.#count;
  }

  /**
   * Registers `fd` for node (slot, gen) with an interest; returns the handle.
   *
   * @throws {InvalidArgumentError} On a bad fd or interest.
   */
  register(fd: number, slot: number, gen: number, interest: number): number {
    checkFd(fd);
    const events = checkInterest(interest);
    let t: number;
    if (this.#free.length > 0) t = this.#free.pop()!;
    else {
      if (this.#next >= TOKENS) {
        throw new CapacityError(
          `Cannot register more than ${TOKENS} I/O sources`,
        );
      }
      t = this.#next++;
      if (t >= this.#fd.length) this.#grow();
    }
    this.#poller.ioAdd(fd, events, t); // may throw (EBADF, EEXIST, EPERM): nothing is kept
    this.#fd[t] = fd;
    this.#slot[t] = slot;
    this.#gen[t] = gen;
    this.#interest[t] = events;
    this.#ready[t] = 0;
    this.#readyTick[t] = -1;
    this.#count++;
    return this.#reuse[t] * TOKENS + t;
  }

  /** The token of a live handle, or -1. */
  token(handle: number): number {
    if (typeof handle !== "number" || !(handle >= 0)) return -1;
    const t = handle % TOKENS;
    if (t >= this.#next || this.#fd[t] < 0) return -1;
    return this.#reuse[t] === Math.floor(handle / TOKENS) ? t : -1;
  }

  /** The slot owning a live handle, or -1. */
  slotOf(handle: number): number {
    const t = this.token(handle);
    return t < 0 ? -1 : this.#slot[t];
  }

  /**
   * Changes the interest of a live registration.
   *
   * @throws {WaveletError} If the handle is not live.
   */
  reregister(handle: number, interest: number): void {
    const t = this.#live(handle);
    const events = checkInterest(interest);
    this.#poller.ioModify(this.#fd[t], events, t);
    this.#interest[t] = events;
  }

  /** Removes a registration; returns false if it was not live. */
  deregister(handle: number): boolean {
    const t = this.token(handle);
    if (t < 0) return false;
    const fd = this.#fd[t];
    this.#fd[t] = -1;
    this.#reuse[t] = (this.#reuse[t] + 1) & 0x1fffffff;
    this.#free.push(t);
    this.#count--;
    try {
      this.#poller.ioRemove(fd);
    } catch {
      // The fd was closed already, which removed it from the set.
    }
    return true;
  }

  /** Readiness bits a registration got in the cycle with `tick` (0 if none). */
  readiness(handle: number, tick: number): number {
    const t = this.token(handle);
    if (t < 0 || this.#readyTick[t] !== tick) return 0;
    return this.#ready[t];
  }

  /**
   * Records an event for `token` in the cycle `tick`; returns the (slot, gen) to schedule
   * through `schedule`, or does nothing for a vacant token.
   */
  onEvent(
    token: number,
    events: number,
    tick: number,
    schedule: (slot: number, gen: number) => unknown,
  ): void {
    if (token >= this.#next || this.#fd[token] < 0) return;
    if (this.#readyTick[token] === tick) this.#ready[token] |= events;
    else {
      this.#ready[token] = events;
      this.#readyTick[token] = tick;
    }
    schedule(this.#slot[token], this.#gen[token]);
  }

  #live(handle: number): number {
    const t = this.token(handle);
    if (t < 0) {
      throw new WaveletError(
        `I/O handle ${describe(handle)} is not registered (deregistered, or its node was removed)`,
        { code: ErrorCode.InvalidArgument },
      );
    }
    return t;
  }

  #grow(): void {
    const cap = this.#fd.length * 2;
    const i32 = (a: Int32Array, fill = 0) => {
      const n = new Int32Array(cap).fill(fill);
      n.set(a);
      return n;
    };
    this.#fd = i32(this.#fd, -1);
    this.#slot = i32(this.#slot);
    this.#gen = i32(this.#gen);
    const interest = new Uint32Array(cap);
    interest.set(this.#interest);
    this.#interest = interest;
    this.#ready = i32(this.#ready);
    this.#readyTick = i32(this.#readyTick, -1);
    this.#reuse = i32(this.#reuse);
  }
}

function checkFd(fd: number): void {
  if (!Number.isInteger(fd) || fd < 0) {
    throw new InvalidArgumentError(
      `A file descriptor must be a non-negative integer, got ${describe(fd)}`,
    );
  }
}

function checkInterest(interest: number): number {
  const v = interest >>> 0;
  if (
    typeof interest !== "number" || (v & ~INTEREST_MASK) !== 0 ||
    (v & (Readiness.Readable | Readiness.Writable)) === 0
  ) {
    throw new InvalidArgumentError(
      `An I/O interest must combine Readiness.Readable and/or Readiness.Writable (optionally ` +
        `EdgeTriggered), got ${describe(interest)}`,
    );
  }
  // Always ask for the read half-close too, so a reader sees EOF without another read.
  return (v & Readiness.Readable ? v | Readiness.ReadHangUp : v) >>> 0;
}
