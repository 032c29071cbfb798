/**
 * The JetStream sink node: what its parent broadcasts is published to JetStream, each message
 * with an id derived from the input (JetStream's de-duplication window then drops the second
 * publication of a redelivered input), with a bounded number of publications awaiting the
 * server's acknowledgement. It is also a {@linkcode CommitGate}: a source that commits after it
 * acknowledges its inputs only once their outputs are stored.
 *
 * @module
 */

import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { Control } from "../core/control.ts";
import type { Executor } from "../core/executor.ts";
import type { Node } from "../core/node.ts";
import { NodeBuilder } from "../core/builder.ts";
import { checkExecutor, checkNodeOf } from "../core/check_node.ts";
import { checkFunction, checkInteger, checkOptions, checkString } from "../core/validate.ts";
import { classify, type JetStreamError } from "./errors.ts";
import { checkConnection, type CommitGate } from "./source.ts";

/**
 * One message the sink publishes.
 *
 * @example An output keyed by the input's stream sequence
 * ```ts
 * import type { JetStreamOutput } from "@wavelet/wavelet/nats";
 *
 * const out: JetStreamOutput = { subject: "totals.7", data: "42", id: "orders:118" };
 * if (out.id !== "orders:118") throw new Error("the id comes from the input");
 * ```
 */
export interface JetStreamOutput {
  /** The subject to publish to (a stream must capture it). */
  subject: string;
  /** The payload. */
  data: Uint8Array | string;
  /** The message id: the same input must always give the same id. */
  id: string;
}

/**
 * Options of {@linkcode jetStreamSink}.
 *
 * @example Publishing totals
 * ```ts
 * import type { JetStreamSinkOptions } from "@wavelet/wavelet/nats";
 *
 * type Total = { key: number; total: number; seq: number };
 * function options(nc: JetStreamSinkOptions<Total[]>["connection"]) {
 *   const o: JetStreamSinkOptions<Total[]> = {
 *     connection: nc,
 *     outputs: (totals) =>
 *       totals.map((t) => ({ subject: `totals.${t.key}`, data: `${t.total}`, id: `in:${t.seq}` })),
 *     maxPending: 256,
 *   };
 *   return o;
 * }
 * if (typeof options !== "function") throw new Error("a function");
 * ```
 */
export interface JetStreamSinkOptions<T> {
  /** The NATS connection; the caller closes it. */
  connection: NatsConnection;
  /** The messages to publish for one broadcast of the parent's value (in order). */
  outputs: (value: T) => Iterable<JetStreamOutput>;
  /** The node's name (default `"jetstream.sink"`). */
  name?: string;
  /** Most publications awaiting the server's acknowledgement: [1, 65536] (default 256). */
  maxPending?: number;
  /** How long a publication waits for its acknowledgement, in ms (default 5000). */
  timeoutMs?: number;
  /** First wait before publishing failed messages again, in ms (default 50; doubles). */
  retryMs?: number;
  /** Longest wait before a retry, in ms (default 5000). */
  maxRetryMs?: number;
}

/**
 * A snapshot of a sink's counters.
 *
 * @example Waiting for a sink to settle
 * ```ts
 * import type { JetStreamSinkState } from "@wavelet/wavelet/nats";
 *
 * const settled = (s: JetStreamSinkState) => s.queued === 0 && s.inFlight === 0;
 * if (!settled({ published: 3, duplicates: 0, queued: 0, inFlight: 0, errors: 0, retrying: false }))
 *   throw new Error("settled");
 * ```
 */
export interface JetStreamSinkState {
  /** Messages the server acknowledged (duplicates included). */
  readonly published: number;
  /** Of those, messages the server had already (dropped by its de-duplication). */
  readonly duplicates: number;
  /** Messages waiting to be published. */
  readonly queued: number;
  /** Messages published and not yet acknowledged. */
  readonly inFlight: number;
  /** Failures reported so far. */
  readonly errors: number;
  /** True while failed messages wait to be published again. */
  readonly retrying: boolean;
}

/** One message on its way. */
interface Entry {
  subject: string;
  data: Uint8Array | string;
  id: string;
  epoch: number;
  done: boolean;
  failed: unknown;
}

/**
 * A node publishing to JetStream. Built by {@linkcode jetStreamSink}; pass it to a source's
 * `commitAfter` so that inputs are acknowledged only once their outputs are stored.
 *
 * @example Waiting for what was published
 * ```ts ignore
 * const sink = jetStreamSink(rt.executor, node, { connection: nc, outputs });
 * await sink.flush(); // every message handed over so far is stored
 * ```
 */
