/**
 * The sharded runtime: one graph per core. N Workers each run a `RealtimeRuntime` that builds
 * the same graph from a shard module ({@linkcode defineShard}); the main thread routes records
 * to them by a stable hash of their key through ring channels (one key, one shard, in order),
 * and their outputs come back into one node of the main graph. A shard that throws is reported
 * and restarted without stopping the others; `shutdown()` stops every shard gracefully (each
 * runs every `onDrop`).
 *
 * @module
 */

import { Control, ExecutionMode } from "../core/control.ts";
import type { Executor } from "../core/executor.ts";
import type { Node } from "../core/node.ts";
import { NodeBuilder } from "../core/builder.ts";
import { reportError } from "../core/report.ts";
import { checkExecutor } from "../core/check_node.ts";
import { UnsupportedError } from "../core/system_errors.ts";
import {
  checkFunction,
  checkInteger,
  checkOneOf,
  checkOptions,
  checkString,
  describe,
  invalid,
} from "../core/validate.ts";
import { ringChannel } from "../channel/build.ts";
import { RingSender } from "../channel/channel.ts";
import type { FieldType, RecordOf } from "../channel/record.ts";
import { Overflow, RecvStatus, SendStatus } from "../channel/status.ts";
import {
  blankRecord,
  isShardDefinition,
  type ShardBatch,
  type ShardDefinition,
  ShardError,
} from "./define.ts";
import { keyHash } from "./hash.ts";
import type { ShardFailure, ShardStart } from "./worker.ts";

/** The default when the option is absent (null is no absence: it is checked and refused). */
const orDefault = <T>(v: T | undefined, d: T): T => v === undefined ? d : v;

/**
 * Options of {@linkcode ShardedRuntime.start}.
 *
 * @example Four shards with small rings
 * ```ts
 * import type { ShardOptions } from "@wavelet/wavelet/shard";
 *
 * const options: ShardOptions = { shards: 4, capacity: 1024, params: { window: 10 } };
 * if (options.shards !== 4) throw new Error("four");
 * ```
 */
export interface ShardOptions<P = unknown> {
  /** How many shards (Workers): an integer in [1, 256]. */
  shards: number;
  /** Records each shard's input ring holds: an integer in [1, 2^20] (default 4096). */
  capacity?: number;
  /** Records the output node's ring holds per shard: an integer in [1, 2^20] (default 4096). */
  outputCapacity?: number;
  /** Most records a shard's input node or the output node takes per run (default 1024). */
  maxBatch?: number;
  /** Handed to every shard's build as `ctx.params` (structured-cloned). */
  params?: P;
  /** The output node's name (default `"shards.output"`). */
  name?: string;
  /** The shards' runtimes: `ExecutionMode.Park` (default) or `Spin`. */
  mode?: ExecutionMode;
  /** First wait before restarting a failed shard, in ms (default 100; doubles per failure). */
  restartDelayMs?: number;
  /** Longest wait before a restart, in ms (default 5000). */
  maxRestartDelayMs?: number;
  /** Restarts allowed per shard before it stays down (default: no limit). */
  maxRestarts?: number;
  /**
   * Records each shard's run to a file: called with the shard index and incarnation at each
   * start, returns a path (or null for no recording). Replay a file with {@linkcode replayShard}.
   */
  record?: (shard: number, incarnation: number) => string | null;
  /** Longest `shutdown()` waits for a shard to stop before terminating its Worker, in ms. */
  stopTimeoutMs?: number;
}

/** Where a shard is in its life. */
export type ShardStatus = "starting" | "running" | "restarting" | "stopping" | "stopped" | "failed";

/**
 * One shard's state, read from {@linkcode ShardedRuntime.state}: a snapshot, not live.
 *
 * @example Lag per shard
 * ```ts
 * import type { ShardState } from "@wavelet/wavelet/shard";
 *
 * function lagging(states: readonly ShardState[]): number[] {
 *   return states.filter((s) => s.lag > 1000).map((s) => s.index);
 * }
 * if (lagging([]).length !== 0) throw new Error("none");
 * ```
 */
