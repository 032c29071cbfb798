/**
 * The Prometheus text exposition format (version 0.0.4): families with `# HELP` and `# TYPE`,
 * samples with escaped label values, and histograms as cumulative `_bucket` series with `le`
 * bounds in seconds plus `_sum` and `_count`.
 *
 * @module
 */

import { BUCKET_BOUNDS_NS, BUCKETS } from "./buckets.ts";

/** The content type of the exposition. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A metric name as Prometheus accepts it. */
export const NAME_RE: RegExp = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Escapes help text: backslash and line feed. */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value as the format writes it. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

const LE = BUCKET_BOUNDS_NS.map((ns) => formatValue(ns / 1e9)).concat("+Inf");

/** Accumulates the exposition. */
export class TextWriter {
  readonly #parts: string[] = [];

  /** Starts a family. */
  family(name: string, type: "counter" | "gauge" | "histogram", help: string): void {
    this.#parts.push(`# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`);
  }

  /** One sample; `labels` as [name, value] pairs. */
  sample(name: string, labels: readonly (readonly [string, string])[], value: number): void {
    this.#parts.push(`${name}${labelText(labels)} ${formatValue(value)}\n`);
  }

  /**
   * One histogram series from `a[at ..]` (per-bucket counts, then the sum in ns and the count),
   * in seconds.
   */
  histogram(
    name: string,
    labels: readonly (readonly [string, string])[],
    a: Float64Array,
    at: number,
  ): void {
    let cum = 0;
    const head = labels.map(([k, v]) => `${k}="${escapeLabel(v)}",`).join("");
    for (let i = 0; i < BUCKETS; i++) {
      cum += a[at + i];
      this.#parts.push(`${name}_bucket{${head}le="${LE[i]}"} ${formatValue(cum)}\n`);
    }
    const l = labelText(labels);
    this.#parts.push(`${name}_sum${l} ${formatValue(a[at + BUCKETS] / 1e9)}\n`);
    this.#parts.push(`${name}_count${l} ${formatValue(a[at + BUCKETS + 1])}\n`);
  }

  /** The text so far. */
  toString(): string {
    return this.#parts.join("");
  }
}

function labelText(labels: readonly (readonly [string, string])[]): string {
  if (labels.length === 0) return "";
  return `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}
