/**
 * What the inspector reads, as JSON: the graph (nodes by id with depth and parents), the
 * counters pushed on every update, and one node's details. The endpoint's own nodes are left
 * out (they are hidden), so the picture is the user's graph.
 *
 * @module
 */

import { Relationship } from "../core/control.ts";
import type { Node } from "../core/node.ts";
import type { TraceEntry } from "../observe/trace.ts";
import { BUCKET_BOUNDS_NS, type BucketSnapshot } from "./buckets.ts";
import type { Metrics } from "./metrics.ts";

/** Nodes the endpoint built for itself: not shown in the inspector. */
export const hidden: WeakSet<Node<unknown>> = new WeakSet();

/** Most nodes the inspector draws (the first ones by id). */
export const MAX_DRAWN = 2000;

/** The visible live nodes in id order, at most {@linkcode MAX_DRAWN}, and how many there are. */
export function visibleNodes(m: Metrics): { nodes: Node<unknown>[]; total: number } {
  const all = m.executor.liveNodes().filter((n) => !hidden.has(n));
  return { nodes: all.length > MAX_DRAWN ? all.slice(0, MAX_DRAWN) : all, total: all.length };
}

/** A number that changes whenever the set of visible nodes changes. */
function versionOf(nodes: Node<unknown>[]): number {
  let h = nodes.length | 0;
  for (const n of nodes) h = (Math.imul(h, 31) + n.id) | 0;
  return h >>> 0;
}

/** The graph: `{ version, total, nodes: [{ id, name, depth, parents: [[id, 0 | 1]] }] }`. */
export function graphJson(m: Metrics): string {
  const { nodes, total } = visibleNodes(m);
  const shown = new Set(nodes);
  const ex = m.executor;
  return JSON.stringify({
    version: versionOf(nodes),
    total,
    nodes: nodes.map((n) => ({
      id: n.id,
      name: n.name ?? null,
      depth: n.depth,
      parents: ex.parentsOf(n).filter((p) => shown.has(p.node)).map((p) => [
        p.node.id,
        p.relationship === Relationship.Trigger ? 0 : 1,
      ]),
    })),
  });
}

/**
 * The counters of one update: the time, cycles, the graph's version, per visible node
 * `[id, runs, timeNs]`, the three runtime histograms, the channels and the names of the node
 * histograms.
 */
export function statsJson(m: Metrics): string {
  const { nodes, total } = visibleNodes(m);
  const c = m._collector;
  c.foldRemoved();
  const runs: [number, number, number][] = [];
  for (const n of nodes) {
    const s = n._slot;
    if (s < c.capacity && c.ids[s] === n.id) runs.push([n.id, c.runs[s], c.timeNs[s]]);
    else runs.push([n.id, 0, 0]);
  }
  return JSON.stringify({
    t: Date.now(),
    cycles: m.executor.epoch,
    nodeCount: m.executor.nodeCount,
    visible: total,
    version: versionOf(nodes),
    nodeTime: m.nodeTime,
    runs,
    bounds: BUCKET_BOUNDS_NS,
    histograms: {
      cycle: m.cycleDuration.snapshot(),
      notify: m.notifyLatency ? m.notifyToRun.snapshot() : null,
      timer: m.timerLateness.snapshot(),
    },
    channels: m._channels(),
    nodeHistograms: m.nodeHistograms.map((h) => h.name),
  });
}

/** One node: its counters, parents and children with their kinds, trace and histograms. */
export function nodeJson(m: Metrics, node: Node<unknown>, trace: TraceEntry[]): string {
  const ex = m.executor;
  const c = m._collector, s = node._slot;
  const seen = node.isAlive && s < c.capacity && c.ids[s] === node.id;
  const ref = (n: Node<unknown>, kind: string) => ({ id: n.id, name: n.name ?? null, kind });
  const histograms: { name: string; help: string; snapshot: BucketSnapshot }[] = [];
  for (const h of m.nodeHistograms) {
    const snap = node.isAlive ? h.snapshot(node) : null;
    if (snap !== null) histograms.push({ name: h.name, help: h.help, snapshot: snap });
  }
  const alive = node.isAlive;
  return JSON.stringify({
    id: node.id,
    name: node.name ?? null,
    depth: node.depth,
    alive,
    runs: seen ? c.runs[s] : 0,
    timeNs: seen ? c.timeNs[s] : 0,
    parents: alive
      ? ex.parentsOf(node).map((p) =>
        ref(p.node, p.relationship === Relationship.Trigger ? "trigger" : "observe")
      )
      : [],
    children: alive
      ? [
        ...ex.triggerChildrenOf(node).filter((n) => !hidden.has(n)).map((n) => ref(n, "trigger")),
        ...ex.observerChildrenOf(node).filter((n) => !hidden.has(n)).map((n) => ref(n, "observe")),
      ]
      : [],
    trace: trace.map((e) => ({ epoch: e.epoch, reasons: e.reasons })),
    histograms,
  });
}
