/**
 * Teardown cost (issue 10, finding 9): removing n nodes that each own a pending timer (what a
 * runtime's shutdown does), and removing n children of one parent one by one between cycles.
 * Both were quadratic (a heap scan per node, a child-list scan per child) and are now
 * O(n log n) and O(n). A one-shot timing, not a mitata run: the quadratic case takes seconds.
 *
 *     deno run -A bench/teardown_bench.ts      bun run bench/teardown_bench.ts
 *
 * `WAVELET_ROOT=/path/to/checkout` times another checkout (for a before/after comparison).
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const root: string = g.process?.env?.WAVELET_ROOT ?? g.Deno?.env.get("WAVELET_ROOT") ??
  new URL("..", import.meta.url).pathname;
const { NodeBuilder, TestRuntime } = await import(`${root}/mod.ts`);

for (const n of [25_000, 50_000, 100_000]) {
  const rt = new TestRuntime();
  const ex = rt.executor;
  for (let i = 0; i < n; i++) {
    const node = new NodeBuilder(0).build(ex, () => false);
    ex.registerTimer(node, 1e9 + i);
  }
  const t0 = performance.now();
  ex.removeAll();
  const t1 = performance.now();
  const rt2 = new TestRuntime();
  const ex2 = rt2.executor;
  const parent = new NodeBuilder(0).build(ex2, () => false);
  const kids = [];
  for (let i = 0; i < n; i++) {
    kids.push(new NodeBuilder(0).triggeredBy(parent).build(ex2, () => false));
  }
  const t2 = performance.now();
  for (let i = kids.length - 1; i >= 0; i--) ex2.remove(kids[i]);
  const t3 = performance.now();
  console.log(
    `n=${n}: removeAll of timer-owning nodes ${(t1 - t0).toFixed(1)} ms; ` +
      `children removed one by one ${(t3 - t2).toFixed(1)} ms`,
  );
}
