/**
 * Finds, builds and loads the native library, and picks the live backend. This is the only
 * module that decides between the native backend and the pure-JS fallback.
 *
 * Where the library comes from, in order:
 * 1. the `path` option (only that file is tried);
 * 2. else the `WAVELET_NATIVE_LIB` environment variable (only that file is tried);
 * 3. else the build cache (`$XDG_CACHE_HOME/wavelet` or `~/.cache/wavelet`), where the file
 *    name carries the ABI version and a hash of `ffi/native/wavelet.c`, `wavelet.h` and the
 *    compiler flags, so a changed source never loads a stale build;
 * 4. when the cache has no usable file, `ffi/native/wavelet.c` is compiled with `cc` (or
 *    `$CC`) into the cache (written to a temporary name, then renamed: concurrent loaders never
 *    see half a file);
 * 5. when that fails on linux-x64, the prebuilt library embedded in `ffi/prebuilt_linux_x64.ts`
 *    is written to the cache (or the temporary directory) and loaded, so a consumer without a
 *    compiler still gets it.
 *
 * Every candidate is checked: it must open, export `wv_abi_version`, and report the ABI this
 * code was written for. When nothing loads, a {@linkcode NativeLoadError} lists every path
 * tried, with the last underlying error as `cause`. Loaded backends are memoized per source.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { LoadAttempt, NativeBackend } from "./backend.ts";
import { NativeLoadError } from "../src/core/system_errors.ts";
import { LibraryBackend } from "./library.ts";
import { openBun } from "./bun/open.ts";
import { openDeno } from "./deno/open.ts";
import { JsBackend } from "./js_backend.ts";
import { PREBUILT_BASE64, PREBUILT_SOURCE_HASH } from "./prebuilt_linux_x64.ts";
import { ABI_VERSION, type RawLibrary, type SymbolName } from "./symbols.ts";
import {
  checkBoolean,
  checkOneOf,
  checkOptions,
  checkString,
  invalid,
} from "../src/core/validate.ts";
import {
  detectRuntime,
  envVar,
  ffiPermitted,
  hostArch,
  hostOs,
  hostPid,
  isPermissionError,
} from "../src/runtime/host.ts";

/** The environment variable that names a library file to load. */
export const NATIVE_LIB_ENV = "WAVELET_NATIVE_LIB";

/** The compiler flags of every build (part of the cache key). */
export const NATIVE_CFLAGS: readonly string[] = [
  "-O2",
  "-fPIC",
  "-shared",
  "-fvisibility=hidden",
  "-std=gnu11",
];

/**
 * Whether this process may load a native library: Bun always, Deno with `--allow-ffi`.
 *
 * @returns True when FFI calls are possible.
 *
 * @example Which backend loadBackend picks
 * ```ts
 * import { ffiAvailable, loadBackend } from "@wavelet/wavelet/native";
 *
 * const backend = loadBackend();
 * if (ffiAvailable() !== (backend.kind !== "js")) {
 *   throw new Error("the native backend is used exactly where FFI is available");
 * }
 * ```
 */
export function ffiAvailable(): boolean {
  return ffiPermitted();
}

const env = envVar;

function sourceUrl(file: string): URL {
  return new URL(`./native/${file}`, import.meta.url);
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message.split("\n")[0] : String(e);
}

/**
 * The hash that keys the build cache: SHA-256 over the ABI version, the compiler flags,
 * `wavelet.h` and `wavelet.c`, as hex. The embedded prebuilt library records the hash it was
 * built from, and a test checks that they agree.
 *
 * @returns The hex digest, or the prebuilt library's hash when the sources cannot be read
 * (a remote import, or Deno without `--allow-read`).
 */
export function nativeSourceHash(): string {
  try {
    const h = createHash("sha256");
    h.update(`abi=${ABI_VERSION}\0flags=${NATIVE_CFLAGS.join(" ")}\0`);
    h.update(readFileSync(fileURLToPath(sourceUrl("wavelet.h"))));
    h.update("\0");
    h.update(readFileSync(fileURLToPath(sourceUrl("wavelet.c"))));
    return h.digest("hex");
  } catch {
    return PREBUILT_SOURCE_HASH;
  }
}

