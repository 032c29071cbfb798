/**
 * Recording and replaying a graph's stimuli. A {@linkcode Recorder} attached to an executor
 * writes, for every cycle that ran a node, the cycle's number and time, which nodes notifiers
 * and I/O scheduled, and every value a node read from outside the graph (channel items and
 * results). A {@linkcode Replayer} feeds the same back to the same graph in a historical
 * runtime, so it runs the same nodes in the same cycles and computes the same values, without
 * Workers, sockets or the wall clock.
 *
 * Nodes are matched by name (unnamed nodes by `#id`, their creation order). Anything the
 * replayed graph does differently from the log (a missing node, reading more or less from a
 * channel) is a {@linkcode ReplayError}.
 *
 * @module
 */

import { ErrorCode } from "../errors.ts";
import type { Executor } from "../executor.ts";
import type { CycleTime } from "../time.ts";
import { Entry, LogReader, LogWriter, Obs, ReplayError } from "./log.ts";

/**
 * Where a recorder's bytes go.
 *
 * @example Recording into memory chunks
 * ```ts
 * import { type LogSink, ms, NodeBuilder, RealtimeRuntime } from "@wavelet/wavelet";
 *
 * const chunks: Uint8Array[] = [];
 * let closed = false;
 * const sink: LogSink = {
 *   write: (bytes) => void chunks.push(bytes.slice()), // the bytes are a view: copy them
 *   close: () => void (closed = true),
 * };
 * const rt = new RealtimeRuntime();
 * rt.startRecording(sink);
 * new NodeBuilder(0).named("tick").onInit((ex, self) => ex.yieldNow(self)).build(
 *   rt.executor,
 *   (self) => {
 *     self.value++;
 *     return true;
 *   },
 * );
 * rt.runOneCycle(ms(10));
 * rt.shutdown(); // flushes and closes the sink
 * const magic = new TextDecoder().decode(chunks[0].subarray(0, 5));
 * if (!closed || magic !== "WVLOG") throw new Error("a closed sink holding a log");
 * ```
 */
export interface LogSink {
  /** Appends bytes. */
  write(bytes: Uint8Array): void;
  /** Flushes and releases the sink. */
  close(): void;
}

/** The executor-facing side of recording and replay (one of the two classes below). */
export type Tap = Recorder | Replayer;

/**
 * Records a run's stimuli into a log.
 *
 * @example A recorder driven by hand
 * ```ts
 * import { CycleTime, Recorder, Replayer, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const rec = new Recorder(rt.executor, null); // null: keep the log in memory
 * const time = new CycleTime();
 * time.monotonicNs = 1_000;
 * rec.endCycle(1, time, true); // what the executor calls at the end of each cycle
 * if (rec.cycles !== 1) throw new Error("one cycle written");
 * const log = rec.bytes();
 * rec.close();
 * if (new Replayer(log).cycleCount !== 1) throw new Error("the log holds that cycle");
 * ```
 */
export class Recorder {
  /** Discriminates the tap. */
  readonly recording = true;
  readonly #ex: Executor;
  readonly #main = new LogWriter(true);
  readonly #cycle = new LogWriter(false);
  readonly #names = new Map<string, number>();
  readonly #sink: LogSink | null;
  #cycles = 0;
  #closed = false;

  /**
   * Attaches to an executor.
   *
   * @param ex The executor whose stimuli are recorded.
   * @param sink Where to write (flushed every 1 MiB and on close); null keeps the log in memory.
   */
  constructor(ex: Executor, sink: LogSink | null) {
    this.#ex = ex;
    this.#sink = sink;
  }

  /** Cycles written so far. */
  get cycles(): number {
    return this.#cycles;
  }

