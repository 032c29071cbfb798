/**
 * The instrument behind {@linkcode Metrics}: it wraps every node's cycle function to count its
 * runs and time it (and, with data age on, to record the age of what it ran on and pass its
 * oldest ingest stamp to the children it schedules: see `core/ingest.ts`), records cycle
 * durations, notify-to-run latencies and timer lateness, all into typed arrays indexed by slot,
 * so the cycle allocates nothing and takes no lock. What belongs to a node that left the graph
 * is folded into totals by node name when its slot is reused or at the next read, so the
 * counters by name never go down.
 *
 * @module
 */

import { runtimePort } from "../core/executor.ts";
import type { Executor } from "../core/executor.ts";
import {
  type AnyCycleFn,
  CAUSE_NOTIFY,
  CAUSE_SCHEDULE,
  CAUSE_TIMER,
  type Instrument,
  type RuntimePort,
} from "../core/hooks.ts";
import type { Node } from "../core/node.ts";
import type { IngestHub } from "../core/ingest.ts";
import { NO_STAMP, type NotifyQueue, STAMP_UNITS_PER_MS, stampNow } from "../drivers/notify.ts";
import { TcpConnection } from "../net/nodes.ts";
import { TcpListener } from "../net/socket.ts";
import { addValue, BucketHistogram, STRIDE } from "./buckets.ts";

/** The label a node's series carry: its name, or this when it has none. */
export const UNNAMED = "(unnamed)";

/** The label of a node's series. */
export function labelOf(node: Node<unknown>): string {
  return node.name ?? UNNAMED;
}

/** Totals by node name of what removed nodes counted. */
export interface Folded {
  /** Runs. */
  runs: number;
  /** Time in cycle functions, ns. */
  timeNs: number;
  /** Bytes read by connection nodes. */
  readBytes: number;
  /** Bytes written by connection nodes. */
  writtenBytes: number;
  /** Connections accepted by listener nodes. */
  accepted: number;
}

/** Something with per-slot state that must follow the collector's slots (node histograms). */
export interface SlotFamily {
  /** The slot arrays grew to `capacity` slots. */
  _grow(capacity: number): void;
  /** The node that had `slot` left the graph: fold its state under `label`, then clear it. */
  _fold(slot: number, label: string): void;
}

/**
 * What the data-age measurement needs: the clock run starts are read from (the one same-thread
 * channels stamp with) and the per-slot histograms it fills (`STRIDE` numbers per slot).
 */
export interface DataAgeTarget {
  /** The clock, ns. */
  now: () => number;
  /** The histograms, sized with the collector's slots. */
  readonly hist: { _a: Float64Array };
}

/** How many collectors asked each notification area to stamp. */
const stampUsers = new WeakMap<NotifyQueue, number>();

/** Per-executor counters in typed arrays; see the module comment. */
export class Collector implements Instrument {
  readonly port: RuntimePort;
  readonly nodeTime: boolean;
  /** Slots the arrays hold. */
  capacity = 0;
  /** Node id per slot, -1 when the slot is not tracked. */
  ids: Float64Array = new Float64Array(0);
  /** Node handle per slot (read at fold time). */
  nodes: (Node<unknown> | null)[] = [];
  /** Runs per slot since the node was first seen. */
  runs: Float64Array = new Float64Array(0);
  /** Time in the cycle function per slot, in ns. */
  timeNs: Float64Array = new Float64Array(0);
  /** Notification stamp per slot, valid where `stamped` is 1. */
  stamp: Int32Array = new Int32Array(0);
  stamped: Uint8Array = new Uint8Array(0);
  /** Slots stamped this cycle, cleared at its end (a node that did not run keeps no stamp). */
  #stampedList: Int32Array = new Int32Array(16);
  #stampedCount = 0;
  /** The clock's reading at the cycle's first node run, -1 before it. */
  cycleT0 = -1;
  /** The clock (ns), or null for `performance.now()`. */
  readonly clock: { monotonicNs(): number } | null;
  readonly cycleDuration: BucketHistogram = new BucketHistogram();
  readonly notifyToRun: BucketHistogram = new BucketHistogram();
  readonly timerLateness: BucketHistogram = new BucketHistogram();
  /** Totals of removed nodes, by label. */
  readonly folded: Map<string, Folded> = new Map();
  readonly families: SlotFamily[] = [];
  readonly #queue: NotifyQueue | null;
  #attached = false;
  /** Data age: the target, or null when not measured. */
  readonly #age: DataAgeTarget | null;
  readonly #hub: IngestHub;
  /** Data age: the oldest ingest stamp a slot inherits this cycle, valid where `inhCycle` matches. */
  inh: Float64Array = new Float64Array(0);
  inhCycle: Float64Array = new Float64Array(0);
  /** Cycles started since attaching (tells this cycle's inherited stamps from older ones). */
  #cycleNo = 0;

