/**
 * What every benchmark shares: which runtime runs it (and its engine), the machine, and the
 * small statistics the reports quote (median, percentiles, latency distributions).
 *
 * @module
 */

import os from "node:os";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** True under Bun (else Deno: the benchmarks run on those two). */
export const isBun: boolean = typeof g.Bun !== "undefined";
/** `"bun"` or `"deno"`. */
export const runtimeName: "bun" | "deno" = isBun ? "bun" : "deno";
/** The runtime's version. */
export const runtimeVersion: string = isBun ? g.Bun.version : g.Deno.version.deno;
/** The JavaScript engine and its version. */
export const engineVersion: string = isBun
  ? `JavaScriptCore (bun ${g.Bun.revision ?? ""})`.trim()
  : `V8 ${g.Deno.version.v8}`;
/** `deno 2.9.5 (V8 ...)` or `bun 1.4.5`, for headers. */
export const hostVersion: string = isBun
  ? `bun ${runtimeVersion}`
  : `deno ${runtimeVersion} (V8 ${g.Deno.version.v8})`;

/** The CPU model, thread count, OS and load average, for a report's machine line. */
export function machine(): { cpu: string; threads: number; os: string; loadavg: string } {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown CPU",
    threads: cpus.length,
    os: `${os.type()} ${os.release()}`,
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(" "),
  };
}

/** The median (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The value at quantile `q` (0..1) of `xs`, nearest rank. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** A latency distribution in nanoseconds. */
export interface Dist {
  n: number;
  p50_ns: number;
  p99_ns: number;
  p999_ns: number;
  mean_ns: number;
  min_ns: number;
  max_ns: number;
}

/** The distribution of `samples` (nanoseconds). */
export function dist(samples: Float64Array): Dist {
  const s = Float64Array.from(samples).sort();
  const n = s.length;
  const at = (p: number) => s[Math.min(n - 1, Math.floor(p * n))];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i];
  return {
    n,
    p50_ns: Math.round(at(0.5)),
    p99_ns: Math.round(at(0.99)),
    p999_ns: Math.round(at(0.999)),
    mean_ns: Math.round(sum / n),
    min_ns: Math.round(s[0]),
    max_ns: Math.round(s[n - 1]),
  };
}

/** Nanoseconds as microseconds with three significant digits at most. */
export function us(ns: number): string {
  const v = ns / 1e3;
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}
