/**
 * The one test harness: `test()` maps to `Deno.test` under Deno and to `bun:test` under Bun, so
 * every `tests/*_test.ts` file runs unchanged under both `deno test` and `bun test`. It also
 * carries the small set of assertions the suite uses, so no runner-specific assertion library
 * is needed.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** True when running under Bun. */
export const isBun: boolean = typeof g.Bun !== "undefined";
/** True when running under Deno. */
export const isDeno: boolean = !isBun && typeof g.Deno !== "undefined";
/** The runtime's name, for messages. */
export const runtimeName: string = isBun ? "bun" : isDeno ? "deno" : "unknown";

// A computed specifier keeps Deno's type checker from resolving the Bun-only module.
const bunTestSpecifier = "bun:test";
// deno-lint-ignore no-explicit-any
const bunTest: any = isBun ? (await import(bunTestSpecifier)).test : undefined;

/** Options for {@linkcode test}. */
export interface TestOptions {
  /** Per-test time limit in milliseconds (Bun; Deno has none by default). */
  timeoutMs?: number;
  /** Skip the test on this runtime, with a reason that is printed. */
  skip?: string | false;
}

/** Registers a test with the current runtime's runner. */
export function test(
  name: string,
  fn: () => void | Promise<void>,
  options: TestOptions = {},
): void {
  if (isBun) {
    if (options.skip) bunTest.skip(`${name} (skipped: ${options.skip})`, fn);
    else bunTest(name, fn, options.timeoutMs ?? 60_000);
  } else {
    g.Deno.test({
      name,
      fn,
      ignore: Boolean(options.skip),
      // Workers, sockets and child processes are closed by the tests themselves; the sanitizers
      // stay on so that a leak fails the test.
    });
  }
}

/** An assertion that failed. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Throws unless `cond` is truthy. */
export function assert(cond: unknown, message = "Assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(message);
}

function show(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x));
  } catch {
    return String(v);
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as unknown as ArrayLike<unknown>, y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  }
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !deepEqual(v, b.get(k))) return false;
    return true;
  }
  if (a instanceof Set && b instanceof Set) {
    if (a.size !== b.size) return false;
    for (const v of a) if (!b.has(v)) return false;
    return true;
  }
  const ka = Object.keys(a as object), kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) {
      return false;
    }
  }
  return true;
}

/** Throws unless `actual` deeply equals `expected`. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  if (!deepEqual(actual, expected)) {
    throw new AssertionError(
      `${message ? message + ": " : ""}expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

/** Throws unless `actual` is identical (`Object.is`) to `expected`. */
export function assertStrictEquals<T>(actual: T, expected: T, message?: string): void {
  if (!Object.is(actual, expected)) {
    throw new AssertionError(
      `${message ? message + ": " : ""}expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

/**
 * Throws unless `fn` throws an instance of `ErrorClass` (and, when given, with that `code`).
 * Returns the caught error for further checks.
 */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => E,
  code?: string,
): E {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ErrorClass)) {
      throw new AssertionError(
        `expected ${ErrorClass.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`,
      );
    }
    if (code !== undefined && (e as unknown as { code?: string }).code !== code) {
      throw new AssertionError(
        `expected code ${code}, got ${(e as unknown as { code?: string }).code}`,
      );
    }
    return e;
  }
  throw new AssertionError(`expected ${ErrorClass.name} to be thrown, nothing was thrown`);
}

/** Async variant of {@linkcode assertThrows}. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => E,
  code?: string,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof ErrorClass)) {
      throw new AssertionError(
        `expected ${ErrorClass.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`,
      );
    }
    if (code !== undefined && (e as unknown as { code?: string }).code !== code) {
      throw new AssertionError(
        `expected code ${code}, got ${(e as unknown as { code?: string }).code}`,
      );
    }
    return e;
  }
  throw new AssertionError(`expected ${ErrorClass.name} to be rejected, it resolved`);
}
