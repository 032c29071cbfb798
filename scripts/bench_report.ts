/**
 * Turns the JSON blocks printed by `bench/propagation_bench.ts` under Deno and Bun into
 * `bench/RESULTS.md`: machine, runtime versions, medians, ratios, and the performance budget
 * of DESIGN.md section 8 with PASS/MISS per line.
 *
 * Usage (normally through `bash scripts/bench.sh`):
 * `deno run --allow-read --allow-write --allow-run scripts/bench_report.ts deno.txt bun.txt lscpu.txt RESULTS.md [load.txt]`
 *
 * @module
 */

interface Cell {
  p50: number;
  avg: number;
  p99: number;
  heapAvg: number | null;
}

type Contender = "wavelet" | "alien" | "preact" | "hand";

interface ShapeResult {
  key: string;
  label: string;
  nodes: number;
  runsPerIteration: number;
  results: Partial<Record<Contender, Cell>>;
}

interface AllocResult {
  shape: string;
  contender: Contender;
  iterations: number;
  bytesPerIter: number;
  bytesPerIterMax: number;
  retainedPerIter: number;
}

interface BuildResult {
  shape: string;
  nodes: number;
  ms: number;
  totalBytesPerNode: number;
  jsHeapBytesPerNode: number;
  typedBytesPerNode: number;
  externalBytesPerNode: number;
  typedBytes: Record<string, number>;
}

interface BenchJson {
  runtime: string;
  version: string;
  engine: string;
  gcExposed: boolean;
  cpu: string | null;
  shapes: ShapeResult[];
  emptyCycle: Cell | null;
  allocation: AllocResult[];
  build: BuildResult[];
}

/** The budget of DESIGN.md section 8 that this benchmark covers. */
const BUDGET = {
  /** wavelet/alien and wavelet/preact at most this on graphs of 100+ nodes (2x faster). */
  bigGraphRatio: 0.5,
  /** Graphs with at least this many nodes count as big. */
  bigGraphNodes: 100,
  /** wavelet/alien and wavelet/preact at most this on the diamond (never slower). */
  diamondRatio: 1,
  /** wavelet/hand at most this on the chain. */
  chainHandRatio: 2.5,
  /** Bytes per steady-state cycle, below which a measurement counts as zero (meter noise). */
  zeroBytes: 1,
  /** Empty cycle p50, ns. */
  emptyCycleNs: 50,
  /** 1M node build, ms. */
  buildMs: 1000,
  /** Runtime metadata per node, bytes. */
  bytesPerNode: 150,
};

const CONTENDER_LABEL: Record<Contender, string> = {
  wavelet: "wavelet",
  alien: "alien-signals",
  preact: "@preact/signals-core",
  hand: "hand loop",
};

function parseBlock(path: string): BenchJson {
  const text = Deno.readTextFileSync(path);
  const begin = text.lastIndexOf("BENCH_JSON_BEGIN");
  const end = text.lastIndexOf("BENCH_JSON_END");
  if (begin < 0 || end < begin) throw new Error(`No BENCH_JSON block in ${path}`);
  return JSON.parse(text.slice(begin + "BENCH_JSON_BEGIN".length, end)) as BenchJson;
}

function ns(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "n/a";
  if (v < 1) return `${v.toFixed(2)} ns`;
  if (v < 100) return `${v.toFixed(1)} ns`;
  if (v < 1000) return `${v.toFixed(0)} ns`;
  if (v < 1e6) return `${(v / 1e3).toFixed(2)} µs`;
  return `${(v / 1e6).toFixed(2)} ms`;
}

function ratio(a: number | undefined, b: number | undefined): number {
  return a === undefined || b === undefined ? NaN : a / b;
}

function fmtRatio(r: number, digits = 2): string {
  return Number.isFinite(r) ? `${r.toFixed(digits)}x` : "n/a";
}

/** Fixed-point bytes; measurement noise below zero prints as 0.00. */
function bytes(v: number): string {
  return Math.max(0, v).toFixed(2);
}

function verdict(ok: boolean): string {
  return ok ? "**PASS**" : "**MISS**";
}

