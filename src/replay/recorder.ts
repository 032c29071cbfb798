/**
 * Recording a run's stimuli: the {@linkcode Recorder}, the core's stimulus hook in its
 * recording role, and the hook it gives each channel receiver, which logs what the receiver
 * reads live.
 *
 * @module
 */

import { Executor, runtimePort } from "../core/executor.ts";
import {
  CAUSE_IO,
  type LiveRead,
  type ReceiverHook,
  type RuntimePort,
  type ScheduleFn,
  type StimulusHook,
} from "../core/hooks.ts";
import type { Node } from "../core/node.ts";
import { CycleTime } from "../core/time.ts";
import { checkBoolean, checkInstance, checkInteger, describe, invalid } from "../core/validate.ts";
import { describeGraph, type GraphDescription } from "./fingerprint.ts";
import {
  BLOCK_BYTES,
  encodeHeader,
  Entry,
  fitsObservation,
  Frame,
  LogWriter,
  Obs,
  writeEnd,
} from "./log.ts";

const enc = new TextEncoder();

/** Bytes of a `CYCLE` entry. */
const CYCLE_BYTES = 29;

/** Sealed blocks go to the sink (or the in-memory chunks) once this many bytes are pending. */
const FLUSH_BYTES = 1 << 20;

/**
 * Where a recorder's bytes go.
 *
 * @example Recording into memory chunks
 * ```ts
 * import { ms, NodeBuilder, RealtimeRuntime } from "@wavelet/wavelet";
 * import type { LogSink } from "@wavelet/wavelet/replay";
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

/**
 * Records a run's stimuli into a log (format version 3, see the log module): the graph's
 * fingerprint in a header, taken as the first recorded cycle starts, then the cycles in blocks,
 * each checksummed once when it is sealed (about every 64 KiB), then an end marker written by
 * {@linkcode Recorder.close}.
 *
 * @example A recorder driven by hand
 * ```ts
 * import { CycleTime, TestRuntime } from "@wavelet/wavelet";
 * import { Recorder } from "./recorder.ts";
 * import { Replayer } from "./replayer.ts";
 *
 * const rt = new TestRuntime();
 * const rec = new Recorder(rt.executor, null); // null: keep the log in memory
 * const time = new CycleTime();
 * time.monotonicNs = 1_000;
 * rec.endCycle(1, time, true); // what the executor calls at the end of each cycle
 * if (rec.cycles !== 1) throw new Error("one cycle written");
 * const log = rec.bytes()!; // a complete log: header, blocks, end marker
 * rec.close();
 * if (new Replayer(log).cycleCount !== 1) throw new Error("the log holds that cycle");
 * ```
 */
export class Recorder implements StimulusHook {
  readonly #ex: Executor;
  readonly #port: RuntimePort;
  readonly #sink: LogSink | null;
  /**
   * The header (once frozen), the sealed blocks not flushed yet, and the open block written in
   * place. Once the header is written, each cycle the executor runs writes its entries straight
   * into it (after a `CYCLE` entry whose numbers are patched when the cycle ends).
   */
  readonly #out = new LogWriter(FLUSH_BYTES + 2 * BLOCK_BYTES);
  /** Entries written outside such a cycle (before the header, or by hand). */
  readonly #cycle = new LogWriter();
  /** Where entries go now: `#out` inside a cycle written in place, else `#cycle`. */
  #w: LogWriter = this.#cycle;
  /** `#out`'s length as the cycle written in place started (where it is cut if empty). */
  #mark = -1;
  /** Whether that cycle opened its block. */
  #opened = false;
  /** The sealed data of an in-memory log, 1 MiB at a time (no growing buffer to copy). */
  readonly #chunks: Uint8Array[] = [];
  #chunkBytes = 0;
  /** True once the header is written: the fingerprint no longer follows the graph. */
  #frozen = false;
  #graph: GraphDescription | null = null;
  #graphNextId = -1;
  #graphCount = -1;
  /** Each slot's ref, valid while `#genBySlot` holds the slot's generation. */
  #refBySlot = new Int32Array(0);
  #genBySlot = new Int32Array(0);
  #refs = 0;
  /** Bumped whenever slots are bound to refs anew (a new fingerprint): receivers' cached refs expire. */
  #refVersion = 0;
  /** `nextNodeId` when the fingerprint was taken: later nodes are named by their id past it. */
  #baseId = 0;
  #blockStart = -1;
  #blockCycles = 0;
  #blocks = 0;
  #cycles = 0;
  /** The running CRC: the header's, then the last sealed block's. */
  #chain = 0;
  /** The last cycle written: a log's cycle numbers only increase. */
  #lastEpoch = 0;
  #closed = false;

