/**
 * Recording and replaying a graph's stimuli. A {@linkcode Recorder} attached to an executor
 * writes, for every cycle that ran a node, the cycle's number and time, which nodes notifiers
 * and I/O scheduled, and every value a node read from outside the graph (channel items and
 * results). A {@linkcode Replayer} feeds the same back to the same graph in a historical
 * runtime, so it runs the same nodes in the same cycles and computes the same values, without
 * Workers, sockets or the wall clock.
 *
 * The log binds itself to the graph: its header holds the graph's fingerprint (node names in id
 * order, depths, edges, channel layouts), and a replay into a graph with another fingerprint is
 * refused before any cycle runs. Every block of the log carries a checksum and the log ends with
 * an end marker, so a damaged or cut log is refused too. Anything the replayed graph then does
 * differently from the log (reading more or less from a channel, a stimulus for a node it does
 * not have) is a {@linkcode ReplayError}.
 *
 * @module
 */

import { Executor, runtimePort } from "../core/executor.ts";
import type { RuntimePort } from "../core/hooks.ts";
import type { Node } from "../core/node.ts";
import { CycleTime } from "../core/time.ts";
import { checkBoolean, checkInstance, checkInteger, describe, invalid } from "../core/validate.ts";
import { describeGraph, explainDifference, type GraphDescription } from "./fingerprint.ts";
import {
  BLOCK_BYTES,
  encodeHeader,
  Entry,
  Frame,
  invalidLog,
  type LogLayout,
  LogReader,
  LogWriter,
  Obs,
  readLayout,
  ReplayError,
  writeEnd,
} from "./log.ts";

const enc = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

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

/** The executor-facing side of recording and replay (one of the two classes below). */
export type Tap = Recorder | Replayer;

