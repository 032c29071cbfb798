/**
 * The metrics registry of one executor: what the collector counts on the cycle's path (node
 * runs and time, cycle durations, notify-to-run latency, timer lateness, and with `dataAge` the
 * age of the data each node ran on), what is read only on request (channel probes, connections
 * and bytes of the TCP nodes, registered gauges and counters), and per-node histograms that
 * other features register and fill. `text()` formats everything in the Prometheus text
 * exposition format.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { Executor } from "../core/executor.ts";
import { Node } from "../core/node.ts";
import { checkInstance, checkOptions, checkString, describe, invalid } from "../core/validate.ts";
import { TcpConnection } from "../net/nodes.ts";
import {
  addValue,
  type BucketHistogram,
  type BucketSnapshot,
  snapshotOf,
  STRIDE,
} from "./buckets.ts";
import { Collector, isListenerState, labelOf } from "./collector.ts";
import { ingestNs } from "../core/ingest.ts";
import { NAME_RE, TextWriter } from "./text.ts";

/**
 * Options of {@linkcode Metrics}.
 *
 * @example Counting runs without timing them
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { Metrics, type MetricsOptions } from "@wavelet/wavelet/metrics";
 *
 * const options: MetricsOptions = { nodeTime: false, notifyLatency: false };
 * const m = new Metrics(new TestRuntime().executor, options);
 * if (m.text().includes("wavelet_node_time_seconds_total")) throw new Error("no node times");
 * m.stop();
 * ```
 */
export interface MetricsOptions {
  /** Time every node run: two clock reads per run (default true). */
  nodeTime?: boolean;
  /**
   * The clock node times and cycle durations are read from: an object whose `monotonicNs()`
   * answers nanoseconds, such as a runtime's backend (`rt.backend`, which `serveMetrics`
   * passes: on Deno a read costs a third of `performance.now()`). Default `performance.now()`.
   * Readings that are not numbers are dropped.
   */
  clock?: { monotonicNs(): number };
  /**
   * Measure notify-to-run latency: notifiers stamp each notification with the clock, which
   * costs each publishing `notify()` one clock read (default true).
   */
  notifyLatency?: boolean;
  /**
   * Measure per-hop latency, the age of the data each node runs on, into the per-node
   * histogram `wavelet_node_data_age_seconds` (see {@linkcode Metrics.dataAge}); default false
   * (`serveMetrics` turns it on for the registry it makes). While on, channels stamp each
   * record they carry with its send time, and every node run costs one more clock read.
   * `{ clock }` reads run starts and stamps local channels' records with another clock (a
   * manual clock in tests); records from ring and value channels are always stamped with the
   * shared ingest clock, so leave it out when they feed the graph.
   */
  dataAge?: boolean | { clock: { monotonicNs(): number } };
}

/**
 * How a channel is read for its metrics: each function is called on request (a scrape, an
 * inspector update), on the graph's thread, and may be left out.
 *
 * @example Probing a local channel's receiver
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { localChannel, type LocalReceiver } from "@wavelet/wavelet/channel";
 * import { type ChannelProbe, Metrics } from "@wavelet/wavelet/metrics";
 *
 * const rt = new TestRuntime();
 * let rx: LocalReceiver<number> | null = null;
 * const [, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   localChannel<number>({ capacity: 8 }),
 *   (_self, _ctx, r) => {
 *     rx = r; // kept for the probe
 *     return false;
 *   },
 * );
 * tx.trySend(1);
 * const probe: ChannelProbe = { depth: () => rx?.length ?? 0, dropped: () => tx.dropped };
 * const m = new Metrics(rt.executor);
 * m.channel("numbers", probe);
 * rt.runOneCycle(); // the node ran once and left the item queued
 * if (!m.text().includes('wavelet_channel_depth{channel="numbers"} 1')) throw new Error("1 queued");
 * m.stop();
 * ```
 */
export interface ChannelProbe {
  /** Items queued now. */
  depth?: () => number;
  /** Items dropped so far by a drop-oldest policy (a count that never goes down). */
  dropped?: () => number;
  /** Items lost so far in another way (refused on a full channel, timed out, ...). */
  lost?: () => number;
}

