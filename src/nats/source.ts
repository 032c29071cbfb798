/**
 * The JetStream source node: messages of a durable pull consumer enter the graph through a
 * local channel, and each is acknowledged only after the cycle that consumed it completed (and,
 * with {@linkcode JetStreamSource.commitAfter}, after the sinks published what that cycle
 * produced). Fetching stops while the channel is full or too many messages await their
 * acknowledgement: backpressure, not unbounded buffering.
 *
 * @module
 */

import {
  AckPolicy,
  type Consumer,
  type ConsumerMessages,
  DeliverPolicy,
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { Control } from "../core/control.ts";
import { ErrorCode } from "../core/errors.ts";
import type { Executor } from "../core/executor.ts";
import type { Node } from "../core/node.ts";
import { NodeBuilder } from "../core/builder.ts";
import { reportError } from "../core/report.ts";
import { checkExecutor } from "../core/check_node.ts";
import {
  checkFunction,
  checkInteger,
  checkOneOf,
  checkOptions,
  checkString,
  describe,
  describeThrown,
  invalid,
} from "../core/validate.ts";
import { localChannel } from "../channel/build.ts";
import type { LocalSender } from "../channel/local.ts";
import { SendStatus } from "../channel/status.ts";
import { SourceError } from "../runtime/readers.ts";
import { classify, JetStreamError } from "./errors.ts";

/** The default when the option is absent (null is no absence: it is checked and refused). */
const orDefault = <T>(v: T | undefined, d: T): T => v === undefined ? d : v;

/**
 * The connection the JetStream nodes use: what `connect()` of `@nats-io/transport-node`
 * returns (only the members named here are read by wavelet itself; the client's JetStream API
 * gets the whole connection).
 *
 * @example The connection of a test
 * ```ts ignore
 * import { connect } from "@nats-io/transport-node";
 * import type { NatsConnectionLike } from "@wavelet/wavelet/nats";
 *
 * const nc: NatsConnectionLike = await connect({ servers: "127.0.0.1:4222" });
 * ```
 */
export interface NatsConnectionLike {
  /** True once the connection closed for good. */
  isClosed(): boolean;
  /** Resolves once the server processed everything sent before. */
  flush(): Promise<void>;
  /** Publishes a core NATS message. */
  publish(subject: string, ...rest: never[]): void;
  /** Sends a request and resolves its reply. */
  request(subject: string, ...rest: never[]): Promise<unknown>;
}

/**
 * Something a source waits for before acknowledging what a cycle consumed: a sink that says
 * when everything it was given up to a cycle is safely stored ({@linkcode JetStreamSink}).
 *
 * @example A gate that is always open
 * ```ts
 * import type { CommitGate } from "@wavelet/wavelet/nats";
 *
 * const open: CommitGate = { committedThrough: () => true, onCommit: () => {} };
 * if (!open.committedThrough(7)) throw new Error("open");
 * ```
 */
export interface CommitGate {
  /** True once everything handed over in cycles up to `epoch` is committed. */
  committedThrough(epoch: number): boolean;
  /** Calls `listener` whenever more was committed. */
  onCommit(listener: () => void): void;
}

/**
 * One message as the source node hands it to the graph.
 *
 * @example Reading a message's place in the stream
 * ```ts
 * import type { JetStreamMessage } from "@wavelet/wavelet/nats";
 *
 * const m: JetStreamMessage<string> = {
 *   value: "hello",
 *   seq: 12,
 *   subject: "orders.0.7",
 *   redelivered: false,
 * };
 * if (`${m.subject}#${m.seq}` !== "orders.0.7#12") throw new Error("an id from the input");
 * ```
 */
export interface JetStreamMessage<T> {
  /** The decoded payload. */
  value: T;
  /** The message's sequence number in the stream (a stable id for de-duplication). */
  seq: number;
  /** The subject it was stored under. */
  subject: string;
  /** True if the server delivered it before (to this consumer or one it replaced). */
  redelivered: boolean;
}

/**
 * The source node's value: the messages it took in its last run (the array is reused).
 *
 * @example Summing a batch
 * ```ts
 * import type { JetStreamBatch } from "@wavelet/wavelet/nats";
 *
 * const b: JetStreamBatch<number> = {
 *   messages: [{ value: 2, seq: 1, subject: "n", redelivered: false }],
 * };
 * if (b.messages.reduce((a, m) => a + m.value, 0) !== 2) throw new Error("2");
 * ```
 */
export interface JetStreamBatch<T> {
  /** The messages of this run, in stream order. */
  messages: JetStreamMessage<T>[];
}

/**
 * Options of {@linkcode jetStreamSource}.
 *
 * @example A source of JSON orders
 * ```ts
 * import type { JetStreamSourceOptions } from "@wavelet/wavelet/nats";
 *
 * function options(nc: JetStreamSourceOptions<unknown>["connection"]) {
 *   const o: JetStreamSourceOptions<{ id: string }> = {
 *     connection: nc,
 *     stream: "ORDERS",
 *     durable: "orders-reader",
 *     decode: (data) => JSON.parse(new TextDecoder().decode(data)),
 *     capacity: 512,
 *   };
 *   return o;
 * }
 * if (typeof options !== "function") throw new Error("a function");
 * ```
 */
export interface JetStreamSourceOptions<T> {
  /** The NATS connection (from `connect` of `@nats-io/transport-node`); the caller closes it. */
  connection: NatsConnectionLike;
  /** The stream's name. */
  stream: string;
  /** The durable consumer's name: created if missing, resumed at its acknowledged position. */
  durable: string;
  /** Only messages of this subject (a partition's subject, for example). */
  filterSubject?: string;
  /** Turns a payload into the value the graph sees (default: the bytes themselves). */
  decode?: (data: Uint8Array, subject: string) => T;
  /** The node's name (default `"jetstream.source"`). */
  name?: string;
  /** Messages the channel into the node holds: an integer in [1, 2^20] (default 1024). */
  capacity?: number;
  /**
   * Most messages fetched and not yet acknowledged (in the channel, in the graph, or waiting
   * for a commit): an integer in [1, 2^20] (default 4 x capacity). Also the consumer's
   * `max_ack_pending`.
   */
  maxAckPending?: number;
  /** Most messages the node takes per run (default 1024). */
  maxBatch?: number;
  /** How long one fetch waits for messages, in ms: [1000, 3.6e6] (default 5000). */
  expiresMs?: number;
  /** The consumer's acknowledgement wait, in ms: [1000, 3.6e6] (default 30000). */
  ackWaitMs?: number;
  /** Where a new consumer starts: `"all"` (default) or `"new"`. */
  deliver?: "all" | "new";
  /** First wait before retrying a failed operation, in ms (default 50; doubles per failure). */
  retryMs?: number;
  /** Longest wait before a retry, in ms (default 5000). */
  maxRetryMs?: number;
}

/**
 * A snapshot of a source's counters.
 *
 * @example Watching lag
 * ```ts
 * import type { JetStreamSourceState } from "@wavelet/wavelet/nats";
 *
 * function behind(s: JetStreamSourceState): boolean {
 *   return s.pending > 10_000;
 * }
 * if (typeof behind !== "function") throw new Error("a function");
 * ```
 */
export interface JetStreamSourceState {
  /** Messages fetched and put in the channel (duplicates excluded). */
  readonly fetched: number;
  /** Messages the node handed to the graph. */
  readonly delivered: number;
  /** Messages acknowledged. */
  readonly acked: number;
  /** Messages in the channel, not yet taken by the node. */
  readonly queued: number;
  /** Messages fetched and not yet acknowledged. */
  readonly unacked: number;
  /** Redeliveries of messages the graph already had (not handed to it again). */
  readonly duplicates: number;
  /** Messages whose payload could not be decoded (reported and terminated). */
  readonly bad: number;
  /** Messages the server still holds for the consumer beyond those fetched (its lag). */
  readonly pending: number;
  /** The stream sequence up to which everything was acknowledged. */
  readonly ackedThrough: number;
  /** Failures reported so far. */
  readonly errors: number;
  /** Times the consumer was (re)created at the acknowledged position. */
  readonly claims: number;
  /** True while the last operation failed and a retry is pending. */
  readonly retrying: boolean;
  /** True once stopped. */
  readonly stopped: boolean;
}

/** One acknowledgement to send once its cycle is committed. */
interface Settle {
  msg: JsMsg;
  term: boolean;
}

const wait = (ms: number, wake: { cancel: (() => void) | null }) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      wake.cancel = null;
      resolve();
    }, ms);
    wake.cancel = () => {
      clearTimeout(t);
      wake.cancel = null;
      resolve();
    };
  });

