/**
 * The npm package, as a consumer gets it: built by scripts/build_npm.sh (or taken from
 * `WAVELET_NPM_TARBALL` when scripts/test.sh built it already), installed with
 * `npm install <tarball>` into a fresh folder, then imported as "@wavelet/wavelet" by a small
 * program under Bun (native backend, built from the package's own C sources, and the embedded
 * prebuilt library when no compiler works) and under Node (the pure-JS backend), and
 * type-checked by tsc against the package's .d.ts files. Every child process is bounded in time.
 *
 * @module
 */

import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { assert, assertEquals, isBun, test } from "./_harness.ts";
import { partitionOf } from "../nats.ts";
import { shardOf } from "../shard.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, killing it (and failing) after `timeoutMs`. */
function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; env?: Record<string, string>; timeoutMs: number },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "", stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} could not be started: ${e.message}`, { cause: e }));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new Error(`${cmd} ${args.join(" ")} ran past ${opts.timeoutMs} ms\n${stderr}`));
      } else resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a command and returns its stdout; throws with its output unless it exits 0. */
async function ok(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; env?: Record<string, string>; timeoutMs: number },
): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
  }
  return r.stdout;
}

function bunBinary(): string {
  if (isBun) return process.execPath;
  const local = join(root, "node_modules", ".bin", "bun");
  return existsSync(local) ? local : "bun";
}

// The consumer program: a diamond on TestRuntime (deterministic), then a Park timer on
// RealtimeRuntime (real time), printed as one JSON line.
/** `names` and every package they depend on, as installed in this checkout's node_modules. */
function dependencyClosure(names: string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const pj = JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8"));
    for (const d of Object.keys(pj.dependencies ?? {})) visit(d);
  };
  names.forEach(visit);
  return [...seen];
}

const PROGRAM = `
import {
  Control,
  ExecutionMode,
  ms,
  NodeBuilder,
  RealtimeRuntime,
  TestRuntime,
} from "@wavelet/wavelet";
import { loadBackend } from "@wavelet/wavelet/native";
import { localChannel } from "@wavelet/wavelet/channel";
import { map } from "@wavelet/wavelet/std";
import { Metrics } from "@wavelet/wavelet/metrics";
import { partitionOf } from "@wavelet/wavelet/nats";
import { shardOf } from "@wavelet/wavelet/shard";

const backend = loadBackend();
const runtime = typeof Bun !== "undefined" ? "bun" : typeof Deno !== "undefined" ? "deno" : "node";
if (backend.kind === "js") {
  console.error("note: " + runtime + " has no FFI here; wavelet runs its pure-JS backend " +
    "(host timers, no epoll, no sockets)");
}

// src ticks every 10 ms of test time; a = 2 * src and b = src + 1 join in sum = a + b.
const rt = new TestRuntime();
const metrics = new Metrics(rt.executor, { nodeTime: false });
const src = new NodeBuilder(0)
  .onInit((ex, self) => ex.registerTimer(self, ms(10)))
  .build(rt.executor, (self, ctx) => {
    self.value += 1;
    ctx.registerTimer(self, ctx.time.monotonicNs + ms(10));
    return Control.Broadcast;
  });
const a = new NodeBuilder(0).triggeredBy(src)
  .build(rt.executor, (self) => { self.value = src.value * 2; return Control.Broadcast; });
const b = new NodeBuilder(0).triggeredBy(src)
  .build(rt.executor, (self) => { self.value = src.value + 1; return Control.Broadcast; });
let sumRuns = 0;
const sum = new NodeBuilder(0).triggeredBy(a).triggeredBy(b)
  .build(rt.executor, (self) => { sumRuns++; self.value = a.value + b.value; return Control.Broadcast; });
const sums = [];
// A sub-path entry of each kind: a channel node (channel) feeding a std transform (std).
const [fed, tx] = new NodeBuilder(0).buildWith(rt.executor, localChannel({ capacity: 4 }), (self, _c, rx) => {
  for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) self.value += v;
  return Control.Broadcast;
});
const tripled = map(rt.executor, fed, (x) => x * 3);
tx.trySend(7);
rt.runOneCycle();
for (let i = 0; i < 5; i++) {
  rt.advanceClock(ms(10));
  rt.runOneCycle();
  sums.push(sum.value);
}

