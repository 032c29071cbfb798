/**
 * Reading a graph: counters, and the graph as Graphviz DOT or a Mermaid flowchart (node names
 * and ids, edge kinds). The executor's `stats()`, `toDot()` and `toMermaid()` are these.
 *
 * @module
 */

import { Relationship } from "./control.ts";
import type { Node } from "./node.ts";

/**
 * Per-node counters in {@linkcode ExecutorStats}.
 *
 * @example Run count of one node
 * ```ts
 * import { NodeBuilder, type NodeStats, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * new NodeBuilder(0)
 *   .named("a")
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, () => true);
 * rt.runOneCycle();
 * const a: NodeStats | undefined = rt.executor.stats().nodes.find((n) => n.name === "a");
 * if (a === undefined || a.runs !== 1 || a.depth !== 0) throw new Error("a ran once");
 * ```
 */
export interface NodeStats {
  /** The node's id. */
  id: number;
  /** The node's name, if any. */
  name: string | undefined;
  /** The node's depth. */
  depth: number;
  /** How many times its cycle function ran. */
  runs: number;
}

/**
 * A snapshot of executor counters from {@linkcode Executor.stats}.
 *
 * @example Counters after one cycle
 * ```ts
 * import { type ExecutorStats, ms, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * new NodeBuilder(0)
 *   .onInit((ex, self) => {
 *     ex.yieldNow(self);
 *     ex.registerTimerAfter(self, ms(10));
 *   })
 *   .build(rt.executor, () => false);
 * rt.runOneCycle();
 * const s: ExecutorStats = rt.executor.stats();
 * if (s.cycles !== 1 || s.nodeRuns !== 1 || s.nodeCount !== 1 || s.pendingTimers !== 1) {
 *   throw new Error(`unexpected stats ${JSON.stringify(s)}`);
 * }
 * ```
 */
export interface ExecutorStats {
  /** Cycles run (the epoch). */
  cycles: number;
  /** Cycle-function calls, including those of nodes removed since. */
  nodeRuns: number;
  /** Live nodes. */
  nodeCount: number;
  /** Pending timers. */
  pendingTimers: number;
  /** Per live node, in id order. */
  nodes: NodeStats[];
}

/** What the graph exports read of an executor (its public queries). */
export interface GraphView {
  /** Live nodes in id order. */
  liveNodes(): Node<unknown>[];
  /** A node's parents with their relationships. */
  parentsOf(node: Node<unknown>): { node: Node<unknown>; relationship: Relationship }[];
}

/** The graph in Graphviz DOT: nodes by name and id, Observe edges dashed. */
export function toDot(g: GraphView): string {
  const lines = ["digraph wavelet {", "  rankdir=LR;", "  node [shape=box];"];
  const nodes = g.liveNodes();
  for (const n of nodes) {
    lines.push(`  n${n.id} [label=${JSON.stringify(`${n.name ?? "node"}#${n.id}`)}];`);
  }
  for (const n of nodes) {
    for (const p of g.parentsOf(n)) {
      const style = p.relationship === Relationship.Observe ? " [style=dashed]" : "";
      lines.push(`  n${p.node.id} -> n${n.id}${style};`);
    }
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** The graph as a Mermaid flowchart: Trigger edges solid, Observe edges dotted. */
export function toMermaid(g: GraphView): string {
  const lines = ["flowchart LR"];
  const esc = (s: string) => s.replace(/"/g, "#quot;");
  const nodes = g.liveNodes();
  for (const n of nodes) lines.push(`  n${n.id}["${esc(`${n.name ?? "node"}#${n.id}`)}"]`);
  for (const n of nodes) {
    for (const p of g.parentsOf(n)) {
      const arrow = p.relationship === Relationship.Observe ? "-.->" : "-->";
      lines.push(`  n${p.node.id} ${arrow} n${n.id}`);
    }
  }
  return lines.join("\n") + "\n";
}
