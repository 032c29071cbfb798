/**
 * Replaying a recorded run: the {@linkcode Replayer}, the core's stimulus hook in its replaying
 * role, and the hook it gives each channel receiver, which hands the receiver what the log says
 * it read.
 *
 * @module
 */

import { Executor, runtimePort } from "../core/executor.ts";
import type { LiveRead, ReceiverHook, ScheduleFn, StimulusHook } from "../core/hooks.ts";
import type { Node } from "../core/node.ts";
import type { CycleTime } from "../core/time.ts";
import { checkInstance, describe, invalid } from "../core/validate.ts";
import { describeGraph, explainDifference } from "./fingerprint.ts";
import {
  Entry,
  fitsObservation,
  invalidLog,
  LOG_VERSION_2,
  type LogLayout,
  LogReader,
  Obs,
  readLayout,
  ReplayError,
} from "./log.ts";

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** The payload of an empty or closed read (no bytes). */
const NO_BYTES = new Uint8Array(0);
/** The payloads of the decisions `MORE0` and `MORE1`: the f64 0 and 1 (never written to). */
const MORE0_BYTES = new Uint8Array(new Float64Array([0]).buffer);
const MORE1_BYTES = new Uint8Array(new Float64Array([1]).buffer);

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
 * import { Replayer } from "./replayer.ts";
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
export class Replayer implements StimulusHook {
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
    const compact = this.#layout.version !== LOG_VERSION_2; // ITEMS, EMPTY, ... are format 3
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
        } else if (compact && kind === Entry.Items) {
          const ref = r.u32(), count = r.u8() | r.u8() << 8, len = r.u32();
          if (ref >= refs) throw bad(`an unknown node ref ${ref}`);
          if (count === 0) throw bad("a run of no items");
          if (len * count > r.end - r.pos) throw bad(`a run of ${count} items of ${len} bytes`);
          r.skip(len * count);
        } else if (compact && kind >= Entry.Empty && kind <= Entry.More1) {
          const ref = r.u32();
          if (ref >= refs) throw bad(`an unknown node ref ${ref}`);
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
      } else if (k === Entry.Obs) {
        const ref = r.u32();
        const kind = r.u8();
        this.#observed(ref, kind, r.view(r.u32()));
      } else if (k === Entry.Items) {
        const ref = r.u32(), count = r.u8() | r.u8() << 8, len = r.u32();
        for (let i = 0; i < count; i++) this.#observed(ref, Obs.Item, r.view(len));
      } else {
        const ref = r.u32();
        if (k === Entry.Empty) this.#observed(ref, Obs.Empty, NO_BYTES);
        else if (k === Entry.Closed) this.#observed(ref, Obs.Closed, NO_BYTES);
        else this.#observed(ref, Obs.More, k === Entry.More1 ? MORE1_BYTES : MORE0_BYTES);
      }
    }
    this.#inCycle = true;
    return true;
  }

  /** Queues an observation of the node `ref` in the current cycle. */
  #observed(ref: number, kind: number, payload: Uint8Array): void {
    this.#nodeOf(ref);
    const kinds = this.#obsKind[ref];
    if (kinds.length === 0) this.#touched.push(ref);
    kinds.push(kind);
    this.#obsPayload[ref].push(payload);
  }

  /** Called by the executor as each cycle starts (nothing to do when replaying). */
  cycleStart(): void {}

  /** Live notifications and I/O readiness are ignored: the log says which wake-ups happened. */
  wake(_slot: number, _gen: number, _cause: number, _bits: number, _schedule: ScheduleFn): boolean {
    return false;
  }

  /** Called by the executor as each cycle ends: {@linkcode Replayer.end}. */
  cycleEnd(_epoch: number, _time: CycleTime, _ranAny: boolean): void {
    this.end();
  }

  /** The hook of the channel receiver of the node in `slot`: it reads the logged reads. */
  receiver(slot: number): ReceiverHook {
    return new ReplayingReceiver(this, slot);
  }

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

/** The hook a {@linkcode Replayer} gives one channel receiver: the logged reads, in order. */
class ReplayingReceiver implements ReceiverHook {
  readonly #rep: Replayer;
  readonly #slot: number;

  constructor(rep: Replayer, slot: number) {
    this.#rep = rep;
    this.#slot = slot;
  }

  recv(rx: LiveRead): number {
    const rep = this.#rep, payload = rep.next(this.#slot, Obs.Item), kind = rep.lastKind;
    if (kind === Obs.Item) rx.replayed(payload);
    return kind;
  }

  number(kind: number, _live: number): number {
    return this.#rep.nextNumber(this.#slot, kind);
  }

  decide(_live: () => boolean): boolean {
    return this.#rep.nextNumber(this.#slot, Obs.More) === 1;
  }

  housekeep(_run: () => void): void {}
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