/**
 * The cache directory: `$XDG_CACHE_HOME/wavelet`, else `~/.cache/wavelet`.
 *
 * @returns An absolute path (it may not exist yet).
 */
export function nativeCacheDir(): string {
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return join(xdg, "wavelet");
  let home: string | undefined;
  try {
    home = homedir();
  } catch {
    home = env("HOME");
  }
  return join(home || tmpdir(), ".cache", "wavelet");
}

function libraryName(): string {
  const hash = nativeSourceHash().slice(0, 16);
  return `libwavelet-abi${ABI_VERSION}-${hash}-${hostOs()}-${hostArch()}.so`;
}

/**
 * Where the build cache keeps the library for the current sources.
 *
 * @param cacheDir The cache directory (default {@linkcode nativeCacheDir}).
 * @returns The library file's path (it may not exist yet).
 */
export function nativeCachePath(cacheDir: string = nativeCacheDir()): string {
  return join(cacheDir, libraryName());
}

/**
 * Options for {@linkcode loadNative}.
 *
 * @example Loading from the build cache
 * ```ts
 * import { ffiAvailable, loadNative, type LoadNativeOptions } from "@wavelet/wavelet/native";
 *
 * if (ffiAvailable()) {
 *   // Compile into the cache when needed; else fall back to the embedded linux-x64 build.
 *   const options: LoadNativeOptions = { build: true, prebuilt: true };
 *   const native = loadNative(options);
 *   if (native.kind === "js" || native.path === null) throw new Error("a native library");
 * }
 * ```
 */
export interface LoadNativeOptions {
  /** Load exactly this library file (nothing else is tried). */
  path?: string;
  /** The build cache directory (default {@linkcode nativeCacheDir}). */
  cacheDir?: string;
  /** Compile the library when the cache has none (default true). */
  build?: boolean;
  /** Fall back to the embedded prebuilt library on linux-x64 (default true). */
  prebuilt?: boolean;
}

type Opener = (path: string, names?: readonly SymbolName[]) => RawLibrary;

function opener(): { kind: "bun" | "deno"; open: Opener } | null {
  const rt = detectRuntime();
  if (rt === "bun") return { kind: "bun", open: openBun };
  if (rt === "deno") return { kind: "deno", open: openDeno };
  return null;
}

function isNotCapable(e: unknown): boolean {
  return isPermissionError(e) || (e instanceof Error && e.name === "NotCapable");
}

interface Trial {
  attempts: LoadAttempt[];
  cause?: unknown;
}

/** Opens and checks one candidate file; records why it was not used. */
function tryOpen(path: string, trial: Trial): NativeBackend | null {
  const o = opener()!;
  if (!existsSync(path)) {
    trial.attempts.push({ path, failure: "missing", reason: "no such file" });
    return null;
  }
  let abi: number;
  try {
    const probe = o.open(path, ["wv_abi_version"]);
    try {
      abi = probe.wv_abi_version();
    } finally {
      probe.close();
    }
  } catch (e) {
    trial.cause = e;
    if (isNotCapable(e)) {
      trial.attempts.push({
        path,
        failure: "unavailable",
        reason: `FFI is not permitted (run Deno with --allow-ffi): ${errMessage(e)}`,
      });
    } else {
      trial.attempts.push({
        path,
        failure: "invalid",
        reason: `not a wavelet library (${errMessage(e)})`,
      });
    }
    return null;
  }
  if (abi !== ABI_VERSION) {
    trial.attempts.push({
      path,
      failure: "abi",
      reason: `built for ABI ${abi}, this code needs ABI ${ABI_VERSION}`,
    });
    return null;
  }
  try {
    return new LibraryBackend(o.open(path), o.kind, path);
  } catch (e) {
    trial.cause = e;
    trial.attempts.push({
      path,
      failure: "invalid",
      reason: `ABI ${abi} but a symbol is missing (${errMessage(e)})`,
    });
    return null;
  }
}

