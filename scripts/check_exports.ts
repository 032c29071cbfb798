/**
 * Fails when `deno.json` (JSR) and `package.json` (Bun, npm) disagree on what the package
 * exports: the same entry-point keys, each pointing at the same module, and the same name and
 * version. `package.json` may point an entry at the TypeScript source (Bun runs it as is) or at
 * its compiled form (`.js` / `.d.ts` next to it or under `dist/npm/`). When the built npm
 * package exists (`dist/npm/package.json`, from scripts/build_npm.sh), it is checked too.
 *
 * Run: `deno run --allow-read scripts/check_exports.ts` or `bun scripts/check_exports.ts`.
 *
 * @module
 */

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** An `exports` value as package.json allows it: a path, or conditions mapping to values. */
type ExportTarget = string | null | { [condition: string]: ExportTarget };

/** Normalizes `exports` to a map of entry point to target (a bare string means "."). */
function entries(exp: unknown): Map<string, ExportTarget> {
  if (typeof exp === "string") return new Map([[".", exp]]);
  if (exp === null || typeof exp !== "object") return new Map();
  const keys = Object.keys(exp);
  // A conditions object at the top ({ "import": ..., "types": ... }) is the "." entry.
  if (keys.length > 0 && keys.every((k) => !k.startsWith("."))) {
    return new Map([[".", exp as ExportTarget]]);
  }
  return new Map(Object.entries(exp as Record<string, ExportTarget>));
}

/** Every path a target can resolve to, whatever the conditions. */
function leaves(t: ExportTarget): string[] {
  if (t === null) return [];
  if (typeof t === "string") return [t];
  return Object.values(t).flatMap(leaves);
}

/** The source module a path stands for: `x.ts`, `x.js`, `x.d.ts` all name `x`. */
function moduleOf(path: string, base: string): string {
  const p = normalize(join(base, path)).replace(/\\/g, "/");
  return p.replace(/\.d\.ts$|\.(?:ts|js|mjs|mts)$/, "");
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8"));
}

/**
 * Compares the exports of `other` (a package.json) with those of deno.json.
 *
 * @param label What the file is, for messages.
 * @param pkg The parsed package.json.
 * @param base The folder its paths are relative to, relative to the repository root.
 * @param denoExports deno.json's entries.
 * @returns The problems found (empty when they agree).
 */
function compare(
  label: string,
  pkg: Record<string, unknown>,
  base: string,
  denoExports: Map<string, ExportTarget>,
): string[] {
  const problems: string[] = [];
  const pkgExports = entries(pkg.exports);
  for (const key of denoExports.keys()) {
    if (!pkgExports.has(key)) problems.push(`${label} lacks the entry point "${key}"`);
  }
  for (const key of pkgExports.keys()) {
    if (!denoExports.has(key)) problems.push(`${label} exports "${key}", deno.json does not`);
  }
  for (const [key, denoTarget] of denoExports) {
    const target = pkgExports.get(key);
    if (target === undefined) continue;
    const want = moduleOf(leaves(denoTarget)[0] ?? "", ".");
    const paths = leaves(target);
    if (paths.length === 0) problems.push(`${label} maps "${key}" to nothing`);
    for (const path of paths) {
      // Relative to the file, or the same module compiled into dist/npm/.
      const got = moduleOf(path, base).replace(/^dist\/npm\//, "");
      if (got !== want) {
        problems.push(`${label} maps "${key}" to ${path}, deno.json to ${leaves(denoTarget)[0]}`);
      }
      if (!existsSync(join(root, base, path))) {
        problems.push(`${label} maps "${key}" to ${path}, which does not exist`);
      }
    }
  }
  return problems;
}

const deno = readJson(join(root, "deno.json"));
const denoExports = entries(deno.exports);
const problems: string[] = [];
for (const [key, target] of denoExports) {
  for (const path of leaves(target)) {
    if (!existsSync(join(root, path))) {
      problems.push(`deno.json maps "${key}" to ${path}, which does not exist`);
    }
  }
}

const candidates: [string, string][] = [["package.json", "."], [
  "dist/npm/package.json",
  "dist/npm",
]];
let checked = 0;
for (const [file, base] of candidates) {
  const path = join(root, file);
  if (!existsSync(path)) continue;
  checked++;
  const pkg = readJson(path);
  problems.push(...compare(file, pkg, base, denoExports));
  for (const field of ["name", "version"] as const) {
    if (pkg[field] !== deno[field]) {
      problems.push(`${file} has ${field} ${pkg[field]}, deno.json ${deno[field]}`);
    }
  }
}

if (problems.length > 0) {
  console.error(`Exports disagree:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(
  `Exports agree: ${[...denoExports.keys()].join(", ")} (deno.json and ${checked} package.json)`,
);