  /**
   * Attaches to an executor.
   *
   * @param ex The executor whose stimuli are recorded.
   * @param sink Where to write (sealed blocks are flushed every 1 MiB and on close); null keeps
   *   the log in memory.
   * @throws {InvalidArgumentError} If `ex` is not an executor or `sink` is neither null nor an
   *   object with `write` and `close` methods.
   */
  constructor(ex: Executor, sink: LogSink | null) {
    this.#ex = checkInstance(ex, Executor, "The recorded executor");
    this.#port = runtimePort(ex);
    this.#sink = sink === null ? null : checkSink(sink);
  }

  /** Cycles written so far. */
  get cycles(): number {
    return this.#cycles;
  }

  /**
   * Called by the executor as each cycle starts: until the first cycle is written, keeps the
   * fingerprint in step with the graph (rebuilt only when nodes were built or removed); after
   * it, starts writing the cycle in place in the log.
   */
  cycleStart(): void {
    if (this.#frozen) {
      if (!this.#closed && this.#mark < 0) this.#openCycle();
      return;
    }
    const ex = this.#ex;
    if (
      this.#graph === null || ex.nextNodeId !== this.#graphNextId ||
      ex.nodeCount !== this.#graphCount
    ) {
      this.#snapshot();
    }
  }

  /** Starts a cycle written in place: its block (if none is open) and a `CYCLE` entry. */
  #openCycle(): void {
    const o = this.#out;
    this.#mark = o.length;
    this.#opened = this.#blockStart < 0;
    if (this.#opened) this.#openBlock();
    o.u8(Entry.Cycle);
    o.skip(CYCLE_BYTES - 1); // epoch, monotonic ns, wall seconds and nanoseconds: patched at the end
    if (this.#cycle.length > 0) o.append(this.#cycle); // written between cycles
    this.#cycle.reset();
    this.#w = o;
  }

  #openBlock(): void {
    const o = this.#out;
    this.#blockStart = o.length;
    o.u8(Frame.Block);
    o.u32(0); // payload length, patched when sealed
    o.u32(0); // cycles, patched when sealed
  }

  /** Drops the cycle written in place so far (an empty cycle, or a close inside a cycle). */
  #dropCycle(): void {
    this.#out.truncate(this.#mark);
    if (this.#opened) this.#blockStart = -1;
    this.#mark = -1;
    this.#w = this.#cycle;
  }

  #snapshot(): void {
    const ex = this.#ex;
    const g = describeGraph(ex);
    this.#graph = g;
    this.#graphNextId = ex.nextNodeId;
    this.#graphCount = ex.nodeCount;
    this.#baseId = ex.nextNodeId;
    this.#genBySlot.fill(-1);
    this.#refVersion++;
    for (let i = 0; i < g.nodes.length; i++) this.#bindSlot(g.nodes[i], i);
    this.#refs = g.nodes.length;
  }

