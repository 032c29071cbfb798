/**
 * The house rules on imports, read from the sources: no import circle anywhere in `src/` and
 * `ffi/` (type-only imports included), the core imports no feature, the backend contract imports
 * nothing, and every entry point imports only what it re-exports.
 */

import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, assertEquals, test } from "./_harness.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** Relative specifiers a module imports or re-exports (type-only ones included). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8")
    // Comments may quote import lines (JSDoc examples): drop them first.
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  const re =
    /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith(".")) out.push(resolve(dirname(file), spec));
  }
  return out;
}

const files = [...walk(join(root, "src")), ...walk(join(root, "ffi"))];
const graph = new Map<string, string[]>();
for (const f of files) graph.set(f, importsOf(f));
const rel = (p: string) => relative(root, p);

test("no import circle in src/ and ffi/ (type-only imports included)", () => {
  // Tarjan's strongly connected components: any component of more than one module is a circle.
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], on = new Set<string>(), circles: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      for (;;) {
        const w = stack.pop()!;
        on.delete(w);
        comp.push(w);
        if (w === v) break;
      }
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(comp.map(rel));
    }
  };
  for (const f of graph.keys()) if (!idx.has(f)) visit(f);
  assertEquals(circles, [], `import circles: ${JSON.stringify(circles)}`);
});

test("the core imports no feature, and the backend contract imports nothing", () => {
  // The core: the executor and its rooms, the stimulus drivers, the clocks. It may reach the
  // backend contract, and the two runtime modules that stand for the host: the explicit
  // default-backend wiring (a rebuilt notifier wakes an eventfd) and the host shim.
  const core = ["core", "drivers", "clock"].map((d) => join(root, "src", d) + "/");
  const isCore = (p: string) => core.some((d) => p.startsWith(d));
  const allowed = (to: string) =>
    isCore(to) || to === join(root, "ffi", "backend.ts") ||
    to === join(root, "src", "runtime", "backend.ts") ||
    to === join(root, "src", "runtime", "host.ts");
  const bad: string[] = [];
  for (const [from, tos] of graph) {
    if (!isCore(from)) continue;
    for (const to of tos) if (!allowed(to)) bad.push(`${rel(from)} -> ${rel(to)}`);
  }
  assertEquals(bad, [], "core modules import only the core, the contract and the host");
  assertEquals(graph.get(join(root, "ffi", "backend.ts")), [], "ffi/backend.ts imports nothing");
  assert(graph.size > 40, `found ${graph.size} modules`);
});

test("the root entry exports about 60 names, and no entry exports plumbing", async () => {
  const entries = [
    "mod",
    "channel",
    "net",
    "std",
    "replay",
    "testing",
    "observe",
    "native",
    "metrics",
    "shard",
    "nats",
  ];
  const plumbing = [
    "AtomicsWaker",
    "Waker",
    "Poller",
    "IoPoller",
    "ADDR_LEN",
    "MAX_TIMERS",
    "Recorder",
    "Replayer",
    "NotifyQueue",
    "RuntimePort",
    "runtimePort",
  ];
  const names = new Map<string, string[]>();
  for (const e of entries) {
    const text = readFileSync(join(root, `${e}.ts`), "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
    const found: string[] = [];
    for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
      for (const part of m[1].split(",")) {
        const n = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/).pop()!;
        if (n !== "") found.push(n);
      }
    }
    if (/export \*/.test(text)) {
      const mod = await import(join(root, `${e}.ts`));
      found.push(...Object.keys(mod));
    }
    names.set(e, found);
  }
  const root_ = names.get("mod")!;
  assert(root_.length <= 62, `the root entry exports ${root_.length} names`);
  for (const [e, list] of names) {
    for (const p of plumbing) assert(!list.includes(p), `${e}.ts exports the plumbing ${p}`);
  }
});

test("optional parameters are declared `name?: T`, which the documentation shows as optional", () => {
  // A parameter written `options: T = {}` is documented (deno doc) as a required `options: T`.
  const found: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    for (const line of text.split("\n")) {
      if (/^\s*(const|let|var)\s/.test(line)) continue;
      if (/[(\s]\w+: [^=;()\n]+ = \{\}\s*[,)]/.test(line)) found.push(`${rel(f)}: ${line.trim()}`);
    }
  }
  assertEquals(found, []);
});
