/**
 * The demo: a small market-data pipeline on the test runtime (simulated time, so it runs the
 * same on every machine). A quote source ticks every simulated millisecond; mid price and spread
 * are derived from it; a signal node joins both (a diamond, computed once per tick, never from a
 * half-updated pair); a bar node closes 100 ms VWAP bars on a timer. At the end it prints the
 * bars, the executor's counters and the graph as Mermaid.
 *
 * Run: `npm run demo` (Deno), `bun run examples/demo.ts`, or `deno task demo`.
 *
 * @module
 */

import { Control, ms, NodeBuilder, TestRuntime } from "../mod.ts";

interface Quote {
  bid: number;
  ask: number;
  size: number;
}

// A tiny deterministic PRNG (mulberry32) so every run prints the same numbers.
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rt = new TestRuntime({ startUnixNanos: 1_767_225_600_000_000_000n }); // 2026-01-01
const ex = rt.executor;
const rand = prng(42);
const TICK = ms(1);
const BAR = ms(100);

const quotes = new NodeBuilder<Quote>({ bid: 100, ask: 100.02, size: 0 })
  .named("quotes")
  .onInit((e, self) => {
    e.registerTimer(self, TICK);
  })
  .build(ex, (self, ctx) => {
    const drift = (rand() - 0.5) * 0.04;
    const bid = Math.round((self.value.bid + drift) * 100) / 100;
    const spread = 0.01 * (1 + Math.floor(rand() * 3));
    self.value = {
      bid,
      ask: Math.round((bid + spread) * 100) / 100,
      size: 1 + Math.floor(rand() * 9),
    };
    ctx.registerTimer(self, ctx.time.monotonicNs + TICK);
    return Control.Broadcast;
  });

const mid = new NodeBuilder(0)
  .named("mid")
  .triggeredBy(quotes)
  .build(ex, (self) => {
    const next = (quotes.value.bid + quotes.value.ask) / 2;
    if (next === self.value) return Control.Unchanged;
    self.value = next;
    return Control.Broadcast;
  });

const spread = new NodeBuilder(0)
  .named("spread")
  .triggeredBy(quotes)
  .build(ex, (self) => {
    self.value = Math.round((quotes.value.ask - quotes.value.bid) * 100) / 100;
    return Control.Broadcast;
  });

let glitches = 0;
const signal = new NodeBuilder({ mid: 0, spread: 0, wide: false })
  .named("signal")
  .triggeredBy(mid, spread)
  .build(ex, (self) => {
    // Both parents are up to date here: the diamond never sees half a tick.
    if (Math.abs(mid.value - (quotes.value.bid + quotes.value.ask) / 2) > 1e-9) glitches++;
    self.value = { mid: mid.value, spread: spread.value, wide: spread.value >= 0.03 };
    return Control.Broadcast;
  });

interface Bar {
  vwap: number;
  volume: number;
  wideTicks: number;
}
const bars: Bar[] = [];
new NodeBuilder({ pv: 0, volume: 0, wide: 0, closeAt: BAR })
  .named("bars")
  .triggeredBy(signal)
  .observerOf(quotes)
  .onInit((e, self) => {
    e.registerTimer(self, BAR);
  })
  .build(ex, (self, ctx) => {
    const acc = self.value;
    const now = ctx.time.monotonicNs;
    // A bar closes in the first cycle at or after its deadline (the timer's cycle), before the
    // tick of that cycle is counted into the next bar.
    if (now >= acc.closeAt) {
      bars.push({
        vwap: acc.volume > 0 ? acc.pv / acc.volume : NaN,
        volume: acc.volume,
        wideTicks: acc.wide,
      });
      acc.pv = acc.volume = acc.wide = 0;
      acc.closeAt += BAR;
      ctx.registerTimer(self, acc.closeAt);
    }
    if (ctx.hasMutated(signal)) {
      acc.pv += signal.value.mid * quotes.value.size;
      acc.volume += quotes.value.size;
      if (signal.value.wide) acc.wide++;
    }
    return Control.Unchanged;
  });

const start = performance.now();
for (let i = 0; i < 1000; i++) {
  rt.advanceClock(TICK / 2);
  rt.runOneCycle();
  rt.advanceClock(TICK / 2);
  rt.runOneCycle();
}
const elapsedMs = performance.now() - start;

console.log("wavelet demo: 1 simulated second of quotes, 1 ms ticks, 100 ms VWAP bars\n");
for (const [i, b] of bars.entries()) {
  console.log(
    `bar ${String(i + 1).padStart(2)}  vwap ${b.vwap.toFixed(4)}  volume ${
      String(b.volume).padStart(4)
    }  wide ticks ${b.wideTicks}`,
  );
}
const stats = ex.stats();
console.log(
  `\ncycles ${stats.cycles}, node runs ${stats.nodeRuns}, nodes ${stats.nodeCount}, ` +
    `glitches ${glitches}, wall ${elapsedMs.toFixed(1)} ms`,
);
for (const n of stats.nodes) {
  console.log(`  ${(n.name ?? "?").padEnd(8)} depth ${n.depth}  runs ${n.runs}`);
}
console.log("\n" + ex.toMermaid());
