/**
 * The argument checks of the native backend. Every method of `NativeBackend` checks its
 * arguments before anything crosses into C, so that a bad value is an `InvalidArgumentError`
 * with code `INVALID_ARGUMENT` on Bun and on Deno alike: never a crash, never a write outside a
 * buffer, never a runtime-specific `TypeError` from the FFI layer (Deno's FFI refuses a NaN
 * for an `i32` with a bare `TypeError` while Bun's converts it to 0, for example).
 *
 * The rules:
 * - An integer is a `number` that is an integer in the C type's range; NaN, Infinity,
 *   fractions, strings, bigints and other types are refused, nothing is coerced (an object
 *   with a `valueOf` is never called).
 * - A buffer is a typed array of the kind named (a subclass counts: Node's `Buffer` is a
 *   `Uint8Array`), attached, and at least as many BYTES long as the C side reads or writes.
 *   A view whose ArrayBuffer was transferred (detached), and a view over a resizable
 *   ArrayBuffer that was shrunk past it, both report a `byteLength` of 0 and so fail the size
 *   check; a detached buffer is refused even where no byte would be touched.
 * - Byte buffers are `Uint8Array` only: offsets and lengths count elements, which are bytes
 *   only there.
 *
 * Hot calls (`epollWait`, the socket transfers, `eventfdWrite`) test their arguments inline in
 * `backend.ts` as one boolean expression and call the explaining functions here only when it
 * fails, so a good call pays a few comparisons and no allocation.
 *
 * @module
 */

import { InvalidArgumentError } from "../src/core/errors.ts";
import { hostSleep } from "./sleep.ts";

/** The largest int32. */
export const I32_MAX = 0x7fffffff;

/** Bytes of one event in an events buffer: `(events, data)` as two int32 values. */
export const EVENT_BYTES = 8;

/** Bytes a clock buffer of `epollWait` receives: one double. */
export const CLOCK_BYTES = 8;

/** Bytes `realtime` writes: two doubles. */
export const REALTIME_BYTES = 16;

/**
 * Whether `v` is a number that is an int32 (the type of every fd, count and flag).
 *
 * @param v Any value.
 * @returns True for an integer in [-2^31, 2^31).
 */
export function isInt32(v: unknown): v is number {
  return typeof v === "number" && (v | 0) === v;
}

/**
 * Whether the view's buffer was detached (transferred). Only a view of 0 bytes can be, so
 * callers test `byteLength` first and reach this rarely.
 *
 * @param v A typed array.
 * @returns True when its ArrayBuffer is detached.
 */
export function isDetached(v: ArrayBufferView): boolean {
  return v.byteLength === 0 && (v.buffer as { detached?: boolean }).detached === true;
}

/**
 * A short description of a value for a message, without running user code.
 *
 * @param v Any value.
 * @returns For example `NaN`, `the string "3"`, `a detached Int32Array`, `a Uint8Array of
 * 8 bytes`, `null`.
 */
export function describe(v: unknown): string {
  if (v === null || v === undefined || typeof v === "number" || typeof v === "boolean") {
    return Object.is(v, -0) ? "-0" : String(v);
  }
  if (typeof v === "string") {
    return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  }
  if (typeof v === "bigint") return `the bigint ${v}n`;
  if (ArrayBuffer.isView(v)) {
    const kind = Object.prototype.toString.call(v).slice(8, -1);
    if ((v.buffer as { detached?: boolean }).detached === true) return `a detached ${kind}`;
    try {
      return `a ${kind} of ${v.byteLength} bytes`;
    } catch {
      // A DataView's byteLength throws where a typed array's reads 0: out of bounds.
      return `a ${kind} outside its shrunk buffer`;
    }
  }
  if (Array.isArray(v)) return `an array of ${v.length} elements`;
  return typeof v === "function" ? "a function" : `a value of type ${typeof v}`;
}

/**
 * The error for a bad argument: `Cannot <what>: <detail>`.
 *
 * @param what What the call does, for example `"wait on epoll"`.
 * @param detail Which argument is wrong and why.
 * @returns The error (the caller throws or rejects with it).
 */
export function invalidArgument(what: string, detail: string): InvalidArgumentError {
  return new InvalidArgumentError(`Cannot ${what}: ${detail}`);
}

/**
 * Throws unless `v` is an integer in `[min, max]`.
 *
 * @param what What the call does.
 * @param name The argument's name.
 * @param v The value.
 * @param min The smallest value allowed.
 * @param max The largest value allowed.
 * @throws {InvalidArgumentError} When it is not.
 */
export function checkInt(what: string, name: string, v: unknown, min: number, max: number): void {
  if (!(typeof v === "number" && Number.isInteger(v) && v >= min && v <= max)) {
    throw invalidArgument(
      what,
      `${name} must be an integer in [${min}, ${max}], got ${describe(v)}`,
    );
  }
}

/**
 * Throws unless `v` is an int32 (an fd: a negative one is left to the kernel, which answers
 * EBADF).
 *
 * @param what What the call does.
 * @param name The argument's name.
 * @param v The value.
 * @throws {InvalidArgumentError} When it is not.
 */
