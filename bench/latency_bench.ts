/**
 * Latency benchmark: wavelet's cross-thread wake-ups and Park-mode timers against their peers
 * in the host runtime, and the cost of an empty Spin cycle.
 *
 * Run with `deno run -A bench/latency_bench.ts` or `bun run bench/latency_bench.ts`;
 * `scripts/bench_latency.sh` runs both next to the C baselines of `bench/native/` and writes
 * `bench/LATENCY.md` (through this file's `--report` mode).
 *
 * What is measured (latency distributions come from our own loops and sorted samples, not from
 * mitata, which summarizes means):
 * - Worker notify -> node run: a Worker (`bench/latency_worker.ts`) stamps the native monotonic
 *   clock (`backend.monotonicNs()`, CLOCK_MONOTONIC, process-wide) into a SharedArrayBuffer and
 *   calls `notifier.notify()`; the node on the main thread's `RealtimeRuntime` (Park, then
 *   Spin) reads the same clock first thing when it runs and records the difference. The Worker
 *   waits for the node's acknowledgement (an Atomics word) and a random 20-100 us gap before
 *   the next sample. Peers, same protocol and clock: `postMessage` from the Worker (the main
 *   thread's `onmessage` stamps) and `Atomics.wait` on the main thread (the Worker stores and
 *   `Atomics.notify`s a word).
 * - Park-mode timer lateness: a node registers a timer at now + 100 us (and, separately,
 *   + 1 ms), records the native clock minus the deadline when it runs (and `ctx.time`, the
 *   cycle's time sampled right after the wait, minus the deadline), and re-registers. Peer:
 *   `setTimeout(fn, 0.1)` / `setTimeout(fn, 1)`, lateness from `performance.now()`.
 * - Empty Spin cycle: `rt.runOneCycle()` on a Spin runtime with nothing scheduled, and with one
 *   self-yielding node (timed loops of 1e6 cycles, median of 5).
 * - FFI calls per cycle: the backend wrapped in a counting Proxy, over 10 000 cycles in Spin
 *   (empty, self-yield, self-yield reading `ctx.time`), in Park with a 100 us timer, and over
 *   Park cycles woken by a Worker's notify.
 *
 * Sample counts scale with `WAVELET_LATENCY_SCALE` (default 1; 0.1 for a quick smoke run).
 * At the end a machine-readable JSON block between `LATENCY_JSON_BEGIN` and `LATENCY_JSON_END`.
 *
 * `deno run -A bench/latency_bench.ts --report OUT_DIR MARKDOWN` reads the raw outputs that
 * `scripts/bench_latency.sh` saved in OUT_DIR and writes the Markdown report.
 *
 * @module
 */

import process from "node:process";
import { readFileSync, writeFileSync } from "node:fs";
import {
  Control,
  ExecutionMode,
  NodeBuilder,
  type NotifierTransferable,
  RealtimeRuntime,
} from "../mod.ts";
import { loadBackend, type NativeBackend } from "../native.ts";
import { type Dist, dist, hostVersion, median, runtimeName, us } from "./_common.ts";

// ------------------------------------------------------------------ shared layout

// The same constants are in bench/latency_worker.ts.
const ACK = 0;
const FLAG = 1;
const GO = 2;
const STUCK = 3;
const STAMP_BYTE_OFFSET = 16;
const SHARED_BYTES = 32;

const RUNTIME = runtimeName;

// ------------------------------------------------------------------ statistics

// ------------------------------------------------------------------ Worker plumbing

interface WorkerHandle {
  worker: Worker;
  done: Promise<string>;
}

async function startWorker(
  kind: "notify" | "post" | "atomics" | "eventfd",
  sab: SharedArrayBuffer,
  total: number,
  notifier?: NotifierTransferable,
  onData?: () => void,
  fd?: number,
): Promise<WorkerHandle> {
  const worker = new Worker(new URL("./latency_worker.ts", import.meta.url).href, {
    type: "module",
  });
  let ready!: () => void;
  let finished!: (why: string) => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const done = new Promise<string>((r) => (finished = r));
  worker.onmessage = (e: MessageEvent) => {
    const d = e.data;
    if (d === 0) onData!();
    else if (d === "ready") ready();
    else finished(String(d));
  };
  worker.onerror = (e) => {
    console.error("latency worker failed:", e.message);
    finished("error");
  };
  worker.postMessage({ kind, sab, total, seed: 0x2545f491, notifier, fd });
  await isReady;
  return { worker, done };
}

function go(i32: Int32Array): void {
  Atomics.store(i32, GO, 1);
  Atomics.notify(i32, GO);
}

async function finish(h: WorkerHandle, i32: Int32Array, what: string): Promise<void> {
  const why = await h.done;
  h.worker.terminate();
  if (why !== "done" || Atomics.load(i32, STUCK) !== 0) {
    throw new Error(`${what}: the producer Worker ended with "${why}"`);
  }
}