  #bindSlot(node: Node<unknown>, ref: number): void {
    const slot = node._slot;
    if (slot >= this.#genBySlot.length) {
      let cap = Math.max(64, this.#genBySlot.length * 2);
      while (cap <= slot) cap *= 2;
      const refs = new Int32Array(cap), gens = new Int32Array(cap).fill(-1);
      refs.set(this.#refBySlot);
      gens.set(this.#genBySlot);
      this.#refBySlot = refs;
      this.#genBySlot = gens;
    }
    this.#refBySlot[slot] = ref;
    this.#genBySlot[slot] = node._gen;
  }

  /** @internal The version of the slot-to-ref binding (see `#refVersion`). */
  get _refVersion(): number {
    return this.#refVersion;
  }

  /**
   * @internal The ref of the node in `slot`, introducing it with a `NODE` entry the first time
   * (receivers cache it while `_refVersion` stays the same).
   */
  _ref(slot: number): number {
    return this.#ref(slot);
  }

  /** @internal The writer of the current cycle's entries (the receivers' hooks append to it). */
  get _writer(): LogWriter {
    return this.#w;
  }

  /** The ref of the node in `slot`, introducing it with a `NODE` entry the first time. */
  #ref(slot: number): number {
    const node = this.#port.node(slot)!;
    if (slot < this.#genBySlot.length && this.#genBySlot[slot] === node._gen) {
      return this.#refBySlot[slot];
    }
    if (!this.#frozen && this.#graph === null) {
      this.#snapshot(); // a recorder driven by hand, without begin()
      if (slot < this.#genBySlot.length && this.#genBySlot[slot] === node._gen) {
        return this.#refBySlot[slot];
      }
    }
    const ref = this.#refs++;
    const c = this.#w;
    const name = node.name;
    const bytes = enc.encode(name ?? "");
    c.u8(Entry.Node);
    c.u32(ref);
    c.f64(node.id - this.#baseId);
    c.u8(name === undefined ? 0 : 1);
    c.u32(bytes.length);
    c.bytes(bytes);
    this.#bindSlot(node, ref);
    return ref;
  }

  /** Refuses a slot that holds no node, before anything is written. */
  #checkSlot(slot: number, what: string): void {
    if (typeof slot !== "number" || this.#port.node(slot) === null) {
      throw invalid(`${what}'s slot must hold a node of the executor, got ${describe(slot)}`);
    }
  }

  /** Nothing to schedule: a recorded run's stimuli are live. */
  inject(): void {}

  /**
   * A live notification or I/O readiness: schedules the node with `schedule` and logs it when
   * that newly scheduled it (a replay then schedules it in the same cycle).
   */
  wake(slot: number, gen: number, cause: number, bits: number, schedule: ScheduleFn): boolean {
    const ok = schedule(slot, gen, cause);
    if (ok) {
      const ref = this.#ref(slot), c = this.#w;
      if (cause === CAUSE_IO) {
        c.u8(Entry.Io);
        c.u32(ref);
        c.u32(bits);
      } else c.mark(Entry.Notify, ref);
    }
    return ok;
  }

  /** The hook of the channel receiver of the node in `slot`: it logs every read. */
  receiver(slot: number): ReceiverHook {
    return new RecordingReceiver(this, slot);
  }

  /**
   * A notifier scheduled the node in slot `slot`.
   *
   * @throws {InvalidArgumentError} If `slot` holds no node of the executor.
   */
  notify(slot: number): void {
    this.#checkSlot(slot, "Recorder.notify");
    const ref = this.#ref(slot), c = this.#w;
    c.u8(Entry.Notify);
    c.u32(ref);
  }

  /**
   * I/O readiness scheduled the node.
   *
   * @throws {InvalidArgumentError} If `slot` holds no node or `bits` is not a u32.
   */
  io(slot: number, bits: number): void {
    this.#checkSlot(slot, "Recorder.io");
    checkInteger(bits, "Recorder.io's bits", 0, 0xffffffff);
    const ref = this.#ref(slot), c = this.#w;
    c.u8(Entry.Io);
    c.u32(ref);
    c.u32(bits);
  }

  /**
   * The node read a value from outside the graph.
   *
   * @throws {InvalidArgumentError} If `slot` holds no node, `kind` is not an observation kind,
   *   or `payload` does not fit it (an item's bytes; nothing for empty or closed; 8 bytes for a
   *   number).
   */
  obs(slot: number, kind: number, payload: Uint8Array | null): void {
    this.#checkSlot(slot, "Recorder.obs");
    if (payload !== null && !(payload instanceof Uint8Array)) {
      throw invalid(
        `Recorder.obs's payload must be a Uint8Array or null, got ${describe(payload)}`,
      );
    }
    const n = payload === null ? 0 : payload.length;
    if (!fitsObservation(kind, n)) {
      throw invalid(`Recorder.obs got an observation of kind ${describe(kind)} with ${n} bytes`);
    }
    const ref = this.#ref(slot);
    this.#w.obs(ref, kind, payload);
  }

  /**
   * The node read a number from outside the graph.
   *
   * @throws {InvalidArgumentError} If `slot` holds no node, `kind` is not a number observation
   *   kind, or `v` is not a number.
   */
  obsNumber(slot: number, kind: number, v: number): void {
    this.#checkSlot(slot, "Recorder.obsNumber");
    if (!fitsObservation(kind, 8) || kind === Obs.Item) {
      throw invalid(`Recorder.obsNumber's kind must be 4 or 5, got ${describe(kind)}`);
    }
    if (typeof v !== "number") {
      throw invalid(`Recorder.obsNumber's value must be a number, got ${describe(v)}`);
    }
    const ref = this.#ref(slot);
    this.#w.obsNumber(ref, kind, v);
  }

  /**
   * Ends a cycle: writes it if it ran a node or saw a stimulus.
   *
   * @throws {InvalidArgumentError} If `epoch` is not an integer after the last cycle written,
   *   `time` is not a CycleTime with a finite time, or `ranAny` is not a boolean.
   */
  endCycle(epoch: number, time: CycleTime, ranAny: boolean): void {
    checkInteger(epoch, "Recorder.endCycle's epoch", this.#lastEpoch + 1, Number.MAX_SAFE_INTEGER);
    checkInstance(time, CycleTime, "Recorder.endCycle's time");
    if (
      !Number.isFinite(time.monotonicNs) || !Number.isFinite(time.unixSeconds) ||
      !(time.unixSubsecNanos >= 0 && time.unixSubsecNanos < 1e9)
    ) {
      throw invalid(
        `Recorder.endCycle's time must be finite, got ${describe(time.monotonicNs)} ns, ${
          describe(time.unixSeconds)
        } s and ${describe(time.unixSubsecNanos)} ns`,
      );
    }
    checkBoolean(ranAny, "Recorder.endCycle's ranAny");
    this.cycleEnd(epoch, time, ranAny);
  }

  /**
   * Called by the executor as each cycle ends (what {@linkcode Recorder.endCycle} does after
   * checking its arguments, which the executor's always pass).
   */
  cycleEnd(epoch: number, time: CycleTime, ranAny: boolean): void {
    if (this.#closed) return;
    const o = this.#out;
    if (this.#mark >= 0) {
      // Written in place: patch the CYCLE entry, or drop the cycle if it has nothing.
      const at = this.#mark + (this.#opened ? 9 : 0);
      if (!ranAny && o.length === at + CYCLE_BYTES) this.#dropCycle();
      else {
        o.patchF64(at + 1, epoch);
        o.patchF64(at + 9, time.monotonicNs);
        o.patchF64(at + 17, time.unixSeconds);
        o.patchU32(at + 25, time.unixSubsecNanos);
        this.#mark = -1;
        this.#w = this.#cycle;
        this.#wrote(epoch);
      }
      return;
    }
    if (ranAny || this.#cycle.length > 0) {
      if (!this.#frozen) this.#freeze();
      if (this.#blockStart < 0) this.#openBlock();
      o.u8(Entry.Cycle);
      o.f64(epoch);
      o.f64(time.monotonicNs);
      o.f64(time.unixSeconds);
      o.u32(time.unixSubsecNanos);
      o.append(this.#cycle);
      this.#wrote(epoch);
    }
    this.#cycle.reset();
  }

  /** Counts a cycle written; seals its block once it is large enough. */
  #wrote(epoch: number): void {
    this.#blockCycles++;
    this.#cycles++;
    this.#lastEpoch = epoch;
    if (this.#out.length - this.#blockStart >= BLOCK_BYTES) this.#seal();
  }

  /** Writes the header: the graph as the first written cycle started. */
  #freeze(): void {
    if (this.#graph === null) this.#snapshot();
    const g = this.#graph!;
    const header = encodeHeader(g.fingerprint, g.nodes.length, g.bytes);
    this.#out.bytes(header.bytes);
    this.#chain = header.crc;
    this.#frozen = true;
    this.#graph = null; // only the header needs it now
  }

  /** Closes the open block: its length, cycle count and checksum; flushes every 1 MiB. */
  #seal(): void {
    const o = this.#out, at = this.#blockStart;
    o.patchU32(at + 1, o.length - at - 9);
    o.patchU32(at + 5, this.#blockCycles);
    this.#chain = o.crcFrom(at, this.#chain);
    o.u32(this.#chain);
    this.#blocks++;
    this.#blockStart = -1;
    this.#blockCycles = 0;
    if (o.length >= FLUSH_BYTES) this.#flush();
  }

  /** Moves what `#out` holds (whole blocks, or the end) to the sink or the in-memory chunks. */
  #flush(): void {
    const o = this.#out;
    if (this.#sink !== null) {
      this.#sink.write(o.view());
      o.reset();
    } else {
      this.#chunkBytes += o.length;
      // The next chunk's buffer holds what comes before the next flush, with room for a large
      // cycle: a doubled buffer would be half empty, and fresh memory is what a log costs most.
      this.#chunks.push(o.take(FLUSH_BYTES + 2 * BLOCK_BYTES));
    }
  }

  /**
   * The log so far as a complete log (the open block sealed and an end marker added, in a copy;
   * recording goes on), or null when the log goes to a sink.
   */
  bytes(): Uint8Array | null {
    if (this.#sink !== null) return null;
    const w = new LogWriter(this.#chunkBytes + this.#out.length + 64);
    for (const c of this.#chunks) w.bytes(c);
    if (this.#closed) return w.view().slice();
    let chain = this.#chain;
    // Inside a cycle written in place, the log so far ends where that cycle began.
    const mark = this.#mark, inCycle = mark >= 0;
    const at = inCycle && this.#opened ? -1 : this.#blockStart;
    if (this.#frozen) w.bytes(this.#out.view().subarray(0, inCycle ? mark : this.#out.length));
    else {
      const g = describeGraph(this.#ex);
      const header = encodeHeader(g.fingerprint, g.nodes.length, g.bytes);
      w.bytes(header.bytes);
      chain = header.crc;
    }
    let blocks = this.#blocks;
    if (at >= 0) {
      const start = this.#chunkBytes + at;
      w.patchU32(start + 1, w.length - start - 9);
      w.patchU32(start + 5, this.#blockCycles);
      chain = w.crcFrom(start, chain);
      w.u32(chain);
      blocks++;
    }
    writeEnd(w, blocks, this.#cycles, chain);
    return w.view().slice();
  }

  /**
   * Seals the last block, writes the end marker, flushes to the sink and stops recording (a
   * cycle under way when it is called is left out of the log).
   */
  close(): void {
    if (this.#closed) return;
    if (this.#mark >= 0) this.#dropCycle();
    if (!this.#frozen) this.#freeze();
    if (this.#blockStart >= 0) this.#seal();
    writeEnd(this.#out, this.#blocks, this.#cycles, this.#chain);
    this.#closed = true;
    this.#flush();
    if (this.#sink !== null) this.#sink.close();
  }
}

/**
 * The hook a {@linkcode Recorder} gives one channel receiver: runs the receiver's live reads and
 * decisions and appends each, with the node's ref (cached), to the recorder's current cycle:
 * consecutive items of the node go into one `ITEMS` entry, empty and closed reads and decisions
 * into 5-byte entries.
 */
class RecordingReceiver implements ReceiverHook {
  readonly #rec: Recorder;
  readonly #slot: number;
  #ref = -1;
  #version = -1;

  constructor(rec: Recorder, slot: number) {
    this.#rec = rec;
    this.#slot = slot;
  }

  /** The node's ref, resolved again only when the recorder bound slots anew. */
  #refNow(): number {
    const rec = this.#rec;
    if (this.#version !== rec._refVersion) {
      const ref = rec._ref(this.#slot); // may bind anew (a first fingerprint)
      this.#version = rec._refVersion;
      this.#ref = ref;
    }
    return this.#ref;
  }

  recv(rx: LiveRead): number {
    const kind = rx.liveRecv();
    const w = this.#rec._writer, ref = this.#refNow();
    if (kind !== Obs.Item) w.mark(kind === Obs.Empty ? Entry.Empty : Entry.Closed, ref);
    else if (rx.words !== null) w.itemWords(ref, rx.words, rx.at, rx.bytes.length >>> 2);
    else w.itemBytes(ref, rx.bytes);
    return kind;
  }

  number(kind: number, live: number): number {
    this.#rec._writer.obsNumber(this.#refNow(), kind, live);
    return live;
  }

  decide(live: () => boolean): boolean {
    const v = live();
    this.#rec._writer.mark(v ? Entry.More1 : Entry.More0, this.#refNow());
    return v;
  }

  housekeep(run: () => void): void {
    run();
  }
}

/**
 * A sink's methods, read once: a sink whose `write` or `close` cannot be read or is not a
 * function is refused here, not when the first block is flushed.
 */
function checkSink(sink: LogSink): LogSink {
  const refuse = () =>
    invalid(
      `The log sink must be null or an object with write and close methods, got ${describe(sink)}`,
    );
  if (typeof sink !== "object" || sink === null) throw refuse();
  let write: unknown, close: unknown;
  try {
    write = sink.write;
    close = sink.close;
  } catch (cause) {
    throw invalid("The log sink could not be read: reading its methods threw", cause);
  }
  if (typeof write !== "function" || typeof close !== "function") throw refuse();
  return {
    write: (bytes) => write.call(sink, bytes),
    close: () => close.call(sink),
  };
}