/**
 * What {@linkcode Metrics.nodes} reports for one live node.
 *
 * @example Runs per node
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { Metrics, type NodeMetrics } from "@wavelet/wavelet/metrics";
 *
 * const rt = new TestRuntime();
 * const m = new Metrics(rt.executor);
 * new NodeBuilder(0).named("tick").onInit((ex, s) => ex.yieldNow(s)).build(rt.executor, () => false);
 * rt.runOneCycle();
 * const [tick]: NodeMetrics[] = m.nodes();
 * if (tick.name !== "tick" || tick.runs !== 1) throw new Error("one run");
 * m.stop();
 * ```
 */
export interface NodeMetrics {
  /** The node's id. */
  id: number;
  /** Its name, if any. */
  name: string | undefined;
  /** Its depth. */
  depth: number;
  /** Runs since the metrics started (or since it was built, if later). */
  runs: number;
  /** Time in its cycle function over those runs, in ns (0 with `nodeTime: false`). */
  timeNs: number;
}

/** Names the registry writes itself. */
const BUILT_IN = new Set([
  "wavelet_cycles_total",
  "wavelet_node_data_age_seconds",
  "wavelet_nodes",
  "wavelet_timers_pending",
  "wavelet_node_runs_total",
  "wavelet_node_time_seconds_total",
  "wavelet_cycle_duration_seconds",
  "wavelet_notify_to_run_seconds",
  "wavelet_timer_lateness_seconds",
  "wavelet_channel_depth",
  "wavelet_channel_dropped_total",
  "wavelet_channel_lost_total",
  "wavelet_io_read_bytes_total",
  "wavelet_io_written_bytes_total",
  "wavelet_io_open_connections",
  "wavelet_io_accepted_connections_total",
  "wavelet_metrics_read_errors_total",
]);

/**
 * A histogram per node, registered with {@linkcode Metrics.nodeHistogram} and filled by
 * whoever measures (a feature, a node's own code). Values are durations in nanoseconds; the
 * series are labelled by node name like the other per-node metrics (nodes that share a name are
 * summed; what removed nodes recorded stays counted).
 *
 * @example A per-node histogram of quote staleness
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { Metrics } from "@wavelet/wavelet/metrics";
 *
 * const rt = new TestRuntime();
 * const m = new Metrics(rt.executor);
 * const stale = m.nodeHistogram("app_quote_staleness_seconds", "Age of the quote a node used.");
 * const node = new NodeBuilder(0).named("vwap").build(rt.executor, () => false);
 * stale.record(node, 40_000); // 40 us
 * if (stale.snapshot(node)?.count !== 1) throw new Error("one value");
 * if (!m.text().includes('app_quote_staleness_seconds_count{node="vwap"} 1')) throw new Error();
 * m.stop();
 * ```
 */
export class NodeHistogram {
  /** The metric name. */
  readonly name: string;
  /** Its help text. */
  readonly help: string;
  /** @internal Histograms per slot, STRIDE numbers each. */
  _a: Float64Array = new Float64Array(0);
  /** @internal Histograms of removed nodes by label. */
  readonly _folded: Map<string, Float64Array> = new Map();
  readonly #owner: Metrics;

  /** @internal Use {@linkcode Metrics.nodeHistogram}. */
  constructor(owner: Metrics, name: string, help: string) {
    this.#owner = owner;
    this.name = name;
    this.help = help;
  }

  /**
   * Records a value for `node`. A node that has left the graph records nothing.
   *
   * @param node A node of the registry's executor.
   * @param ns The value in nanoseconds (negative counts as 0).
   * @returns Whether the value was recorded.
   * @throws {InvalidArgumentError} If `node` is not a node of the executor or `ns` is not a
   *   finite number.
   */
  record(node: Node<unknown>, ns: number): boolean {
    const slot = this.#owner._slotOf(node, "record a value for");
    if (typeof ns !== "number" || !Number.isFinite(ns)) {
      throw invalid(`A node histogram records a finite number of nanoseconds, got ${describe(ns)}`);
    }
    if (slot < 0) return false;
    addValue(this._a, slot * STRIDE, ns);
    return true;
  }

  /**
   * What `node` recorded so far, or null for a node that has left the graph.
   *
   * @throws {InvalidArgumentError} If `node` is not a node of the executor.
   */
  snapshot(node: Node<unknown>): BucketSnapshot | null {
    const slot = this.#owner._slotOf(node, "read the histogram of");
    return slot < 0 ? null : snapshotOf(this._a, slot * STRIDE);
  }