export interface ShardState {
  /** The shard's index. */
  readonly index: number;
  /** Where it is in its life. */
  readonly status: ShardStatus;
  /** Records routed to it (every incarnation). */
  readonly sent: number;
  /** Records its input node took (every incarnation). */
  readonly consumed: number;
  /** Records sent to its current incarnation and not yet taken. */
  readonly lag: number;
  /** Records it emitted (every incarnation). */
  readonly emitted: number;
  /** Records routed to it that a failed incarnation never took (lost with it). */
  readonly lost: number;
  /** Times it was restarted. */
  readonly restarts: number;
  /** The last failure's message, or null. */
  readonly lastError: string | null;
}

/** The options once checked, defaults filled in. */
type Resolved<P> = Required<Omit<ShardOptions<P>, "record" | "params">> & {
  record: NonNullable<ShardOptions<P>["record"]> | null;
  params: P | undefined;
};

/** The main thread's record of one shard. */
interface Slot {
  index: number;
  status: ShardStatus;
  worker: Worker | null;
  input: RingSender<Record<string, FieldType>> | null;
  stats: BigInt64Array | null;
  incarnation: number;
  sentNow: number;
  sentBefore: number;
  consumedBefore: number;
  emittedBefore: number;
  lost: number;
  restarts: number;
  delayMs: number;
  startedAt: number;
  everReady: boolean;
  timer: ReturnType<typeof setTimeout> | null;
  lastError: string | null;
  onStopped: (() => void) | null;
}

const WORKER_URL = new URL(
  import.meta.url.endsWith(".ts") ? "./worker.ts" : "./worker.js",
  import.meta.url,
).href;

/**
 * A pool of shards fed from the main graph. Make one with {@linkcode ShardedRuntime.start}; route
 * records with {@linkcode ShardedRuntime.send}; read their outputs from
 * {@linkcode ShardedRuntime.output}; stop them with {@linkcode ShardedRuntime.shutdown}. The main
 * graph should run with `run()` (the host event loop carries the Workers' messages: readiness,
 * failures, restarts).
 *
 * @example Four shards summing per key
 * ```ts ignore
 * import { ExecutionMode, NodeBuilder, RealtimeRuntime } from "@wavelet/wavelet";
 * import { ShardedRuntime } from "@wavelet/wavelet/shard";
 * import sums from "./sum_shard.ts"; // export default defineShard(import.meta.url, { ... })
 *
 * const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
 * const shards = await ShardedRuntime.start(rt.executor, sums, { shards: 4 });
 * new NodeBuilder(0).triggeredBy(shards.output!).build(rt.executor, (self) => {
 *   for (const r of shards.output!.value.items) self.value += r.total;
 *   return true;
 * });
 * shards.send({ account: 7, qty: 2 }); // SendStatus.Full when the shard's ring is full
 * ```
 */
export class ShardedRuntime<
  I extends Record<string, FieldType>,
  O extends Record<string, FieldType>,
  P = unknown,
