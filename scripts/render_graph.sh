#!/usr/bin/env bash
# Writes the demo's graph as Graphviz DOT to docs/demo_graph.dot (from executor.toDot(), built on
# a test runtime without running it) and renders docs/demo_graph.svg with Graphviz `dot`. Without
# `dot` (Debian/Ubuntu: apt-get install graphviz) it writes the .dot file and skips the SVG.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
mkdir -p docs
deno run -A --no-check scripts/render_graph.ts docs/demo_graph.dot
if command -v dot >/dev/null 2>&1; then
  dot -Tsvg docs/demo_graph.dot -o docs/demo_graph.svg
  echo "wrote docs/demo_graph.svg ($(dot -V 2>&1))"
else
  echo "render_graph: Graphviz 'dot' not found; skipped docs/demo_graph.svg" \
    "(install it with: apt-get install graphviz)"
fi
