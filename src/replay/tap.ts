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

/** Where a recorder's bytes go. */
export interface LogSink {
  /** Appends bytes. */
  write(bytes: Uint8Array): void;
  /** Flushes and releases the sink. */
  close(): void;
}

/** The executor-facing side of recording and replay (one of the two classes below). */
export type Tap = Recorder | Replayer;

/** Records a run's stimuli into a log. */
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

interface ObsEntry {
  kind: number;
  payload: Uint8Array;
}

interface CycleRec {
  epoch: number;
  mono: number;
  sec: number;
  sub: number;
  notify: number[];
  io: number[];
  obs: Map<number, ObsEntry[]>;
}

/** Feeds a recorded log back into an executor. */
export class Replayer {
  /** Discriminates the tap. */
  readonly recording = false;
  readonly #names: string[] = [];
  readonly #cycles: CycleRec[] = [];
  #ex: Executor | null = null;
  #bySlotName = new Map<number, number>();
  #slotById: number[] = [];
  #current: CycleRec | null = null;

  /**
   * Parses log bytes.
   *
   * @throws {ReplayError} On a malformed log.
   */
  constructor(bytes: Uint8Array) {
    const r = new LogReader(bytes);
    let cur: CycleRec | null = null;
    while (!r.done) {
      const kind = r.u8();
      if (kind === Entry.Name) {
        const id = r.u32();
        const len = r.u16();
        this.#names[id] = new TextDecoder().decode(r.bytes(len));
      } else if (kind === Entry.Cycle) {
        cur = {
          epoch: r.f64(),
          mono: r.f64(),
          sec: r.f64(),
          sub: r.u32(),
          notify: [],
          io: [],
          obs: new Map(),
        };
        this.#cycles.push(cur);
      } else if (kind === Entry.Notify || kind === Entry.Io || kind === Entry.Obs) {
        if (cur === null) {
          throw new ReplayError(ErrorCode.ReplayMismatch, "A stimulus entry before any cycle");
        }
        const id = r.u32();
        if (kind === Entry.Notify) cur.notify.push(id);
        else if (kind === Entry.Io) cur.io.push(id, r.u32());
        else {
          const ok = r.u8();
          const payload = r.bytes(r.u32());
          let q = cur.obs.get(id);
          if (q === undefined) cur.obs.set(id, q = []);
          q.push({ kind: ok, payload });
        }
      } else {
        throw new ReplayError(
          ErrorCode.ReplayMismatch,
          `Unknown entry kind ${kind} in the stimulus log`,
        );
      }
    }
  }

  /** Recorded cycles. */
  get cycleCount(): number {
    return this.#cycles.length;
  }

  /** The recorded cycle `i`: its epoch and time. */
  cycleAt(i: number): { epoch: number; mono: number; sec: number; sub: number } {
    return this.#cycles[i];
  }

  /**
   * Binds the log's node names to the executor's live nodes.
   *
   * @throws {ReplayError} If a name in the log has no node in the graph.
   */
  bind(ex: Executor): void {
    this.#ex = ex;
    const byName = new Map<string, number>();
    for (const n of ex.liveNodes()) {
      byName.set(n.name ?? `#${n.id}`, n._slot);
    }
    this.#bySlotName.clear();
    for (let id = 0; id < this.#names.length; id++) {
      const name = this.#names[id];
      const slot = byName.get(name);
      if (slot === undefined) {
        throw new ReplayError(
          ErrorCode.ReplayMismatch,
          `The log names node "${name}", which the replayed graph does not have`,
        );
      }
      this.#bySlotName.set(slot, id);
      this.#slotById[id] = slot;
    }
  }

  /** Makes cycle `i` current: its stimuli are injected by {@linkcode Replayer.inject}. */
  begin(i: number): void {
    this.#current = this.#cycles[i];
  }

  /** Schedules the nodes the current cycle's notifiers and I/O scheduled. */
  inject(ex: Executor): void {
    const c = this.#current;
    if (c === null) return;
    for (const id of c.notify) this.#schedule(ex, id);
    for (let i = 0; i < c.io.length; i += 2) this.#schedule(ex, c.io[i]);
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
    const c = this.#current;
    const id = this.#bySlotName.get(slot);
    const q = id === undefined || c === null ? undefined : c.obs.get(id);
    const e = q?.shift();
    const name = () => this.#ex?._nodes[slot]?.toString() ?? `slot ${slot}`;
    if (e === undefined) {
      throw new ReplayError(
        ErrorCode.ReplayMismatch,
        `Node ${name()} read from its channel in cycle ${c?.epoch} more than the recorded run did`,
      );
    }
    if (e.kind !== kind) {
      // An Item/Empty/Closed read is one receive: the caller asked for a receive.
      const isRecv = (k: number) => k === Obs.Item || k === Obs.Empty || k === Obs.Closed;
      if (!(isRecv(kind) && isRecv(e.kind))) {
        throw new ReplayError(
          ErrorCode.ReplayMismatch,
          `Node ${name()} made a different read in cycle ${c?.epoch} than the recorded run`,
        );
      }
    }
    this.#lastKind = e.kind;
    return e.payload;
  }

  #lastKind = 0;

  /** The kind of the observation {@linkcode Replayer.next} returned last. */
  get lastKind(): number {
    return this.#lastKind;
  }

  /** The next recorded number observation. */
  nextNumber(slot: number, kind: number): number {
    const b = this.next(slot, kind);
    const s = this.#scratch;
    for (let i = 0; i < 8; i++) s[i] = b[i];
    return this.#scratchF64[0];
  }

  readonly #scratch = new Uint8Array(8);
  readonly #scratchF64 = new Float64Array(this.#scratch.buffer);

  /**
   * Checks that the current cycle's observations were all consumed.
   *
   * @throws {ReplayError} If a node read less than it did in the recorded run.
   */
  end(): void {
    const c = this.#current;
    if (c === null) return;
    for (const [id, q] of c.obs) {
      if (q.length > 0) {
        throw new ReplayError(
          ErrorCode.ReplayMismatch,
          `Node "${this.#names[id]}" read less in cycle ${c.epoch} than the recorded run did`,
        );
      }
    }
    this.#current = null;
  }
}