/**
 * A JetStream durable pull consumer feeding a node. Built by {@linkcode jetStreamSource}; the
 * NATS client lives on the host event loop, so run the graph with `run()`.
 *
 * @example Stopping a source
 * ```ts ignore
 * const source = jetStreamSource(rt.executor, { connection: nc, stream: "S", durable: "d" });
 * await source.stop(); // fetching stops; what completed cycles consumed is acknowledged
 * ```
 */
export class JetStreamSource<T> {
  /** The node: its value is the batch of its last run; it broadcasts when it took messages. */
  readonly node: Node<JetStreamBatch<T>>;
  /** Resolves once the consumer exists and fetching began (or the source stopped). */
  readonly claimed: Promise<void>;
  readonly #ex: Executor;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #o: Resolved<T>;
  readonly #tx: LocalSender<JsMsg>;
  readonly #gates: CommitGate[] = [];
  /** Cycles whose messages wait for the gates: [epoch, settles]. */
  readonly #awaiting: { epoch: number; settles: Settle[] }[] = [];
  /** Redeliveries of messages not acknowledged yet: acknowledged with them. */
  readonly #dupes: JsMsg[] = [];
  #consumer: Consumer | null = null;
  #fetch: ConsumerMessages | null = null;
  #sleep: { cancel: (() => void) | null } = { cancel: null };
  #space: (() => void) | null = null;
  #flushQueued = false;
  #stopping = false;
  #pump: Promise<void> = Promise.resolve();
  #claimed: (() => void) | null = null;
  #lastSeq = 0;
  #ackedThrough = 0;
  #queued = 0;
  #unacked = 0;
  #fetched = 0;
  #delivered = 0;
  #acked = 0;
  #duplicates = 0;
  #bad = 0;
  #pending = 0;
  #errors = 0;
  #claims = 0;
  #retrying = false;
  #stopped = false;