> {
  /** The declaration every shard builds. */
  readonly definition: ShardDefinition<I, O, P>;
  /** How many shards. */
  readonly count: number;
  /** The main-graph node shard outputs arrive at (a batch per run), or null without output. */
  readonly output: Node<ShardBatch<O>> | null;
  /**
   * Resolves once every shard has started once; rejects with the {@linkcode ShardError} of a
   * shard that failed before it ever started (the pool then shuts down), or if the pool shut
   * down first.
   */
  readonly ready: Promise<void>;
  readonly #executor: Executor;
  readonly #slots: Slot[];
  readonly #keyField: string;
  readonly #outTx: RingSender<O> | null;
  readonly #opts: Resolved<P>;
  #received = 0;
  #stopping = false;
  #stopped: Promise<void> | null = null;
  #markReady: (() => void) | null = null;
  #failReady: ((e: unknown) => void) | null = null;

  private constructor(
    executor: Executor,
    definition: ShardDefinition<I, O, P>,
    opts: Resolved<P>,
  ) {
    this.#executor = executor;
    this.definition = definition;
    this.count = opts.shards;
    this.#opts = opts;
    this.#keyField = definition.key;
    this.#slots = [];
    for (let i = 0; i < opts.shards; i++) {
      this.#slots.push({
        index: i,
        status: "starting",
        worker: null,
        input: null,
        stats: null,
        incarnation: 0,
        sentNow: 0,
        sentBefore: 0,
        consumedBefore: 0,
        emittedBefore: 0,
        lost: 0,
        restarts: 0,
        delayMs: opts.restartDelayMs,
        startedAt: 0,
        everReady: false,
        timer: null,
        lastError: null,
        onStopped: null,
      });
    }
    this.ready = new Promise<void>((resolve, reject) => {
      this.#markReady = resolve;
      this.#failReady = reject;
    });
    // A pool shut down before it was ready must not leave an unhandled rejection behind.
    this.ready.catch(() => {});
    if (definition.output === null) {
      this.output = null;
      this.#outTx = null;
    } else {
      const layout = definition.output;
      const pool: RecordOf<O>[] = [];
      const maxBatch = opts.maxBatch;
      const [node, tx] = new NodeBuilder<ShardBatch<O>>({ items: [], ended: false })
        .named(opts.name)
        .buildWith(
          executor,
          ringChannel(layout, {
            capacity: opts.outputCapacity,
            // One ring per shard incarnation that emitted; a failed one's ring is freed once
            // the channel notices its Worker is gone.
            producers: Math.min(1024, opts.shards * 2 + 2),
            overflow: Overflow.Block,
          }),
          (self, _ctx, rx) => {
            const v = self.value, items = v.items;
            let k = 0;
            while (k < maxBatch) {
              let r = pool[k];
              if (r === undefined) pool.push(r = blankRecord(layout));
              if (rx.tryRecv(r) !== RecvStatus.Item) break;
              items[k++] = r;
            }
            items.length = k;
            this.#received += k;
            if (k > 0) return Control.Broadcast;
            if (!v.ended && this.#allStopped() && rx.length === 0) {
              v.ended = true;
              return Control.Broadcast;
            }
            return Control.Unchanged;
          },
        );
      this.output = node;
      this.#outTx = tx;
    }
  }

  /**
   * Starts a sharded runtime: builds the output node into `executor` (when the declaration has
   * an output) and starts one Worker per shard. Resolves once every shard is ready to take
   * records (a shard that fails while starting is reported and restarted as usual).
   *
   * @param executor The main graph's executor.
   * @param definition The shard declaration (exported by its module, see {@linkcode defineShard}).
   * @param options Shard count, capacities, params, restart policy, recording.
   * @returns The running pool.
   * @throws {InvalidArgumentError} If an argument or option is not valid (nothing started then).
   * @throws {UnsupportedError} Where the host has no Web Workers (Node).
   */
  static async start<
    I extends Record<string, FieldType>,
    O extends Record<string, FieldType>,
    P = unknown,
  >(
    executor: Executor,
    definition: ShardDefinition<I, O, P>,
    options: ShardOptions<P>,
  ): Promise<ShardedRuntime<I, O, P>> {
    const pool = ShardedRuntime.create(executor, definition, options);
    await pool.ready;
    return pool;
  }

  /**
   * Like {@linkcode ShardedRuntime.start}, but returns at once: records sent before a shard is
   * ready are refused (`SendStatus.Full`); await `ready` to know when all are.
   *
   * @param executor The main graph's executor.
   * @param definition The shard declaration.
   * @param options As for `start`.
   * @returns The pool, starting.
   * @throws {InvalidArgumentError} If an argument or option is not valid (nothing started then).
   * @throws {UnsupportedError} Where the host has no Web Workers (Node).
   */
  static create<
    I extends Record<string, FieldType>,
    O extends Record<string, FieldType>,
    P = unknown,
  >(
    executor: Executor,
    definition: ShardDefinition<I, O, P>,
    options: ShardOptions<P>,
  ): ShardedRuntime<I, O, P> {
    checkExecutor(executor, "The sharded runtime's executor");
    if (!isShardDefinition(definition)) {
      throw invalid(
        `The shard declaration must come from defineShard(), got ${describe(definition)}`,
      );
    }
    const o = checkOptions(options, "The sharded runtime's options", [
      "shards",
      "capacity",
      "outputCapacity",
      "maxBatch",
      "params",
      "name",
      "mode",
      "restartDelayMs",
      "maxRestartDelayMs",
      "maxRestarts",
      "record",
      "stopTimeoutMs",
    ]);
    const opts = {
      shards: checkInteger(o.shards, "The shards option", 1, 256),
      capacity: checkInteger(orDefault(o.capacity, 4096), "The capacity option", 1, 1 << 20),
      outputCapacity: checkInteger(
        orDefault(o.outputCapacity, 4096),
        "The outputCapacity option",
        1,
        1 << 20,
      ),
      maxBatch: checkInteger(orDefault(o.maxBatch, 1024), "The maxBatch option", 1, 1 << 20),
      params: o.params,
      name: o.name === undefined ? "shards.output" : checkString(o.name, "The name option"),
      mode: checkOneOf(
        orDefault(o.mode, ExecutionMode.Park),
        [ExecutionMode.Park, ExecutionMode.Spin],
        "The mode option",
      ),
      restartDelayMs: checkInteger(
        orDefault(o.restartDelayMs, 100),
        "The restartDelayMs option",
        0,
        3.6e6,
      ),
      maxRestartDelayMs: checkInteger(
        orDefault(o.maxRestartDelayMs, 5000),
        "The maxRestartDelayMs option",
        0,
        3.6e6,
      ),
      maxRestarts: o.maxRestarts === undefined || o.maxRestarts === Infinity
        ? Infinity
        : checkInteger(o.maxRestarts, "The maxRestarts option", 0, 2 ** 31),
      record: o.record === undefined
        ? null
        : checkFunction<NonNullable<ShardOptions<P>["record"]>>(o.record, "The record option"),
      stopTimeoutMs: checkInteger(
        orDefault(o.stopTimeoutMs, 10_000),
        "The stopTimeoutMs option",
        0,
        3.6e6,
      ),
    };
    try {
      structuredClone(opts.params);
    } catch (cause) {
      throw invalid("The params option must be structured-cloneable", cause);
    }
    if (typeof (globalThis as { Worker?: unknown }).Worker !== "function") {
      throw new UnsupportedError("start shards", "this host has no Web Workers (use Deno or Bun)");
    }
    const pool = new ShardedRuntime<I, O, P>(executor, definition, opts);
    for (const s of pool.#slots) pool.#start(s);
    return pool;
  }

  /**
   * The shard a record goes to (a stable hash of its key field, see {@linkcode shardOf}).
   *
   * @param record A record with the key field.
   * @returns The shard index.
   * @throws {InvalidArgumentError} If the key is not a safe integer.
   */
  shardOf(record: Partial<RecordOf<I>>): number {
    return keyHash((record as Record<string, number>)[this.#keyField]) % this.count;
  }

  /**
   * Routes a record to its shard (by its key field) without waiting. Records of one key reach
   * the shard in the order they were sent.
   *
   * @param record The input record.
   * @returns `SendStatus.Sent`; `Full` when the shard's ring is full or the shard is not running
   *   (starting, restarting): keep the record and send it again later; `Closed` once the pool
   *   is shutting down.
   * @throws {InvalidArgumentError} If the key is not a safe integer.
   * @throws {RecordError} If a field cannot be stored (nothing is sent).
   */
  send(record: Partial<RecordOf<I>>): SendStatus {
    const key = (record as Record<string, number>)[this.#keyField];
    const s = this.#slots[keyHash(key) % this.count];
    if (this.#stopping) return SendStatus.Closed;
    const tx = s.input;
    if (tx === null) return SendStatus.Full;
    const st = tx.trySend(record);
    if (st === SendStatus.Sent) {
      s.sentNow++;
      return st;
    }
    // Closed: the shard's runtime shut down (it failed); its report is on the way.
    return SendStatus.Full;
  }

  /**
   * A snapshot of every shard's state (counts, lag, restarts), for monitoring.
   *
   * @returns One entry per shard, by index.
   */
  state(): ShardState[] {
    return this.#slots.map((s) => {
      const [consumed, emitted] = this.#live(s);
      return {
        index: s.index,
        status: s.status,
        sent: s.sentBefore + s.sentNow,
        consumed: s.consumedBefore + consumed,
        lag: s.sentNow - consumed,
        emitted: s.emittedBefore + emitted,
        lost: s.lost,
        restarts: s.restarts,
        lastError: s.lastError,
      };
    });
  }

  /** Records the output node has taken so far. */
  get received(): number {
    return this.#received;
  }

  /**
   * Stops every shard gracefully: routing stops, each shard's input is closed, the shard takes
   * what was already routed, its runtime shuts down (every `onDrop` runs, and what they emit
   * still arrives) and its Worker ends. The output node then broadcasts once more with
   * `ended: true`. A shard that does not stop within `stopTimeoutMs` is terminated. Idempotent.
   *
   * @returns Resolves once every shard's Worker is gone.
   */
  shutdown(): Promise<void> {
    if (this.#stopped !== null) return this.#stopped;
    this.#stopping = true;
    this.#failReady?.(new ShardError("The sharded runtime shut down before it was ready", -1));
    this.#markReady = this.#failReady = null;
    const waits = this.#slots.map((s) =>
      new Promise<void>((resolve) => {
        if (s.timer !== null) {
          clearTimeout(s.timer);
          s.timer = null;
        }
        if (s.worker === null) {
          if (s.status !== "failed") s.status = "stopped";
          resolve();
          return;
        }
        s.onStopped = resolve;
        s.status = "stopping";
        // A running shard drains and stops; a starting one is told once it is ready.
        this.#closeInput(s);
        const w = s.worker;
        const t = setTimeout(() => {
          if (s.worker === w) this.#retire(s, "stopped");
        }, this.#opts.stopTimeoutMs);
        const done = s.onStopped;
        s.onStopped = () => {
          clearTimeout(t);
          done();
        };
      })
    );
    this.#stopped = Promise.all(waits).then(() => {
      // Closing the main thread's own sender wakes the output node (also from a parked
      // loop), which reports the end once it drained what the shards sent.
      this.#outTx?.close();
    });
    return this.#stopped;
  }

  /** [consumed, emitted] of the current incarnation. */
  #live(s: Slot): [number, number] {
    if (s.stats === null) return [0, 0];
    return [Number(Atomics.load(s.stats, 0)), Number(Atomics.load(s.stats, 1))];
  }

  #allStopped(): boolean {
    return this.#stopping && this.#slots.every((s) => s.worker === null);
  }

  #closeInput(s: Slot): void {
    if (s.input !== null) {
      s.input.close();
      s.input = null;
    }
  }

  #start(s: Slot): void {
    s.timer = null;
    const w = new Worker(WORKER_URL, { type: "module" });
    s.worker = w;
    s.status = "starting";
    s.startedAt = Date.now();
    s.stats = new BigInt64Array(new SharedArrayBuffer(16));
    s.sentNow = 0;
    w.onmessage = (ev: MessageEvent) => this.#onMessage(s, w, ev.data);
    w.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.#onFailure(s, w, {
        name: "Error",
        message: ev.message ?? "the Worker failed",
        stack: "",
        code: null,
        node: null,
        phase: "worker",
      });
      this.#retire(s, "restarting");
    };
    let path: string | null = null;
    try {
      path = this.#opts.record === null ? null : this.#opts.record(s.index, s.incarnation);
      if (path !== null && typeof path !== "string") {
        throw invalid(`The record option must return a path or null, got ${describe(path)}`);
      }
    } catch (e) {
      this.#report(
        new ShardError(`Shard ${s.index} is not recorded: ${String(e)}`, s.index, {
          cause: e,
        }),
      );
      path = null;
    }
    const start: ShardStart = {
      type: "start",
      module: this.definition.module,
      name: this.definition.name,
      shard: s.index,
      shards: this.count,
      incarnation: s.incarnation,
      params: this.#opts.params,
      capacity: this.#opts.capacity,
      maxBatch: this.#opts.maxBatch,
      output: this.#outTx === null ? null : this.#outTx.toTransferable(),
      stats: s.stats.buffer as SharedArrayBuffer,
      record: path,
      mode: this.#opts.mode,
    };
    w.postMessage(start);
  }

  #onMessage(s: Slot, w: Worker, m: { type: string; [k: string]: unknown }): void {
    if (s.worker !== w) return; // a retired incarnation
    if (m.type === "ready") {
      s.input = RingSender.fromTransferable<Record<string, FieldType>>(
        m.input as Parameters<typeof RingSender.fromTransferable>[0],
      );
      if (s.status === "stopping") {
        this.#closeInput(s);
        return;
      }
      if (s.status === "starting") s.status = "running";
      s.everReady = true;
      if (this.#slots.every((x) => x.everReady)) {
        this.#markReady?.();
        this.#markReady = this.#failReady = null;
      }
    } else if (m.type === "error") {
      this.#onFailure(s, w, m.failure as ShardFailure);
    } else if (m.type === "stopped") {
      const failed = m.failed === true;
      this.#retire(s, failed && !this.#stopping ? "restarting" : "stopped");
    }
  }

  /** A failure report: stop routing to the shard and tell the user. */
  #onFailure(s: Slot, w: Worker, f: ShardFailure): void {
    if (s.worker !== w) return;
    const where = f.node !== null ? ` in node ${f.node} (${f.phase})` : ` (${f.phase})`;
    const message = `Shard ${s.index} failed${where}: ${f.name}: ${f.message}`;
    s.lastError = message;
    if (s.status === "running" || s.status === "starting") s.status = "restarting";
    this.#closeInput(s);
    const cause = new Error(f.message);
    cause.name = f.name;
    if (f.stack !== "") cause.stack = f.stack;
    const error = new ShardError(message, s.index, { cause });
    this.#report(error);
    if (!s.everReady && this.#failReady !== null) {
      // A shard that cannot start once (a module without the declaration, a build that
      // throws) would only fail again: the pool gives up rather than restart it forever.
      this.#failReady(error);
      void this.shutdown();
    }
  }

  /** The incarnation is over: account for it, end its Worker, restart or settle. */
  #retire(s: Slot, next: "restarting" | "stopped"): void {
    const w = s.worker;
    if (w === null) return;
    s.worker = null;
    w.onmessage = null;
    w.onerror = null;
    w.terminate();
    this.#closeInput(s);
    const [consumed, emitted] = this.#live(s);
    s.lost += Math.max(0, s.sentNow - consumed);
    s.sentBefore += s.sentNow;
    s.consumedBefore += consumed;
    s.emittedBefore += emitted;
    s.sentNow = 0;
    s.stats = null;
    const onStopped = s.onStopped;
    s.onStopped = null;
    if (this.#stopping || next === "stopped") {
      if (s.status !== "failed") s.status = "stopped";
      onStopped?.();
      return;
    }
    if (s.restarts >= this.#opts.maxRestarts) {
      s.status = "failed";
      this.#report(
        new ShardError(`Shard ${s.index} failed ${s.restarts + 1} times and stays down`, s.index),
      );
      return;
    }
    // Back off while a shard keeps failing soon after it starts; a long run resets the wait.
    const ranMs = Date.now() - s.startedAt;
    if (ranMs > 10 * this.#opts.maxRestartDelayMs) s.delayMs = this.#opts.restartDelayMs;
    const delay = s.delayMs;
    s.delayMs = Math.min(this.#opts.maxRestartDelayMs, Math.max(1, s.delayMs * 2));
    s.status = "restarting";
    s.restarts++;
    s.incarnation++;
    s.timer = setTimeout(() => this.#start(s), delay);
  }

  #report(e: ShardError): void {
    reportError(this.#executor, e, this.output ?? undefined, "source");
  }
}