/** Writes `bytes` to `path` atomically (temporary name, then rename). */
function writeAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp.${hostPid()}.${Math.random().toString(36).slice(2)}`;
  try {
    writeFileSync(tmp, bytes, { mode: 0o755 });
    renameSync(tmp, path);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch { /* nothing to clean */ }
    throw e;
  }
}

/**
 * Compiles `ffi/native/wavelet.c` into `out` with `cc` (or `$CC`), atomically.
 *
 * @param out The library file to produce.
 * @param extraFlags More compiler flags (for example `-DWV_ABI_OVERRIDE=99` in tests).
 * @throws {Error} When the source cannot be read or the compiler fails (with its output).
 */
export function buildNative(out: string, extraFlags: readonly string[] = []): void {
  const src = fileURLToPath(sourceUrl("wavelet.c"));
  if (!existsSync(src)) throw new Error(`The source ${src} is not available`);
  mkdirSync(join(out, ".."), { recursive: true });
  const tmp = `${out}.tmp.${hostPid()}.${Math.random().toString(36).slice(2)}`;
  try {
    execFileSync(env("CC") ?? "cc", [...NATIVE_CFLAGS, ...extraFlags, "-o", tmp, src], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    renameSync(tmp, out);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch { /* nothing to clean */ }
    // deno-lint-ignore no-explicit-any
    const stderr = String((e as any)?.stderr ?? "").trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${errMessage(e)}${stderr ? `: ${stderr}` : ""}`, { cause: e });
  }
}

const memo = new Map<string, NativeBackend>();

const NATIVE_KEYS = ["path", "cacheDir", "build", "prebuilt"] as const;

/** A snapshot of load options with every given key of its type (a bad one throws). */
function checkLoadOptions(
  options: LoadBackendOptions,
  name: string,
  keys: readonly (keyof LoadBackendOptions)[],
): LoadBackendOptions {
  const o = checkOptions(options, name, keys);
  for (const k of ["path", "cacheDir"] as const) {
    // A NUL byte would cut the path short in C, or make node:fs throw a bare TypeError.
    if (o[k] !== undefined && checkString(o[k], `The ${k} option`).includes("\0")) {
      throw invalid(`The ${k} option must not contain a NUL byte`);
    }
  }
  if (o.build !== undefined) checkBoolean(o.build, "The build option");
  if (o.prebuilt !== undefined) checkBoolean(o.prebuilt, "The prebuilt option");
  if (o.prefer !== undefined) checkOneOf(o.prefer, ["native", "js"] as const, "The prefer option");
  return o;
}

/**
 * Loads the native library and returns the native backend (memoized per source).
 *
 * @param options Where to look; see the module documentation for the order.
 * @returns The native backend.
 * @throws {NativeLoadError} When no candidate loads, listing every path tried; its code is
 * `NATIVE_ABI_MISMATCH`, `NATIVE_INVALID_LIBRARY`, `NATIVE_UNAVAILABLE` or `NATIVE_NOT_FOUND`.
 * @throws {InvalidArgumentError} When an option is not of its type (paths are strings without
 * NUL bytes; `build` and `prebuilt` are booleans), before anything is tried.
 *
 * @example
 * ```ts ignore
 * import { loadNative } from "./load.ts";
 * const native = loadNative();
 * const t = native.monotonicNs();
 * ```
 */
export function loadNative(options?: LoadNativeOptions): NativeBackend {
  if (options === undefined) options = {};
  const o = checkLoadOptions(options, "loadNative's options", NATIVE_KEYS);
  const explicit = o.path ?? env(NATIVE_LIB_ENV);
  const cacheDir = o.cacheDir ?? nativeCacheDir();
  const key = explicit !== undefined ? `path:${explicit}` : `cache:${cacheDir}`;
  const hit = memo.get(key);
  if (hit !== undefined) return hit;

  const trial: Trial = { attempts: [] };
  if (opener() === null) {
    trial.attempts.push({
      path: explicit ?? cacheDir,
      failure: "unavailable",
      reason: `FFI is not available on ${detectRuntime()} (use Bun, or Deno with --allow-ffi)`,
    });
    throw new NativeLoadError(trial.attempts);
  }
  if (detectRuntime() === "deno" && !ffiAvailable()) {
    trial.attempts.push({
      path: explicit ?? cacheDir,
      failure: "unavailable",
      reason: "FFI is not permitted (run Deno with --allow-ffi)",
    });
    throw new NativeLoadError(trial.attempts);
  }

  let backend: NativeBackend | null = null;
  if (explicit !== undefined) {
    backend = tryOpen(explicit, trial);
  } else {
    const cached = nativeCachePath(cacheDir);
    backend = tryOpen(cached, trial);
    if (backend === null && o.build !== false) {
      try {
        buildNative(cached);
        backend = tryOpen(cached, trial);
      } catch (e) {
        trial.cause = e;
        trial.attempts.push({
          path: `cc -> ${cached}`,
          failure: "build",
          reason: `compiling ffi/native/wavelet.c failed: ${errMessage(e)}`,
        });
      }
    }
    if (backend === null && o.prebuilt !== false) backend = tryPrebuilt(cached, trial);
  }
  if (backend === null) throw new NativeLoadError(trial.attempts, trial.cause);
  memo.set(key, backend);
  return backend;
}

