/**
 * Partitions across processes: a stream whose subjects are partitioned by key with NATS's
 * subject mapping (`partition()`), and a process that owns a set of partitions through one
 * durable consumer per partition, each resuming from its acknowledged position after a restart.
 *
 * @module
 */

import { jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { Executor } from "../core/executor.ts";
import type { Node } from "../core/node.ts";
import { checkExecutor } from "../core/check_node.ts";
import {
  checkInteger,
  checkOneOf,
  checkOptions,
  checkString,
  describe,
  invalid,
} from "../core/validate.ts";
import { fnv1a32 } from "../shard/hash.ts";
import {
  checkConnection,
  checkName,
  type CommitGate,
  type JetStreamBatch,
  JetStreamSource,
  type JetStreamSourceOptions,
  type JetStreamSourceState,
  type NatsConnectionLike,
  resolveSourceOptions,
} from "./source.ts";
import { classify } from "./errors.ts";

/** The default when the option is absent (null is no absence: it is checked and refused). */
const orDefault = <T>(v: T | undefined, d: T): T => v === undefined ? d : v;

/**
 * The partition NATS's `partition(n, ...)` mapping puts a key in: FNV-1a (32-bit) of the key
 * token's bytes, modulo `partitions`. A producer can use it to know where a key goes; the
 * server computes the same.
 *
 * @param key The key token (a number is written in decimal, as a subject token would be).
 * @param partitions How many partitions: [1, 1024].
 * @returns The partition, in [0, partitions).
 * @throws {InvalidArgumentError} If the count is out of range or the key is not a string or a
 *   safe integer.
 *
 * @example Where keys go
 * ```ts
 * import { partitionOf } from "@wavelet/wavelet/nats";
 *
 * const p = partitionOf("acct-7", 4);
 * if (p !== partitionOf("acct-7", 4) || p < 0 || p > 3) throw new Error("stable, in range");
 * if (partitionOf(12, 4) !== partitionOf("12", 4)) throw new Error("numbers as decimal tokens");
 * ```
 */
export function partitionOf(key: string | number, partitions: number): number {
  checkInteger(partitions, "The partition count", 1, 1024);
  if (typeof key === "number" ? !Number.isSafeInteger(key) : typeof key !== "string") {
    throw invalid(`A partition key must be a string or a safe integer, got ${describe(key)}`);
  }
  return fnv1a32(String(key)) % partitions;
}

/**
 * The account mapping that partitions `subject.<key>` into `subject.<partition>.<key>` with
 * NATS's `partition()` function. Put it in the server's configuration (`mappings`; see
 * {@linkcode startNatsServer}), publish to `subject.<key>`, and consume `subject.<partition>.*`
 * ({@linkcode partitionedSource}).
 *
 * @param subject The subject prefix, without wildcards (`orders`).
 * @param partitions How many partitions: [1, 1024].
 * @returns `[from, to]`, an entry of the mappings.
 * @throws {InvalidArgumentError} If the subject has wildcards or empty tokens, or the count is
 *   out of range.
 *
 * @example Four partitions of orders
 * ```ts
 * import { partitionMapping } from "@wavelet/wavelet/nats";
 *
 * const [from, to] = partitionMapping("orders", 4);
 * if (from !== "orders.*" || to !== "orders.{{partition(4,1)}}.{{wildcard(1)}}") {
 *   throw new Error(`${from} -> ${to}`);
 * }
 * ```
 */
export function partitionMapping(subject: string, partitions: number): [string, string] {
  checkSubjectPrefix(subject);
  checkInteger(partitions, "The partition count", 1, 1024);
  return [`${subject}.*`, `${subject}.{{partition(${partitions},1)}}.{{wildcard(1)}}`];
}

/** A subject prefix: dot-separated non-empty tokens without wildcards or spaces. */
function checkSubjectPrefix(subject: unknown): string {
  const s = checkString(subject, "The subject");
  if (!/^[^.*>\s]+(\.[^.*>\s]+)*$/.test(s)) {
    throw invalid(`The subject must be tokens without wildcards or spaces, got ${describe(s)}`);
  }
  return s;
}

/**
 * Options of {@linkcode ensureStream}.
 *
 * @example A partitioned stream with a 5-minute duplicate window
 * ```ts
 * import type { StreamOptions } from "@wavelet/wavelet/nats";
 *
 * const o: Omit<StreamOptions, "connection"> = {
 *   stream: "ORDERS",
 *   subjects: ["orders.*.*"],
 *   duplicateWindowMs: 300_000,
 * };
 * if (o.subjects.length !== 1) throw new Error("one subject");
 * ```
 */
export interface StreamOptions {
  /** The NATS connection. */
  connection: NatsConnectionLike;
  /** The stream's name. */
  stream: string;
  /** The subjects it stores. */
  subjects: string[];
  /** JetStream's de-duplication window for message ids, in ms (default 120000). */
  duplicateWindowMs?: number;
  /** `"file"` (default) or `"memory"`. */
  storage?: "file" | "memory";
}

/**
 * Creates a stream, or updates its subjects and duplicate window if it exists.
 *
 * @param options Connection, name, subjects, duplicate window, storage.
 * @returns Resolves once the stream exists.
 * @throws {InvalidArgumentError} If an option is not valid.
 * @throws {JetStreamError} If the server refuses or cannot be reached.
 *
 * @example The stream of a partitioned subject
 * ```ts ignore
 * await ensureStream({ connection: nc, stream: "ORDERS", subjects: ["orders.*.*"] });
 * ```
 */
export async function ensureStream(options: StreamOptions): Promise<void> {
  const o = checkOptions(options, "ensureStream's options", [
    "connection",
    "stream",
    "subjects",
    "duplicateWindowMs",
    "storage",
  ]);
  const nc = checkConnection(o.connection);
  const name = checkName(o.stream, "The stream option");
  if (!Array.isArray(o.subjects) || o.subjects.length === 0) {
    throw invalid(`The subjects option must be a non-empty array, got ${describe(o.subjects)}`);
  }
  const subjects = o.subjects.map((s) => checkString(s, "A subject"));
  const windowMs = checkInteger(
    orDefault(o.duplicateWindowMs, 120_000),
    "The duplicateWindowMs option",
    1,
    8.64e7,
  );
  const storage = checkOneOf(
    orDefault(o.storage, "file"),
    ["file", "memory"] as const,
    "The storage",
  );
  try {
    const jsm = await jetstreamManager(nc);
    const config = {
      name,
      subjects,
      duplicate_window: windowMs * 1e6,
      retention: RetentionPolicy.Limits,
      storage: storage === "file" ? StorageType.File : StorageType.Memory,
    };
    try {
      const info = await jsm.streams.info(name);
      await jsm.streams.update(name, {
        ...info.config,
        subjects,
        duplicate_window: config.duplicate_window,
      });
    } catch (e) {
      if (classify("stream info", e).code !== "NATS_NOT_FOUND") throw e;
      await jsm.streams.add(config);
    }
  } catch (e) {
    throw classify("stream", e);
  }
}

/**
 * Options of {@linkcode partitionedSource}: those of a source, less the consumer's name and
 * filter, which come from the partition.
 *
 * @example Owning partitions 0 and 2 of 4
 * ```ts
 * import type { PartitionedSourceOptions } from "@wavelet/wavelet/nats";
 *
 * type O = Omit<PartitionedSourceOptions<Uint8Array>, "connection">;
 * const o: O = { stream: "ORDERS", subject: "orders", partitions: 4, owned: [0, 2], durablePrefix: "calc" };
 * if (o.owned.length !== 2) throw new Error("two partitions");
 * ```
 */
export interface PartitionedSourceOptions<T>
  extends Omit<JetStreamSourceOptions<T>, "durable" | "filterSubject" | "name"> {
  /** The subject prefix the mapping partitions (`orders`: partitions are `orders.<p>.*`). */
  subject: string;
  /** How many partitions the mapping makes. */
  partitions: number;
  /** The partitions this process owns (each by one durable consumer). */
  owned: number[];
  /** Consumer names are `<durablePrefix>-<partition>`. */
  durablePrefix: string;
}

/**
 * One owned partition's state: its index and its source's counters.
 *
 * @example Per-partition lag
 * ```ts
 * import type { PartitionState } from "@wavelet/wavelet/nats";
 *
 * const lag = (ps: PartitionState[]) => ps.map((p) => `${p.partition}:${p.pending}`).join(" ");
 * if (lag([]) !== "") throw new Error("none");
 * ```
 */
export interface PartitionState extends JetStreamSourceState {
  /** The partition. */
  readonly partition: number;
}

/**
 * The partitions a process owns: one {@linkcode JetStreamSource} per partition, each on its own
 * durable consumer filtered to the partition's subjects. Built by {@linkcode partitionedSource}.
 *
 * @example Reading per-partition counts
 * ```ts ignore
 * for (const p of owned.state()) console.log(p.partition, p.delivered, p.pending);
 * ```
 */
export class PartitionedSource<T> {
  /** The source of each owned partition. */
  readonly sources: ReadonlyMap<number, JetStreamSource<T>>;

  /** @internal Use {@linkcode partitionedSource}. */
  constructor(sources: Map<number, JetStreamSource<T>>) {
    this.sources = sources;
  }

  /** The source nodes, in partition order (trigger a node by all of them to merge them). */
  get nodes(): Node<JetStreamBatch<T>>[] {
    return [...this.sources.values()].map((s) => s.node);
  }

  /**
   * Every partition acknowledges only after these sinks stored what a cycle produced.
   *
   * @param gates The sinks downstream.
   */
  commitAfter(...gates: CommitGate[]): void {
    for (const s of this.sources.values()) s.commitAfter(...gates);
  }

  /**
   * A snapshot of every owned partition's counters.
   *
   * @returns One entry per owned partition, in partition order.
   */
  state(): PartitionState[] {
    return [...this.sources].map(([partition, s]) => ({ partition, ...s.state() }));
  }

  /**
   * Stops every partition's source (see {@linkcode JetStreamSource.stop}).
   *
   * @returns Resolves once all stopped.
   */
  async stop(): Promise<void> {
    await Promise.all([...this.sources.values()].map((s) => s.stop()));
  }
}

/**
 * Sources for the partitions this process owns: for each partition `p` of `owned`, a source
 * node on the durable consumer `<durablePrefix>-<p>` filtered to `<subject>.<p>.*` (the subjects
 * {@linkcode partitionMapping} writes). Each consumer resumes from its acknowledged position
 * when the process starts again, and one key's messages stay in one partition, in order.
 *
 * @param executor The executor to build into.
 * @param options The source options plus subject, partition count, owned partitions and the
 *   consumer name prefix.
 * @returns The partitions' sources.
 * @throws {InvalidArgumentError} If an option is not valid or a partition is out of range or
 *   named twice (nothing is built).
 *
 * @example Owning two of four partitions
 * ```ts ignore
 * const owned = partitionedSource(rt.executor, {
 *   connection: nc,
 *   stream: "ORDERS",
 *   subject: "orders",
 *   partitions: 4,
 *   owned: [0, 1],
 *   durablePrefix: "calc",
 * });
 * new NodeBuilder(0).triggeredBy(...owned.nodes).build(rt.executor, () => true);
 * ```
 */
export function partitionedSource<T = Uint8Array>(
  executor: Executor,
  options: PartitionedSourceOptions<T>,
): PartitionedSource<T> {
  checkExecutor(executor, "partitionedSource's executor");
  if (options === null || typeof options !== "object") {
    throw invalid(`partitionedSource's options must be an object, got ${describe(options)}`);
  }
  const { subject, partitions, owned, durablePrefix, ...rest } = options;
  const prefix = checkSubjectPrefix(subject);
  const n = checkInteger(partitions, "The partitions option", 1, 1024);
  if (!Array.isArray(owned) || owned.length === 0) {
    throw invalid(`The owned option must be a non-empty array, got ${describe(owned)}`);
  }
  const parts = owned.map((p) => checkInteger(p, "An owned partition", 0, n - 1));
  if (new Set(parts).size !== parts.length) {
    throw invalid(`The owned option names a partition twice: ${parts.join(", ")}`);
  }
  checkName(durablePrefix, "The durablePrefix option");
  const resolved = parts.sort((a, b) => a - b).map((p) => ({
    p,
    o: resolveSourceOptions<T>({
      ...rest,
      durable: `${durablePrefix}-${p}`,
      filterSubject: `${prefix}.${p}.*`,
      name: `${prefix}.partition.${p}`,
    }),
  }));
  const sources = new Map<number, JetStreamSource<T>>();
  for (const { p, o } of resolved) sources.set(p, new JetStreamSource<T>(executor, o));
  return new PartitionedSource(sources);
}