  /** @internal Use {@linkcode jetStreamSource}. */
  constructor(executor: Executor, o: Resolved<T>) {
    this.#ex = executor;
    this.#nc = o.connection;
    this.#o = o;
    this.#js = jetstream(o.connection);
    const maxBatch = o.maxBatch, decode = o.decode;
    const [node, tx] = new NodeBuilder<JetStreamBatch<T>>({ messages: [] })
      .named(o.name)
      .onDrop(() => void this.stop())
      .buildWith(executor, localChannel<JsMsg>({ capacity: o.capacity }), (self, ctx, rx) => {
        const out = self.value.messages;
        out.length = 0;
        const settles: Settle[] = [];
        for (let k = 0; k < maxBatch; k++) {
          const m = rx.tryRecv();
          if (m === undefined) break;
          let value: T;
          try {
            value = decode(m.data, m.subject);
          } catch (cause) {
            this.#bad++;
            settles.push({ msg: m, term: true });
            this.#report(
              new SourceError(
                `the message of stream ${o.stream} on ${m.subject} could not be decoded: ${
                  describeThrown(cause)
                }`,
                { record: m.seq },
                { cause },
              ),
            );
            continue;
          }
          out.push({ value, seq: m.seq, subject: m.subject, redelivered: m.redelivered });
          settles.push({ msg: m, term: false });
        }
        if (settles.length > 0) {
          this.#queued -= settles.length;
          this.#delivered += out.length;
          this.#awaiting.push({ epoch: ctx.epoch, settles });
          this.#queueFlush();
          this.#wakeSpace();
        }
        return out.length > 0 ? Control.Broadcast : Control.Unchanged;
      });
    this.node = node;
    this.#tx = tx;
    this.claimed = new Promise((resolve) => this.#claimed = resolve);
    this.#pump = this.#run();
  }

