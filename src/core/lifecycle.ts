/**
 * A node's life from build to removal: building a node from a builder's spec (its row, its
 * handle, its `onInit`), dooming a node and its descendants, the sweep that removes them (their
 * resources released and `onDrop` run, exactly once), and the instruments that wrap cycle
 * functions. The executor decides when; this room does it.
 *
 * @module
 */

import { NodeRemovedError } from "./errors.ts";
import {
  F_ALIVE,
  F_ALLOW_PANIC,
  F_DOOMED,
  F_HAS_EXTRA,
  FLAGS,
  GEN,
  NodeTable,
  RUNS,
  SHIFT,
} from "./graph.ts";
import type { AnyCycleFn, Instrument } from "./hooks.ts";
import { type DropFn, Node, type NodeOwner, type NodeSpec } from "./node.ts";
import { describeNode, type ErrorPhase } from "./report.ts";
import { Resources } from "./resources.ts";
import type { Scheduler } from "./scheduler.ts";
import { invalid } from "./validate.ts";

/** How the lifecycle reports a callback that threw. */
export type Report = (err: unknown, node: Node<unknown> | undefined, phase: ErrorPhase) => void;

/** The nodes of one executor, from build to removal. */
export class Lifecycle {
  /** The node table. */
  readonly table: NodeTable<Node<any>, AnyCycleFn, object>;
  /** What nodes own (timers, I/O, resources, onDrop). */
  readonly res: Resources;
  /** Run counts of removed nodes, for the totals. */
  removedRuns = 0;
  /** The id the next node gets. */
  nextId = 0;
  /** Attached instruments, or null. */
  instruments: Instrument[] | null = null;
  /** True while a sweep runs (removals go straight to its list). */
  sweeping = false;
  readonly #owner: NodeOwner;
  readonly #sched: Scheduler;
  readonly #report: Report;
  /** Nodes leaving in the next sweep: (slot, generation) pairs. */
  #gc: Int32Array = new Int32Array(64);
  #gcCount = 0;
  /** Original cycle functions of instrumented slots. */
  readonly #origFns = new Map<number, AnyCycleFn>();
  /** How contexts are made (handed over by the builder; the core cannot import them). */
  makeContext: ((executor: NodeOwner, port: object, slot: number) => object) | null = null;

  /**
   * @param owner The executor (the nodes' owner, and the argument of `onInit`).
   * @param capacity Node slots to reserve.
   * @param sched The executor's scheduler (a sweep drops leaving nodes from its queues).
   * @param report Where callbacks that throw are reported.
   */
  constructor(owner: NodeOwner, capacity: number, sched: Scheduler, report: Report) {
    this.#owner = owner;
    this.#sched = sched;
    this.#report = report;
    this.table = new NodeTable(capacity);
    this.res = new Resources(owner, () => this.table.meta);
  }

  /** True when doomed nodes wait for a sweep. */
  get hasLeaving(): boolean {
    return this.#gcCount !== 0;
  }

