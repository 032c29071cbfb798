/**
 * The Bun loader: the only file that touches `bun:ffi`. It translates the symbol table of
 * `ffi/symbols.ts` mechanically. `bun:ffi` is resolved at call time through Bun's synchronous
 * `import.meta.require`, so Deno never resolves it and loading stays synchronous.
 *
 * @module
 */

import { type NativeType, type RawLibrary, type SymbolName, symbols } from "../symbols.ts";

const BUN_TYPES: Record<NativeType, string> = {
  i32: "i32",
  u32: "u32",
  f64: "f64",
  buffer: "ptr", // bun:ffi accepts a typed array (or null) for a `ptr` argument
  void: "void",
};

/**
 * Opens the library at `path` with bun:ffi.
 *
 * @param path File to open.
 * @param names The symbols to bind (all by default).
 * @returns One function per symbol, and `close()`.
 * @throws {Error} What `dlopen` throws (missing file, not a library, missing symbol).
 */
export function openBun(path: string, names?: readonly SymbolName[]): RawLibrary {
  // deno-lint-ignore no-explicit-any
  const ffi = (import.meta as any).require("bun:ffi");
  const decl: Record<string, { args: string[]; returns: string }> = {};
  for (const name of names ?? (Object.keys(symbols) as SymbolName[])) {
    const s = symbols[name];
    decl[name] = {
      args: (s.args as readonly NativeType[]).map((t) => BUN_TYPES[t]),
      returns: BUN_TYPES[s.returns],
    };
  }
  const lib = ffi.dlopen(path, decl);
  // Bun has no nonblocking FFI calls: the backend provides the async wait another way.
  return Object.assign({}, lib.symbols, { close: () => lib.close() }) as RawLibrary;
}