  /** @internal Sized with the collector's slots. */
  _grow(capacity: number): void {
    const a = new Float64Array(capacity * STRIDE);
    a.set(this._a);
    this._a = a;
  }

  /** @internal A node left: its values go to its label's totals. */
  _fold(slot: number, label: string): void {
    const at = slot * STRIDE;
    let f = this._folded.get(label);
    if (f === undefined) this._folded.set(label, f = new Float64Array(STRIDE));
    for (let i = 0; i < STRIDE; i++) f[i] += this._a[at + i];
    this._a.fill(0, at, at + STRIDE);
  }
}

interface Reader {
  name: string;
  help: string;
  type: "counter" | "gauge";
  read: () => number;
}

/**
 * The metrics of one executor. Creating it attaches an instrument that counts node runs and
 * node time, cycle durations, notify-to-run latency and timer lateness into typed arrays (no
 * allocation and no lock on the cycle's path; nothing at all while no `Metrics` is attached).
 * Everything else is read when asked: `text()` for Prometheus, `nodes()` and the histograms for
 * code, and the HTTP endpoint (`serveMetrics`) for both and for the inspector.
 *
 * Per-node series are labelled `node="<name>"` (`(unnamed)` for nodes without one): nodes that
 * share a name are summed, and a node that leaves the graph stays counted under its name, so
 * every counter only goes up.
 *
 * @example Metrics of a small graph, as Prometheus reads them
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { Metrics } from "@wavelet/wavelet/metrics";
 *
 * const rt = new TestRuntime();
 * const metrics = new Metrics(rt.executor);
 * const src = new NodeBuilder(0).named("src").onInit((ex, s) => ex.yieldNow(s))
 *   .build(rt.executor, () => true);
 * new NodeBuilder(0).named("double").triggeredBy(src).build(rt.executor, () => false);
 * rt.runOneCycle();
 * const text = metrics.text();
 * if (!text.includes('wavelet_node_runs_total{node="double"} 1')) throw new Error(text);
 * metrics.stop();
 * ```
 */
export class Metrics {
  /** The executor measured. */
  readonly executor: Executor;
  /** @internal */
  readonly _collector: Collector;
  readonly #channels = new Map<string, ChannelProbe>();
  readonly #readers: Reader[] = [];
  readonly #histograms: NodeHistogram[] = [];
  readonly #notifyLatency: boolean;
  readonly #dataAge: NodeHistogram | null;
  #readErrors = 0;
  #stopped = false;

  /**
   * Starts measuring `executor`.
   *
   * @param executor The executor (`rt.executor`).
   * @param options What to measure on the cycle's path.
   * @throws {InvalidArgumentError} If `executor` is not an executor or an option is not a
   *   boolean.
   */
  constructor(executor: Executor, options?: MetricsOptions) {
    if (options === undefined) options = {};
    checkInstance(executor, Executor, "Metrics's executor");
    const o = checkOptions(options, "Metrics options", [
      "nodeTime",
      "notifyLatency",
      "clock",
      "dataAge",
    ]);
    for (const k of ["nodeTime", "notifyLatency"] as const) {
      if (o[k] !== undefined && typeof o[k] !== "boolean") {
        throw invalid(`${k} must be a boolean, got ${describe(o[k])}`);
      }
    }
    const clock = o.clock;
    if (clock !== undefined) checkClock(clock);
    let ageClock: (() => number) | null = null;
    const da = o.dataAge;
    if (da === true) ageClock = ingestNs;
    else if (da !== undefined && da !== false) {
      if (da === null || typeof da !== "object") {
        throw invalid(`dataAge must be a boolean or { clock }, got ${describe(da)}`);
      }
      const c = checkOptions(da, "The dataAge option", ["clock"]).clock;
      if (c === undefined) throw invalid("The dataAge option's object needs a clock");
      checkClock(c);
      ageClock = () => c.monotonicNs();
    }
    this.executor = executor;
    this.#notifyLatency = o.notifyLatency ?? true;
    const age = ageClock === null ? null : new NodeHistogram(
      this,
      "wavelet_node_data_age_seconds",
      "Age of the data the nodes with this name ran on: run start minus the oldest ingest time.",
    );
    this._collector = new Collector(
      executor,
      o.nodeTime ?? true,
      this.#notifyLatency,
      clock ?? null,
      age === null ? null : { now: ageClock!, hist: age },
    );
    if (age !== null) {
      this._collector.addFamily(age);
      this.#histograms.push(age);
    }
    this.#dataAge = age;
    this._collector.attach(executor);
  }