// ------------------------------------------------------------------ contenders

const NATIVE: NativeBackend = loadBackend();
if (!NATIVE.hasEpoll) {
  throw new Error("The latency benchmark needs the native backend (Deno: run with -A)");
}

/** Worker notify -> node run on a RealtimeRuntime; the node stamps the native clock first. */
async function benchNotify(
  mode: ExecutionMode,
  n: number,
  warm: number,
  backend: NativeBackend = NATIVE,
  hooks: { start?: () => void; last?: () => void } = {},
  spinBeforeParkNs = 0,
): Promise<{ dist: Dist; cycles: number }> {
  const clk = NATIVE;
  const rt = new RealtimeRuntime({ mode, backend, spinBeforeParkNs });
  const sab = new SharedArrayBuffer(SHARED_BYTES);
  const i32 = new Int32Array(sab);
  const stamp = new Float64Array(sab, STAMP_BYTE_OFFSET, 1);
  const total = n + warm;
  const lat = new Float64Array(n);
  let i = 0;
  const [, notifier] = new NodeBuilder(0).buildWithNotifier(rt.executor, () => {
    const t = clk.monotonicNs();
    if (i >= warm) lat[i - warm] = t - stamp[0];
    i++;
    Atomics.store(i32, ACK, i);
    if (i < total && Atomics.load(i32, STUCK) === 0) return false;
    cycles = rt.executor.epoch - epoch0;
    hooks.last?.();
    return Control.Terminate;
  });
  const h = await startWorker("notify", sab, total, notifier.toTransferable());
  let cycles = 0;
  const epoch0 = rt.executor.epoch;
  hooks.start?.();
  go(i32);
  rt.runForever();
  await finish(h, i32, `notify (${mode === ExecutionMode.Spin ? "Spin" : "Park"})`);
  return { dist: dist(lat), cycles };
}

/** postMessage from the Worker; the main thread's onmessage stamps. */
async function benchPostMessage(n: number, warm: number): Promise<Dist> {
  const sab = new SharedArrayBuffer(SHARED_BYTES);
  const i32 = new Int32Array(sab);
  const stamp = new Float64Array(sab, STAMP_BYTE_OFFSET, 1);
  const total = n + warm;
  const lat = new Float64Array(n);
  let i = 0;
  let allIn!: () => void;
  const complete = new Promise<void>((r) => (allIn = r));
  const h = await startWorker("post", sab, total, undefined, () => {
    const t = NATIVE.monotonicNs();
    if (i >= warm) lat[i - warm] = t - stamp[0];
    i++;
    Atomics.store(i32, ACK, i);
    if (i >= total) allIn();
  });
  go(i32);
  await Promise.race([complete, h.done]);
  await finish(h, i32, "postMessage");
  return dist(lat);
}

/** The main thread blocks in Atomics.wait on a word the Worker stores and notifies. */
async function benchAtomicsWait(n: number, warm: number): Promise<Dist> {
  const sab = new SharedArrayBuffer(SHARED_BYTES);
  const i32 = new Int32Array(sab);
  const stamp = new Float64Array(sab, STAMP_BYTE_OFFSET, 1);
  const total = n + warm;
  const lat = new Float64Array(n);
  const h = await startWorker("atomics", sab, total);
  go(i32);
  for (let i = 0; i < total; i++) {
    while (Atomics.load(i32, FLAG) === 0) {
      if (Atomics.wait(i32, FLAG, 0, 15_000) === "timed-out") break;
    }
    const t = NATIVE.monotonicNs();
    if (Atomics.load(i32, FLAG) === 0) break; // the producer gave up
    Atomics.store(i32, FLAG, 0);
    if (i >= warm) lat[i - warm] = t - stamp[0];
    Atomics.store(i32, ACK, i + 1);
  }
  await finish(h, i32, "Atomics.wait");
  return dist(lat);
}

/**
 * The FFI floor, no runtime: the main thread calls `backend.epollWait` on an eventfd that the
 * Worker writes with `backend.eventfdWrite`. Records the JS-side clock read after the call
 * returns, and the clock the C wait sampled right after epoll returned (`clockOut`).
 */
async function benchRawEpoll(n: number, warm: number): Promise<{ js: Dist; c: Dist }> {
  const b = NATIVE;
  const sab = new SharedArrayBuffer(SHARED_BYTES);
  const i32 = new Int32Array(sab);
  const stamp = new Float64Array(sab, STAMP_BYTE_OFFSET, 1);
  const total = n + warm;
  const lat = new Float64Array(n);
  const latC = new Float64Array(n);
  const ep = b.epollCreate();
  const efd = b.eventfdCreate(0, 0);
  b.epollCtl(ep, 1, efd, 0x001, 1);
  const events = new Int32Array(2);
  const clockOut = new Float64Array(1);
  const h = await startWorker("eventfd", sab, total, undefined, undefined, efd);
  go(i32);
  for (let i = 0; i < total; i++) {
    while (b.epollWait(ep, events, 1, Infinity, clockOut) === 0) { /* spurious: wait again */ }
    const t = b.monotonicNs();
    b.eventfdRead(efd);
    if (Atomics.load(i32, STUCK) !== 0) break;
    if (i >= warm) {
      lat[i - warm] = t - stamp[0];
      latC[i - warm] = clockOut[0] - stamp[0];
    }
    Atomics.store(i32, ACK, i + 1);
  }
  await finish(h, i32, "raw FFI epoll");
  b.close(efd);
  b.close(ep);
  return { js: dist(lat), c: dist(latC) };
}