function lscpuField(text: string, field: string): string | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${field}:`));
  return line?.slice(field.length + 1).trim();
}

function git(args: string[]): string {
  try {
    const out = new Deno.Command("git", { args, stdout: "piped", stderr: "null" }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : "";
  } catch {
    return "";
  }
}

function runtimeTables(r: BenchJson, lines: string[]): void {
  lines.push(`### ${r.runtime} ${r.version} (${r.engine})`, "");
  lines.push(
    "| shape | nodes | node runs / iter | wavelet | alien-signals | @preact/signals-core | hand loop | wavelet/alien | wavelet/preact | wavelet/hand |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const s of r.shapes) {
    const c = s.results;
    lines.push(
      `| ${s.label} | ${s.nodes} | ${s.runsPerIteration} | ${ns(c.wavelet?.p50)} | ${
        ns(c.alien?.p50)
      } | ${ns(c.preact?.p50)} | ${ns(c.hand?.p50)} | ${
        fmtRatio(ratio(c.wavelet?.p50, c.alien?.p50))
      } | ${fmtRatio(ratio(c.wavelet?.p50, c.preact?.p50))} | ${
        fmtRatio(ratio(c.wavelet?.p50, c.hand?.p50))
      } |`,
    );
  }
  lines.push("");
  if (r.emptyCycle !== null) {
    lines.push(
      `Empty cycle (no stimuli): p50 ${ns(r.emptyCycle.p50)} (avg ${ns(r.emptyCycle.avg)}, p99 ${
        ns(r.emptyCycle.p99)
      }).`,
      "",
    );
  }
}

function budgetLines(r: BenchJson, lines: string[]): { pass: number; miss: number } {
  let pass = 0, miss = 0;
  const row = (what: string, measured: string, ok: boolean) => {
    if (ok) pass++;
    else miss++;
    lines.push(`| ${what} | ${measured} | ${verdict(ok)} |`);
  };
  lines.push(`### ${r.runtime} ${r.version}`, "", "| budget line | measured | |", "|---|---|---|");
  for (const s of r.shapes) {
    const c = s.results;
    const w = c.wavelet?.p50;
    if (s.nodes >= BUDGET.bigGraphNodes) {
      for (const other of ["alien", "preact"] as const) {
        const q = ratio(w, c[other]?.p50);
        row(
          `${s.label}: at least 2x faster than ${
            CONTENDER_LABEL[other]
          } (wavelet/${other} <= ${BUDGET.bigGraphRatio})`,
          `${ns(w)} vs ${ns(c[other]?.p50)} = ${fmtRatio(q, 3)}`,
          q <= BUDGET.bigGraphRatio,
        );
      }
    } else {
      for (const other of ["alien", "preact"] as const) {
        const q = ratio(w, c[other]?.p50);
        row(
          `${s.label}: never slower than ${
            CONTENDER_LABEL[other]
          } (wavelet/${other} <= ${BUDGET.diamondRatio})`,
          `${ns(w)} vs ${ns(c[other]?.p50)} = ${fmtRatio(q, 3)}`,
          q <= BUDGET.diamondRatio,
        );
      }
    }
    if (s.key === "chain") {
      const q = ratio(w, c.hand?.p50);
      row(
        `${s.label}: within ${BUDGET.chainHandRatio}x of the hand loop`,
        `${ns(w)} vs ${ns(c.hand?.p50)} = ${fmtRatio(q, 3)}`,
        q <= BUDGET.chainHandRatio,
      );
    }
  }
  const wAlloc = r.allocation.filter((a) => a.contender === "wavelet");
  if (wAlloc.length > 0) {
    const worst = Math.max(...wAlloc.map((a) => a.bytesPerIter));
    const worstRetained = Math.max(...wAlloc.map((a) => a.retainedPerIter));
    row(
      `zero bytes per steady-state cycle, every shape and the empty cycle (< ${BUDGET.zeroBytes} B measured)`,
      `worst shape: ${bytes(worst)} B/cycle allocated, ${bytes(worstRetained)} B/cycle retained`,
      worst < BUDGET.zeroBytes && worstRetained < BUDGET.zeroBytes,
    );
  } else {
    lines.push("| zero bytes per steady-state cycle | not measured (no gc exposed) | |");
  }
  if (r.emptyCycle !== null) {
    row(
      `empty cycle under ${BUDGET.emptyCycleNs} ns`,
      `p50 ${ns(r.emptyCycle.p50)}`,
      r.emptyCycle.p50 < BUDGET.emptyCycleNs,
    );
  }
  for (const b of r.build) {
    row(
      `1M-node ${b.shape} build under ${BUDGET.buildMs} ms`,
      `${b.ms.toFixed(0)} ms`,
      b.ms < BUDGET.buildMs,
    );
    row(
      `1M-node ${b.shape}: executor metadata (typed arrays) under ${BUDGET.bytesPerNode} B/node`,
      `${b.typedBytesPerNode.toFixed(1)} B/node`,
      b.typedBytesPerNode < BUDGET.bytesPerNode,
    );
    row(
      `1M-node ${b.shape}: all runtime memory (typed arrays + JS heap: handles, per-slot arrays) under ${BUDGET.bytesPerNode} B/node`,
      `${b.totalBytesPerNode.toFixed(1)} B/node`,
      b.totalBytesPerNode < BUDGET.bytesPerNode,
    );
  }
  lines.push("");
  return { pass, miss };
}