export class JetStreamSink<T> implements CommitGate {
  /** The node (triggered by the parent; it never broadcasts). */
  readonly node: Node<JetStreamSinkState>;
  readonly #ex: Executor;
  readonly #js: JetStreamClient;
  readonly #o: Resolved<T>;
  /** In order: published (in flight or done, front) then queued. */
  readonly #window: Entry[] = [];
  #sent = 0;
  #halted = false;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #inFlight = 0;
  #published = 0;
  #duplicates = 0;
  #errors = 0;
  #retrying = false;
  #delay: number;
  #listeners: (() => void)[] = [];
  #idle: (() => void)[] = [];
  #lastEpoch = -1;

  /** @internal Use {@linkcode jetStreamSink}. */
  constructor(executor: Executor, parent: Node<T>, o: Resolved<T>) {
    this.#ex = executor;
    this.#o = o;
    this.#js = jetstream(o.connection, { timeout: o.timeoutMs });
    this.#delay = o.retryMs;
    const outputs = o.outputs;
    this.node = new NodeBuilder<JetStreamSinkState>(this.state())
      .named(o.name)
      .triggeredBy(parent)
      .onDrop(() => this.stop())
      .build(executor, (self, ctx) => {
        const epoch = ctx.epoch;
        this.#lastEpoch = epoch;
        for (const out of outputs(parent.value)) {
          this.#window.push({
            subject: out.subject,
            data: out.data,
            id: out.id,
            epoch,
            done: false,
            failed: undefined,
          });
        }
        self.value = this.state();
        this.#publish();
        return Control.Unchanged;
      });
  }

  /**
   * True once every message handed over in cycles up to `epoch` is stored.
   *
   * @param epoch A cycle number.
   * @returns Whether it is committed.
   */
  committedThrough(epoch: number): boolean {
    const w = this.#window;
    return w.length === 0 || w[0].epoch > epoch;
  }

  /**
   * Calls `listener` whenever more messages are stored.
   *
   * @param listener Called without arguments.
   */
  onCommit(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /**
   * A snapshot of the sink's counters (read-only).
   *
   * @returns The counters.
   */
  state(): JetStreamSinkState {
    return {
      published: this.#published,
      duplicates: this.#duplicates,
      queued: this.#window.length - this.#sent,
      inFlight: this.#inFlight,
      errors: this.#errors,
      retrying: this.#retrying,
    };
  }

  /**
   * Resolves once every message handed over so far is stored (it waits through retries), or,
   * after `stop()`, once the publications in flight settled.
   *
   * @returns A promise.
   */
  flush(): Promise<void> {
    return new Promise((resolve) => {
      this.#idle.push(resolve);
      this.#wakeIdle();
    });
  }

  /** The cycle the sink last ran in (-1 before its first run). */
  get lastEpoch(): number {
    return this.#lastEpoch;
  }

  /**
   * Stops publishing: publications in flight still settle, but what is queued or failed is
   * not published (a source that commits after this sink does not acknowledge the inputs it
   * came from, so they are redelivered). Called when the node leaves the graph. Idempotent.
   */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#wakeIdle();
  }

  /** Resolves the flush waiters once nothing is left to wait for. */
  #wakeIdle(): void {
    if (this.#window.length > 0 && !(this.#stopped && this.#inFlight === 0)) return;
    const idle = this.#idle;
    this.#idle = [];
    for (const r of idle) r();
  }

  /** Publishes queued messages while fewer than maxPending are in flight. */
  #publish(): void {
    if (this.#retrying || this.#halted || this.#stopped) return;
    const w = this.#window, max = this.#o.maxPending;
    while (this.#sent < w.length && this.#inFlight < max) {
      const e = w[this.#sent++];
      this.#inFlight++;
      this.#js.publish(e.subject, e.data, { msgID: e.id, timeout: this.#o.timeoutMs }).then(
        (ack) => {
          e.done = true;
          this.#published++;
          if (ack.duplicate) this.#duplicates++;
          this.#settled();
        },
        (err) => {
          // Nothing newer goes out until the failed ones are published again, in order.
          this.#halted = true;
          e.failed = err ?? new Error("publish failed");
          this.#settled();
        },
      );
    }
  }

  /** A publication settled: advance the committed front, retry failures once all settled. */
  #settled(): void {
    this.#inFlight--;
    const w = this.#window;
    let n = 0;
    while (n < this.#sent && w[n].done) n++;
    if (n > 0) {
      w.splice(0, n);
      this.#sent -= n;
      this.#delay = this.#o.retryMs;
      for (const l of this.#listeners) l();
    }
    this.#wakeIdle();
    if (this.#inFlight === 0 && this.#sent > 0) {
      // Everything published is settled and the front failed: publish the failed ones again,
      // in their order, before anything newer (their ids make a copy that did land a no-op).
      let first: unknown;
      const redo: Entry[] = [];
      for (let k = 0; k < this.#sent; k++) {
        const e = w[k];
        if (e.done) continue; // stored, after a failed one: nothing to redo
        if (first === undefined) first = e.failed;
        e.failed = undefined;
        redo.push(e);
      }
      w.splice(0, this.#sent, ...redo);
      this.#sent = 0;
      this.#retrying = true;
      this.#report(classify("publish", first));
      const delay = this.#delay;
      this.#delay = Math.min(this.#o.maxRetryMs, this.#delay * 2);
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#retrying = this.#halted = false;
        this.#publish();
      }, delay);
      return;
    }
    this.#publish();
  }

  #report(e: JetStreamError): void {
    this.#errors++;
    try {
      this.#ex.onError(e, { node: this.node, phase: "sink" });
    } catch {
      // The handler's own failure is not ours to report twice.
    }
  }
}