/** Park-mode timer lateness: native clock at run, and ctx.time (the cycle's time). */
function benchTimer(periodNs: number, n: number, warm: number): { run: Dist; cycle: Dist } {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park, backend: NATIVE });
  const total = n + warm;
  const late = new Float64Array(n);
  const lateCycle = new Float64Array(n);
  let deadline = 0;
  let i = 0;
  new NodeBuilder(0)
    .onInit((ex, self) => {
      deadline = NATIVE.monotonicNs() + periodNs;
      ex.registerTimer(self, deadline);
    })
    .build(rt.executor, (self, ctx) => {
      const t = NATIVE.monotonicNs();
      const ct = ctx.time.monotonicNs;
      if (i >= warm) {
        late[i - warm] = t - deadline;
        lateCycle[i - warm] = ct - deadline;
      }
      if (++i >= total) return Control.Terminate;
      deadline = NATIVE.monotonicNs() + periodNs;
      ctx.registerTimer(self, deadline);
      return false;
    });
  rt.runForever();
  return { run: dist(late), cycle: dist(lateCycle) };
}

/** setTimeout(fn, period) lateness, measured with performance.now(). */
function benchSetTimeout(periodNs: number, n: number, warm: number): Promise<Dist> {
  const total = n + warm;
  const late = new Float64Array(n);
  const periodMs = periodNs / 1e6;
  return new Promise((resolve) => {
    let i = 0;
    let deadline = 0;
    const tick = () => {
      const t = performance.now();
      if (i >= warm) late[i - warm] = (t - deadline) * 1e6;
      if (++i >= total) resolve(dist(late));
      else arm();
    };
    const arm = () => {
      deadline = performance.now() + periodMs;
      setTimeout(tick, periodMs);
    };
    arm();
  });
}

/** ns per rt.runOneCycle() on a Spin runtime (median of `reps` loops of `cycles`). */
function cycleCost(selfYield: boolean, cycles: number, reps: number): number {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Spin, backend: NATIVE });
  if (selfYield) {
    new NodeBuilder(0)
      .onInit((ex, self) => ex.yieldNow(self))
      .build(rt.executor, (self, ctx) => {
        self.value++;
        ctx.yieldNow();
        return false;
      });
  }
  for (let i = 0; i < 100_000; i++) rt.runOneCycle();
  const per: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < cycles; i++) rt.runOneCycle();
    per.push(((performance.now() - t0) * 1e6) / cycles);
  }
  rt.shutdown();
  return median(per);
}

/** Mean cost of a clock read and of an eventfd read that finds nothing (one syscall). */
function callCosts(): { monotonicNs: number; eventfdRead_empty: number } {
  const b = NATIVE;
  const fd = b.eventfdCreate(0, 0);
  let x = 0;
  const clk: number[] = [];
  const rd: number[] = [];
  for (let r = 0; r < 5; r++) {
    let t0 = performance.now();
    for (let i = 0; i < 200_000; i++) x += b.monotonicNs();
    clk.push(((performance.now() - t0) * 1e6) / 200_000);
    t0 = performance.now();
    for (let i = 0; i < 20_000; i++) x += b.eventfdRead(fd);
    rd.push(((performance.now() - t0) * 1e6) / 20_000);
  }
  b.close(fd);
  if (x === 42) console.log(""); // keep the loops observable
  return { monotonicNs: Math.round(median(clk)), eventfdRead_empty: Math.round(median(rd)) };
}

// ------------------------------------------------------------------ FFI call counting

interface Counting {
  backend: NativeBackend;
  counts: Record<string, number>;
  reset(): void;
  total(): number;
}

/** Wraps a backend so every method call (each one FFI call or more) is counted. */
function counting(real: NativeBackend): Counting {
  const counts: Record<string, number> = {};
  const wrapped = new Map<PropertyKey, unknown>();
  const backend = new Proxy(real, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      let w = wrapped.get(prop);
      if (w === undefined) {
        const name = String(prop);
        w = (...args: unknown[]) => {
          counts[name] = (counts[name] ?? 0) + 1;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
        wrapped.set(prop, w);
      }
      return w;
    },
  });
  return {
    backend,
    counts,
    reset() {
      for (const k of Object.keys(counts)) delete counts[k];
    },
    total() {
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
  };
}

interface FfiCount {
  cycles: number;
  per_cycle: number;
  by_method: Record<string, number>;
}