  /**
   * The data-age histogram (`wavelet_node_data_age_seconds`), or null unless the `dataAge`
   * option is on: per node, the age of the data it ran on. A node's age is its run's start
   * minus the oldest ingest time among what it ran on: the records its channel receiver handed
   * it in that run (stamped when sent), and what the parents that scheduled it in this cycle
   * (by broadcast or `scheduleNode`) ran on. A run with neither records nothing.
   */
  get dataAge(): NodeHistogram | null {
    return this.#dataAge;
  }

  /** True once {@linkcode Metrics.stop} was called. */
  get isStopped(): boolean {
    return this.#stopped;
  }

  /** Whether node runs are timed. */
  get nodeTime(): boolean {
    return this._collector.nodeTime;
  }

  /** Whether notify-to-run latency is measured. */
  get notifyLatency(): boolean {
    return this.#notifyLatency;
  }

  /**
   * Durations of the cycles that ran a node: from the first node run to the end of the cycle
   * (sweep and spawns included; the wait before it is not).
   */
  get cycleDuration(): BucketHistogram {
    return this._collector.cycleDuration;
  }

  /**
   * From a notifier's `notify()` (on any thread) to the start of the node's run: the wake-up,
   * the collect phase and the nodes that ran before it in the cycle.
   */
  get notifyToRun(): BucketHistogram {
    return this._collector.notifyToRun;
  }

  /** How far past its deadline the cycle that fired each timer was. */
  get timerLateness(): BucketHistogram {
    return this._collector.timerLateness;
  }

  /** The per-node histograms registered so far, in registration order. */
  get nodeHistograms(): readonly NodeHistogram[] {
    return this.#histograms;
  }