  /**
   * Acknowledges what a cycle consumed only once each sink has stored what it was given up to
   * that cycle: a crash then never loses an input whose outputs were not stored yet (they are
   * redelivered, and the sinks' message ids make their second publication a no-op).
   *
   * @param gates The sinks (or other commit gates) downstream of this source.
   * @throws {InvalidArgumentError} If a gate is not one.
   */
  commitAfter(...gates: CommitGate[]): void {
    for (const g of gates) {
      let ok = false;
      try {
        ok = g !== null && typeof g === "object" && typeof g.committedThrough === "function" &&
          typeof g.onCommit === "function";
      } catch {
        ok = false;
      }
      if (!ok) throw invalid(`commitAfter takes sinks or commit gates, got ${describe(g)}`);
    }
    for (const g of gates) {
      this.#gates.push(g);
      g.onCommit(() => this.#queueFlush());
    }
  }

  /**
   * A snapshot of the source's counters (read-only).
   *
   * @returns The counters.
   */
  state(): JetStreamSourceState {
    return {
      fetched: this.#fetched,
      delivered: this.#delivered,
      acked: this.#acked,
      queued: this.#queued,
      unacked: this.#unacked,
      duplicates: this.#duplicates,
      bad: this.#bad,
      pending: this.#pending,
      ackedThrough: this.#ackedThrough,
      errors: this.#errors,
      claims: this.#claims,
      retrying: this.#retrying,
      stopped: this.#stopped,
    };
  }

  /**
   * Stops fetching, acknowledges what completed cycles consumed (as far as the gates allow) and
   * flushes the acknowledgements to the server. Messages not acknowledged are redelivered to the
   * next owner of the consumer. The node stays (remove it to drop it). Idempotent.
   *
   * @returns Resolves once the acknowledgements were flushed.
   */
  async stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      try {
        this.#fetch?.stop();
      } catch {
        // Already over.
      }
      this.#sleep.cancel?.();
      this.#wakeSpace();
      this.#claimed?.();
      if (!this.#tx.isClosed) this.#tx.close();
    }
    await this.#pump;
    this.#flush();
    try {
      if (!this.#nc.isClosed()) await this.#nc.flush();
    } catch {
      // A connection that went away: the server redelivers what was not acknowledged.
    }
    this.#stopped = true;
  }

  /** The fetch loop: claim the consumer, fetch what fits, retry failures with backoff. */
  async #run(): Promise<void> {
    const o = this.#o;
    let delay = o.retryMs;
    while (!this.#stopping) {
      let op = "consumer";
      try {
        if (this.#consumer === null) {
          await this.#claim();
          this.#claimed?.();
          this.#claimed = null;
        }
        const room = Math.min(o.capacity - this.#queued, o.maxAckPending - this.#unacked);
        if (room <= 0) {
          await new Promise<void>((resolve) => this.#space = resolve);
          continue;
        }
        op = "fetch";
        const it = this.#fetch = await this.#consumer!.fetch({
          max_messages: room,
          expires: o.expiresMs,
        });
        for await (const m of it) this.#arrive(m);
        this.#fetch = null;
        delay = o.retryMs;
        this.#retrying = false;
      } catch (e) {
        this.#fetch = null;
        if (this.#stopping) break;
        const err = classify(op, e);
        if (this.#nc.isClosed()) {
          // Closed for good (by its owner, or out of reconnection attempts): nothing to retry.
          this.#report(
            new JetStreamError(
              op,
              "the connection is closed, so the source stops fetching",
              ErrorCode.NatsDisconnected,
              { cause: e },
            ),
          );
          break;
        }
        this.#report(err);
        if (err.code === ErrorCode.NatsNotFound) this.#consumer = null;
        else if (this.#consumer !== null) await this.#probe();
        this.#retrying = true;
        await wait(delay, this.#sleep);
        delay = Math.min(o.maxRetryMs, delay * 2);
      }
    }
  }

  /**
   * Creates the durable consumer at the acknowledged position: an existing one is read for its
   * acknowledgement floor and replaced by one that starts right after it, so messages that a
   * previous owner had fetched but not acknowledged come first and in order, not after an
   * acknowledgement timeout behind newer ones.
   */
  async #claim(): Promise<void> {
    const o = this.#o;
    const jsm: JetStreamManager = await jetstreamManager(this.#nc);
    let start = 0;
    let existing = false;
    try {
      const info = await jsm.consumers.info(o.stream, o.durable);
      existing = true;
      start = info.ack_floor.stream_seq + 1;
    } catch (e) {
      if (classify("consumer info", e).code !== ErrorCode.NatsNotFound) throw e;
    }
    // This source may know better: acknowledgements it sent may still be on their way.
    if (this.#ackedThrough > 0) start = Math.max(start, this.#ackedThrough + 1);
    if (existing) await jsm.consumers.delete(o.stream, o.durable);
    await jsm.consumers.add(o.stream, {
      durable_name: o.durable,
      ack_policy: AckPolicy.Explicit,
      ack_wait: o.ackWaitMs * 1e6,
      max_ack_pending: o.maxAckPending,
      ...(o.filterSubject === null ? {} : { filter_subject: o.filterSubject }),
      ...(start > 0
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start }
        : { deliver_policy: o.deliver === "new" ? DeliverPolicy.New : DeliverPolicy.All }),
    });
    this.#consumer = await this.#js.consumers.get(o.stream, o.durable);
    this.#claims++;
  }

  /**
   * After a failed fetch: does the consumer still exist? A pull request on a deleted consumer
   * fails only by missing heartbeats, which looks like a server that is away; asking tells
   * them apart, and a consumer that is gone is claimed again.
   */
  async #probe(): Promise<void> {
    try {
      await this.#consumer!.info(false);
    } catch (e) {
      const err = classify("consumer info", e);
      if (err.code !== ErrorCode.NatsNotFound) return; // away: the retry finds out
      this.#consumer = null;
      this.#report(err);
    }
  }

  /** A fetched message: into the channel, unless the graph already has it. */
  #arrive(m: JsMsg): void {
    const seq = m.seq;
    try {
      this.#pending = m.info.pending;
    } catch {
      // A message without consumer metadata: keep the last figure.
    }
    if (seq <= this.#lastSeq) {
      // A redelivery (a lost acknowledgement, or a consumer claimed again behind messages in
      // flight): the graph has it already, so it is only acknowledged, with the original.
      this.#duplicates++;
      if (seq <= this.#ackedThrough) this.#ack(m, false);
      else this.#dupes.push(m);
      return;
    }
    this.#lastSeq = seq;
    const s = this.#tx.trySend(m);
    if (s !== SendStatus.Sent) return; // the node is gone: the message is redelivered later
    this.#fetched++;
    this.#queued++;
    this.#unacked++;
  }

  #ack(m: JsMsg, term: boolean): void {
    try {
      if (term) m.term();
      else m.ack();
    } catch (e) {
      // The connection is gone: the server redelivers, and the duplicate filter drops it.
      this.#report(classify("ack", e));
    }
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    // A microtask runs once the synchronous burst of cycles that queued it has returned, so
    // the cycle that consumed the messages has completed.
    queueMicrotask(() => {
      this.#flushQueued = false;
      if (this.#ex.inCycle) {
        setTimeout(() => this.#queueFlush(), 0);
        return;
      }
      this.#flush();
    });
  }

  /** Acknowledges every committed cycle's messages, oldest first. */
  #flush(): void {
    const a = this.#awaiting;
    let n = 0;
    while (n < a.length) {
      const { epoch, settles } = a[n];
      if (!this.#gates.every((g) => g.committedThrough(epoch))) break;
      for (const s of settles) {
        this.#ack(s.msg, s.term);
        this.#acked++;
        this.#unacked--;
        if (s.msg.seq > this.#ackedThrough) this.#ackedThrough = s.msg.seq;
      }
      n++;
    }
    if (n > 0) {
      a.splice(0, n);
      const d = this.#dupes;
      let k = 0;
      while (k < d.length && d[k].seq <= this.#ackedThrough) this.#ack(d[k++], false);
      if (k > 0) d.splice(0, k);
      this.#wakeSpace();
    }
  }

  #wakeSpace(): void {
    const s = this.#space;
    this.#space = null;
    s?.();
  }

  #report(e: JetStreamError | SourceError): void {
    this.#errors++;
    reportError(this.#ex, e, this.node, "source");
  }
}

/** The options once checked. */
type Resolved<T> = {
  connection: NatsConnection;
  stream: string;
  durable: string;
  filterSubject: string | null;
  decode: (data: Uint8Array, subject: string) => T;
  name: string;
  capacity: number;
  maxAckPending: number;
  maxBatch: number;
  expiresMs: number;
  ackWaitMs: number;
  deliver: "all" | "new";
  retryMs: number;
  maxRetryMs: number;
};

/** Checks the source's options (also used by the partition helpers). */
export function resolveSourceOptions<T>(options: JetStreamSourceOptions<T>): Resolved<T> {
  const o = checkOptions(options, "jetStreamSource's options", [
    "connection",
    "stream",
    "durable",
    "filterSubject",
    "decode",
    "name",
    "capacity",
    "maxAckPending",
    "maxBatch",
    "expiresMs",
    "ackWaitMs",
    "deliver",
    "retryMs",
    "maxRetryMs",
  ]);
  const capacity = checkInteger(orDefault(o.capacity, 1024), "The capacity option", 1, 1 << 20);
  const retryMs = checkInteger(orDefault(o.retryMs, 50), "The retryMs option", 1, 3.6e6);
  return {
    connection: checkConnection(o.connection),
    stream: checkName(o.stream, "The stream option"),
    durable: checkName(o.durable, "The durable option"),
    filterSubject: o.filterSubject === undefined
      ? null
      : checkString(o.filterSubject, "The filterSubject option"),
    decode: o.decode === undefined
      ? ((d: Uint8Array) => d as unknown as T)
      : checkFunction(o.decode, "The decode option"),
    name: o.name === undefined ? "jetstream.source" : checkString(o.name, "The name option"),
    capacity,
    maxAckPending: checkInteger(
      orDefault(o.maxAckPending, Math.min(1 << 20, 4 * capacity)),
      "The maxAckPending option",
      1,
      1 << 20,
    ),
    maxBatch: checkInteger(orDefault(o.maxBatch, 1024), "The maxBatch option", 1, 1 << 20),
    expiresMs: checkInteger(orDefault(o.expiresMs, 5000), "The expiresMs option", 1000, 3.6e6),
    ackWaitMs: checkInteger(orDefault(o.ackWaitMs, 30_000), "The ackWaitMs option", 1000, 3.6e6),
    deliver: checkOneOf(orDefault(o.deliver, "all"), ["all", "new"] as const, "The deliver option"),
    retryMs,
    maxRetryMs: checkInteger(
      orDefault(o.maxRetryMs, 5000),
      "The maxRetryMs option",
      retryMs,
      3.6e6,
    ),
  };
}

/** A stream or consumer name: letters, digits, `-` and `_` (what JetStream accepts). */
export function checkName(v: unknown, name: string): string {
  const s = checkString(v, name);
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(s)) {
    throw invalid(`${name} must be 1 to 128 letters, digits, - or _, got ${describe(s)}`);
  }
  return s;
}

/** A NATS connection, by shape (the client's class is not ours to import for instanceof). */
export function checkConnection(v: unknown): NatsConnection {
  let ok = false;
  try {
    const c = v as NatsConnection;
    ok = v !== null && typeof v === "object" && typeof c.publish === "function" &&
      typeof c.request === "function" && typeof c.isClosed === "function" &&
      typeof c.flush === "function";
  } catch {
    ok = false;
  }
  if (!ok) {
    throw invalid(
      `The connection option must be a NATS connection (connect() of @nats-io/transport-node), got ${
        describe(v)
      }`,
    );
  }
  return v as NatsConnection;
}

/**
 * A source node on a JetStream durable pull consumer. Messages enter through a channel of
 * `capacity` (fetching stops while it is full, or while `maxAckPending` messages await their
 * acknowledgement); the node's value is the batch it took in its last run, decoded. Each message
 * is acknowledged only after the cycle that consumed it completed, and after the sinks given to
 * {@linkcode JetStreamSource.commitAfter} stored what that cycle produced. On start the consumer
 * is created, or re-created at its acknowledged position, so a restarted process resumes where
 * the acknowledgements stopped. Redeliveries of messages the graph already has are dropped (and
 * acknowledged with the original). Failures (server gone, consumer deleted, timeouts) are
 * reported to `executor.onError` as {@linkcode JetStreamError}s (phase `"source"`) and retried
 * with backoff; a deleted consumer is created again at the acknowledged position. A payload
 * that `decode` refuses is reported as a `SourceError` (`SOURCE_BAD_RECORD`) and terminated
 * (never redelivered). The client lives on the host event loop: run the graph with `run()`.
 *
 * @param executor The executor to build into.
 * @param options Connection, stream, durable name, filter, decode, capacities, timings.
 * @returns The source (its node, `state()`, `commitAfter`, `stop()`).
 * @throws {InvalidArgumentError} If the executor or an option is not valid (nothing built).
 *
 * @example Counting the messages of a stream
 * ```ts ignore
 * import { connect } from "@nats-io/transport-node";
 * import { ExecutionMode, NodeBuilder, RealtimeRuntime } from "@wavelet/wavelet";
 * import { jetStreamSource } from "@wavelet/wavelet/nats";
 *
 * const nc = await connect({ servers: "127.0.0.1:4222" });
 * const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
 * const src = jetStreamSource(rt.executor, { connection: nc, stream: "ORDERS", durable: "count" });
 * new NodeBuilder(0).triggeredBy(src.node).build(rt.executor, (self) => {
 *   self.value += src.node.value.messages.length;
 *   return true;
 * });
 * await rt.run();
 * ```
 */
export function jetStreamSource<T = Uint8Array>(
  executor: Executor,
  options: JetStreamSourceOptions<T>,
): JetStreamSource<T> {
  checkExecutor(executor, "jetStreamSource's executor");
  return new JetStreamSource<T>(executor, resolveSourceOptions(options));
}