function allocTable(runs: BenchJson[], lines: string[]): void {
  const withAlloc = runs.filter((r) => r.allocation.length > 0);
  if (withAlloc.length === 0) return;
  lines.push(
    "## Allocation per steady-state iteration",
    "",
    "Bytes allocated per iteration: median of 7 windows, each started right after a full gc and " +
      "short enough that no collection runs inside it (meter: V8 used heap on Deno, the " +
      "allocator's committed bytes on Bun, which moves in 64 KiB steps, so a lone step shows up " +
      "as a few bytes per iteration in the max column). Retained: heap growth across 5x as many " +
      "iterations with a full gc before and after.",
    "",
  );
  const header = ["shape", "contender"];
  const sep = ["---", "---"];
  for (const r of withAlloc) {
    header.push(`${r.runtime} B/iter (max window)`, `${r.runtime} retained B/iter`);
    sep.push("--:", "--:");
  }
  lines.push(`| ${header.join(" | ")} |`, `|${sep.join("|")}|`);
  for (const a of withAlloc[0].allocation) {
    const cells = [a.shape, CONTENDER_LABEL[a.contender]];
    for (const r of withAlloc) {
      const m = r.allocation.find((x) => x.shape === a.shape && x.contender === a.contender);
      cells.push(
        m ? `${bytes(m.bytesPerIter)} (${bytes(m.bytesPerIterMax)})` : "n/a",
        m ? bytes(m.retainedPerIter) : "n/a",
      );
    }
    lines.push(`| ${cells.join(" | ")} |`);
  }
  lines.push("");
}

function buildTable(runs: BenchJson[], lines: string[]): void {
  lines.push(
    "## 1 million nodes",
    "",
    "Build time with `NodeBuilder` (default initial capacity, so the node table grows by " +
      "doubling; one shared cycle function so the memory is the runtime's own). Memory: full gc " +
      "before and after; JS heap is the engine's used heap without ArrayBuffer backing stores " +
      "(handles, per-slot arrays), typed arrays are the executor's node table, edge pool and " +
      "scheduler queues (`byteLength` growth).",
    "",
    "| runtime | shape | build | total B/node | JS heap B/node | typed arrays B/node | external growth B/node | typed arrays (bytes) |",
    "|---|---|--:|--:|--:|--:|--:|---|",
  );
  for (const r of runs) {
    for (const b of r.build) {
      lines.push(
        `| ${r.runtime} | ${b.shape} | ${b.ms.toFixed(0)} ms | ${
          b.totalBytesPerNode.toFixed(1)
        } | ${b.jsHeapBytesPerNode.toFixed(1)} | ${b.typedBytesPerNode.toFixed(1)} | ${
          b.externalBytesPerNode.toFixed(1)
        } | ${Object.entries(b.typedBytes).map(([k, v]) => `${k} ${v}`).join(", ")} |`,
      );
    }
  }
  lines.push("");
}