function perCycle(c: Counting, cycles: number): FfiCount {
  const by: Record<string, number> = {};
  for (const [k, v] of Object.entries(c.counts)) by[k] = +(v / cycles).toFixed(3);
  return { cycles, per_cycle: +(c.total() / cycles).toFixed(3), by_method: by };
}

function ffiSpin(kind: "empty" | "yield" | "yield_time", cycles: number): FfiCount {
  const c = counting(NATIVE);
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Spin, backend: c.backend });
  if (kind !== "empty") {
    new NodeBuilder(0)
      .onInit((ex, self) => ex.yieldNow(self))
      .build(rt.executor, (self, ctx) => {
        if (kind === "yield_time") self.value = ctx.time.monotonicNs;
        ctx.yieldNow();
        return false;
      });
  }
  for (let i = 0; i < 100; i++) rt.runOneCycle();
  c.reset();
  for (let i = 0; i < cycles; i++) rt.runOneCycle();
  const r = perCycle(c, cycles);
  rt.shutdown();
  return r;
}

function ffiParkTimer(cycles: number, periodNs: number): FfiCount {
  const c = counting(NATIVE);
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park, backend: c.backend });
  new NodeBuilder(0)
    .onInit((ex, self) => {
      ex.registerTimer(self, rt.clock.nowNs() + periodNs);
    })
    .build(rt.executor, (self, ctx) => {
      ctx.registerTimer(self, ctx.time.monotonicNs + periodNs);
      return false;
    });
  for (let i = 0; i < 10; i++) rt.runOneCycle(Infinity);
  c.reset();
  const e0 = rt.executor.epoch;
  for (let i = 0; i < cycles; i++) rt.runOneCycle(Infinity);
  const r = perCycle(c, rt.executor.epoch - e0);
  rt.shutdown();
  return r;
}

async function ffiParkNotify(samples: number): Promise<FfiCount & { per_sample: number }> {
  const c = counting(NATIVE);
  let snapshot: Counting | undefined;
  // Counted from just before the Worker starts sending to the last node run (setup and
  // teardown excluded); the last sample's cycle is counted up to its node run.
  const { cycles } = await benchNotify(ExecutionMode.Park, samples, 0, c.backend, {
    start: () => c.reset(),
    last: () => {
      const frozen = { ...c.counts };
      snapshot = {
        ...c,
        counts: frozen,
        total: () => Object.values(frozen).reduce((a, b) => a + b, 0),
      };
    },
  });
  const r = perCycle(snapshot!, cycles);
  return { ...r, per_sample: +(snapshot!.total() / samples).toFixed(3) };
}

// ------------------------------------------------------------------ formatting

function row(name: string, d: Dist): string {
  return `${name.padEnd(38)} ${us(d.p50_ns).padStart(9)} ${us(d.p99_ns).padStart(9)} ${
    us(d.p999_ns).padStart(9)
  } ${us(d.mean_ns).padStart(9)}`;
}