  constructor(
    executor: Executor,
    nodeTime: boolean,
    notifyLatency: boolean,
    clock: { monotonicNs(): number } | null,
    age: DataAgeTarget | null = null,
  ) {
    this.port = runtimePort(executor);
    this.nodeTime = nodeTime;
    this.clock = clock;
    this.#age = age;
    this.#hub = this.port.ingest;
    this.#queue = notifyLatency ? this.port.notifications() : null;
    this.#grow(64);
  }

  /** Attaches to the executor (wraps every live node) and switches stamps on. */
  attach(executor: Executor): void {
    const q = this.#queue;
    if (q !== null) {
      stampUsers.set(q, (stampUsers.get(q) ?? 0) + 1);
      q.setStamping(true);
    }
    this.#attached = true;
    executor.attachInstrument(this);
    if (this.#age !== null) this.#hub.use(true, this.#age.now);
  }

  /** Detaches; stamps go off when no other collector wants them. */
  detach(executor: Executor): void {
    if (!this.#attached) return;
    this.#attached = false;
    executor.detachInstrument(this);
    if (this.#age !== null) this.#hub.use(false);
    const q = this.#queue;
    if (q !== null) {
      const n = (stampUsers.get(q) ?? 1) - 1;
      stampUsers.set(q, n);
      if (n === 0) q.setStamping(false);
    }
  }

  #grow(min: number): void {
    let cap = Math.max(64, this.capacity);
    while (cap < min) cap *= 2;
    if (cap === this.capacity) return;
    const f64 = (a: Float64Array, fill = 0) => {
      const n = new Float64Array(cap).fill(fill);
      n.set(a);
      return n;
    };
    this.ids = f64(this.ids, -1);
    this.runs = f64(this.runs);
    this.timeNs = f64(this.timeNs);
    this.inh = f64(this.inh);
    this.inhCycle = f64(this.inhCycle, -1);
    const st = new Int32Array(cap);
    st.set(this.stamp);
    this.stamp = st;
    const sd = new Uint8Array(cap);
    sd.set(this.stamped);
    this.stamped = sd;
    for (let i = this.nodes.length; i < cap; i++) this.nodes.push(null);
    this.capacity = cap;
    for (const f of this.families) f._grow(cap);
  }

  /** Adds a family and sizes it. */
  addFamily(f: SlotFamily): void {
    this.families.push(f);
    f._grow(this.capacity);
  }

  /**
   * Folds the state of the node tracked in `slot` (it left the graph) into the totals of its
   * label, and stops tracking the slot.
   */
  #fold(slot: number): void {
    const node = this.nodes[slot];
    if (node === null) return;
    const label = labelOf(node);
    let f = this.folded.get(label);
    if (f === undefined) {
      f = { runs: 0, timeNs: 0, readBytes: 0, writtenBytes: 0, accepted: 0 };
      this.folded.set(label, f);
    }
    f.runs += this.runs[slot];
    f.timeNs += this.timeNs[slot];
    const v = node.value;
    if (v instanceof TcpConnection) {
      f.readBytes += v.bytesRead;
      f.writtenBytes += v.bytesWritten;
    } else if (isListenerState(v)) f.accepted += v.accepted;
    for (const fam of this.families) fam._fold(slot, label);
    this.runs[slot] = 0;
    this.timeNs[slot] = 0;
    this.stamped[slot] = 0;
    this.ids[slot] = -1;
    this.nodes[slot] = null;
  }

  /** Folds every tracked node that has left the graph (called before each read). */
  foldRemoved(): void {
    const nodes = this.nodes;
    for (let s = 0; s < nodes.length; s++) {
      const n = nodes[s];
      if (n !== null && !n.isAlive) this.#fold(s);
    }
  }

  // ------------------------------------------------------------------------- the instrument

  wrap(slot: number, fn: AnyCycleFn): AnyCycleFn {
    const w = this.#wrapCounting(slot, fn);
    return this.#age === null ? w : this.#wrapAge(slot, w, this.#age);
  }

  /**
   * Data age: the run starts with the ingest stamp the node inherited this cycle (from the
   * parents whose broadcast or `scheduleNode` scheduled it) as the oldest so far; the
   * receivers it reads note the stamps of what they hand it. A run that ends with a stamp
   * records its age (run start minus the oldest stamp) and, if it broadcasts, passes the
   * stamp on to its Trigger children.
   */
  #wrapAge(slot: number, fn: AnyCycleFn, age: DataAgeTarget): AnyCycleFn {
    // deno-lint-ignore no-this-alias
    const c = this;
    const hub = this.#hub, now = age.now, hist = age.hist;
    return (self, ctx) => {
      const t0 = hub.runStart = now();
      hub.oldest = c.inhCycle[slot] === c.#cycleNo ? c.inh[slot] : Infinity;
      let r: unknown;
      try {
        r = fn(self, ctx);
      } finally {
        // Left as it is: another registry's wrapper around this one reads it too (each run
        // starts by setting it).
        const o = hub.oldest;
        if (o !== Infinity) {
          addValue(hist._a, slot * STRIDE, t0 - o);
          if (r === true || r === 1) c.#pass(slot, o);
        }
      }
      return r;
    };
  }