  /**
   * Registers a channel: its depth, drops and losses are read from `probe` on each request
   * and exposed as `wavelet_channel_depth`, `wavelet_channel_dropped_total` and
   * `wavelet_channel_lost_total` with `channel="<name>"`. A probe that throws or answers
   * something other than a finite number is skipped (and counted in
   * `wavelet_metrics_read_errors_total`). While a run is recorded or replayed, a probe that
   * reads a receiver (`rx.length`, `rx.dropped`) adds to the log what it reads: register
   * probes on runs that are not recorded, or read senders.
   *
   * @param name The channel's label.
   * @param probe The functions that read it.
   * @throws {InvalidArgumentError} If `name` is not a non-empty string or already registered,
   *   or `probe` has none of the three functions (or something else under their names).
   */
  channel(name: string, probe: ChannelProbe): void {
    this.#checkOpen();
    checkString(name, "A channel's metric name");
    if (name === "") throw invalid("A channel's metric name must not be empty");
    if (this.#channels.has(name)) throw invalid(`A channel named ${name} is already registered`);
    const p = checkOptions(probe, "A channel probe", ["depth", "dropped", "lost"]);
    let any = false;
    for (const k of ["depth", "dropped", "lost"] as const) {
      if (p[k] === undefined) continue;
      if (typeof p[k] !== "function") {
        throw invalid(`A channel probe's ${k} must be a function, got ${describe(p[k])}`);
      }
      any = true;
    }
    if (!any) throw invalid("A channel probe needs depth, dropped or lost");
    this.#channels.set(name, p);
  }

  /**
   * Registers a gauge read on each request.
   *
   * @param name A metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`, not ending in `_total`).
   * @param help One line that says what it measures.
   * @param read Returns the value (a throw or a non-finite number skips the sample).
   * @throws {InvalidArgumentError} For a bad or taken name, or `read` not a function.
   */
  gauge(name: string, help: string, read: () => number): void {
    this.#addReader(name, help, "gauge", read);
  }

  /**
   * Registers a counter read on each request (the value must only go up).
   *
   * @param name A metric name ending in `_total`.
   * @param help One line that says what it counts.
   * @param read Returns the value (a throw or a non-finite number skips the sample).
   * @throws {InvalidArgumentError} For a bad or taken name, or `read` not a function.
   */
  counter(name: string, help: string, read: () => number): void {
    this.#addReader(name, help, "counter", read);
  }

  /**
   * Registers a per-node histogram of durations and returns it: the one call that adds a
   * per-node series (a data-age histogram, a per-hop latency) to `/metrics` and to the
   * inspector's node panel. Fill it with `histogram.record(node, ns)`.
   *
   * @param name A metric name ending in `_seconds` (the values are durations, exposed in
   *   seconds).
   * @param help One line that says what it measures.
   * @returns The histogram.
   * @throws {InvalidArgumentError} For a bad or taken name, or help that is not a string.
   */
  nodeHistogram(name: string, help: string): NodeHistogram {
    this.#checkName(name, help, true);
    if (!name.endsWith("_seconds")) {
      throw invalid(`A node histogram's name must end with _seconds, got ${name}`);
    }
    const h = new NodeHistogram(this, name, help);
    this._collector.addFamily(h);
    this.#histograms.push(h);
    return h;
  }

  /** Every live node the metrics saw, in id order, with its runs and time. */
  nodes(): NodeMetrics[] {
    const c = this._collector, out: NodeMetrics[] = [];
    for (const n of this.executor.liveNodes()) {
      const s = n._slot;
      const seen = s < c.capacity && c.ids[s] === n.id;
      out.push({
        id: n.id,
        name: n.name,
        depth: n.depth,
        runs: seen ? c.runs[s] : 0,
        timeNs: seen ? c.timeNs[s] : 0,
      });
    }
    return out;
  }

  /** Everything, in the Prometheus text exposition format (version 0.0.4). */
  text(): string {
    const c = this._collector, ex = this.executor;
    c.foldRemoved();
    const w = new TextWriter();
    w.family("wavelet_cycles_total", "counter", "Cycles the executor started.");
    w.sample("wavelet_cycles_total", [], ex.epoch);
    w.family("wavelet_nodes", "gauge", "Live nodes in the graph.");
    w.sample("wavelet_nodes", [], ex.nodeCount);
    w.family("wavelet_timers_pending", "gauge", "Timers registered and not yet fired.");
    w.sample("wavelet_timers_pending", [], ex.stats().pendingTimers);

    // Per-node totals by label: removed nodes first, then the live ones.
    interface Row {
      runs: number;
      timeNs: number;
      read: number;
      written: number;
      open: number;
      accepted: number;
      conn: boolean;
      listener: boolean;
    }
    const rows = new Map<string, Row>();
    const row = (label: string): Row => {
      let r = rows.get(label);
      if (r === undefined) {
        r = {
          runs: 0,
          timeNs: 0,
          read: 0,
          written: 0,
          open: 0,
          accepted: 0,
          conn: false,
          listener: false,
        };
        rows.set(label, r);
      }
      return r;
    };
    for (const [label, f] of c.folded) {
      const r = row(label);
      r.runs += f.runs;
      r.timeNs += f.timeNs;
      r.read += f.readBytes;
      r.written += f.writtenBytes;
      r.accepted += f.accepted;
      if (f.readBytes > 0 || f.writtenBytes > 0) r.conn = true;
      if (f.accepted > 0) r.listener = true;
    }
    for (let s = 0; s < c.nodes.length; s++) {
      const n = c.nodes[s];
      if (n === null) continue;
      const r = row(labelOf(n));
      r.runs += c.runs[s];
      r.timeNs += c.timeNs[s];
      const v = n.value;
      if (v instanceof TcpConnection) {
        r.conn = true;
        r.read += v.bytesRead;
        r.written += v.bytesWritten;
        if (!v.isClosed) r.open++;
      } else if (isListenerState(v)) {
        r.listener = true;
        r.accepted += v.accepted;
      }
    }
    const labels = [...rows.keys()].sort();
    w.family(
      "wavelet_node_runs_total",
      "counter",
      "Runs of the cycle functions of the nodes with this name, since the metrics started.",
    );
    for (const l of labels) w.sample("wavelet_node_runs_total", [["node", l]], rows.get(l)!.runs);
    if (c.nodeTime) {
      w.family(
        "wavelet_node_time_seconds_total",
        "counter",
        "Time spent in the cycle functions of the nodes with this name.",
      );
      for (const l of labels) {
        w.sample("wavelet_node_time_seconds_total", [["node", l]], rows.get(l)!.timeNs / 1e9);
      }
    }

    w.family(
      "wavelet_cycle_duration_seconds",
      "histogram",
      "Duration of the cycles that ran a node, from the first run to the end of the cycle.",
    );
    w.histogram("wavelet_cycle_duration_seconds", [], c.cycleDuration._array, 0);
    if (this.#notifyLatency) {
      w.family(
        "wavelet_notify_to_run_seconds",
        "histogram",
        "Time from a notifier's notify() to the start of the notified node's run.",
      );
      w.histogram("wavelet_notify_to_run_seconds", [], c.notifyToRun._array, 0);
    }
    w.family(
      "wavelet_timer_lateness_seconds",
      "histogram",
      "How far past a timer's deadline the cycle that fired it was.",
    );
    w.histogram("wavelet_timer_lateness_seconds", [], c.timerLateness._array, 0);

    this.#writeChannels(w);

    const connLabels = labels.filter((l) => rows.get(l)!.conn);
    const listenerLabels = labels.filter((l) => rows.get(l)!.listener);
    w.family("wavelet_io_read_bytes_total", "counter", "Bytes read by TCP connection nodes.");
    for (const l of connLabels) {
      w.sample("wavelet_io_read_bytes_total", [["node", l]], rows.get(l)!.read);
    }
    w.family("wavelet_io_written_bytes_total", "counter", "Bytes written by TCP connection nodes.");
    for (const l of connLabels) {
      w.sample("wavelet_io_written_bytes_total", [["node", l]], rows.get(l)!.written);
    }
    w.family("wavelet_io_open_connections", "gauge", "Open TCP connection nodes.");
    for (const l of connLabels) {
      w.sample("wavelet_io_open_connections", [["node", l]], rows.get(l)!.open);
    }
    w.family(
      "wavelet_io_accepted_connections_total",
      "counter",
      "Connections accepted by TCP listener nodes.",
    );
    for (const l of listenerLabels) {
      w.sample("wavelet_io_accepted_connections_total", [["node", l]], rows.get(l)!.accepted);
    }

    for (const h of this.#histograms) this.#writeNodeHistogram(w, h);

    for (const r of this.#readers) {
      w.family(r.name, r.type, r.help);
      const v = this.#read(r.read);
      if (v !== null) w.sample(r.name, [], v);
    }
    w.family(
      "wavelet_metrics_read_errors_total",
      "counter",
      "Probe, gauge and counter readings that threw or were not finite numbers.",
    );
    w.sample("wavelet_metrics_read_errors_total", [], this.#readErrors);
    return w.toString();
  }

  /**
   * Stops measuring: the instrument is detached (the cycle functions run unwrapped again) and
   * notification stamps go off. What was measured stays readable. Idempotent.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this._collector.detach(this.executor);
  }

  /** @internal Channel readings, for the inspector and the text. */
  _channels(): {
    name: string;
    depth: number | null;
    dropped: number | null;
    lost: number | null;
  }[] {
    const out = [];
    for (const [name, p] of this.#channels) {
      out.push({
        name,
        depth: p.depth === undefined ? null : this.#read(p.depth),
        dropped: p.dropped === undefined ? null : this.#read(p.dropped),
        lost: p.lost === undefined ? null : this.#read(p.lost),
      });
    }
    return out;
  }

  /**
   * @internal The slot of `node` when the collector tracks it, -1 when it left the graph.
   *
   * @throws {InvalidArgumentError} If `node` is not a node of the executor.
   */
  _slotOf(node: Node<unknown>, action: string): number {
    if (!(node instanceof Node) || node._ex !== this.executor) {
      throw invalid(`Cannot ${action} ${describe(node)}: not a node of the measured executor`);
    }
    const c = this._collector, s = node._slot;
    return node.isAlive && s < c.capacity && c.ids[s] === node.id ? s : -1;
  }

  #writeChannels(w: TextWriter): void {
    const readings = this._channels();
    const families = [
      ["wavelet_channel_depth", "gauge", "Items queued in the channel.", "depth"],
      [
        "wavelet_channel_dropped_total",
        "counter",
        "Items the channel dropped to make room (drop-oldest).",
        "dropped",
      ],
      [
        "wavelet_channel_lost_total",
        "counter",
        "Items lost on their way into the channel otherwise (refused, timed out).",
        "lost",
      ],
    ] as const;
    for (const [name, type, help, key] of families) {
      w.family(name, type, help);
      for (const r of readings) {
        const v = r[key];
        if (v !== null) w.sample(name, [["channel", r.name]], v);
      }
    }
  }

  #writeNodeHistogram(w: TextWriter, h: NodeHistogram): void {
    const c = this._collector;
    const byLabel = new Map<string, Float64Array>();
    for (const [label, f] of h._folded) byLabel.set(label, Float64Array.from(f));
    for (let s = 0; s < c.nodes.length; s++) {
      const n = c.nodes[s];
      if (n === null) continue;
      const label = labelOf(n);
      let a = byLabel.get(label);
      if (a === undefined) byLabel.set(label, a = new Float64Array(STRIDE));
      for (let i = 0; i < STRIDE; i++) a[i] += h._a[s * STRIDE + i];
    }
    w.family(h.name, "histogram", h.help);
    // Only names with values: every node of a large graph would add 26 lines per histogram.
    for (const label of [...byLabel.keys()].sort()) {
      const a = byLabel.get(label)!;
      if (a[STRIDE - 1] > 0) w.histogram(h.name, [["node", label]], a, 0);
    }
  }

  #read(fn: () => number): number | null {
    let v: unknown;
    try {
      v = fn();
    } catch {
      this.#readErrors++;
      return null;
    }
    if (typeof v !== "number" || !Number.isFinite(v)) {
      this.#readErrors++;
      return null;
    }
    return v;
  }

