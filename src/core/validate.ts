/**
 * Argument checks shared by every public entry point. Each check throws an
 * {@linkcode InvalidArgumentError} with code `INVALID_ARGUMENT` and a message naming the
 * argument and what was got (`readBufferBytes must be an integer in [1, 2^30], got 0`), so a
 * bad argument is rejected before any state changes or native call, the same on every runtime.
 *
 * @module
 */

import { InvalidArgumentError } from "./errors.ts";

/**
 * A short, safe description of any value for an error message: it never calls user code that
 * could throw (no `toString`), and long strings are cut.
 *
 * @param value Anything.
 * @returns `0`, `NaN`, `"abc"`, `null`, `a function`, `an array`, `a Uint8Array`, ...
 *
 * @example
 * ```ts
 * import { describe } from "./validate.ts";
 * if (describe(Number.NaN) !== "NaN" || describe("x") !== '"x"') throw new Error("described");
 * ```
 */
export function describe(value: unknown): string {
  switch (typeof value) {
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "string": {
      const s = JSON.stringify(value.length > 40 ? value.slice(0, 37) + "..." : value);
      return s;
    }
    case "boolean":
    case "undefined":
      return String(value);
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
  }
  if (value === null) return "null";
  try {
    if (Array.isArray(value)) return "an array";
    const proto = Object.getPrototypeOf(value);
    const ctor = proto === null ? undefined : Object.getOwnPropertyDescriptor(proto, "constructor");
    const name = typeof ctor?.value === "function" ? ctor.value.name : "";
    if (typeof name === "string" && name !== "" && name !== "Object") {
      return `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}`;
    }
  } catch {
    // A revoked proxy or an exotic object: its kind is all we can say.
  }
  return "an object";
}

/**
 * What a thrown value says, for a message: an Error's message, else {@linkcode describe} of it.
 * It never calls user code that could throw again (a throwing `message` getter gives its kind).
 *
 * @param thrown What a user function threw.
 * @returns Text for a message.
 *
 * @example
 * ```ts
 * import { describeThrown } from "./validate.ts";
 * if (describeThrown(new Error("no")) !== "no" || describeThrown(7) !== "7") throw new Error("x");
 * ```
 */
export function describeThrown(thrown: unknown): string {
  try {
    if (thrown instanceof Error && typeof thrown.message === "string") return thrown.message;
  } catch {
    // A message getter that throws: say what kind of value it was instead.
  }
  return describe(thrown);
}

/** `2^k` for large powers of two, `2^53 - 1` for the largest safe integer, else the number. */
function bound(n: number): string {
  if (n === Number.MAX_SAFE_INTEGER) return "2^53 - 1";
  if (n >= 1024 && Number.isInteger(Math.log2(n))) return `2^${Math.log2(n)}`;
  return String(n);
}

/**
 * The error every check throws.
 *
 * @param message A sentence in sentence case without a final period.
 * @param cause The underlying error, when there is one.
 * @returns The error (the caller throws it).
 *
 * @example
 * ```ts
 * import { invalid } from "./validate.ts";
 * if (invalid("x must be 1, got 2").code !== "INVALID_ARGUMENT") throw new Error("coded");
 * ```
 */
export function invalid(message: string, cause?: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    message,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Checks for an integer in `[min, max]` (both inclusive).
 *
 * @param value The argument.
 * @param name How the message names it.
 * @param min The smallest allowed value.
 * @param max The largest allowed value.
 * @returns The value.
 * @throws {InvalidArgumentError} Otherwise.
 *
 * @example
 * ```ts
 * import { checkInteger } from "./validate.ts";
 * checkInteger(4, "capacity", 1, 2 ** 24); // 4
 * try {
 *   checkInteger(0, "readBufferBytes", 1, 2 ** 30);
 * } catch (e) {
 *   if ((e as Error).message !== "readBufferBytes must be an integer in [1, 2^30], got 0") throw e;
 * }
 * ```
 */
export function checkInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(
      `${name} must be an integer in [${bound(min)}, ${bound(max)}], got ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Checks for a finite number in `[min, max]` (both inclusive; fractions allowed).
 *
 * @param value The argument.
 * @param name How the message names it.
 * @param min The smallest allowed value.
 * @param max The largest allowed value (`Infinity` for no bound; the value stays finite).
 * @returns The value.
 * @throws {InvalidArgumentError} Otherwise.
 *
 * @example
 * ```ts
 * import { checkNumber } from "./validate.ts";
 * checkNumber(0.5, "ratio", 0, 1); // 0.5
 * ```
 */
export function checkNumber(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${bound(min)}` : `in [${bound(min)}, ${bound(max)}]`;
    throw invalid(`${name} must be a finite number ${range}, got ${describe(value)}`);
  }
  return value;
}