/** Writes the embedded linux-x64 library next to the cache (or in tmp) and opens it. */
function tryPrebuilt(cached: string, trial: Trial): NativeBackend | null {
  const where = "embedded prebuilt (ffi/prebuilt_linux_x64.ts)";
  if (hostOs() !== "linux" || hostArch() !== "x64") {
    trial.attempts.push({
      path: where,
      failure: "missing",
      reason: `only for linux-x64, this is ${hostOs()}-${hostArch()}`,
    });
    return null;
  }
  if (PREBUILT_SOURCE_HASH !== nativeSourceHash()) {
    trial.attempts.push({
      path: where,
      failure: "missing",
      reason: "built from other sources (run scripts/embed_native.ts)",
    });
    return null;
  }
  const bytes = Uint8Array.from(atob(PREBUILT_BASE64), (c) => c.charCodeAt(0));
  const targets = [cached, join(tmpdir(), `wavelet-${hostPid()}`, libraryName())];
  for (const target of targets) {
    try {
      mkdirSync(join(target, ".."), { recursive: true });
      writeAtomic(target, bytes);
    } catch (e) {
      trial.cause = e;
      trial.attempts.push({ path: target, failure: "write", reason: errMessage(e) });
      continue;
    }
    const b = tryOpen(target, trial);
    if (b !== null) return b;
  }
  return null;
}

/**
 * Options for {@linkcode loadBackend}.
 *
 * @example Forcing the pure-JS backend
 * ```ts
 * import { loadBackend, type LoadBackendOptions } from "@wavelet/wavelet/native";
 *
 * const options: LoadBackendOptions = { prefer: "js" };
 * const backend = loadBackend(options);
 * if (backend.kind !== "js" || backend.hasEpoll || backend.path !== null) {
 *   throw new Error("the pure-JS backend");
 * }
 * ```
 */
export interface LoadBackendOptions extends LoadNativeOptions {
  /**
   * `"native"` (default): the native backend when FFI is available (Bun; Deno with
   * `--allow-ffi`), else the pure-JS backend. A library that fails to load where FFI is
   * available still throws: a broken install should be seen, not hidden. `"js"`: always the
   * pure-JS backend.
   */
  prefer?: "native" | "js";
}

let jsBackend: JsBackend | undefined;

/**
 * Picks the live backend.
 *
 * @param options Preference and native load options.
 * @returns The native backend, or the pure-JS one.
 * @throws {NativeLoadError} When FFI is available but the library cannot be loaded.
 * @throws {InvalidArgumentError} When an option is not of its type (`prefer` is `"native"` or
 * `"js"`; the rest as for {@linkcode loadNative}).
 *
 * @example
 * ```ts ignore
 * import { loadBackend } from "./load.ts";
 * const backend = loadBackend();
 * if (!backend.hasEpoll) console.log("host timers only");
 * ```
 */
export function loadBackend(options?: LoadBackendOptions): NativeBackend {
  if (options === undefined) options = {};
  const o = checkLoadOptions(options, "loadBackend's options", [...NATIVE_KEYS, "prefer"]);
  if (o.prefer === "js" || !ffiAvailable()) return (jsBackend ??= new JsBackend());
  return loadNative(o);
}

if (import.meta.main && process.argv.includes("--print-cache-path")) {
  console.log(nativeCachePath());
}
