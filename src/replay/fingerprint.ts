/**
 * The graph fingerprint that binds a stimulus log to the graph it was recorded from: every live
 * node in id order with its name, depth, parents (and whether each triggers or is observed) and
 * the descriptors its features gave it through {@linkcode describeForReplay} (a channel's kind
 * and record layout). A replay compares the description of the graph it is given with the log's
 * before it runs a cycle, and says what differs.
 *
 * @module
 */

import type { Executor } from "../core/executor.ts";
import type { Node } from "../core/node.ts";
import { crc32 } from "./crc32.ts";
import { invalidLog, LogReader, LogWriter } from "./log.ts";

const descriptors = new WeakMap<object, string>();

/**
 * @internal Adds a line to `node`'s replay descriptor: a short text naming what the node reads
 * from outside the graph and in what shape (for a channel: its kind, and for a ring its record
 * size and fields with types and offsets). Descriptors are part of the graph fingerprint, so a
 * log recorded with one channel layout is refused by a graph built with another. Call it while
 * building the node (a channel calls it from its `attach`); several calls add several lines.
 *
 * @param node The node, just built.
 * @param descriptor The text, for example `ring 16 px:f64@0,qty:u32@8`.
 */
export function describeForReplay(node: Node<unknown>, descriptor: string): void {
  const prev = descriptors.get(node);
  descriptors.set(node, prev === undefined ? descriptor : `${prev}\n${descriptor}`);
}

/** A graph's description and fingerprint, with its live nodes in id order. */
export interface GraphDescription {
  /** Live nodes in id order (a node's index here is its ref in the log). */
  nodes: Node<unknown>[];
  /** The encoded description. */
  bytes: Uint8Array;
  /** CRC-32 of `bytes`. */
  fingerprint: number;
}

const enc = new TextEncoder();

/** Describes `ex`'s live graph. */
export function describeGraph(ex: Executor): GraphDescription {
  const nodes = ex.liveNodes();
  const index = new Map<Node<unknown>, number>();
  for (let i = 0; i < nodes.length; i++) index.set(nodes[i], i);
  const w = new LogWriter();
  for (const n of nodes) {
    const name = n.name;
    w.u8(name === undefined ? 0 : 1);
    const nameBytes = enc.encode(name ?? "");
    w.u32(nameBytes.length);
    w.bytes(nameBytes);
    w.u32(n.depth);
    const parents = ex.parentsOf(n);
    w.u32(parents.length);
    for (const p of parents) {
      w.u32(index.get(p.node) ?? 0xffffffff);
      w.u8(p.relationship);
    }
    const d = enc.encode(descriptors.get(n) ?? "");
    w.u32(d.length);
    w.bytes(d);
  }
  const bytes = w.view().slice();
  return { nodes, bytes, fingerprint: crc32(bytes) };
}

/** One node of a decoded description. */
interface NodeDescription {
  name: string | undefined;
  depth: number;
  parents: { index: number; relationship: number }[];
  descriptor: string;
}

const dec = new TextDecoder("utf-8", { fatal: true });

function decode(bytes: Uint8Array, count: number): NodeDescription[] {
  const r = new LogReader(bytes);
  const out: NodeDescription[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const named = r.u8();
      const name = dec.decode(r.view(r.u32()));
      const depth = r.u32();
      const parents: NodeDescription["parents"] = [];
      for (let k = r.u32(); k > 0; k--) parents.push({ index: r.u32(), relationship: r.u8() });
      out.push({
        name: named ? name : undefined,
        depth,
        parents,
        descriptor: dec.decode(r.view(r.u32())),
      });
    }
  } catch (e) {
    throw invalidLog(`The stimulus log's graph description is damaged: ${(e as Error).message}`);
  }
  if (!r.done) throw invalidLog("The stimulus log's graph description is damaged");
  return out;
}

function label(nodes: NodeDescription[], i: number): string {
  const n = nodes[i];
  if (n === undefined) return `a missing node (#${i})`;
  return n.name === undefined ? `the unnamed node #${i}` : `"${n.name}"`;
}

function edges(nodes: NodeDescription[], i: number): string {
  const ps = nodes[i].parents;
  if (ps.length === 0) return "no parents";
  return ps.map((p) => `${label(nodes, p.index)} (${p.relationship === 0 ? "trigger" : "observe"})`)
    .join(", ");
}

/**
 * Says how the replayed graph (`here`) differs from the recorded one (`logged`, the header's
 * description, or null when the log kept only the fingerprint).
 */
export function explainDifference(
  logged: Uint8Array | null,
  loggedCount: number,
  here: GraphDescription,
): string {
  const prefix = "The replayed graph differs from the recorded one: ";
  if (logged === null) {
    return prefix + `the log kept only its fingerprint (the recorded graph had ${loggedCount} ` +
      `nodes, this one has ${here.nodes.length})`;
  }
  const a = decode(logged, loggedCount);
  const b = decode(here.bytes, here.nodes.length);
  const names = (xs: NodeDescription[]) =>
    new Set(xs.map((x) => x.name).filter((x) => x !== undefined));
  const namesA = names(a), namesB = names(b);
  for (const n of namesA) {
    if (!namesB.has(n)) return prefix + `the log has node "${n}", which this graph does not have`;
  }
  for (const n of namesB) {
    if (!namesA.has(n)) return prefix + `this graph has node "${n}", which the log does not have`;
  }
  if (a.length !== b.length) {
    return prefix + `the recorded graph had ${a.length} nodes, this one has ${b.length}`;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i].name !== b[i].name) {
      return prefix + `nodes were built in another order: node #${i} is ${label(a, i)} in the ` +
        `log but ${label(b, i)} here`;
    }
  }
  for (let i = 0; i < a.length; i++) {
    const ea = edges(a, i), eb = edges(b, i);
    if (ea !== eb) {
      return prefix + `node ${label(a, i)} has ${ea} in the log but ${eb} here`;
    }
    if (a[i].descriptor !== b[i].descriptor) {
      const show = (d: string) => d === "" ? "no channel" : `"${d.replaceAll("\n", "; ")}"`;
      return prefix + `node ${label(a, i)} reads ${show(a[i].descriptor)} in the log but ` +
        `${show(b[i].descriptor)} here`;
    }
    if (a[i].depth !== b[i].depth) {
      return prefix +
        `node ${label(a, i)} has depth ${a[i].depth} in the log but ${b[i].depth} here`;
    }
  }
  return prefix + "the descriptions differ";
}
