/**
 * What a shard module declares ({@linkcode defineShard}) and how one shard's graph is built from
 * it: the input node fed by the ring channel the main thread routes records into, then the
 * user's graph, which emits records back to the main graph. The same build runs in a shard's
 * Worker and in {@linkcode replayShard}, so a recorded shard replays into the same graph.
 *
 * @module
 */

import { Control } from "../core/control.ts";
import { ErrorCode, WaveletError } from "../core/errors.ts";
import type { Executor } from "../core/executor.ts";
import type { Node } from "../core/node.ts";
import { NodeBuilder } from "../core/builder.ts";
import { checkFunction, checkOptions, checkString, describe, invalid } from "../core/validate.ts";
import { ringChannel } from "../channel/build.ts";
import type { RingSender } from "../channel/channel.ts";
import {
  defineRecord,
  type FieldType,
  type RecordLayout,
  type RecordOf,
} from "../channel/record.ts";
import { RecvStatus } from "../channel/status.ts";

/**
 * A shard failed: its graph threw (the error is the cause), its Worker could not start or died,
 * or its module does not declare a shard. Code `SHARD_FAILED`; `shard` says which one.
 *
 * @example Telling shard failures apart
 * ```ts
 * import { ErrorCode } from "@wavelet/wavelet";
 * import { ShardError } from "@wavelet/wavelet/shard";
 *
 * const e = new ShardError("Shard 2 failed: boom", 2);
 * if (e.code !== ErrorCode.ShardFailed || e.shard !== 2) throw new Error("code and index");
 * ```
 */
export class ShardError extends WaveletError {
  /** `SHARD_FAILED` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.ShardFailed;
  /** The shard's index, or -1 when the failure concerns no single shard. */
  readonly shard: number;

  /**
   * Creates the error.
   *
   * @param message What failed.
   * @param shard The shard's index (-1 for none).
   * @param options `cause`, and `code` when not `SHARD_FAILED`.
   */
  constructor(message: string, shard: number, options?: ErrorOptions & { code?: ErrorCode }) {
    super(message, options);
    this.shard = shard;
  }
}

/**
 * The records a shard's input node (or the main graph's output node) took in one run: `items`
 * is reused from run to run, and so are its record objects (copy what you keep). `ended` turns
 * true once, in a run of its own, when no more records will come.
 *
 * @example Summing a batch
 * ```ts
 * import type { ShardBatch } from "@wavelet/wavelet/shard";
 *
 * const batch: ShardBatch<{ key: "u32"; qty: "f64" }> = {
 *   items: [{ key: 1, qty: 2 }, { key: 1, qty: 3 }],
 *   ended: false,
 * };
 * let total = 0;
 * for (const r of batch.items) total += r.qty;
 * if (total !== 5) throw new Error("expected 5");
 * ```
 */
export interface ShardBatch<F extends Record<string, FieldType>> {
  /** The records of this run, in arrival order. */
  items: RecordOf<F>[];
  /** No more records will come. */
  ended: boolean;
}

/**
 * What a shard's build function gets: its executor, its place among the shards, the input node,
 * and `emit` to send a record to the main graph's output node.
 *
 * @example A build function that forwards each record
 * ```ts
 * import { NodeBuilder } from "@wavelet/wavelet";
 * import { defineRecord } from "@wavelet/wavelet/channel";
 * import type { ShardContext } from "@wavelet/wavelet/shard";
 *
 * const Rec = defineRecord({ key: "u32", v: "f64" });
 * function build(ctx: ShardContext<typeof Rec.fields, typeof Rec.fields>): void {
 *   new NodeBuilder(0).triggeredBy(ctx.input).build(ctx.executor, () => {
 *     for (const r of ctx.input.value.items) ctx.emit(r);
 *     return false;
 *   });
 * }
 * if (typeof build !== "function") throw new Error("a function");
 * ```
 */
export interface ShardContext<
  I extends Record<string, FieldType>,
  O extends Record<string, FieldType>,
  P = unknown,
> {
  /** The shard's executor: build the graph into it. */
  readonly executor: Executor;
  /** This shard's index, in [0, shards). */
  readonly shard: number;
  /** How many shards there are. */
  readonly shards: number;
  /** How many times this shard was restarted before this start (0 the first time). */
  readonly incarnation: number;
  /** The `params` option of the sharded runtime (structured-cloned). */
  readonly params: P;
  /** The node the routed records arrive at (named `shard.input`), a batch per run. */
  readonly input: Node<ShardBatch<I>>;
  /**
   * Sends a record to the main graph's output node. Records of one shard arrive there in the
   * order they were emitted. Waits while the main graph's channel is full.
   *
   * @throws {ShardError} If the shard declares no output, or the main graph's output node is gone.
   * @throws {RecordError} If a field cannot be stored.
   */
  emit(record: Partial<RecordOf<O>>): void;
}