function main(): void {
  const [denoOut, bunOut, lscpuOut, resultsPath, loadOut] = Deno.args;
  if (resultsPath === undefined) {
    throw new Error("Usage: bench_report.ts <deno.txt> <bun.txt> <lscpu.txt> <RESULTS.md>");
  }
  const runs = [parseBlock(denoOut), parseBlock(bunOut)];
  let lscpu = "";
  try {
    lscpu = Deno.readTextFileSync(lscpuOut);
  } catch {
    // Machine details stay "unknown".
  }
  const model = lscpuField(lscpu, "Model name") ?? runs[0].cpu ?? "unknown";
  const cpus = lscpuField(lscpu, "CPU(s)") ?? "unknown";
  const cores = lscpuField(lscpu, "Core(s) per socket");
  const threads = lscpuField(lscpu, "Thread(s) per core");
  let load: string[] = [];
  try {
    if (loadOut !== undefined) load = Deno.readTextFileSync(loadOut).trim().split("\n");
  } catch {
    // No load record.
  }
  const commit = git(["rev-parse", "--short", "HEAD"]) || "unknown";
  const dirty = git(["status", "--porcelain", "--", "src", "mod.ts"]) !== "";

  const lines: string[] = [];
  lines.push(
    "# Benchmark results",
    "",
    "Generated by `scripts/bench_report.ts` from the output of `bench/propagation_bench.ts`. " +
      "All times are **medians (p50) per iteration** from one mitata run per runtime; the " +
      "ratios compare contenders within that one run. The machine is shared and noisy, so " +
      "absolute times move between runs; the ratios are what the budget is checked on.",
    "",
    "## Machine and software",
    "",
    `- CPU: ${model}, ${cpus} CPU(s)${cores ? `, ${cores} core(s) per socket` : ""}${
      threads ? `, ${threads} thread(s) per core` : ""
    }`,
    ...runs.map((r) =>
      `- ${r.runtime} ${r.version} (${r.engine}), gc exposed: ${r.gcExposed ? "yes" : "no"}`
    ),
    "- Contenders: alien-signals 3.2.1, @preact/signals-core 1.14.5; harness: mitata 1.0.34",
    ...load.map((l) => {
      const [rt, ...rest] = l.split(" ");
      return `- Load average (1, 5, 15 min) when the ${rt} run started: ${
        rest.slice(0, 3).join(", ")
      }`;
    }),
    `- Source: commit ${commit}${dirty ? " with uncommitted changes in src/ or mod.ts" : ""}`,
    "",
    "Reproduce: `bash scripts/bench.sh`, which runs",
    "",
    "```sh",
    "deno run -A --v8-flags=--expose-gc bench/propagation_bench.ts   # > bench/out/deno.txt",
    "bun run bench/propagation_bench.ts                             # > bench/out/bun.txt",
    "deno run --allow-read --allow-write --allow-run scripts/bench_report.ts \\",
    "  bench/out/deno.txt bench/out/bun.txt bench/out/lscpu.txt bench/RESULTS.md bench/out/load.txt",
    "```",
    "",
    "## What is measured",
    "",
    "One iteration = one update of the source propagated through the whole graph. Every node " +
      "computes `(sum of its parents' values + 1) & 0x3fffffff` and reports a change only if " +
      "its value changed; all four contenders run the same node functions and their leaf " +
      "values are checked to agree exactly before timing.",
    "",
    "- **wavelet**: a `TestRuntime`; the source yields itself from its cycle function " +
      "(`ctx.yieldNow(self)`) and broadcasts; one iteration = one `executor.cycle(clock)`.",
    "- **alien-signals** / **@preact/signals-core**: one iteration = one write to the source " +
      "signal; inner nodes are `computed`, leaves are `effect`s that compute their value and " +
      "store it (the lightest eager consumer).",
    "- **hand loop**: the same functions called in topological order over plain arrays (with " +
      "a changed-flag check per node only on the sparse shape, where some nodes must not run).",
    "",
    "Shapes: chain of 1000 after the source; fan-out source -> 1000; diamond source -> 5 -> 1; " +
      "mesh of 10 layers of 10 (each node reads 2-3 nodes of the layer above); sparse: the " +
      "source fans out to 1000 children, each with one child of its own; only every 100th " +
      "child changes (1% active), the other 990 compute a constant and are cut (wavelet " +
      "returns `Unchanged`, the signal libraries stop at the computed's equality check), so " +
      "1011 of 2001 nodes run per iteration.",
    "",
    "## Medians per shape",
    "",
  );
  for (const r of runs) runtimeTables(r, lines);

  lines.push(
    "## Budget (DESIGN.md section 8)",
    "",
    "Ratios are wavelet p50 / other p50: 0.50x or less means at least 2x faster. " +
      `"Graphs of 100 nodes or more" are every shape but the diamond.`,
    "",
  );
  const totals = runs.map((r) => ({ r, ...budgetLines(r, lines) }));
  lines.push(
    ...totals.map((t) => `- ${t.r.runtime}: ${t.pass} PASS, ${t.miss} MISS`),
    "",
  );

  allocTable(runs, lines);
  buildTable(runs, lines);

  lines.push(
    "## Heap column",
    "",
    "mitata's own per-iteration heap estimate (avg bytes per iteration over its batches; " +
      "noisy, includes the meter's own allocations):",
    "",
    "| shape | " +
      runs.flatMap((r) =>
        (["wavelet", "alien", "preact", "hand"] as const).map((c) => `${r.runtime} ${c}`)
      ).join(" | ") + " |",
    "|---|" + runs.flatMap(() => ["--:", "--:", "--:", "--:"]).join("|") + "|",
  );
  for (const s of runs[0].shapes) {
    const cells: string[] = [s.label];
    for (const r of runs) {
      const rs = r.shapes.find((x) => x.key === s.key);
      for (const c of ["wavelet", "alien", "preact", "hand"] as const) {
        const h = rs?.results[c]?.heapAvg;
        cells.push(h === null || h === undefined ? "n/a" : `${h.toFixed(1)} B`);
      }
    }
    lines.push(`| ${cells.join(" | ")} |`);
  }
  lines.push("");

  Deno.writeTextFileSync(resultsPath, lines.join("\n"));
}

main();
