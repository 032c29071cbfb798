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
import { reportError } from "../core/report.ts";
import { checkExecutor, checkNodeOf } from "../core/check_node.ts";
import { checkFunction, checkInteger, checkOptions, checkString } from "../core/validate.ts";
import { classify, JetStreamError } from "./errors.ts";
import { ErrorCode } from "../core/errors.ts";
import { checkConnection, type CommitGate, type NatsConnectionLike } from "./source.ts";

/** The default when the option is absent (null is no absence: it is checked and refused). */
const orDefault = <T>(v: T | undefined, d: T): T => v === undefined ? d : v;

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
  connection: NatsConnectionLike;
  /** The messages to publish for one broadcast of the parent's value (in order). */
  outputs: (value: T) => Iterable<JetStreamOutput>;
  /** The node's name (default `"jetstream.sink"`). */
  name?: string;
  /**
   * Most publications awaiting the server's acknowledgement: [1, 65536] (default 256); one per
   * subject at a time.
   */
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
  /** Publications that failed so far (each is published again). */
  readonly errors: number;
  /** True while failed messages wait to be published again. */
  readonly retrying: boolean;
}

/** One message on its way. */
interface Entry {
  subject: string;
  data: Uint8Array | string;
  id: string;
  /** The cycle it was handed over in. */
  epoch: number;
  /** Stored. */
  done: boolean;
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
  /** Every message not yet stored, in the order handed over (the commit front is [0]). */
  readonly #window: Entry[] = [];
  /** Messages waiting to be published, per subject, in order. */
  readonly #bySubject = new Map<string, Entry[]>();
  /** Subjects whose next message may be published now (none of theirs is in flight). */
  readonly #ready: string[] = [];
  /** Subjects whose last publication failed: published again after the backoff. */
  readonly #failed: string[] = [];
  #queued = 0;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #inFlight = 0;
  #published = 0;
  #duplicates = 0;
  #errors = 0;
  #failing = false;
  #delay: number;
  #listeners: (() => void)[] = [];
  #idle: (() => void)[] = [];

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
        for (const out of outputs(parent.value)) {
          const e: Entry = { subject: out.subject, data: out.data, id: out.id, epoch, done: false };
          this.#window.push(e);
          this.#queued++;
          const q = this.#bySubject.get(e.subject);
          if (q !== undefined) q.push(e);
          else {
            // A subject with nothing queued or in flight is ready at once.
            this.#bySubject.set(e.subject, [e]);
            this.#ready.push(e.subject);
          }
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
      queued: this.#queued,
      inFlight: this.#inFlight,
      errors: this.#errors,
      retrying: this.#failed.length > 0,
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

  /**
   * Publishes the next message of each ready subject while fewer than maxPending are in flight.
   * One subject has at most one message in flight: a publication that fails can have left
   * later ones in the client's buffer, which it sends after reconnecting, so with several in
   * flight a retry could land behind a newer message of its subject.
   */
  #publish(): void {
    if (this.#stopped) return;
    const ready = this.#ready, max = this.#o.maxPending;
    let r = 0;
    while (r < ready.length && this.#inFlight < max) {
      const subject = ready[r++];
      const e = this.#bySubject.get(subject)![0];
      this.#queued--;
      this.#inFlight++;
      this.#js.publish(e.subject, e.data, { msgID: e.id, timeout: this.#o.timeoutMs }).then(
        (ack) => {
          this.#published++;
          if (ack.duplicate) this.#duplicates++;
          this.#settled(e, undefined);
        },
        (err) => this.#settled(e, err ?? new Error("publish failed")),
      );
    }
    if (r > 0) ready.splice(0, r);
  }

  /** A publication settled: on to the subject's next message, or back in line after a failure. */
  #settled(e: Entry, err: unknown): void {
    this.#inFlight--;
    const q = this.#bySubject.get(e.subject)!;
    if (err === undefined) {
      e.done = true;
      q.shift();
      if (q.length > 0) this.#ready.push(e.subject);
      else this.#bySubject.delete(e.subject);
      const w = this.#window;
      let n = 0;
      while (n < w.length && w[n].done) n++;
      if (n > 0) {
        w.splice(0, n);
        for (const l of this.#listeners) l();
      }
      this.#failing = false;
      this.#delay = this.#o.retryMs;
    } else {
      // Published again, with the same id, after the backoff; nothing newer of its subject
      // goes out before it is stored. One report per run of failures.
      this.#queued++;
      this.#failed.push(e.subject);
      if (this.#o.connection.isClosed()) {
        // Closed for good: nothing can be published any more; what is left stays unstored
        // (and a source that commits after this sink never acknowledges its inputs).
        if (!this.#stopped) {
          this.#report(
            new JetStreamError(
              "publish",
              "the connection is closed, so the sink stops publishing",
              ErrorCode.NatsDisconnected,
              { cause: err },
            ),
          );
          this.stop();
        }
        this.#wakeIdle();
        return;
      }
      if (!this.#failing) {
        this.#failing = true;
        this.#report(classify("publish", err));
      } else this.#errors++;
      if (this.#timer === null && !this.#stopped) {
        const delay = this.#delay;
        this.#delay = Math.min(this.#o.maxRetryMs, this.#delay * 2);
        this.#timer = setTimeout(() => {
          this.#timer = null;
          this.#ready.push(...this.#failed);
          this.#failed.length = 0;
          this.#publish();
        }, delay);
      }
    }
    this.#wakeIdle();
    this.#publish();
  }

  #report(e: JetStreamError): void {
    this.#errors++;
    reportError(this.#ex, e, this.node, "sink");
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
 * within the stream's duplicate window. Messages of one subject are stored in the order they
 * were handed over, also across failures: a subject has one publication in flight at a time,
 * and different subjects go out in parallel, at most `maxPending` awaiting the server's
 * acknowledgement (put one key's messages on one subject). A failed publication (server gone,
 * timeout) is reported to `executor.onError` as a {@linkcode JetStreamError} (phase `"sink"`,
 * once per run of failures) and published again with backoff, before anything newer of its
 * subject; nothing handed to the sink is dropped. The client lives on the host event loop: run
 * the graph with `run()`.
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
  const retryMs = checkInteger(orDefault(o.retryMs, 50), "The retryMs option", 1, 3.6e6);
  const r: Resolved<T> = {
    connection: checkConnection(o.connection),
    outputs: checkFunction(o.outputs, "The outputs option"),
    name: o.name === undefined ? "jetstream.sink" : checkString(o.name, "The name option"),
    maxPending: checkInteger(orDefault(o.maxPending, 256), "The maxPending option", 1, 65536),
    timeoutMs: checkInteger(orDefault(o.timeoutMs, 5000), "The timeoutMs option", 1, 3.6e6),
    retryMs,
    maxRetryMs: checkInteger(
      orDefault(o.maxRetryMs, 5000),
      "The maxRetryMs option",
      retryMs,
      3.6e6,
    ),
  };
  return new JetStreamSink<T>(executor, parent, r);
}
