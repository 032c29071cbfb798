/**
 * Builds the demo's graph on a test runtime (nothing runs: no Workers, no sockets) and prints
 * its `toDot()` to stdout, or writes it to the file named by the first argument.
 *
 *     deno run -A scripts/render_graph.ts docs/demo_graph.dot
 *
 * `scripts/render_graph.sh` calls this, then renders the SVG with Graphviz.
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import process from "node:process";
import { TestRuntime } from "../mod.ts";
import { buildDemoGraph } from "../examples/demo/graph.ts";
import { Histogram } from "../observe.ts";

const rt = new TestRuntime();
// The live configuration: latency measured in the sink, a view and a stop node. Without a
// listening socket the TCP listener is the stand-in node of the same name.
buildDemoGraph(rt.executor, {
  latencyClock: () => rt.clock.nowNs(),
  histogram: new Histogram(),
  onView: () => {},
  onStop: () => {},
});
const dot = rt.executor.toDot();
const out = process.argv[2];
if (out === undefined) console.log(dot);
else {
  writeFileSync(out, dot.endsWith("\n") ? dot : dot + "\n");
  console.log(`wrote ${out}`);
}
