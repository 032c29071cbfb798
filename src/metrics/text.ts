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

const NEEDS_ESCAPE = /[\\"\n]/;

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabel(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v;
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Escapes help text: backslash and line feed. */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value as the format writes it. */
export function formatValue(v: number): string {
  if (v - v === 0) return "" + v; // finite
  return Number.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
}

const LE = BUCKET_BOUNDS_NS.map((ns) => formatValue(ns / 1e9)).concat("+Inf");

/**
 * Strings that repeat from one scrape to the next (family headers, the bucket prefixes of a
 * series), kept so that a scrape mostly formats numbers. Cleared when it grows past a bound
 * (series of nodes that come and go).
 */
const cache = new Map<string, string | string[]>();
const CACHE_LIMIT = 20_000;

function cached<T extends string | string[]>(key: string, make: () => T): T {
  let v = cache.get(key) as T | undefined;
  if (v === undefined) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, v = make());
  }
  return v;
}

/** Accumulates the exposition. */
export class TextWriter {
  readonly #parts: string[] = [];

  /** Starts a family. */
  family(name: string, type: "counter" | "gauge" | "histogram", help: string): void {
    this.#parts.push(
      cached(
        `f\0${name}\0${type}\0${help}`,
        () => `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`,
      ),
    );
  }

  /** One sample; `labels` as [name, value] pairs. */
  sample(name: string, labels: readonly (readonly [string, string])[], value: number): void {
    let key = name;
    for (let i = 0; i < labels.length; i++) key += "\0" + labels[i][0] + "\0" + labels[i][1];
    const prefix = cached(`s\0${key}`, () => `${name}${labelText(labels)} `);
    this.#parts.push(prefix + formatValue(value) + "\n");
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
    const l = labelText(labels);
    const prefixes = cached(`h\0${name}\0${l}`, () => {
      const head = labels.map(([k, v]) => `${k}="${escapeLabel(v)}",`).join("");
      const out = LE.map((le) => `${name}_bucket{${head}le="${le}"} `);
      out.push(`${name}_sum${l} `, `${name}_count${l} `);
      return out;
    });
    let cum = 0, text = "";
    for (let i = 0; i < BUCKETS; i++) {
      cum += a[at + i];
      text += prefixes[i] + cum + "\n";
    }
    text += prefixes[BUCKETS] + formatValue(a[at + BUCKETS] / 1e9) + "\n";
    text += prefixes[BUCKETS + 1] + a[at + BUCKETS + 1] + "\n";
    this.#parts.push(text);
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