function header(title: string): string {
  return `\n${title}\n${"".padEnd(38)} ${"p50 us".padStart(9)} ${"p99 us".padStart(9)} ${
    "p99.9 us".padStart(9)
  } ${"mean us".padStart(9)}`;
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const scale = Number(process.env.WAVELET_LATENCY_SCALE ?? "1") || 1;
  const N = Math.max(200, Math.round(20_000 * scale));
  const WARM = Math.max(50, Math.round(2_000 * scale));
  const T100 = Math.max(200, Math.round(5_000 * scale));
  const T1M = Math.max(100, Math.round(1_000 * scale));
  const ST100 = Math.max(100, Math.round(2_000 * scale));
  const CYC = Math.max(10_000, Math.round(1_000_000 * scale));
  const FFI = Math.max(1_000, Math.round(10_000 * scale));

  console.log(`wavelet latency benchmark on ${hostVersion}, backend ${NATIVE.kind}`);
  console.log(`samples: notify ${N} (+${WARM} warm-up), timers ${T100} x 100 us, ${T1M} x 1 ms`);

  const park = await benchNotify(ExecutionMode.Park, N, WARM);
  const parkSpin = await benchNotify(ExecutionMode.Park, N, WARM, NATIVE, {}, 200_000);
  const spin = await benchNotify(ExecutionMode.Spin, N, WARM);
  const raw = await benchRawEpoll(N, WARM);
  const atomics = await benchAtomicsWait(N, WARM);
  const post = await benchPostMessage(N, WARM);
  console.log(header("Worker notify -> run (wake latency)"));
  console.log(row("wavelet notify, Park (epoll)", park.dist));
  console.log(row("wavelet notify, Park + spinBeforeParkNs 200 us", parkSpin.dist));
  console.log(row("wavelet notify, Spin", spin.dist));
  console.log(row("raw FFI epollWait, JS clock (no runtime)", raw.js));
  console.log(row("raw FFI epollWait, C clock (no runtime)", raw.c));
  console.log(row("Atomics.wait (main thread blocks)", atomics));
  console.log(row("postMessage -> onmessage", post));

  const t100 = benchTimer(100_000, T100, 200);
  const t1m = benchTimer(1_000_000, T1M, 20);
  const st100 = await benchSetTimeout(100_000, ST100, 20);
  const st1m = await benchSetTimeout(1_000_000, T1M, 20);
  console.log(header("Timer lateness (wake time - deadline)"));
  console.log(row("wavelet Park timer 100 us", t100.run));
  console.log(row("wavelet Park timer 100 us (ctx.time)", t100.cycle));
  console.log(row("setTimeout(fn, 0.1)", st100));
  console.log(row("wavelet Park timer 1 ms", t1m.run));
  console.log(row("wavelet Park timer 1 ms (ctx.time)", t1m.cycle));
  console.log(row("setTimeout(fn, 1)", st1m));

  const costs = callCosts();
  const emptyNs = cycleCost(false, CYC, 5);
  const yieldNs = cycleCost(true, CYC, 5);
  console.log("\nSpin cycle cost (rt.runOneCycle(), median of 5 x " + CYC + " cycles)");
  console.log(`  empty (nothing scheduled)   ${emptyNs.toFixed(1)} ns/cycle`);
  console.log(`  one self-yielding node      ${yieldNs.toFixed(1)} ns/cycle`);

  console.log(
    `\nBackend call cost: monotonicNs ${costs.monotonicNs} ns, eventfdRead (empty eventfd, ` +
      `one read() syscall) ${costs.eventfdRead_empty} ns`,
  );

  const ffi = {
    spin_empty: ffiSpin("empty", FFI),
    spin_yield: ffiSpin("yield", FFI),
    spin_yield_time: ffiSpin("yield_time", FFI),
    park_timer_100us: ffiParkTimer(FFI, 100_000),
    park_notify: await ffiParkNotify(Math.max(500, Math.round(FFI / 5))),
  };
  console.log("\nFFI calls per cycle (backend method calls, counted by a Proxy)");
  for (const [k, v] of Object.entries(ffi)) {
    console.log(
      `  ${k.padEnd(18)} ${String(v.per_cycle).padStart(6)}  ${JSON.stringify(v.by_method)}`,
    );
  }

  const result = {
    runtime: RUNTIME,
    version: hostVersion,
    backend: NATIVE.kind,
    samples: { notify: N, warmup: WARM, timer_100us: T100, timer_1ms: T1M, set_timeout: ST100 },
    notify: {
      wavelet_park: park.dist,
      wavelet_park_spin200: parkSpin.dist,
      wavelet_spin: spin.dist,
      raw_ffi_epoll_js: raw.js,
      raw_ffi_epoll_c: raw.c,
      atomics_wait: atomics,
      post_message: post,
    },
    timers: {
      "100us": { wavelet_park: t100.run, wavelet_park_ctx_time: t100.cycle, set_timeout: st100 },
      "1ms": { wavelet_park: t1m.run, wavelet_park_ctx_time: t1m.cycle, set_timeout: st1m },
    },
    call_cost_ns: costs,
    spin_cycle_ns: { empty: +emptyNs.toFixed(2), self_yield: +yieldNs.toFixed(2) },
    ffi_calls: ffi,
  };
  console.log("\nLATENCY_JSON_BEGIN");
  console.log(JSON.stringify(result, null, 2));
  console.log("LATENCY_JSON_END");
}

// ------------------------------------------------------------------ report (--report)

// deno-lint-ignore no-explicit-any
type Json = any;

function jsonBlock(path: string): Json {
  const text = readFileSync(path, "utf8");
  const m = text.match(/LATENCY_JSON_BEGIN\n([\s\S]*?)\nLATENCY_JSON_END/);
  if (!m) throw new Error(`${path}: no LATENCY_JSON block (did the run fail?)`);
  return JSON.parse(m[1]);
}

/** The C baselines run before and after each runtime: keep, per name, the lower-p50 run. */
function jsonLines(path: string): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.trim().startsWith("{")) {
      const o = JSON.parse(line);
      const runs = (out[o.name]?.runs ?? 0) + 1;
      if (out[o.name] === undefined || o.p50_ns < out[o.name].p50_ns) out[o.name] = o;
      out[o.name].runs = runs;
    }
  }
  return out;
}

function envFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