  /**
   * Builds a node: its row under its parents, its handle, then its `onInit` (a node whose
   * `onInit` throws leaves again at once; the error is reported, or thrown with `allowPanic`).
   */
  build<T>(spec: NodeSpec<T>, fn: AnyCycleFn): Node<T> {
    const parents = spec._parents, t = this.table;
    let depth = 0;
    const slots: number[] = [];
    for (let i = 0; i < parents.length; i++) {
      const p = parents[i];
      if (!p._alive || (t.meta[(p._slot << SHIFT) + FLAGS] & F_DOOMED) !== 0) {
        throw new NodeRemovedError(`Cannot build on ${describeNode(p)}: it has left the graph`);
      }
      if (p._depth + 1 > depth) depth = p._depth + 1;
      slots.push(p._slot);
    }
    this.makeContext ??= spec._makeContext as unknown as Lifecycle["makeContext"];
    this.#sched.ensureDepth(depth);
    const slot = t.alloc();
    const flags = F_ALIVE | (spec._allowPanic ? F_ALLOW_PANIC : 0) |
      (spec._onDrop !== undefined ? F_HAS_EXTRA : 0);
    t.init(slot, depth, flags, slots, spec._rels);
    const gen = t.meta[(slot << SHIFT) + GEN];
    const node = new Node<T>(
      this.#owner,
      spec._initial,
      this.nextId++,
      slot,
      gen,
      depth,
      spec._name,
    );
    t.nodes[slot] = node;
    t.fns[slot] = fn;
    t.count++;
    if (this.instruments !== null) this.#instrument(slot);
    if (spec._onDrop !== undefined) this.res.setOnDrop(slot, spec._onDrop as DropFn<unknown>);
    if (spec._onInit !== undefined) {
      try {
        spec._onInit(this.#owner, node);
      } catch (err) {
        if (!spec._allowPanic) this.#report(err, node, "init");
        this.doom(slot);
        if (!this.sweeping) this.sweep();
        if (spec._allowPanic) throw err;
      }
    }
    return node;
  }

  readonly #leave = (slot: number, gen: number): void => {
    if (2 * this.#gcCount + 2 > this.#gc.length) {
      const g = new Int32Array(this.#gc.length * 2);
      g.set(this.#gc);
      this.#gc = g;
    }
    this.#gc[2 * this.#gcCount] = slot;
    this.#gc[2 * this.#gcCount + 1] = gen;
    this.#gcCount++;
  };

  /** Marks `slot` and every descendant as leaving, for the next sweep. */
  doom(slot: number): void {
    this.table.doom(slot, this.#leave);
  }

  /** Dooms every live node. */
  doomAll(): void {
    const meta = this.table.meta;
    for (let s = 0; s < this.table.slotTop; s++) {
      if ((meta[(s << SHIFT) + FLAGS] & F_ALIVE) !== 0) this.doom(s);
    }
  }

  /** Removes the doomed nodes (and those their `onDrop` callbacks remove meanwhile). */
  sweep(): void {
    const prev = this.sweeping;
    this.sweeping = true;
    if (this.#sched.pending !== 0) {
      // Only an interrupted cycle leaves entries queued: drop the ones that are leaving.
      const meta = this.table.meta;
      this.#sched.filter(meta, (s) => (meta[(s << SHIFT) + FLAGS] & F_DOOMED) !== 0);
    }
    for (let i = 0; i < this.#gcCount; i++) {
      const slot = this.#gc[2 * i], b = slot << SHIFT, meta = this.table.meta;
      if (meta[b + GEN] === this.#gc[2 * i + 1] && (meta[b + FLAGS] & F_ALIVE) !== 0) {
        this.#remove(slot);
      }
    }
    this.#gcCount = 0;
    this.sweeping = prev;
  }

  #remove(slot: number): void {
    const t = this.table, node = t.nodes[slot]!;
    const owned = this.res.detach(slot, t.meta[(slot << SHIFT) + GEN]);
    this.removedRuns += t.release(slot);
    this.#origFns.delete(slot);
    node._leave();
    this.res.finish(owned, node, this.#report);
  }

  /** Live node handles in id (creation) order. */
  liveNodes(): Node<unknown>[] {
    const out: Node<unknown>[] = [];
    for (const n of this.table.nodes) if (n !== null && n._alive) out.push(n);
    return out.sort((a, b) => a.id - b.id);
  }

  /** How many times the node ran (0 once removed). */
  runCount(node: Node<unknown>): number {
    const b = node._slot << SHIFT;
    if (this.table.meta[b + GEN] !== node._gen) return 0;
    return this.table.meta[b + RUNS] >>> 0;
  }

  /** Attaches an instrument (checked) and wraps every cycle function for it. */
  attach(instrument: Instrument): void {
    for (const m of ["wrap", "cause", "cycleStart", "cycleEnd"] as const) {
      let ok = false;
      try {
        ok = instrument !== null && typeof instrument === "object" &&
          typeof instrument[m] === "function";
      } catch {
        // An object whose properties throw is no instrument.
      }
      if (!ok) throw invalid(`An instrument needs a ${m}() method`);
    }
    (this.instruments ??= []).push(instrument);
    this.#reinstrument();
  }

  /** Detaches an instrument; false if it was not attached. */
  detach(instrument: Instrument): boolean {
    const list = this.instruments;
    const i = list === null ? -1 : list.indexOf(instrument);
    if (i < 0) return false;
    list!.splice(i, 1);
    if (list!.length === 0) this.instruments = null;
    this.#reinstrument();
    return true;
  }

  /** Tells the instruments why the node in `slot` was scheduled (`lateNs`: see Instrument). */
  cause(slot: number, bit: number, by: number, lateNs = 0): void {
    const list = this.instruments!;
    for (let i = 0; i < list.length; i++) list[i].cause(slot, bit, by, lateNs);
  }

  /** Restores every original cycle function, then wraps them for the attached instruments. */
  #reinstrument(): void {
    const fns = this.table.fns;
    for (const [slot, fn] of this.#origFns) fns[slot] = fn;
    this.#origFns.clear();
    if (this.instruments === null) return;
    for (let s = 0; s < this.table.slotTop; s++) if (fns[s] !== null) this.#instrument(s);
  }

  #instrument(slot: number): void {
    const fns = this.table.fns, orig = fns[slot]!;
    this.#origFns.set(slot, orig);
    let fn = orig;
    for (const inst of this.instruments!) fn = inst.wrap(slot, fn);
    fns[slot] = fn;
  }
}