  /** Data age: the Trigger children of `slot` inherit `stamp` for this cycle (the oldest wins). */
  #pass(slot: number, stamp: number): void {
    const ch = this.port.triggerChildren(slot), e = ch.edges, end = ch.start + 2 * ch.count;
    for (let k = ch.start; k < end; k += 2) this.#inherit(e[k], stamp);
  }

  #inherit(child: number, stamp: number): void {
    if (child >= this.capacity) return;
    if (this.inhCycle[child] !== this.#cycleNo || stamp < this.inh[child]) {
      this.inh[child] = stamp;
      this.inhCycle[child] = this.#cycleNo;
    }
  }

  #wrapCounting(slot: number, fn: AnyCycleFn): AnyCycleFn {
    const node = this.port.node(slot);
    if (slot >= this.capacity) this.#grow(slot + 1);
    // wrap() runs for a new node and again for every node when any instrument is attached or
    // detached: only a new node in the slot starts from zero.
    if (node !== null && this.ids[slot] !== node.id) {
      if (this.nodes[slot] !== null) this.#fold(slot);
      this.ids[slot] = node.id;
      this.nodes[slot] = node;
    }
    // deno-lint-ignore no-this-alias
    const c = this;
    const clk = this.clock;
    // The clock is called directly in each body (no function in between): an engine that
    // does not inline an indirect call returns its double boxed, one allocation per reading.
    if (!this.nodeTime) {
      return (self, ctx) => {
        if (c.cycleT0 < 0) c.cycleT0 = clk === null ? performance.now() * 1e6 : clk.monotonicNs();
        if (c.stamped[slot] !== 0) c.#ran(slot);
        c.runs[slot]++;
        return fn(self, ctx);
      };
    }
    if (clk === null) {
      return (self, ctx) => {
        const t0 = performance.now();
        if (c.cycleT0 < 0) c.cycleT0 = t0 * 1e6;
        if (c.stamped[slot] !== 0) c.#ran(slot);
        try {
          return fn(self, ctx);
        } finally {
          c.runs[slot]++;
          c.timeNs[slot] += (performance.now() - t0) * 1e6;
        }
      };
    }
    return (self, ctx) => {
      const t0 = clk.monotonicNs();
      if (c.cycleT0 < 0) c.cycleT0 = t0;
      if (c.stamped[slot] !== 0) c.#ran(slot);
      try {
        return fn(self, ctx);
      } finally {
        c.runs[slot]++;
        const d = clk.monotonicNs() - t0;
        if (d >= 0) c.timeNs[slot] += d; // a clock that answered NaN adds nothing
      }
    };
  }

  /** A stamped node runs: its notify-to-run latency. */
  #ran(slot: number): void {
    this.stamped[slot] = 0;
    const units = (stampNow() - this.stamp[slot]) | 0;
    // Threads' clocks agree to a few microseconds: a negative difference is a tie.
    this.notifyToRun._add(units > 0 ? units * (1e6 / STAMP_UNITS_PER_MS) : 0);
  }

  cause(slot: number, bit: number, by: number, lateNs: number): void {
    if (bit === CAUSE_SCHEDULE) {
      // scheduleNode from a running node: what it consumed so far reaches the scheduled one.
      if (by >= 0 && this.#age !== null && this.#hub.oldest !== Infinity) {
        this.#inherit(slot, this.#hub.oldest);
      }
      return;
    }
    if (bit === CAUSE_TIMER) {
      this.timerLateness._add(lateNs);
      return;
    }
    if (bit !== CAUSE_NOTIFY || this.#queue === null) return;
    const s = this.#queue.drainingStamp;
    if (s === NO_STAMP || slot >= this.capacity || this.stamped[slot] !== 0) return;
    this.stamp[slot] = s;
    this.stamped[slot] = 1;
    if (this.#stampedCount === this.#stampedList.length) {
      const l = new Int32Array(this.#stampedList.length * 2);
      l.set(this.#stampedList);
      this.#stampedList = l;
    }
    this.#stampedList[this.#stampedCount++] = slot;
  }

  cycleStart(): void {
    this.cycleT0 = -1;
    this.#cycleNo++;
  }

  cycleEnd(): void {
    if (this.cycleT0 >= 0) {
      const clk = this.clock;
      const d = (clk === null ? performance.now() * 1e6 : clk.monotonicNs()) - this.cycleT0;
      if (d >= 0) this.cycleDuration._add(d);
      this.cycleT0 = -1;
    }
    if (this.#stampedCount !== 0) {
      for (let i = 0; i < this.#stampedCount; i++) this.stamped[this.#stampedList[i]] = 0;
      this.#stampedCount = 0;
    }
  }
}

/** True for a listener node's value (`TcpListenerState`). */
export function isListenerState(v: unknown): v is { listener: TcpListener; accepted: number } {
  if (v === null || typeof v !== "object" || v instanceof TcpConnection) return false;
  try {
    return (v as { listener?: unknown }).listener instanceof TcpListener &&
      typeof (v as { accepted?: unknown }).accepted === "number";
  } catch {
    return false; // a value whose properties throw is no listener's
  }
}