/**
 * A shard declaration: the module it lives in, its input and output records, the input field
 * records are routed by, and the build function. Made by {@linkcode defineShard}.
 *
 * @example Reading a declaration
 * ```ts
 * import { defineRecord } from "@wavelet/wavelet/channel";
 * import { defineShard, type ShardDefinition } from "@wavelet/wavelet/shard";
 *
 * const Rec = defineRecord({ key: "u32", v: "f64" });
 * const def: ShardDefinition<typeof Rec.fields, typeof Rec.fields> = defineShard(
 *   import.meta.url,
 *   { input: Rec, output: Rec, key: "key", build: () => {} },
 * );
 * if (def.key !== "key" || def.module !== import.meta.url) throw new Error("as declared");
 * ```
 */
export interface ShardDefinition<
  I extends Record<string, FieldType>,
  O extends Record<string, FieldType>,
  P = unknown,
> {
  /** Marks a declaration (the Worker looks for it among the module's exports). */
  readonly kind: "wavelet.shard";
  /** The URL of the module that declares it (`import.meta.url`). */
  readonly module: string;
  /** The declaration's name, unique in its module (default `"default"`). */
  readonly name: string;
  /** The input record. */
  readonly input: RecordLayout<I>;
  /** The output record, or null for a shard that emits nothing. */
  readonly output: RecordLayout<O> | null;
  /** The input field records are routed by (an integer field). */
  readonly key: keyof I & string;
  /** Builds the shard's graph. */
  readonly build: (ctx: ShardContext<I, O, P>) => void;
}

/**
 * Declares a shard: the graph each shard's Worker builds. Call it at the top level of a module
 * of its own and export the result; pass `import.meta.url` so that the Workers (and
 * {@linkcode replayShard}) load the same module. A module may declare several shards with
 * distinct names.
 *
 * @param module The declaring module's URL: `import.meta.url`.
 * @param spec The input record, the output record (optional), the routing key field, a name
 *   (optional) and the build function.
 * @returns The declaration, to export and to pass to {@linkcode ShardedRuntime.start}.
 * @throws {InvalidArgumentError} If the module is not a URL, a layout is not one from
 *   `defineRecord`, the key is not an integer field of the input, or build is not a function.
 *
 * @example A shard that keeps a running sum per key
 * ```ts
 * import { NodeBuilder } from "@wavelet/wavelet";
 * import { defineRecord } from "@wavelet/wavelet/channel";
 * import { defineShard } from "@wavelet/wavelet/shard";
 *
 * export const Trade = defineRecord({ account: "u32", qty: "f64" });
 * export const Total = defineRecord({ account: "u32", total: "f64" });
 * export default defineShard(import.meta.url, {
 *   input: Trade,
 *   output: Total,
 *   key: "account",
 *   build(ctx) {
 *     const totals = new Map<number, number>();
 *     new NodeBuilder(0).named("totals").triggeredBy(ctx.input).build(ctx.executor, () => {
 *       for (const t of ctx.input.value.items) {
 *         const total = (totals.get(t.account) ?? 0) + t.qty;
 *         totals.set(t.account, total);
 *         ctx.emit({ account: t.account, total });
 *       }
 *       return false;
 *     });
 *   },
 * });
 * ```
 */
export function defineShard<
  I extends Record<string, FieldType>,
  O extends Record<string, FieldType> = Record<never, FieldType>,
  P = unknown,
>(
  module: string,
  spec: {
    input: RecordLayout<I>;
    output?: RecordLayout<O>;
    key: keyof I & string;
    name?: string;
    build: (ctx: ShardContext<I, O, P>) => void;
  },
): ShardDefinition<I, O, P> {
  checkString(module, "defineShard's module");
  try {
    new URL(module);
  } catch {
    throw invalid(`defineShard's module must be a URL (import.meta.url), got ${describe(module)}`);
  }
  const s = checkOptions(spec, "defineShard's declaration", [
    "input",
    "output",
    "key",
    "name",
    "build",
  ]);
  const input = layoutOf(s.input, "defineShard's input") as unknown as RecordLayout<I>;
  const output = s.output === undefined
    ? null
    : layoutOf(s.output, "defineShard's output") as unknown as RecordLayout<O>;
  const key = checkString(s.key, "defineShard's key");
  const k = input.names.indexOf(key as keyof I & string);
  if (k < 0) {
    throw invalid(`defineShard's key ${describe(key)} is not a field of the input record`);
  }
  const name = s.name === undefined ? "default" : checkString(s.name, "defineShard's name");
  const build = checkFunction<(ctx: ShardContext<I, O, P>) => void>(
    s.build,
    "defineShard's build",
  );
  return Object.freeze({
    kind: "wavelet.shard" as const,
    module,
    name,
    input,
    output,
    key: key as keyof I & string,
    build,
  });
}