function report(outDir: string, mdPath: string): void {
  const env = envFile(`${outDir}/latency_env.txt`);
  const sections: string[] = [];
  const budget: string[] = [];
  for (const rt of ["deno", "bun"]) {
    let r: Json;
    try {
      r = jsonBlock(`${outDir}/latency_${rt}.txt`);
    } catch (e) {
      sections.push(`## ${rt}\n\nNo result: ${(e as Error).message}\n`);
      continue;
    }
    const c = jsonLines(`${outDir}/latency_c_${rt}.jsonl`);
    sections.push(runtimeSection(r, c));
    budget.push(...budgetLines(r, c));
  }
  const md = [
    "# Latency benchmarks",
    "",
    "Generated by `scripts/bench_latency.sh` from `bench/latency_bench.ts` (both runtimes) and " +
    "the C baselines in `bench/native/` (compiled with `cc -O2 -pthread`). Raw outputs are in " +
    "`bench/out/` (not committed).",
    "",
    "**How to read this.** The machine is a shared VM with 2 noisy cores: absolute figures move " +
    "from run to run, and tails (p99, p99.9) are dominated by preemption from other work on the " +
    "host. The C baselines run before, between and after the two runtimes in the same script " +
    "invocation; each runtime is compared with the lower-p50 of the two C runs around it (the " +
    "stricter baseline), and every ratio compares figures from that one invocation. Budget verdicts use p50 and p99 " +
    "(p99.9 is shown, never judged). With 2 cores a spinning consumer and the producer Worker " +
    "take both cores, so Spin tails are especially noisy: a spinning consumer that the scheduler " +
    "preempts sees a notification only at its next time slice (milliseconds), while a parked " +
    "one is woken with the scheduler's wake-up preference. The timer lateness floor (tens of " +
    "microseconds) is the same for the C timerfd baseline, so it comes from the machine (timer " +
    "interrupt delivery in the VM), not from the runtime.",
    "",
    "## Machine",
    "",
    `- CPU: ${env.cpu ?? "?"}, ${env.cores ?? "?"} cores`,
    `- Load average at start: ${env.loadavg ?? "?"}`,
    `- Kernel: ${env.kernel ?? "?"}; compiler: ${env.cc ?? "?"}`,
    `- ${env.deno ?? "deno ?"}; ${env.bun ?? "bun ?"}`,
    `- Source: commit ${env.commit ?? "?"}${env.dirty ? ` (${env.dirty})` : ""}`,
    `- Date: ${env.date ?? "?"}`,
    "",
    "Reproduce: `bash scripts/bench_latency.sh`, which runs",
    "",
    "```sh",
    "cc -O2 -pthread -o $CACHE/eventfd_baseline bench/native/eventfd_baseline.c",
    "cc -O2 -pthread -o $CACHE/timerfd_baseline bench/native/timerfd_baseline.c",
    "# C baselines before Deno, between Deno and Bun, and after Bun; each batch:",
    "$CACHE/eventfd_baseline park 20000 2000; $CACHE/eventfd_baseline spin 20000 2000",
    "$CACHE/timerfd_baseline 100000 5000 200; $CACHE/timerfd_baseline 1000000 1000 20",
    "$CACHE/timerfd_baseline 100000 5000 200 pwait2; $CACHE/timerfd_baseline 1000000 1000 20 pwait2",
    "node_modules/.bin/deno run -A bench/latency_bench.ts   # > bench/out/latency_deno.txt",
    "node_modules/.bin/bun run bench/latency_bench.ts       # > bench/out/latency_bun.txt",
    "node_modules/.bin/deno run -A bench/latency_bench.ts --report bench/out bench/LATENCY.md",
    "```",
    "",
    "## Budget",
    "",
    "| Runtime | Budget line | Measured | Verdict |",
    "|---|---|---|---|",
    ...budget,
    "",
    ...sections,
  ].join("\n");
  writeFileSync(mdPath, md + "\n");
}

function ratio(a: number, b: number): string {
  if (!(b > 0) || !Number.isFinite(a)) return "n/a";
  return `${(a / b).toFixed(2)}x`;
}

