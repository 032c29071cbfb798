/**
 * Everything that differs between Bun, Deno and Node, in one place: which host this is, its
 * OS, environment variables, the FFI permission, signal listeners, timers that do not keep the
 * process alive, and a macrotask turn. Every other module asks here instead of probing
 * `globalThis` itself.
 *
 * @module
 */

/** The host runtime. */
export type HostRuntime = "bun" | "deno" | "node" | "unknown";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** The one runtime-detection point. Bun first: it also defines `process`. */
export function detectRuntime(): HostRuntime {
  if (typeof g.Bun !== "undefined") return "bun";
  if (typeof g.Deno !== "undefined" && typeof g.Deno.dlopen === "function") return "deno";
  if (typeof g.process !== "undefined" && g.process.versions?.node) return "node";
  return "unknown";
}

const runtime = detectRuntime();

/** The OS name as the host spells it (`"linux"`, `"darwin"`, ...), or `"unknown"`. */
export function hostOs(): string {
  return g.Deno?.build?.os ?? g.process?.platform ?? "unknown";
}

/** The CPU architecture in Node's spelling (`"x64"`, `"arm64"`, ...), or `"unknown"`. */
export function hostArch(): string {
  if (g.process?.arch) return g.process.arch;
  const a = g.Deno?.build?.arch;
  return a === "x86_64" ? "x64" : a === "aarch64" ? "arm64" : a ?? "unknown";
}

/** This process's id, or 0 where the host has none. */
export function hostPid(): number {
  return g.process?.pid ?? g.Deno?.pid ?? 0;
}

/** An environment variable; undefined when unset, empty, or not readable (Deno's permission). */
export function envVar(name: string): string | undefined {
  try {
    const v = g.process?.env?.[name];
    return v === "" ? undefined : v;
  } catch {
    return undefined; // Deno without --allow-env
  }
}

/** Whether this process may load a native library: Bun always, Deno with `--allow-ffi`. */
export function ffiPermitted(): boolean {
  if (runtime === "bun") return true;
  if (runtime !== "deno") return false;
  try {
    return g.Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

/** True if `e` is Deno's error for a permission the process lacks. */
export function isPermissionError(e: unknown): boolean {
  const NotCapable = g.Deno?.errors?.NotCapable;
  const PermissionDenied = g.Deno?.errors?.PermissionDenied;
  return (typeof NotCapable === "function" && e instanceof NotCapable) ||
    (typeof PermissionDenied === "function" && e instanceof PermissionDenied);
}

/**
 * Adds a listener for a signal by name (`"SIGINT"`): `Deno.addSignalListener` on Deno,
 * `process.on` elsewhere. Neither keeps the process alive.
 *
 * @returns Its removal.
 * @throws Whatever the host throws when it refuses (a Worker may).
 */
export function addSignalListener(name: string, fn: () => void): () => void {
  if (runtime === "deno") {
    g.Deno.addSignalListener(name, fn);
    return () => g.Deno.removeSignalListener(name, fn);
  }
  const proc = g.process;
  if (typeof proc?.on !== "function") throw new Error("this host has no signal listeners");
  proc.on(name, fn);
  return () => proc.off(name, fn);
}

/** Keeps a host timer from holding the process open. */
export function unrefTimer(t: unknown): void {
  if (
    typeof t === "object" && t !== null && typeof (t as { unref?: unknown }).unref === "function"
  ) {
    (t as { unref(): void }).unref();
  } else if (typeof t === "number" && typeof g.Deno?.unrefTimer === "function") {
    g.Deno.unrefTimer(t);
  }
}

/** Resolves on the next macrotask, so host I/O and timers get a turn. */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