/** The options once checked. */
type Resolved<T> = {
  connection: NatsConnection;
  outputs: (value: T) => Iterable<JetStreamOutput>;
  name: string;
  maxPending: number;
  timeoutMs: number;
  retryMs: number;
  maxRetryMs: number;
};

/**
 * A sink node that publishes to JetStream every time `parent` broadcasts: `outputs(value)`
 * gives the messages (subject, payload, id), published in order with the id as JetStream's
 * message id, so a message published twice (an input redelivered after a crash) is stored once
 * within the stream's duplicate window. At most `maxPending` publications await the server's
 * acknowledgement; more wait in order. A failed publication (server gone, timeout) is reported
 * to `executor.onError` as a {@linkcode JetStreamError} (phase `"sink"`) and, once everything
 * in flight settled, published again with backoff, before anything newer; nothing handed to the
 * sink is dropped. The client lives on the host event loop: run the graph with `run()`.
 *
 * @param executor The executor to build into.
 * @param parent The node whose broadcasts are published.
 * @param options Connection, `outputs`, name, `maxPending`, timings.
 * @returns The sink (its node, `state()`, `flush()`; a {@linkcode CommitGate}).
 * @throws {InvalidArgumentError} If the executor or an option is not valid (nothing built).
 * @throws {NodeRemovedError} If `parent` has left the graph.
 * @throws {ForeignNodeError} If `parent` belongs to another executor.
 *
 * @example Publishing each message's double
 * ```ts ignore
 * const sink = jetStreamSink(rt.executor, src.node, {
 *   connection: nc,
 *   outputs: (batch) =>
 *     batch.messages.map((m) => ({
 *       subject: `doubled.${m.subject}`,
 *       data: String(2 * Number(new TextDecoder().decode(m.value))),
 *       id: `ORDERS:${m.seq}`,
 *     })),
 * });
 * src.commitAfter(sink);
 * ```
 */
export function jetStreamSink<T>(
  executor: Executor,
  parent: Node<T>,
  options: JetStreamSinkOptions<T>,
): JetStreamSink<T> {
  checkExecutor(executor, "jetStreamSink's executor");
  checkNodeOf(executor, parent, "jetStreamSink's parent");
  const o = checkOptions(options, "jetStreamSink's options", [
    "connection",
    "outputs",
    "name",
    "maxPending",
    "timeoutMs",
    "retryMs",
    "maxRetryMs",
  ]);
  const retryMs = checkInteger(o.retryMs ?? 50, "The retryMs option", 1, 3.6e6);
  const r: Resolved<T> = {
    connection: checkConnection(o.connection),
    outputs: checkFunction(o.outputs, "The outputs option"),
    name: o.name === undefined ? "jetstream.sink" : checkString(o.name, "The name option"),
    maxPending: checkInteger(o.maxPending ?? 256, "The maxPending option", 1, 65536),
    timeoutMs: checkInteger(o.timeoutMs ?? 5000, "The timeoutMs option", 1, 3.6e6),
    retryMs,
    maxRetryMs: checkInteger(o.maxRetryMs ?? 5000, "The maxRetryMs option", retryMs, 3.6e6),
  };
  return new JetStreamSink<T>(executor, parent, r);
}
