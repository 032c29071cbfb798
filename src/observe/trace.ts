/**
 * "Why did this node run": a trace of node runs with their reasons, collected by an instrument
 * that wraps the nodes' cycle functions (the executor's hot loop is untouched).
 *
 * @module
 */

import { Relationship } from "../core/control.ts";
import { Executor, runtimePort } from "../core/executor.ts";
import {
  type AnyCycleFn,
  CAUSE_IO,
  CAUSE_NOTIFY,
  CAUSE_SCHEDULE,
  CAUSE_TIMER,
  CAUSE_YIELD,
  type Instrument,
} from "../core/hooks.ts";
import { Node } from "../core/node.ts";
import { checkInstance, checkInteger, checkOptions, describe, invalid } from "../core/validate.ts";

/**
 * One entry of a trace.
 *
 * @example Why a node ran
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { trace, type TraceEntry } from "@wavelet/wavelet/observe";
 *
 * const rt = new TestRuntime();
 * new NodeBuilder(0)
 *   .named("tick")
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, () => false);
 * const tracer = trace(rt.executor);
 * rt.runOneCycle();
 * const entries: TraceEntry[] = tracer.take();
 * tracer.stop();
 * const e = entries[0];
 * if (e.epoch !== 1 || e.name !== "tick" || e.reasons.join() !== "yield") {
 *   throw new Error(`unexpected entry ${JSON.stringify(e)}`);
 * }
 * ```
 */
export interface TraceEntry {
  /** The cycle. */
  epoch: number;
  /** The node's id. */
  nodeId: number;
  /** The node's name, if any. */
  name: string | undefined;
  /**
   * Why it ran: `"trigger <parent>"` for each Trigger parent that broadcast this cycle,
   * `"yield"`, `"timer"`, `"notify"`, `"io"`, `"scheduled by <node>"`.
   */
  reasons: string[];
}

/**
 * A running trace, from {@linkcode trace}.
 *
 * @example Two nodes, one triggered by the other
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { trace, type Tracer } from "@wavelet/wavelet/observe";
 *
 * const rt = new TestRuntime();
 * const a = new NodeBuilder(0).named("a").onInit((ex, s) => ex.yieldNow(s))
 *   .build(rt.executor, () => true);
 * new NodeBuilder(0).named("b").triggeredBy(a).build(rt.executor, () => false);
 * const tracer: Tracer = trace(rt.executor);
 * rt.runOneCycle();
 * const lines = tracer.take().map((e) => `${e.name}: ${e.reasons}`);
 * if (lines.join("; ") !== "a: yield; b: trigger a#0") throw new Error(lines.join("; "));
 * ```
 */
export interface Tracer {
  /** Returns and clears the entries collected so far. */
  take(): TraceEntry[];
  /** Detaches the tracer (idempotent); entries not taken yet stay readable. */
  stop(): void;
}

/**
 * Options of {@linkcode trace}.
 *
 * @example Tracing one node of a graph
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { trace, type TraceOptions } from "@wavelet/wavelet/observe";
 *
 * const rt = new TestRuntime();
 * const a = new NodeBuilder(0).named("a").onInit((ex, s) => ex.yieldNow(s))
 *   .build(rt.executor, () => true);
 * const b = new NodeBuilder(0).named("b").triggeredBy(a).build(rt.executor, () => false);
 * const options: TraceOptions = { nodes: [b], limit: 16 };
 * const tracer = trace(rt.executor, options);
 * rt.runOneCycle();
 * const lines = tracer.take().map((e) => `${e.name}: ${e.reasons}`);
 * tracer.stop();
 * if (lines.join("; ") !== "b: trigger a#0") throw new Error(lines.join("; "));
 * ```
 */
export interface TraceOptions {
  /** Most entries kept (oldest dropped first): an integer in [1, 2^31), default 100 000. */
  limit?: number;
  /**
   * Trace only these nodes (live nodes of the executor). The other nodes' cycle functions are
   * not wrapped, so they run at full speed. Default: every node, present and future.
   */
  nodes?: Node<unknown>[];
}