/**
 * Records a run's stimuli into a log (format version 2, see the log module): the graph's
 * fingerprint in a header, taken as the first recorded cycle starts, then the cycles in blocks,
 * each checksummed once when it is sealed (about every 64 KiB), then an end marker written by
 * {@linkcode Recorder.close}.
 *
 * @example A recorder driven by hand
 * ```ts
 * import { CycleTime, TestRuntime } from "@wavelet/wavelet";
 * import { Recorder, Replayer } from "./tap.ts";
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
export class Recorder {
  /** Discriminates the tap. */
  readonly recording = true;
  readonly #ex: Executor;
  readonly #port: RuntimePort;
  readonly #sink: LogSink | null;
  /** The header (once frozen), the sealed blocks, and the open block written in place. */
  readonly #out = new LogWriter();
  /** The current cycle's entries. */
  readonly #cycle = new LogWriter();
  /** True once the header is written: the fingerprint no longer follows the graph. */
  #frozen = false;
  #graph: GraphDescription | null = null;
  #graphNextId = -1;
  #graphCount = -1;
  /** Each slot's ref, valid while `#genBySlot` holds the slot's generation. */
  #refBySlot = new Int32Array(0);
  #genBySlot = new Int32Array(0);
  #refs = 0;
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
   * fingerprint in step with the graph (rebuilt only when nodes were built or removed).
   */
  begin(): void {
    if (this.#frozen) return;
    const ex = this.#ex;
    if (
      this.#graph === null || ex.nextNodeId !== this.#graphNextId ||
      ex.nodeCount !== this.#graphCount
    ) {
      this.#snapshot();
    }
  }

  #snapshot(): void {
    const ex = this.#ex;
    const g = describeGraph(ex);
    this.#graph = g;
    this.#graphNextId = ex.nextNodeId;
    this.#graphCount = ex.nodeCount;
    this.#baseId = ex.nextNodeId;
    this.#genBySlot.fill(-1);
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
    const c = this.#cycle;
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

  /**
   * A notifier scheduled the node in slot `slot`.
   *
   * @throws {InvalidArgumentError} If `slot` holds no node of the executor.
   */
  notify(slot: number): void {
    this.#checkSlot(slot, "Recorder.notify");
    const ref = this.#ref(slot);
    this.#cycle.u8(Entry.Notify);
    this.#cycle.u32(ref);
  }

  /**
   * I/O readiness scheduled the node.
   *
   * @throws {InvalidArgumentError} If `slot` holds no node or `bits` is not a u32.
   */
  io(slot: number, bits: number): void {
    this.#checkSlot(slot, "Recorder.io");
    checkInteger(bits, "Recorder.io's bits", 0, 0xffffffff);
    const ref = this.#ref(slot);
    this.#cycle.u8(Entry.Io);
    this.#cycle.u32(ref);
    this.#cycle.u32(bits);
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
    const c = this.#cycle;
    c.u8(Entry.Obs);
    c.u32(ref);
    c.u8(kind);
    c.u32(n);
    if (n > 0) c.bytes(payload!);
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
    const c = this.#cycle;
    c.u8(Entry.Obs);
    c.u32(ref);
    c.u8(kind);
    c.u32(8);
    c.f64(v);
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
    if (this.#closed) return;
    if (ranAny || this.#cycle.length > 0) {
      if (!this.#frozen) this.#freeze();
      const o = this.#out;
      if (this.#blockStart < 0) {
        this.#blockStart = o.length;
        o.u8(Frame.Block);
        o.u32(0); // payload length, patched when sealed
        o.u32(0); // cycles, patched when sealed
      }
      o.u8(Entry.Cycle);
      o.f64(epoch);
      o.f64(time.monotonicNs);
      o.f64(time.unixSeconds);
      o.u32(time.unixSubsecNanos);
      o.bytes(this.#cycle.view());
      this.#blockCycles++;
      this.#cycles++;
      this.#lastEpoch = epoch;
      if (o.length - this.#blockStart >= BLOCK_BYTES) this.#seal();
    }
    this.#cycle.reset();
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
    if (this.#sink !== null && o.length >= 1 << 20) {
      this.#sink.write(o.view());
      o.reset();
    }
  }

  /**
   * The log so far as a complete log (the open block sealed and an end marker added, in a copy;
   * recording goes on), or null when the log goes to a sink.
   */
  bytes(): Uint8Array | null {
    if (this.#sink !== null) return null;
    if (this.#closed) return this.#out.view().slice();
    const w = new LogWriter();
    let chain = this.#chain;
    if (this.#frozen) w.bytes(this.#out.view());
    else {
      const g = describeGraph(this.#ex);
      const header = encodeHeader(g.fingerprint, g.nodes.length, g.bytes);
      w.bytes(header.bytes);
      chain = header.crc;
    }
    let blocks = this.#blocks;
    const at = this.#blockStart;
    if (at >= 0) {
      w.patchU32(at + 1, w.length - at - 9);
      w.patchU32(at + 5, this.#blockCycles);
      chain = w.crcFrom(at, chain);
      w.u32(chain);
      blocks++;
    }
    writeEnd(w, blocks, this.#cycles, chain);
    return w.view().slice();
  }

  /** Seals the last block, writes the end marker, flushes to the sink and stops recording. */
  close(): void {
    if (this.#closed) return;
    if (!this.#frozen) this.#freeze();
    if (this.#blockStart >= 0) this.#seal();
    writeEnd(this.#out, this.#blocks, this.#cycles, this.#chain);
    this.#closed = true;
    if (this.#sink !== null) {
      this.#sink.write(this.#out.view());
      this.#out.reset();
      this.#sink.close();
    }
  }
}

/**
 * Feeds a recorded log back into an executor, one cycle at a time. Opening a log checks all of
 * it first (the header's and every block's checksum, the end marker, every entry), so a damaged
 * or cut log is refused before anything runs; {@linkcode Replayer.bind} then refuses a graph
 * whose fingerprint differs from the log's. During the replay, payloads are views into the log,
 * so replaying allocates little beyond what the graph itself does, and the first difference
 * (a node reading more or less, or something else, than it did) is kept in
 * {@linkcode Replayer.failure}, which `HistoricalRuntime.replayLog` throws after that cycle.
 *
 * @example A recorded run, replayed on a historical runtime
 * ```ts
 * import {
 *   type Executor,
 *   HistoricalRuntime,
 *   ms,
 *   NodeBuilder,
 *   RealtimeRuntime,
 * } from "@wavelet/wavelet";
 * import { localChannel } from "@wavelet/wavelet/channel";
 * import { Replayer } from "./tap.ts";
 *
 * function build(ex: Executor) {
 *   return new NodeBuilder(0).named("sum").buildWith(
 *     ex,
 *     localChannel<number>({ capacity: 8 }),
 *     (self, _ctx, rx) => {
 *       for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) self.value += v;
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
  readonly #layout: LogLayout;
  readonly #r: LogReader;
  #block = 0;
  /** `NODE` entries by ref (minus the header's node count). */
  readonly #introduced: { idOffset: number; name: string | undefined }[] = [];
  #ex: Executor | null = null;
  #baseId = 0;
  /** The node behind each ref, once bound. */
  readonly #refNode: (Node<unknown> | null)[] = [];
  readonly #refBySlot = new Map<number, number>();
  #failure: ReplayError | null = null;
  // The current cycle.
  #inCycle = false;
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
   * Opens log bytes and checks all of them: framing, checksums, the end marker, and every entry
   * (kinds, lengths, refs, cycle numbers).
   *
   * @throws {ReplayError} `REPLAY_LOG_INVALID` when the log is damaged, cut short, or of another
   *   format version.
   */
  constructor(bytes: Uint8Array) {
    this.#layout = readLayout(bytes);
    this.#scan(bytes);
    this.#r = new LogReader(bytes, 0, 0);
  }

  /** Checks every entry of every block, and collects the `NODE` introductions. */
  #scan(bytes: Uint8Array): void {
    const nodeCount = this.#layout.header.nodeCount;
    let refs = nodeCount, lastEpoch = 0;
    const blocks = this.#layout.blocks;
    for (let b = 0; b < blocks.length; b++) {
      const { start, end, cycles } = blocks[b];
      const r = new LogReader(bytes, start, end);
      let n = 0;
      const bad = (what: string) =>
        invalidLog(`Block ${b + 1} of the stimulus log is damaged: ${what} (offset ${r.pos})`);
      while (!r.done) {
        const kind = r.u8();
        if (kind === Entry.Cycle) {
          const epoch = r.f64(), mono = r.f64(), sec = r.f64(), sub = r.u32();
          if (!Number.isSafeInteger(epoch) || epoch <= lastEpoch) {
            throw bad(`cycle number ${epoch} after ${lastEpoch}`);
          }
          if (!Number.isFinite(mono) || !Number.isFinite(sec) || sub >= 1e9) {
            throw bad(`cycle ${epoch} has an impossible time`);
          }
          lastEpoch = epoch;
          n++;
          continue;
        }
        if (n === 0) throw bad("an entry before the block's first cycle");
        if (kind === Entry.Node) {
          const ref = r.u32(), idOffset = r.f64(), named = r.u8();
          const raw = r.view(r.u32());
          if (ref !== refs || !Number.isSafeInteger(idOffset) || idOffset < 0 || named > 1) {
            throw bad(`a malformed node introduction (ref ${ref})`);
          }
          let name: string;
          try {
            name = strictDecoder.decode(raw);
          } catch {
            throw bad("a node name that is not UTF-8");
          }
          this.#introduced.push({ idOffset, name: named === 1 ? name : undefined });
          refs++;
        } else if (kind === Entry.Notify || kind === Entry.Io) {
          const ref = r.u32();
          if (kind === Entry.Io) r.u32();
          if (ref >= refs) throw bad(`an unknown node ref ${ref}`);
        } else if (kind === Entry.Obs) {
          const ref = r.u32(), obs = r.u8(), len = r.u32();
          if (ref >= refs) throw bad(`an unknown node ref ${ref}`);
          if (!fitsObservation(obs, len)) {
            throw bad(`an observation of kind ${obs} with ${len} bytes`);
          }
          r.skip(len);
        } else {
          throw bad(`unknown entry kind ${kind}`);
        }
      }
      if (n !== cycles) throw bad(`${n} cycles where its frame says ${cycles}`);
    }
  }

  /** Recorded cycles. */
  get cycleCount(): number {
    return this.#layout.cycles;
  }

  /** The first difference found during the replay, or null. */
  get failure(): ReplayError | null {
    return this.#failure;
  }

  #fail(e: ReplayError): ReplayError {
    if (this.#failure === null) this.#failure = e;
    return e;
  }

  /**
   * Binds the log to the executor's graph: the graph's fingerprint (node names in id order,
   * depths, edges with their relationship, channel layouts) must equal the log's.
   *
   * @throws {ReplayError} `REPLAY_MISMATCH`, saying what differs, when it does not.
   */
  bind(ex: Executor): void {
    checkInstance(ex, Executor, "Replayer.bind's executor");
    const h = this.#layout.header;
    const g = describeGraph(ex);
    const same = g.fingerprint === h.fingerprint && g.nodes.length === h.nodeCount &&
      (h.description === null || equalBytes(g.bytes, h.description));
    if (!same) {
      throw new ReplayError(
        explainDifference(h.description, h.nodeCount, g),
      );
    }
    this.#ex = ex;
    this.#baseId = ex.nextNodeId;
    this.#refBySlot.clear();
    this.#refNode.length = 0;
    for (let i = 0; i < g.nodes.length; i++) this.#bindRef(i, g.nodes[i]);
    for (let i = 0; i < this.#introduced.length; i++) this.#refNode.push(null);
    for (let i = 0; i < this.#refNode.length; i++) {
      this.#obsKind[i] = [];
      this.#obsPayload[i] = [];
      this.#obsPos[i] = 0;
    }
    this.#block = 0;
    this.#r.pos = this.#r.end = 0;
    this.#failure = null;
  }

  #bindRef(ref: number, node: Node<unknown>): void {
    this.#refNode[ref] = node;
    this.#refBySlot.set(node._slot, ref);
  }

  /** The live node behind `ref` as the current cycle starts. */
  #nodeOf(ref: number): Node<unknown> {
    let node = this.#refNode[ref];
    if (node === null) {
      // Built during the recorded run: by then the replayed graph built it too, with the same id.
      const intro = this.#introduced[ref - this.#layout.header.nodeCount];
      const id = this.#baseId + intro.idOffset;
      const found = this.#ex!.liveNodes().find((n) => n.id === id) ?? null;
      const what = intro.name === undefined ? "an unnamed node" : `node "${intro.name}"`;
      if (found === null || !found._alive || found.name !== intro.name) {
        throw this.#fail(
          new ReplayError(
            `The log refers to ${what}, built during the recorded run (the ${
              intro.idOffset + 1
            }th node built after the replay started), which the replayed graph did not build ` +
              `by cycle ${this.epoch}`,
          ),
        );
      }
      this.#bindRef(ref, found);
      node = found;
    }
    return node!;
  }

  /**
   * Reads the next recorded cycle (its epoch, time and stimuli become current).
   *
   * @returns False when the log has no more cycles.
   * @throws {ReplayError} `REPLAY_MISMATCH` when a stimulus names a node the replayed graph
   *   does not have (any more).
   * @throws {InvalidArgumentError} Before {@linkcode Replayer.bind}.
   */
  nextCycle(): boolean {
    if (this.#ex === null) throw invalid("Replayer.nextCycle needs bind(executor) first");
    for (const id of this.#touched) {
      this.#obsKind[id].length = 0;
      this.#obsPayload[id].length = 0;
      this.#obsPos[id] = 0;
    }
    this.#touched.length = 0;
    this.#notify.length = 0;
    this.#io.length = 0;
    this.#inCycle = false;
    const r = this.#r;
    if (r.done) {
      const blocks = this.#layout.blocks;
      if (this.#block >= blocks.length) return false;
      const b = blocks[this.#block++];
      r.pos = b.start;
      r.end = b.end;
    }
    r.u8(); // a cycle entry (checked when the log was opened)
    this.epoch = r.f64();
    this.mono = r.f64();
    this.sec = r.f64();
    this.sub = r.u32();
    while (!r.done) {
      const at = r.pos;
      const k = r.u8();
      if (k === Entry.Cycle) {
        r.pos = at;
        break;
      }
      if (k === Entry.Node) {
        r.skip(13); // ref, id offset, named flag (resolved on first use)
        r.skip(r.u32());
      } else if (k === Entry.Notify || k === Entry.Io) {
        const ref = r.u32();
        if (k === Entry.Io) r.u32();
        const node = this.#nodeOf(ref);
        if (!node._alive) {
          throw this.#fail(
            new ReplayError(
              `The log has a stimulus for ${node} in cycle ${this.epoch}, but that node has ` +
                "left the replayed graph",
            ),
          );
        }
        (k === Entry.Notify ? this.#notify : this.#io).push(ref);
      } else {
        const ref = r.u32();
        const kind = r.u8();
        const payload = r.view(r.u32());
        this.#nodeOf(ref);
        const kinds = this.#obsKind[ref];
        if (kinds.length === 0) this.#touched.push(ref);
        kinds.push(kind);
        this.#obsPayload[ref].push(payload);
      }
    }
    this.#inCycle = true;
    return true;
  }

  /** Called by the executor as each cycle starts (nothing to do when replaying). */
  begin(): void {}

  /**
   * Schedules the nodes the current cycle's notifiers and I/O scheduled.
   *
   * @throws {InvalidArgumentError} Before {@linkcode Replayer.bind}.
   */
  inject(): void {
    const ex = this.#ex;
    if (ex === null) throw invalid("Replayer.inject needs bind(executor) first");
    if (!this.#inCycle) return;
    for (const ref of this.#notify) this.#schedule(ex, ref);
    for (const ref of this.#io) this.#schedule(ex, ref);
  }

  #schedule(ex: Executor, ref: number): void {
    const node = this.#refNode[ref]!;
    if (!ex.scheduleStimulus(node._slot, node._gen) && node._alive) {
      // The recorded run logs a stimulus only when it newly scheduled the node.
      this.#fail(
        new ReplayError(
          `Node ${node} was already scheduled in cycle ${this.epoch} when its recorded ` +
            "stimulus came: the replayed graph schedules differently from the recorded run",
        ),
      );
    }
  }

  /**
   * The next recorded observation of the node in `slot` in the current cycle.
   *
   * @throws {ReplayError} If the node reads more than it did, or something else (the error is
   *   also kept in {@linkcode Replayer.failure}).
   * @throws {InvalidArgumentError} If `slot` or `kind` is not a number.
   */
  next(slot: number, kind: number): Uint8Array {
    if (typeof slot !== "number" || typeof kind !== "number") {
      throw invalid(
        `Replayer.next's slot and kind must be numbers, got ${describe(slot)} and ${
          describe(kind)
        }`,
      );
    }
    const ref = this.#refBySlot.get(slot);
    const live = this.#ex === null ? undefined : runtimePort(this.#ex).node(slot) ?? undefined;
    const known = ref !== undefined && this.#refNode[ref] === live;
    const kinds = known ? this.#obsKind[ref] : undefined;
    const pos = known ? this.#obsPos[ref] : 0;
    const name = () => live?.toString() ?? `slot ${slot}`;
    if (kinds === undefined || pos >= kinds.length) {
      throw this.#fail(
        new ReplayError(
          `Node ${name()} read from outside the graph in cycle ${this.epoch} more than the ` +
            "recorded run did",
        ),
      );
    }
    const got = kinds[pos];
    if (got !== kind) {
      // An Item/Empty/Closed read is one receive: the caller asked for a receive.
      const isRecv = (k: number) => k === Obs.Item || k === Obs.Empty || k === Obs.Closed;
      if (!(isRecv(kind) && isRecv(got))) {
        throw this.#fail(
          new ReplayError(
            `Node ${name()} made a different read in cycle ${this.epoch} than the recorded run`,
          ),
        );
      }
    }
    this.#obsPos[ref!] = pos + 1;
    this.#lastKind = got;
    return this.#obsPayload[ref!][pos];
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
   * Checks that the current cycle's observations were all consumed; a node that read less than
   * it did in the recorded run is kept in {@linkcode Replayer.failure} (the executor calls this
   * at the end of its cycle, where throwing would leave the cycle half-finished).
   */
  end(): void {
    if (!this.#inCycle) return;
    for (const ref of this.#touched) {
      if (this.#obsPos[ref] < this.#obsKind[ref].length) {
        this.#fail(
          new ReplayError(
            `Node ${this.#refNode[ref]} read less from outside the graph in cycle ${this.epoch} ` +
              "than the recorded run did",
          ),
        );
        break;
      }
    }
    this.#inCycle = false;
  }
}

/** Whether an observation of `kind` may carry `n` payload bytes (what a log may hold). */
function fitsObservation(kind: unknown, n: number): boolean {
  return kind === Obs.Item || ((kind === Obs.Empty || kind === Obs.Closed) && n === 0) ||
    ((kind === Obs.Number || kind === Obs.More) && n === 8);
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

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
