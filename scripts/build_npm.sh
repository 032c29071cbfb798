#!/usr/bin/env bash
# Builds the npm package from the same sources JSR publishes, into dist/ (or the folder given
# as the first argument, for example a test's temporary folder):
#   dist/npm/                          the package folder (ESM .js + .d.ts, native sources)
#   dist/wavelet-wavelet-<version>.tgz the tarball, made by `npm pack`
#
# `deno pack` compiles the files of deno.json's `publish.include` (rewriting `.ts` specifiers
# to `.js` and emitting .d.ts from the explicit types JSR requires anyway); this script then
# completes package.json (description, `files`, engines, the `dependencies` of package.json),
# checks that no compiled module imports something Node cannot resolve (bun:ffi must stay a
# call-time `import.meta.require`; a bare specifier must name a declared dependency), and packs
# it with npm. Works offline.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

DIST="${1:-dist}"
OUT="$DIST/npm"
rm -rf "$OUT" "$DIST/deno-pack.tgz" "$DIST"/wavelet-wavelet-*.tgz
mkdir -p "$DIST"

# --allow-dirty: others commit in this checkout concurrently; the tree on disk is what is packed.
# --no-source-maps: inline maps would double the package; the .js keeps the sources' comments.
deno pack --quiet --allow-dirty --no-source-maps -o "$DIST/deno-pack.tgz"
mkdir -p "$OUT"
tar -xzf "$DIST/deno-pack.tgz" -C "$OUT" --strip-components=1
rm "$DIST/deno-pack.tgz"
cp LICENSE "$OUT/LICENSE"

node --input-type=module - "$OUT" <<'EOF'
import { readFileSync, writeFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
const src = JSON.parse(readFileSync("package.json", "utf8"));
const deno = JSON.parse(readFileSync("deno.json", "utf8"));
const packed = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));

// Every entry point of deno.json, as import + types (the check in scripts/check_exports.ts
// keeps deno.json and package.json in agreement).
const exportsMap = {};
for (const [key, target] of Object.entries(packed.exports ?? {})) {
  exportsMap[key] = { types: target.types, import: target.import, default: target.default };
}
const missing = Object.keys(deno.exports).filter((k) => !(k in exportsMap));
if (missing.length > 0) throw new Error(`deno pack dropped entry points: ${missing.join(", ")}`);

const pkg = {
  name: deno.name,
  version: deno.version,
  description: src.description,
  license: deno.license,
  type: "module",
  main: packed.main,
  types: packed.types,
  exports: exportsMap,
  // No module does anything when imported (the backend loads on first use).
  sideEffects: false,
  files: [
    ...Object.values(deno.exports).flatMap((p) => {
      const base = p.replace(/^\.\//, "").replace(/\.ts$/, "");
      return [`${base}.js`, `${base}.d.ts`];
    }),
    "src/**/*.js",
    "src/**/*.d.ts",
    "ffi/**/*.js",
    "ffi/**/*.d.ts",
    "ffi/prebuilt_linux_x64.js",
    "ffi/bun/waiter_worker.ts", // a Worker module Bun runs as TypeScript (import-free)
    "ffi/native/wavelet.c",
    "ffi/native/wavelet.h",
    "README.md",
    "LICENSE",
  ],
  engines: { node: ">=20", bun: ">=1.1" },
  keywords: ["reactive", "stream-processing", "dataflow", "realtime", "deno", "bun"],
  // The NATS client of the `./nats` entry; nothing else is needed at run time.
  dependencies: { ...(src.dependencies ?? {}) },
};
writeFileSync(join(dir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");

// Static imports that a Node consumer could not resolve: a bare specifier that is not a
// declared dependency (or a sub-path of one), anything else not relative and not node:, or a
// relative one left as .ts. Runtime-specific modules (bun:ffi) may only be reached at
// call time (`import.meta.require`, `import()`), which Node never evaluates. Parsed with
// TypeScript, so the doc examples in comments (`from "@wavelet/wavelet"`) are not counted.
const ts = (await import(join(process.cwd(), "node_modules/typescript/lib/typescript.js"))).default;
const declared = Object.keys(pkg.dependencies);
const bad = [];
const walk = (d) => {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith(".js")) {
      const sf = ts.createSourceFile(p, readFileSync(p, "utf8"), ts.ScriptTarget.Latest, false);
      for (const st of sf.statements) {
        const spec = (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) &&
            st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)
          ? st.moduleSpecifier.text
          : undefined;
        if (spec === undefined || spec.startsWith("node:")) continue;
        if (spec.startsWith("./") || spec.startsWith("../")) {
          if (!spec.endsWith(".js")) bad.push(`${p}: ${spec} (not rewritten to .js)`);
          continue;
        }
        if (declared.some((d) => spec === d || spec.startsWith(`${d}/`))) continue;
        bad.push(`${p}: ${spec}`);
      }
    }
  }
};
walk(dir);
if (bad.length > 0) {
  throw new Error(`Compiled modules import what Node cannot resolve:\n  ${bad.join("\n  ")}`);
}
for (const f of ["ffi/native/wavelet.c", "ffi/native/wavelet.h", "ffi/prebuilt_linux_x64.js"]) {
  if (!existsSync(join(dir, f))) throw new Error(`The package lacks ${f}`);
}
EOF

(cd "$OUT" && npm pack --silent --pack-destination .. >/dev/null)
tarball=$(ls "$DIST"/wavelet-wavelet-*.tgz)
echo "$tarball $(du -k "$tarball" | cut -f1) KiB packed, $(du -sk "$OUT" | cut -f1) KiB unpacked"