export function checkInt32(what: string, name: string, v: unknown): void {
  if (!isInt32(v)) {
    throw invalidArgument(what, `${name} must be an integer (int32), got ${describe(v)}`);
  }
}

/**
 * Throws unless `v` is a 32-bit set (an int32 or a uint32: `EPOLLIN | EPOLLET` is negative as
 * an int32), and returns it as a uint32.
 *
 * @param what What the call does.
 * @param name The argument's name.
 * @param v The value.
 * @returns `v >>> 0`.
 * @throws {InvalidArgumentError} When it is not.
 */
export function checkBits32(what: string, name: string, v: unknown): number {
  if (!(typeof v === "number" && ((v | 0) === v || v >>> 0 === v))) {
    throw invalidArgument(
      what,
      `${name} must be a 32-bit integer (int32 or uint32), got ${describe(v)}`,
    );
  }
  return v >>> 0;
}

/** A typed-array constructor, for `instanceof` and the message. */
// deno-lint-ignore no-explicit-any
type ViewClass = abstract new (...args: any[]) => ArrayBufferView;

/**
 * Throws unless `v` is an attached `kind` of at least `minBytes` bytes (or null where
 * `nullable`).
 *
 * @param what What the call does.
 * @param name The argument's name.
 * @param v The value.
 * @param kind The typed-array class required.
 * @param minBytes The bytes the C side reads or writes.
 * @param nullable Whether null is allowed (no buffer).
 * @param why Optional words on where `minBytes` comes from.
 * @throws {InvalidArgumentError} When it is not.
 */
export function checkView(
  what: string,
  name: string,
  v: unknown,
  kind: ViewClass,
  minBytes: number,
  nullable = false,
  why = "",
): void {
  if (nullable && v === null) return;
  if (v instanceof kind && v.byteLength >= minBytes && !isDetached(v)) return;
  const article = /^[AEIOU]/.test(kind.name) ? "an" : "a";
  throw invalidArgument(
    what,
    `${name} must be ${article} ${kind.name} of at least ${minBytes} bytes${why}` +
      `${nullable ? " or null" : ""}, got ${describe(v)}`,
  );
}

/**
 * Throws unless `buf[offset, offset + len)` is a byte range inside an attached `Uint8Array`.
 *
 * @param what What the call does.
 * @param buf The buffer.
 * @param offset The start, in bytes.
 * @param len The length, in bytes.
 * @throws {InvalidArgumentError} When it is not.
 */
export function checkByteRange(what: string, buf: unknown, offset: unknown, len: unknown): void {
  checkView(what, "buf", buf, Uint8Array, 0);
  checkInt(what, "offset", offset, 0, I32_MAX);
  checkInt(what, "len", len, 0, I32_MAX);
  const bytes = (buf as Uint8Array).byteLength;
  if ((offset as number) + (len as number) > bytes) {
    throw invalidArgument(
      what,
      `the range [${offset}, ${offset} + ${len}) does not fit ${describe(buf)}`,
    );
  }
}

/**
 * Throws the error of the first bad argument of an epoll wait (called only when the inline
 * test in `backend.ts` failed).
 *
 * @param what What the call does.
 * @param epfd The epoll fd.
 * @param events The events buffer.
 * @param maxEvents The most events to return.
 * @param timeoutNs The timeout.
 * @param clockOut The clock buffer or null.
 * @throws {InvalidArgumentError} For the first bad argument.
 */
export function checkWait(
  what: string,
  epfd: unknown,
  events: unknown,
  maxEvents: unknown,
  timeoutNs: unknown,
  clockOut: unknown,
): void {
  checkInt32(what, "epfd", epfd);
  checkInt(what, "maxEvents", maxEvents, 1, I32_MAX);
  const m = maxEvents as number;
  checkView(
    what,
    "events",
    events,
    Int32Array,
    m * EVENT_BYTES,
    false,
    ` (8 per event, ${m} events)`,
  );
  if (typeof timeoutNs !== "number" || timeoutNs !== timeoutNs) {
    throw invalidArgument(
      what,
      `timeoutNs must be a number of nanoseconds (negative or Infinity waits forever), got ${
        describe(timeoutNs)
      }`,
    );
  }
  checkView(what, "clockOut", clockOut, Float64Array, CLOCK_BYTES, true);
}

/**
 * The sleep of both backends: checks the timeout, then sleeps on a host timer.
 *
 * @param timeoutNs A finite number of nanoseconds.
 * @returns The sleep, or a promise rejected with an InvalidArgumentError.
 */
export function checkedSleep(timeoutNs: number): Promise<void> {
  if (typeof timeoutNs !== "number" || !Number.isFinite(timeoutNs)) {
    return Promise.reject(
      invalidArgument("sleep", `timeoutNs must be a finite number, got ${describe(timeoutNs)}`),
    );
  }
  return hostSleep(timeoutNs);
}

/**
 * The wall-clock check of both backends.
 *
 * @param out The buffer `realtime` writes.
 * @throws {InvalidArgumentError} Unless it is an attached Float64Array of 16 bytes or more.
 */
export function checkRealtimeOut(out: unknown): void {
  checkView("read the wall clock", "out", out, Float64Array, REALTIME_BYTES);
}