function runtimeSection(r: Json, c: Record<string, Json>): string {
  const nt = r.notify;
  const cPark = c.c_eventfd_park, cSpin = c.c_eventfd_spin;
  const post = nt.post_message;
  const lines = [
    `## ${r.version}`,
    "",
    `Samples: notify ${r.samples.notify} per contender after ${r.samples.warmup} warm-up; ` +
    `timers ${r.samples.timer_100us} x 100 us, ${r.samples.timer_1ms} x 1 ms; setTimeout ` +
    `${r.samples.set_timeout} x 0.1 ms, ${r.samples.timer_1ms} x 1 ms. Times in microseconds.`,
    "",
    "### Worker notify -> run",
    "",
    "The producer stamps CLOCK_MONOTONIC, then wakes the consumer; the consumer reads the clock " +
    'first thing. "vs C" divides by the C eventfd baseline of the same kind (Park by the ' +
    "epoll_wait consumer, Spin by the spinning reader; the JS peers by the epoll_wait one). " +
    '"postMessage / x" is how many times lower than postMessage (higher is better).',
    "",
    "| Contender | p50 | p99 | p99.9 | p50 vs C | p99 vs C | postMessage / x (p50) | postMessage / x (p99) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const nrow = (name: string, d: Json, base: Json) =>
    `| ${name} | ${us(d.p50_ns)} | ${us(d.p99_ns)} | ${us(d.p999_ns)} | ${
      base ? ratio(d.p50_ns, base.p50_ns) : "n/a"
    } | ${base ? ratio(d.p99_ns, base.p99_ns) : "n/a"} | ${ratio(post.p50_ns, d.p50_ns)} | ${
      ratio(post.p99_ns, d.p99_ns)
    } |`;
  lines.push(nrow("wavelet notify, Park (epoll)", nt.wavelet_park, cPark));
  if (nt.wavelet_park_spin200) {
    lines.push(
      nrow("wavelet notify, Park + spinBeforeParkNs 200 us", nt.wavelet_park_spin200, cPark),
    );
  }
  lines.push(nrow("wavelet notify, Spin", nt.wavelet_spin, cSpin));
  if (nt.raw_ffi_epoll_js) {
    lines.push(
      nrow("raw FFI epollWait, clock read in JS (no runtime)", nt.raw_ffi_epoll_js, cPark),
    );
    lines.push(nrow("raw FFI epollWait, clock read in C (no runtime)", nt.raw_ffi_epoll_c, cPark));
  }
  lines.push(nrow("Atomics.wait on the main thread", nt.atomics_wait, cPark));
  lines.push(nrow("postMessage -> onmessage", post, cPark));
  if (cPark) lines.push(nrow("C eventfd, epoll_wait (baseline)", cPark, cPark));
  if (cSpin) lines.push(nrow("C eventfd, spinning read (baseline)", cSpin, cSpin));
  lines.push(
    "",
    "### Park-mode timer lateness",
    "",
    'Lateness = the time the node (or callback) runs minus the deadline. "wavelet (ctx.time)" ' +
      'uses the cycle time sampled right after the wait. "vs C" divides by the C timerfd ' +
      'baseline; "setTimeout / x" is how many times lower than setTimeout (higher is better).',
    "",
    "| Period | Contender | p50 | p99 | p99.9 | p50 vs C timerfd | p99 vs C timerfd | setTimeout / x (p50) | setTimeout / x (p99) |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (
    const [period, key, cKey, pKey] of [
      ["100 us", "100us", "c_timerfd_100us", "c_pwait2_100us"],
      ["1 ms", "1ms", "c_timerfd_1000us", "c_pwait2_1000us"],
    ]
  ) {
    const t = r.timers[key], ct = c[cKey], cp = c[pKey], st = t.set_timeout;
    const trow = (name: string, d: Json) =>
      `| ${period} | ${name} | ${us(d.p50_ns)} | ${us(d.p99_ns)} | ${us(d.p999_ns)} | ${
        ct ? ratio(d.p50_ns, ct.p50_ns) : "n/a"
      } | ${ct ? ratio(d.p99_ns, ct.p99_ns) : "n/a"} | ${ratio(st.p50_ns, d.p50_ns)} | ${
        ratio(st.p99_ns, d.p99_ns)
      } |`;
    lines.push(trow("wavelet Park timer", t.wavelet_park));
    lines.push(trow("wavelet Park timer (ctx.time)", t.wavelet_park_ctx_time));
    lines.push(trow(`setTimeout(fn, ${key === "100us" ? "0.1" : "1"})`, st));
    if (ct) lines.push(trow("C timerfd + epoll_wait (baseline)", ct));
    if (cp) lines.push(trow("C epoll_pwait2 relative timeout", cp));
  }
  lines.push(...whereTimeGoes(r, c));
  const f = r.ffi_calls;
  const methods = (m: Record<string, number>) =>
    Object.entries(m).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  lines.push(
    "",
    "### Spin cycle cost and FFI calls per cycle",
    "",
    `- Empty Spin cycle (\`rt.runOneCycle()\`, nothing scheduled): ${r.spin_cycle_ns.empty} ns`,
    `- Spin cycle with one self-yielding node: ${r.spin_cycle_ns.self_yield} ns`,
    "",
    "| Scenario | Backend calls per cycle | By method (per cycle) |",
    "|---|---:|---|",
    `| Spin, empty | ${f.spin_empty.per_cycle} | ${methods(f.spin_empty.by_method)} |`,
    `| Spin, self-yielding node | ${f.spin_yield.per_cycle} | ${methods(f.spin_yield.by_method)} |`,
    `| Spin, self-yielding node reading ctx.time | ${f.spin_yield_time.per_cycle} | ${
      methods(f.spin_yield_time.by_method)
    } |`,
    `| Park, one 100 us timer re-registered | ${f.park_timer_100us.per_cycle} | ${
      methods(f.park_timer_100us.by_method)
    } |`,
    `| Park, woken by a Worker's notify | ${f.park_notify.per_cycle} | ${
      methods(f.park_notify.by_method)
    } |`,
    "",
  );
  return lines.join("\n");
}

/** A decomposition of the Park wake path from the contenders measured in the same run. */
function whereTimeGoes(r: Json, c: Record<string, Json>): string[] {
  const nt = r.notify, cPark = c.c_eventfd_park;
  if (!nt.raw_ffi_epoll_js || !cPark) return [];
  const raw = nt.raw_ffi_epoll_js, rawC = nt.raw_ffi_epoll_c, wv = nt.wavelet_park;
  const extra = wv.p50_ns - raw.p50_ns;
  const out = [
    "",
    "### Where the Park wake time goes (p50)",
    "",
    `- Kernel wake, C consumer (eventfd write -> epoll_wait returns -> clock): ${
      us(cPark.p50_ns)
    } us.`,
    `- Same wait through the FFI with no runtime: ${
      us(rawC.p50_ns)
    } us when the C side reads the clock right after epoll returns, ${
      us(raw.p50_ns)
    } us when JS reads it after the call returns` +
    (raw.p50_ns <= 1.3 * cPark.p50_ns ? ": the FFI itself costs little." : "."),
  ];
  if (extra > 0 && raw.p50_ns <= 1.5 * cPark.p50_ns) {
    out.push(
      `- wavelet Park: ${us(wv.p50_ns)} us, so the runtime's wake path adds ${
        us(extra)
      } us over the raw FFI wait. On that path, before the node runs: an \`eventfdRead\` of ` +
        `the wake eventfd (one FFI call and one read() syscall), the park/unpark stores, the ` +
        `notification drain and scheduling, and the node call.`,
    );
  } else {
    out.push(
      `- wavelet Park: ${us(wv.p50_ns)} us. In this run the raw FFI wait measured ` +
        `${raw.p50_ns > 1.5 * cPark.p50_ns ? "well above the C baseline" : "above wavelet"}` +
        ", so the load changed during the run and no decomposition is drawn from it; see the " +
        "other runtime's section, or rerun.",
    );
  }
  if (cPark.read_syscall_ns !== undefined) {
    out.push(
      `- One read() syscall on an empty eventfd costs ${
        us(cPark.read_syscall_ns)
      } us from C on this machine` +
        (r.call_cost_ns
          ? ` (${us(r.call_cost_ns.eventfdRead_empty)} us through the FFI; a monotonicNs ` +
            `clock read costs ${r.call_cost_ns.monotonicNs} ns)`
          : "") +
        ": syscalls are expensive on this VM, and the wake path's read of the wake eventfd " +
        "before the node runs is one such syscall that the C baseline does after its clock read.",
    );
  }
  return out;
}

function budgetLines(r: Json, c: Record<string, Json>): string[] {
  const out: string[] = [];
  const rt = r.runtime;
  const verdict = (ok: boolean) => (ok ? "PASS" : "**MISS**");
  const within = (name: string, d: Json, base: Json, limit: number, what: string) => {
    if (!base) return out.push(`| ${rt} | ${name} | no baseline | n/a |`);
    for (const p of ["p50_ns", "p99_ns"]) {
      const q = d[p] / base[p];
      out.push(
        `| ${rt} | ${name} ${p.slice(0, 3)} within ${limit}x of ${what} | ${us(d[p])} us vs ${
          us(base[p])
        } us = ${q.toFixed(2)}x | ${verdict(q <= limit)} |`,
      );
    }
  };
  const better = (name: string, d: Json, peer: Json, factor: number, what: string) => {
    for (const p of ["p50_ns", "p99_ns"]) {
      const q = peer[p] / d[p];
      out.push(
        `| ${rt} | ${name} ${p.slice(0, 3)} at least ${factor}x better than ${what} | ${
          us(d[p])
        } us vs ${us(peer[p])} us = ${q.toFixed(2)}x better | ${verdict(q >= factor)} |`,
      );
    }
  };
  const nt = r.notify;
  within("notify Park", nt.wavelet_park, c.c_eventfd_park, 1.2, "C eventfd (epoll)");
  within("notify Spin", nt.wavelet_spin, c.c_eventfd_spin, 1.2, "C eventfd (spin)");
  better("notify Park", nt.wavelet_park, nt.post_message, 2, "postMessage");
  better("notify Spin", nt.wavelet_spin, nt.post_message, 2, "postMessage");
  for (const [key, cKey] of [["100us", "c_timerfd_100us"], ["1ms", "c_timerfd_1000us"]]) {
    const t = r.timers[key];
    const label = `timer ${key.replace("us", " us").replace("ms", " ms")}`;
    within(label, t.wavelet_park, c[cKey], 1.2, "C timerfd");
    better(label, t.wavelet_park, t.set_timeout, 10, "setTimeout");
  }
  return out;
}

const argv = process.argv.slice(2);
if (argv[0] === "--report") {
  if (argv.length < 3) throw new Error("usage: latency_bench.ts --report OUT_DIR MARKDOWN");
  report(argv[1], argv[2]);
  console.log(`wrote ${argv[2]}`);
} else {
  await main();
  // Workers are terminated; some runtimes keep the process alive for a moment otherwise.
  process.exit(0);
}