/**
 * Checks for a function.
 *
 * @param value The argument.
 * @param name How the message names it.
 * @returns The function.
 * @throws {InvalidArgumentError} Otherwise.
 *
 * @example
 * ```ts
 * import { checkFunction } from "./validate.ts";
 * const f = checkFunction<(x: number) => number>((x: number) => x + 1, "map's function");
 * if (f(1) !== 2) throw new Error("the same function");
 * ```
 */
export function checkFunction<F>(value: unknown, name: string): F {
  if (typeof value !== "function") {
    throw invalid(`${name} must be a function, got ${describe(value)}`);
  }
  return value as F;
}

/**
 * Checks for a boolean.
 *
 * @param value The argument.
 * @param name How the message names it.
 * @returns The boolean.
 * @throws {InvalidArgumentError} Otherwise.
 *
 * @example
 * ```ts
 * import { checkBoolean } from "./validate.ts";
 * checkBoolean(true, "closeOnEof"); // true
 * ```
 */
export function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== "boolean") {
    throw invalid(`${name} must be a boolean, got ${describe(value)}`);
  }
  return value;
}

/**
 * Checks for a string.
 *
 * @param value The argument.
 * @param name How the message names it.
 * @returns The string.
 * @throws {InvalidArgumentError} Otherwise.
 *
 * @example
 * ```ts
 * import { checkString } from "./validate.ts";
 * checkString("orders", "name"); // "orders"
 * ```
 */
export function checkString(value: unknown, name: string): string {
  if (typeof value !== "string") {
    throw invalid(`${name} must be a string, got ${describe(value)}`);
  }
  return value;
}

/**
 * Checks for an instance of a class.
 *
 * @param value The argument.
 * @param ctor The class.
 * @param name How the message names it.
 * @returns The instance.
 * @throws {InvalidArgumentError} Otherwise.
 *
 * @example
 * ```ts
 * import { checkInstance } from "./validate.ts";
 * const buf = checkInstance(new Uint8Array(4), Uint8Array, "buf");
 * if (buf.length !== 4) throw new Error("the same array");
 * ```
 */
export function checkInstance<T>(
  value: unknown,
  // deno-lint-ignore no-explicit-any
  ctor: abstract new (...args: any[]) => T,
  name: string,
): T {
  if (!(value instanceof ctor)) {
    throw invalid(`${name} must be a ${ctor.name}, got ${describe(value)}`);
  }
  return value;
}

/**
 * Checks that a value is one of a few allowed ones (compared with `===`).
 *
 * @param value The argument.
 * @param allowed The allowed values.
 * @param name How the message names it.
 * @returns The value.
 * @throws {InvalidArgumentError} Otherwise.
 *
 * @example
 * ```ts
 * import { checkOneOf } from "./validate.ts";
 * checkOneOf("batch", ["one", "batch"] as const, "mode"); // "batch"
 * ```
 */
export function checkOneOf<T>(value: unknown, allowed: readonly T[], name: string): T {
  if (!allowed.includes(value as T)) {
    throw invalid(
      `${name} must be one of ${allowed.map(describe).join(", ")}, got ${describe(value)}`,
    );
  }
  return value as T;
}

/**
 * Checks an options argument and takes a snapshot of the named keys: `undefined` gives `{}`;
 * anything but a plain object (null, a number, an array, a function) is rejected; a key that
 * cannot be read (a throwing getter) is rejected with the getter's error as the cause. The
 * snapshot holds only the keys present (`in`) in the options, so `"key" in snapshot` still
 * tells an explicit `undefined` from a missing key, and later changes to the caller's object
 * change nothing. Other keys are ignored.
 *
 * @param options The options argument.
 * @param name How the message names it (`"map's options"`).
 * @param keys The option keys the caller reads.
 * @returns The snapshot.
 * @throws {InvalidArgumentError} If `options` is not an object or a key cannot be read.
 *
 * @example
 * ```ts
 * import { checkOptions } from "./validate.ts";
 * const given = { name: "x", other: 1 };
 * const o = checkOptions<{ name?: string }>(given, "options", ["name"]);
 * if (o.name !== "x" || "other" in o) throw new Error("only the named keys");
 * ```
 */
export function checkOptions<T extends object>(
  options: T | undefined,
  name: string,
  keys: readonly (keyof T & string)[],
): T {
  const out: Record<string, unknown> = {};
  if (options === undefined) return out as T;
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw invalid(`${name} must be an object, got ${describe(options)}`);
  }
  for (const k of keys) {
    let present: boolean, v: unknown;
    try {
      present = k in options;
      v = present ? (options as Record<string, unknown>)[k] : undefined;
    } catch (cause) {
      throw invalid(`${name} could not be read: reading ${k} threw`, cause);
    }
    if (present) out[k] = v;
  }
  return out as T;
}