  #nameId(slot: number): number {
    const node = this.#ex._nodes[slot]!;
    const name = node.name ?? `#${node.id}`;
    let id = this.#names.get(name);
    if (id === undefined) {
      id = this.#names.size;
      this.#names.set(name, id);
      const bytes = new TextEncoder().encode(name);
      this.#main.u8(Entry.Name);
      this.#main.u32(id);
      this.#main.u16(bytes.length);
      this.#main.bytes(bytes);
    }
    return id;
  }

  /** A notifier scheduled the node in slot `slot`. */
  notify(slot: number): void {
    this.#cycle.u8(Entry.Notify);
    this.#cycle.u32(this.#nameId(slot));
  }

  /** I/O readiness scheduled the node. */
  io(slot: number, bits: number): void {
    this.#cycle.u8(Entry.Io);
    this.#cycle.u32(this.#nameId(slot));
    this.#cycle.u32(bits);
  }

  /** The node read a value from outside the graph. */
  obs(slot: number, kind: number, payload: Uint8Array | null): void {
    this.#cycle.u8(Entry.Obs);
    this.#cycle.u32(this.#nameId(slot));
    this.#cycle.u8(kind);
    const n = payload === null ? 0 : payload.length;
    this.#cycle.u32(n);
    if (n > 0) this.#cycle.bytes(payload!);
  }

  /** The node read a number from outside the graph. */
  obsNumber(slot: number, kind: number, v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.obs(slot, kind, b);
  }

  /** Ends a cycle: writes it if it ran a node or saw a stimulus. */
  endCycle(epoch: number, time: CycleTime, ranAny: boolean): void {
    if (this.#closed) return;
    if (ranAny || this.#cycle.length > 0) {
      const m = this.#main;
      m.u8(Entry.Cycle);
      m.f64(epoch);
      m.f64(time.monotonicNs);
      m.f64(time.unixSeconds);
      m.u32(time.unixSubsecNanos);
      m.bytes(this.#cycle.view());
      this.#cycles++;
      if (this.#sink !== null && m.length > 1 << 20) {
        this.#sink.write(m.view());
        m.reset();
      }
    }
    this.#cycle.reset();
  }

  /** The log bytes kept in memory (everything, when there is no sink). */
  bytes(): Uint8Array {
    return this.#main.view().slice();
  }

  /** Flushes to the sink and stops recording. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sink !== null) {
      this.#sink.write(this.#main.view());
      this.#main.reset();
      this.#sink.close();
    }
  }
}

/**
 * Feeds a recorded log back into an executor, one cycle at a time: the log is read as the
 * replay goes (a first pass only collects node names), and payloads are views into the log,
 * so replaying allocates little beyond what the graph itself does.
 *
 * @example A recorded run, replayed on a historical runtime
 * ```ts
 * import {
 *   type Executor,
 *   HistoricalRuntime,
 *   ms,
 *   NodeBuilder,
 *   RealtimeRuntime,
 *   Replayer,
 * } from "@wavelet/wavelet";
 *
 * function build(ex: Executor) {
 *   return new NodeBuilder(0).named("sum").buildWithChannel(
 *     ex,
 *     { kind: "local", capacity: 8 },
 *     (self, _ctx, rx) => {
 *       for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) self.value += v as number;
 *       return true;
 *     },
 *   );
 * }
 * const live = new RealtimeRuntime();
 * live.startRecording();
 * const [, tx] = build(live.executor);
 * tx.trySend(2);
 * tx.trySend(3);
 * live.runOneCycle(ms(10));
 * const log = live.recordedBytes()!;
 * live.shutdown();
 *
 * if (new Replayer(log).cycleCount < 1) throw new Error("the log holds the cycle that ran");
 * const hist = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 1n });
 * const [sum] = build(hist.executor); // the same graph, the same names
 * hist.replayLog(log); // uses a Replayer
 * if (sum.value !== 5) throw new Error("the replay read the same items");
 * ```
 */
export class Replayer {
  /** Discriminates the tap. */
  readonly recording = false;
  readonly #r: LogReader;
  readonly #names: string[] = [];
  readonly #cycleCount: number;
  #ex: Executor | null = null;
  readonly #idBySlot = new Map<number, number>();
  #slotById: number[] = [];
  // The current cycle.
  #inCycle = false;
  #lookahead = -1;
  /** Epoch of the current cycle. */
  epoch = 0;
  /** Monotonic time of the current cycle. */
  mono = 0;
  /** Wall seconds of the current cycle. */
  sec = 0;
  /** Wall nanoseconds of the current cycle. */
  sub = 0;
  readonly #notify: number[] = [];
  readonly #io: number[] = [];
  readonly #obsKind: number[][] = [];
  readonly #obsPayload: Uint8Array[][] = [];
  readonly #obsPos: number[] = [];
  readonly #touched: number[] = [];
  #lastKind = 0;
  readonly #scratch = new Uint8Array(8);
  readonly #scratchF64 = new Float64Array(this.#scratch.buffer);

  /**
   * Opens log bytes (a first pass reads the node names and counts the cycles).
   *
   * @throws {ReplayError} On a malformed log.
   */
  constructor(bytes: Uint8Array) {
    const scan = new LogReader(bytes);
    let cycles = 0;
    while (!scan.done) {
      const kind = scan.u8();
      if (kind === Entry.Name) {
        const id = scan.u32();
        this.#names[id] = new TextDecoder().decode(scan.view(scan.u16()));
      } else if (kind === Entry.Cycle) {
        scan.skip(28);
        cycles++;
      } else if (kind === Entry.Notify) scan.skip(4);
      else if (kind === Entry.Io) scan.skip(8);
      else if (kind === Entry.Obs) {
        scan.skip(5);
        scan.skip(scan.u32());
      } else {
        throw new ReplayError(
          ErrorCode.ReplayMismatch,
          `Unknown entry kind ${kind} in the stimulus log`,
        );
      }
    }
    this.#cycleCount = cycles;
    this.#r = new LogReader(bytes);
  }

  /** Recorded cycles. */
  get cycleCount(): number {
    return this.#cycleCount;
  }

  /**
   * Binds the log's node names to the executor's live nodes.
   *
   * @throws {ReplayError} If a name in the log has no node in the graph.
   */
  bind(ex: Executor): void {
    this.#ex = ex;
    const byName = new Map<string, number>();
    for (const n of ex.liveNodes()) byName.set(n.name ?? `#${n.id}`, n._slot);
    this.#idBySlot.clear();
    this.#slotById = [];
    for (let id = 0; id < this.#names.length; id++) {
      const name = this.#names[id];
      const slot = byName.get(name);
      if (slot === undefined) {
        throw new ReplayError(
          ErrorCode.ReplayMismatch,
          `The log names node "${name}", which the replayed graph does not have`,
        );
      }
      this.#idBySlot.set(slot, id);
      this.#slotById[id] = slot;
      this.#obsKind[id] = [];
      this.#obsPayload[id] = [];
      this.#obsPos[id] = 0;
    }
  }

  /**
   * Reads the next recorded cycle (its epoch, time and stimuli become current).
   *
   * @returns False when the log has no more cycles.
   * @throws {ReplayError} On a malformed log.
   */
  nextCycle(): boolean {
    for (const id of this.#touched) {
      this.#obsKind[id].length = 0;
      this.#obsPayload[id].length = 0;
      this.#obsPos[id] = 0;
    }
    this.#touched.length = 0;
    this.#notify.length = 0;
    this.#io.length = 0;
    const r = this.#r;
    let kind = this.#lookahead >= 0 ? this.#lookahead : r.done ? -1 : r.u8();
    this.#lookahead = -1;
    while (kind === Entry.Name) {
      r.skip(4);
      r.skip(r.u16());
      kind = r.done ? -1 : r.u8();
    }
    if (kind === -1) {
      this.#inCycle = false;
      return false;
    }
    if (kind !== Entry.Cycle) {
      throw new ReplayError(ErrorCode.ReplayMismatch, "A stimulus entry before any cycle");
    }
    this.epoch = r.f64();
    this.mono = r.f64();
    this.sec = r.f64();
    this.sub = r.u32();
    while (!r.done) {
      const k = r.u8();
      if (k === Entry.Cycle) {
        this.#lookahead = k;
        break;
      }
      if (k === Entry.Name) {
        r.skip(4);
        r.skip(r.u16());
      } else if (k === Entry.Notify) this.#notify.push(r.u32());
      else if (k === Entry.Io) this.#io.push(r.u32(), r.u32());
      else if (k === Entry.Obs) {
        const id = r.u32();
        const ok = r.u8();
        const payload = r.view(r.u32());
        const kinds = this.#obsKind[id];
        if (kinds === undefined) {
          throw new ReplayError(ErrorCode.ReplayMismatch, `Unknown node id ${id} in the log`);
        }
        if (kinds.length === 0) this.#touched.push(id);
        kinds.push(ok);
        this.#obsPayload[id].push(payload);
      } else {
        throw new ReplayError(
          ErrorCode.ReplayMismatch,
          `Unknown entry kind ${k} in the stimulus log`,
        );
      }
    }
    this.#inCycle = true;
    return true;
  }

  /** Schedules the nodes the current cycle's notifiers and I/O scheduled. */
  inject(ex: Executor): void {
    if (!this.#inCycle) return;
    for (const id of this.#notify) this.#schedule(ex, id);
    for (let i = 0; i < this.#io.length; i += 2) this.#schedule(ex, this.#io[i]);
  }

  #schedule(ex: Executor, id: number): void {
    const slot = this.#slotById[id];
    const node = slot === undefined ? null : ex._nodes[slot];
    if (node) ex.scheduleStimulus(slot, node._gen);
  }

  /**
   * The next recorded observation of the node in `slot` in the current cycle.
   *
   * @throws {ReplayError} If the node reads more than it did, or something else.
   */
  next(slot: number, kind: number): Uint8Array {
    const id = this.#idBySlot.get(slot);
    const kinds = id === undefined ? undefined : this.#obsKind[id];
    const pos = id === undefined ? 0 : this.#obsPos[id];
    const name = () => this.#ex?._nodes[slot]?.toString() ?? `slot ${slot}`;
    if (kinds === undefined || pos >= kinds.length) {
      throw new ReplayError(
        ErrorCode.ReplayMismatch,
        `Node ${name()} read from its channel in cycle ${this.epoch} more than the recorded run did`,
      );
    }
    const got = kinds[pos];
    if (got !== kind) {
      // An Item/Empty/Closed read is one receive: the caller asked for a receive.
      const isRecv = (k: number) => k === Obs.Item || k === Obs.Empty || k === Obs.Closed;
      if (!(isRecv(kind) && isRecv(got))) {
        throw new ReplayError(
          ErrorCode.ReplayMismatch,
          `Node ${name()} made a different read in cycle ${this.epoch} than the recorded run`,
        );
      }
    }
    this.#obsPos[id!] = pos + 1;
    this.#lastKind = got;
    return this.#obsPayload[id!][pos];
  }

  /** The kind of the observation {@linkcode Replayer.next} returned last. */
  get lastKind(): number {
    return this.#lastKind;
  }

  /** The next recorded number observation (the log and every supported host are little-endian). */
  nextNumber(slot: number, kind: number): number {
    const b = this.next(slot, kind);
    const s = this.#scratch;
    for (let i = 0; i < 8; i++) s[i] = b[i];
    return this.#scratchF64[0];
  }

  /**
   * Checks that the current cycle's observations were all consumed.
   *
   * @throws {ReplayError} If a node read less than it did in the recorded run.
   */
  end(): void {
    if (!this.#inCycle) return;
    for (const id of this.#touched) {
      if (this.#obsPos[id] < this.#obsKind[id].length) {
        throw new ReplayError(
          ErrorCode.ReplayMismatch,
          `Node "${this.#names[id]}" read less in cycle ${this.epoch} than the recorded run did`,
        );
      }
    }
    this.#inCycle = false;
  }
}
