/**
 * The Deno loader: the only file that touches `Deno.dlopen`. It translates the symbol table of
 * `ffi/symbols.ts` mechanically. A `buffer` argument becomes a `pointer`; the pointer of each
 * argument position is cached for the last typed array seen there (`Deno.UnsafePointer.of`
 * costs about 260 ns, so it runs once per long-lived buffer, not once per call). The cache
 * never outlives the buffer: it also remembers the view's `byteLength`, and a view that reads
 * another length since (its buffer was transferred, which detaches it and reads 0, or a
 * resizable buffer was resized under it) gets its pointer taken again, so a stale pointer into
 * memory the view no longer owns is never passed. Symbols that may block also get a
 * `nonblocking` variant, bound as `<name>_async`.
 *
 * The backend (`ffi/library.ts`) checks every argument before calling these functions: they
 * are never handed a wrong kind of value, a buffer smaller than what C writes, or a detached
 * one where C would touch a byte.
 *
 * @module
 */

import { type NativeType, type RawLibrary, type SymbolName, symbols } from "../symbols.ts";

const DENO_TYPES: Record<NativeType, string> = {
  i32: "i32",
  u32: "u32",
  f64: "f64",
  buffer: "pointer",
  void: "void",
};

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => any;

/** Wraps `fn` so that every buffer argument is passed as a cached pointer. */
function withPointers(fn: AnyFn, args: readonly NativeType[]): AnyFn {
  const bufferAt = args.flatMap((t, i) => (t === "buffer" ? [i] : []));
  if (bufferAt.length === 0) return fn;
  // deno-lint-ignore no-explicit-any
  const D = (globalThis as any).Deno;
  const pointerOf = (v: ArrayBufferView | null): unknown =>
    v === null ? null : D.UnsafePointer.of(v);
  const lengthOf = (v: ArrayBufferView | null): number => v === null ? -1 : v.byteLength;
  if (
    args.length === 7 && bufferAt.length === 2 && bufferAt[0] === 1 && bufferAt[1] === 5
  ) {
    // The epoll wait: (i32, buffer, i32, i32, f64, buffer, i32), the hot one; written out for
    // speed. A cache hit costs an identity test and a byteLength read per buffer.
    let ev: ArrayBufferView | null = null, evLen = -1, evPtr: unknown = null;
    let ck: ArrayBufferView | null = null, ckLen = -1, ckPtr: unknown = null;
    return (
      a: number,
      b: ArrayBufferView | null,
      c: number,
      d: number,
      e: number,
      f: ArrayBufferView | null,
      g: number,
    ) => {
      if (b !== ev || lengthOf(b) !== evLen) {
        (ev = b), (evLen = lengthOf(b)), (evPtr = pointerOf(b));
      }
      if (f !== ck || lengthOf(f) !== ckLen) {
        (ck = f), (ckLen = lengthOf(f)), (ckPtr = pointerOf(f));
      }
      return fn(a, evPtr, c, d, e, ckPtr, g);
    };
  }
  // One converter per argument: identity, or "cached pointer of this buffer". Fixed-arity
  // wrappers below call them without building an argument array (no allocation per call).
  const cv = args.map((t) => {
    if (t !== "buffer") return (x: unknown) => x;
    let last: ArrayBufferView | null = null, lastLen = -1, ptr: unknown = null;
    return (x: unknown) => {
      const v = x as ArrayBufferView | null;
      if (v !== last || lengthOf(v) !== lastLen) {
        (last = v), (lastLen = lengthOf(v)), (ptr = pointerOf(v));
      }
      return ptr;
    };
  });
  const [c0, c1, c2, c3, c4, c5, c6, c7] = cv;
  switch (args.length) {
    case 1:
      return (a: unknown) => fn(c0(a));
    case 2:
      return (a: unknown, b: unknown) => fn(c0(a), c1(b));
    case 3:
      return (a: unknown, b: unknown, c: unknown) => fn(c0(a), c1(b), c2(c));
    case 4:
      return (a: unknown, b: unknown, c: unknown, d: unknown) => fn(c0(a), c1(b), c2(c), c3(d));
    case 5:
      return (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) =>
        fn(c0(a), c1(b), c2(c), c3(d), c4(e));
    case 6:
      return (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, f: unknown) =>
        fn(c0(a), c1(b), c2(c), c3(d), c4(e), c5(f));
    case 7:
      return (
        a: unknown,
        b: unknown,
        c: unknown,
        d: unknown,
        e: unknown,
        f: unknown,
        g: unknown,
      ) => fn(c0(a), c1(b), c2(c), c3(d), c4(e), c5(f), c6(g));
    case 8:
      return (
        a: unknown,
        b: unknown,
        c: unknown,
        d: unknown,
        e: unknown,
        f: unknown,
        g: unknown,
        h: unknown,
      ) => fn(c0(a), c1(b), c2(c), c3(d), c4(e), c5(f), c6(g), c7(h));
    default:
      return (...xs: unknown[]) => fn(...xs.map((x, i) => cv[i](x)));
  }
}

/**
 * Opens the library at `path` with `Deno.dlopen` (needs `--allow-ffi`).
 *
 * @param path File to open.
 * @param names The symbols to bind (all by default).
 * @returns One function per symbol, `<name>_async` for blocking ones, and `close()`.
 * @throws {Error} What `Deno.dlopen` throws (missing file, not a library, missing symbol,
 * `Deno.errors.NotCapable` without the permission).
 */
export function openDeno(path: string, names?: readonly SymbolName[]): RawLibrary {
  // deno-lint-ignore no-explicit-any
  const D = (globalThis as any).Deno;
  // deno-lint-ignore no-explicit-any
  const decl: Record<string, any> = {};
  const list = names ?? (Object.keys(symbols) as SymbolName[]);
  for (const name of list) {
    const s = symbols[name] as {
      args: readonly NativeType[];
      returns: NativeType;
      mayBlock?: boolean;
    };
    const d = { parameters: s.args.map((t) => DENO_TYPES[t]), result: DENO_TYPES[s.returns] };
    decl[name] = d;
    if (s.mayBlock) decl[`${name}_async`] = { ...d, name, nonblocking: true };
  }
  const lib = D.dlopen(path, decl);
  const out: Record<string, unknown> = { close: () => lib.close() };
  for (const name of Object.keys(decl)) {
    const base = name.endsWith("_async") ? name.slice(0, -6) as SymbolName : name as SymbolName;
    out[name] = withPointers(lib.symbols[name], symbols[base].args);
  }
  return out as unknown as RawLibrary;
}