/** A layout rebuilt from its declaration: a hand-made object cannot misplace a field. */
function layoutOf(v: unknown, name: string): RecordLayout<Record<string, FieldType>> {
  let fields: unknown;
  try {
    fields = v !== null && typeof v === "object"
      ? (v as RecordLayout<Record<string, FieldType>>).fields
      : undefined;
  } catch (cause) {
    throw invalid(`${name} could not be read`, cause);
  }
  if (fields === null || typeof fields !== "object") {
    throw invalid(`${name} must be a record layout from defineRecord(), got ${describe(v)}`);
  }
  return defineRecord(fields as Record<string, FieldType>);
}

/** True for a value made by defineShard (possibly in another module instance). */
export function isShardDefinition(v: unknown): v is ShardDefinition<never, never, unknown> {
  try {
    return v !== null && typeof v === "object" &&
      (v as { kind?: unknown }).kind === "wavelet.shard" &&
      typeof (v as { build?: unknown }).build === "function";
  } catch {
    return false;
  }
}

/** What one shard's build needs besides the declaration. */
export interface ShardBuildInfo {
  /** This shard's index. */
  shard: number;
  /** How many shards. */
  shards: number;
  /** Restarts before this start. */
  incarnation: number;
  /** The user's parameters. */
  params: unknown;
  /** Input ring capacity. */
  capacity: number;
  /** Most records per run of the input node. */
  maxBatch: number;
}

/** A record object with every field of `layout` at 0. */
export function blankRecord<F extends Record<string, FieldType>>(
  layout: RecordLayout<F>,
): RecordOf<F> {
  const r = {} as Record<string, number>;
  for (const n of layout.names) r[n] = 0;
  return r as RecordOf<F>;
}

/**
 * Builds one shard's graph into `ex`: the input node, then the declaration's build. Returns the
 * input node's sender (for the main thread). `consumed(n)` hears how many records each run of
 * the input node took; `ended()` runs once, in the run that sees the channel closed.
 */
export function buildShardGraph<
  I extends Record<string, FieldType>,
  O extends Record<string, FieldType>,
>(
  ex: Executor,
  def: ShardDefinition<I, O, unknown>,
  info: ShardBuildInfo,
  emit: (record: Partial<RecordOf<O>>) => void,
  consumed: (n: number) => void,
  ended: () => void,
): RingSender<I> {
  const pool: RecordOf<I>[] = [];
  const maxBatch = info.maxBatch;
  const [input, tx] = new NodeBuilder<ShardBatch<I>>({ items: [], ended: false })
    .named("shard.input")
    .buildWith(
      ex,
      ringChannel(def.input, { capacity: info.capacity, producers: 2 }),
      (self, _c, rx) => {
        const v = self.value, items = v.items;
        let k = 0, s: RecvStatus = RecvStatus.Empty;
        while (k < maxBatch) {
          let r = pool[k];
          if (r === undefined) pool.push(r = blankRecord(def.input));
          s = rx.tryRecv(r);
          if (s !== RecvStatus.Item) break;
          items[k++] = r;
        }
        items.length = k;
        if (k > 0) {
          consumed(k);
          return Control.Broadcast;
        }
        if (s === RecvStatus.Closed && !v.ended) {
          v.ended = true;
          ended();
          return Control.Broadcast;
        }
        return Control.Unchanged;
      },
    );
  const ctx: ShardContext<I, O, unknown> = {
    executor: ex,
    shard: info.shard,
    shards: info.shards,
    incarnation: info.incarnation,
    params: info.params,
    input,
    emit,
  };
  def.build(ctx);
  return tx;
}

/** The error thrown by emit when the shard declares no output. */
export function noOutput(shard: number): ShardError {
  return new ShardError(`Shard ${shard} declares no output record, so it cannot emit`, shard);
}
