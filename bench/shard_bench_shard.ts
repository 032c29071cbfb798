/**
 * The shard of bench/shard_bench.ts: per key, a running sum of `v` after `work` rounds of
 * integer mixing per record (the per-record cost a real graph would have); on its onDrop it
 * emits one record per key, so the benchmark can check every sum. With `echo` it also emits
 * one record per input record (the round trip back into the main graph).
 *
 * @module
 */

import { NodeBuilder } from "../mod.ts";
import { defineRecord } from "../channel.ts";
import { defineShard } from "../shard.ts";

/** A routed record. */
export const In = defineRecord({ key: "u32", v: "f64" });
/** A per-key final sum (kind 1) or a per-record echo (kind 0). */
export const Out = defineRecord({ key: "u32", sum: "f64", kind: "u32" });

/** The benchmark's parameters. */
export interface BenchParams {
  /** Rounds of mixing per record. */
  work: number;
  /** Emit one record per input record. */
  echo: boolean;
}

/** `rounds` of murmur3's finalizer over `x`: a fixed amount of CPU work per record. */
export function mix(x: number, rounds: number): number {
  let h = x | 0;
  for (let i = 0; i < rounds; i++) {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h & 1;
}

export default defineShard(import.meta.url, {
  input: In,
  output: Out,
  key: "key",
  build(ctx) {
    const { work, echo } = ctx.params as BenchParams;
    const sums = new Map<number, number>();
    new NodeBuilder(0)
      .named("sum")
      .triggeredBy(ctx.input)
      .onDrop(() => {
        for (const [key, sum] of sums) ctx.emit({ key, sum, kind: 1 });
      })
      .build(ctx.executor, (self) => {
        for (const r of ctx.input.value.items) {
          const s = (sums.get(r.key) ?? 0) + r.v + mix(r.key, work);
          sums.set(r.key, s);
          if (echo) ctx.emit({ key: r.key, sum: s, kind: 0 });
        }
        self.value += ctx.input.value.items.length;
        return false;
      });
  },
});