/**
 * Starts a "why did this node run" trace: every node run from now on is logged with its
 * reasons (Trigger parents that broadcast, yield, timer, notify, I/O, `scheduleNode`).
 *
 * @param executor The executor to trace.
 * @param options The most entries kept (oldest dropped first; default 100 000), or
 *   {@linkcode TraceOptions} (a limit, and the nodes to trace).
 * @throws {InvalidArgumentError} If `executor` is not an executor, the limit is not an integer
 *   in [1, 2^31), or `nodes` is not an array of live nodes of the executor.
 */
export function trace(executor: Executor, options: number | TraceOptions = 100_000): Tracer {
  checkInstance(executor, Executor, "trace's executor");
  const o: TraceOptions = typeof options === "number"
    ? { limit: options }
    : checkOptions(options, "Trace options", ["limit", "nodes"]);
  const limit = o.limit ?? 100_000;
  checkInteger(limit, "The trace limit", 1, 2 ** 31 - 1);
  /** The traced nodes' handles, or null for every node. */
  let only: Set<Node<unknown>> | null = null;
  if (o.nodes !== undefined) {
    if (!Array.isArray(o.nodes)) throw invalid(`nodes must be an array, got ${describe(o.nodes)}`);
    only = new Set();
    for (const n of o.nodes) {
      if (!(n instanceof Node) || !n.isAlive || n._ex !== executor) {
        throw invalid(`nodes must hold live nodes of the traced executor, got ${describe(n)}`);
      }
      only.add(n);
    }
  }
  const port = runtimePort(executor);
  /** Slots of the traced nodes (when `only` is set), kept as they are wrapped. */
  const slots = new Set<number>();
  let entries: TraceEntry[] = [];
  /** This cycle's causes per slot (bits), and who scheduled it. */
  const causes = new Map<number, number>();
  const scheduledBy = new Map<number, Node<unknown> | null>();
  const log = (slot: number, node: Node<unknown>) => {
    const reasons: string[] = [];
    for (const p of executor.parentsOf(node)) {
      if (p.relationship === Relationship.Trigger && executor.hasMutated(p.node)) {
        reasons.push(`trigger ${p.node}`);
      }
    }
    const bits = causes.get(slot) ?? 0;
    if (bits & CAUSE_YIELD) reasons.push("yield");
    if (bits & CAUSE_TIMER) reasons.push("timer");
    if (bits & CAUSE_NOTIFY) reasons.push("notify");
    if (bits & CAUSE_IO) reasons.push("io");
    if (bits & CAUSE_SCHEDULE) {
      reasons.push(`scheduled by ${scheduledBy.get(slot) ?? "?"}`);
    }
    entries.push({ epoch: executor.epoch, nodeId: node.id, name: node.name, reasons });
    // Trimmed when twice the limit (amortized O(1) per entry; take() returns the last limit).
    if (entries.length >= 2 * limit) entries.splice(0, entries.length - limit);
  };
  const instrument: Instrument = {
    wrap: (slot: number, fn: AnyCycleFn): AnyCycleFn => {
      if (only !== null) {
        const node = port.node(slot);
        if (node === null || !only.has(node)) {
          slots.delete(slot);
          return fn;
        }
        slots.add(slot);
      }
      return (self, ctx) => {
        log(slot, self);
        return fn(self, ctx);
      };
    },
    cause: (slot, bit, by) => {
      if (only !== null && !slots.has(slot)) return;
      causes.set(slot, (causes.get(slot) ?? 0) | bit);
      if (by >= 0) scheduledBy.set(slot, port.node(by));
    },
    cycleStart: () => {
      causes.clear();
      scheduledBy.clear();
    },
    cycleEnd: () => {},
  };
  executor.attachInstrument(instrument);
  let attached = true;
  return {
    take(): TraceEntry[] {
      const out = entries.length > limit ? entries.slice(entries.length - limit) : entries;
      entries = [];
      return out;
    },
    stop(): void {
      if (!attached) return;
      attached = false;
      executor.detachInstrument(instrument);
    },
  };
}