// A Park-mode timer: 5 ticks 2 ms apart on the real clock.
const live = new RealtimeRuntime({ mode: ExecutionMode.Park });
const t0 = performance.now();
const ticker = new NodeBuilder(0)
  .onInit((ex, self) => ex.registerTimer(self, live.clock.nowNs() + ms(2)))
  .build(live.executor, (self, ctx) => {
    self.value++;
    if (self.value === 5) return Control.Terminate;
    ctx.registerTimer(self, ctx.time.monotonicNs + ms(2));
    return Control.Broadcast;
  });
live.runForever();
const elapsedMs = performance.now() - t0;

console.log(JSON.stringify({
  runtime,
  backend: backend.kind,
  hasEpoll: backend.hasEpoll,
  path: backend.path,
  realtimeBackend: live.backend.kind,
  sums,
  sumRuns,
  tripled: tripled.value,
  metricsRuns: Number(/^wavelet_node_runs_total\\{node="\\(unnamed\\)"\\} (\\d+)$/m.exec(metrics.text())?.[1]),
  ticks: ticker.value,
  elapsedMs,
  partition: partitionOf("acct-7", 4),
  shard: shardOf(42, 4),
}));
`;

// The consumer's TypeScript: type-checked against the package's .d.ts with tsc.
const TYPED = `
import { Control, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
import { loadBackend, type NativeBackend } from "@wavelet/wavelet/native";
import { localChannel, type LocalSender } from "@wavelet/wavelet/channel";
import { type JetStreamSourceOptions, partitionMapping } from "@wavelet/wavelet/nats";
import { type ShardState, shardOf } from "@wavelet/wavelet/shard";
const mapping: [string, string] = partitionMapping("orders", 4);
const sourceOptions: Partial<JetStreamSourceOptions<Uint8Array>> = { stream: "S", capacity: 8 };
const shards: ShardState[] = [];
const shard: number = shardOf(1, 2);
console.log(mapping, sourceOptions, shards, shard);
const rt = new TestRuntime();
const n = new NodeBuilder(0).build(rt.executor, (self) => {
  self.value += 1;
  return Control.Broadcast;
});
const backend: NativeBackend = loadBackend();
const value: number = n.value;
const [, tx]: [unknown, LocalSender<string>] = new NodeBuilder("").buildWith(
  rt.executor,
  localChannel<string>({ capacity: 2 }),
  (self, _ctx, rx) => {
    const s: string | undefined = rx.tryRecv();
    if (s !== undefined) self.value = s;
  },
);
tx.trySend("typed");
console.log(value, backend.kind);
`;

interface Output {
  runtime: string;
  backend: string;
  hasEpoll: boolean;
  path: string | null;
  realtimeBackend: string;
  sums: number[];
  sumRuns: number;
  tripled: number;
  metricsRuns: number;
  ticks: number;
  elapsedMs: number;
  partition: number;
  shard: number;
}

function parse(stdout: string): Output {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as Output;
}

function checkGraph(out: Output): void {
  // sum = 2 * n + (n + 1) for n = 1..5, once per cycle (no glitch, no double run).
  assertEquals(out.sums, [4, 7, 10, 13, 16], `${out.runtime} diamond`);
  assertEquals(out.sumRuns, 5, `${out.runtime} diamond runs`);
  assertEquals(out.tripled, 21, `${out.runtime} channel and std sub-path entries`);
  // src 5, a 5, b 5, sum 5 and fed 1 (unnamed; tripled is "map"): the metrics sub-path entry.
  assertEquals(out.metricsRuns, 21, `${out.runtime} metrics entry`);
  assertEquals(out.ticks, 5, `${out.runtime} Park timer ticks`);
  // The nats and shard entries load (with the NATS client the package depends on).
  assertEquals([out.partition, out.shard], [partitionOf("acct-7", 4), shardOf(42, 4)]);
  assert(out.elapsedMs >= 8, `${out.runtime}: 5 ticks 2 ms apart took ${out.elapsedMs} ms`);
}

test("the npm package installs into a fresh folder and runs under Bun and Node", async () => {
  const work = mkdtempSync(join(tmpdir(), "wavelet-package-"));
  try {
    let tarball = process.env.WAVELET_NPM_TARBALL;
    if (!tarball) {
      await ok("bash", [join(root, "scripts", "build_npm.sh"), join(work, "dist")], {
        cwd: root,
        timeoutMs: 60_000,
      });
      const name = readdirSync(join(work, "dist")).find((f) => f.endsWith(".tgz"));
      assert(name !== undefined, "scripts/build_npm.sh made no tarball");
      tarball = join(work, "dist", name);
    }

    const app = join(work, "app");
    const npmEnv = {
      npm_config_cache: join(work, "npm-cache"),
      npm_config_update_notifier: "false",
    };
    mkdirSync(app);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    // The package's dependencies (the NATS client) and theirs, packed from this checkout's
    // node_modules, so the install works offline as a consumer's would online.
    const deps = join(work, "deps");
    mkdirSync(deps);
    const declared = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).dependencies ??
      {};
    for (const name of dependencyClosure(Object.keys(declared))) {
      await ok("npm", [
        "pack",
        "--ignore-scripts",
        "--offline",
        "--pack-destination",
        deps,
        join(root, "node_modules", name),
      ], { cwd: work, env: npmEnv, timeoutMs: 30_000 });
    }
    const depTarballs = readdirSync(deps).map((f) => join(deps, f));
    await ok("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball, ...depTarballs], {
      cwd: app,
      env: npmEnv,
      timeoutMs: 30_000,
    });
    const installed = join(app, "node_modules", "@wavelet", "wavelet");
    const pkg = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
    assertEquals(pkg.name, "@wavelet/wavelet");
    assertEquals(pkg.type, "module");
    assertEquals(pkg.dependencies ?? {}, declared, "the dependencies of package.json");
    for (const f of ["mod.js", "mod.d.ts", "ffi/native/wavelet.c", "ffi/native/wavelet.h"]) {
      assert(existsSync(join(installed, f)), `the installed package lacks ${f}`);
    }
    assert(existsSync(join(installed, "ffi/prebuilt_linux_x64.js")), "no prebuilt module");

    writeFileSync(join(app, "program.mjs"), PROGRAM);
    writeFileSync(join(app, "typed.ts"), TYPED);
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          noEmit: true,
          strict: true,
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          // esnext.disposable: the NATS client's own types (Symbol.asyncDispose), which a
          // consumer of the nats entry meets as soon as it imports connect().
          lib: ["es2022", "dom", "esnext.disposable"],
          types: [],
        },
        files: ["typed.ts"],
      }),
    );

    const bun = bunBinary();
    const bunCache = join(work, "cache-built");
    const prebuiltCache = join(work, "cache-prebuilt");
    const limit = 30_000;
    const [onBunBuilt, onBunPrebuilt, onNode, tsc] = await Promise.all([
      // A fresh cache: the library is compiled from the installed package's ffi/native/.
      run(bun, ["program.mjs"], { cwd: app, env: { XDG_CACHE_HOME: bunCache }, timeoutMs: limit }),
      // No working compiler: the embedded prebuilt library is used (linux-x64).
      run(bun, ["program.mjs"], {
        cwd: app,
        env: { XDG_CACHE_HOME: prebuiltCache, CC: "false" },
        timeoutMs: limit,
      }),
      run("node", ["program.mjs"], { cwd: app, timeoutMs: limit }),
      run("node", [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "."], {
        cwd: app,
        timeoutMs: limit,
      }),
    ]);
    for (
      const [label, r] of [
        ["bun", onBunBuilt],
        ["bun (prebuilt)", onBunPrebuilt],
        ["node", onNode],
        ["tsc", tsc],
      ] as const
    ) {
      assertEquals(r.code, 0, `${label} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    }

    const built = parse(onBunBuilt.stdout);
    assertEquals([built.runtime, built.backend, built.hasEpoll], ["bun", "bun", true]);
    assertEquals(built.realtimeBackend, "bun");
    assert(built.path?.startsWith(bunCache), `bun loaded ${built.path}, not the fresh build`);
    checkGraph(built);

    const prebuilt = parse(onBunPrebuilt.stdout);
    assertEquals([prebuilt.backend, prebuilt.hasEpoll], ["bun", true]);
    if (process.platform === "linux" && process.arch === "x64") {
      assert(
        prebuilt.path?.startsWith(prebuiltCache),
        `bun loaded ${prebuilt.path}, not the prebuilt`,
      );
    }
    checkGraph(prebuilt);

    const node = parse(onNode.stdout);
    assertEquals([node.runtime, node.backend, node.hasEpoll], ["node", "js", false]);
    assertEquals(node.realtimeBackend, "js");
    assert(onNode.stderr.includes("pure-JS backend"), `node printed no note: ${onNode.stderr}`);
    checkGraph(node);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}, { timeoutMs: 120_000 });