  #addReader(name: string, help: string, type: "counter" | "gauge", read: () => number): void {
    this.#checkName(name, help);
    if (type === "counter" && !name.endsWith("_total")) {
      throw invalid(`A counter's name must end with _total, got ${name}`);
    }
    if (type === "gauge" && name.endsWith("_total")) {
      throw invalid(`A gauge's name must not end with _total, got ${name}`);
    }
    if (typeof read !== "function") {
      throw invalid(`A ${type}'s read must be a function, got ${describe(read)}`);
    }
    this.#readers.push({ name, help, type, read });
  }

  #checkName(name: string, help: string, histogram = false): void {
    this.#checkOpen();
    checkString(name, "A metric name");
    checkString(help, "A metric's help");
    if (!NAME_RE.test(name)) {
      throw invalid(`A metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*, got ${describe(name)}`);
    }
    // A histogram also writes <name>_bucket, _sum and _count.
    const histograms = [
      "wavelet_cycle_duration_seconds",
      "wavelet_notify_to_run_seconds",
      "wavelet_timer_lateness_seconds",
      ...this.#histograms.map((h) => h.name),
    ];
    const taken = BUILT_IN.has(name) || this.#readers.some((r) => r.name === name) ||
      histograms.some((h) => name === h || name.startsWith(`${h}_`));
    if (taken) throw invalid(`The metric name ${name} is already taken`);
    for (const r of histogram ? this.#readers : []) {
      if (r.name.startsWith(`${name}_`) && /_(bucket|sum|count)$/.test(r.name)) {
        throw invalid(`The metric name ${name} would clash with ${r.name}`);
      }
    }
  }

  #checkOpen(): void {
    if (this.#stopped) throw invalid("Cannot register metrics on stopped metrics");
  }
}

/**
 * Refuses a clock that is not an object with `monotonicNs()` answering a finite number: one
 * reading up front.
 */
function checkClock(clock: unknown): void {
  let t: unknown;
  try {
    if (
      clock === null || typeof clock !== "object" ||
      typeof (clock as { monotonicNs?: unknown }).monotonicNs !== "function"
    ) {
      throw invalid(`clock must have a monotonicNs() method, got ${describe(clock)}`);
    }
    t = (clock as { monotonicNs(): unknown }).monotonicNs();
  } catch (cause) {
    if (cause instanceof InvalidArgumentError) throw cause;
    throw invalid("The clock threw when read", cause);
  }
  if (typeof t !== "number" || !Number.isFinite(t)) {
    throw invalid(`The clock must answer a finite number of nanoseconds, got ${describe(t)}`);
  }
}
