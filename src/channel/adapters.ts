/**
 * Adapters between the graph and the host's async world: an async iterable or a
 * `ReadableStream` becomes a source node, and a node's output goes to a `WritableStream` or a
 * callback. Both sides honor backpressure: the source stops pulling while its channel is full,
 * and the sink only writes when the stream is ready, buffering up to a bound meanwhile.
 *
 * @module
 */

import { Control } from "../core/control.ts";
import type { Executor } from "../core/executor.ts";
import type { Node } from "../core/node.ts";
import { NodeBuilder } from "../core/builder.ts";
import { reportError } from "../core/report.ts";
import { checkExecutor, checkNodeOf } from "../core/check_node.ts";
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkOneOf,
  checkOptions,
  checkString,
  describe,
  invalid,
} from "../core/validate.ts";
import { Overflow, SendStatus } from "./status.ts";
import { localChannel } from "./build.ts";

/** The largest adapter buffer (the local channel's limit). */
const MAX_CAPACITY = 1 << 24;

/**
 * Options of {@linkcode sourceFrom}.
 *
 * @example Batches from a ReadableStream
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { sourceFrom, type SourceOptions } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const options: SourceOptions & { mode: "batch" } = { name: "words", mode: "batch" };
 * const src = sourceFrom(rt.executor, ReadableStream.from(["a", "b", "c"]), options);
 * await new Promise((r) => setTimeout(r, 0)); // let the stream be pulled
 * rt.runOneCycle();
 * if (src.value.items.join("") !== "abc") throw new Error("every item in one batch");
 * rt.runOneCycle();
 * if (!src.value.ended) throw new Error("then the end");
 * ```
 */
export interface SourceOptions {
  /** Debug name of the node. */
  name?: string;
  /** Items buffered between the iterator and the graph (an integer in [1, 2^24], default 1024). */
  capacity?: number;
  /**
   * `"one"` (default): the node's value is the next item, one item per cycle. `"batch"`: the
   * node's value is an array of every item that arrived since its last run (the array is
   * reused: copy it to keep it).
   */
  mode?: "one" | "batch";
  /**
   * Remove the node (and its descendants) once the source ended and was drained. Otherwise the
   * node broadcasts once more with `ended: true` (and `item: undefined` in `"one"` mode).
   */
  removeOnEnd?: boolean;
}

/**
 * A source node fed by an async iterable or a `ReadableStream`. The iterator is pulled only
 * while the node's channel has room (backpressure); an error thrown by the iterator is reported
 * to `executor.onError` (phase `"source"`) and ends the source.
 *
 * @param executor The executor to build into.
 * @param source The async iterable or unlocked stream.
 * @param options Name, capacity, `mode: "batch"`, `removeOnEnd`.
 * @returns The node; its value holds the latest batch and whether the source ended.
 * @throws {InvalidArgumentError} If the executor is not one, `source` is neither an async
 *   iterable nor an unlocked `ReadableStream`, or an option has the wrong type or range.
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { sourceFrom } from "@wavelet/wavelet/channel";
 *
 * async function* ticks() {
 *   yield 1;
 *   yield 2;
 * }
 * const rt = new TestRuntime();
 * const src = sourceFrom(rt.executor, ticks());
 * await new Promise((r) => setTimeout(r, 0));
 * rt.runOneCycle(); // src.value.item === 1
 * ```
 */
export function sourceFrom<V>(
  executor: Executor,
  source: AsyncIterable<V> | ReadableStream<V>,
  options: SourceOptions & { mode: "batch" },
): Node<{ items: V[]; ended: boolean }>;
/**
 * A source node fed by an async iterable or a `ReadableStream`, one item per cycle (see the
 * batch overload above for the semantics shared by both).
 *
 * @param executor The executor to build into.
 * @param source The async iterable or stream.
 * @param options Name, capacity, `removeOnEnd`.
 * @returns The node; its value holds the latest item and whether the source ended.
 * @throws {InvalidArgumentError} If the executor is not one, `source` is neither an async
 *   iterable nor an unlocked `ReadableStream`, or an option has the wrong type or range.
 *
 * @example One item per cycle, removed at the end
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { sourceFrom } from "@wavelet/wavelet/channel";
 *
 * async function* letters() {
 *   yield "x";
 *   yield "y";
 * }
 * const rt = new TestRuntime();
 * const src = sourceFrom(rt.executor, letters(), { capacity: 8, removeOnEnd: true });
 * const seen: string[] = [];
 * for (let i = 0; i < 10 && src.isAlive; i++) {
 *   await new Promise((r) => setTimeout(r, 0));
 *   rt.runOneCycle();
 *   if (src.isAlive && src.value.item !== undefined) seen.push(src.value.item);
 * }
 * if (seen.join() !== "x,y" || src.isAlive) throw new Error("x, y, then removed");
 * ```
 */
export function sourceFrom<V>(
  executor: Executor,
  source: AsyncIterable<V> | ReadableStream<V>,
  options?: SourceOptions,
): Node<{ item: V | undefined; ended: boolean }>;
export function sourceFrom<V>(
  executor: Executor,
  source: AsyncIterable<V> | ReadableStream<V>,
  options?: SourceOptions,
): Node<{ item?: V | undefined; items?: V[]; ended: boolean }> {
  if (options === undefined) options = {};
  checkExecutor(executor, "sourceFrom's executor");
  const o = checkOptions<SourceOptions>(options, "sourceFrom's options", [
    "name",
    "capacity",
    "mode",
    "removeOnEnd",
  ]);
  const name = o.name === undefined ? undefined : checkString(o.name, "sourceFrom's name option");
  const capacity = o.capacity === undefined
    ? 1024
    : checkInteger(o.capacity, "sourceFrom's capacity option", 1, MAX_CAPACITY);
  const batch = o.mode === undefined
    ? false
    : checkOneOf(o.mode, ["one", "batch"] as const, "sourceFrom's mode option") === "batch";
  const removeOnEnd = o.removeOnEnd === undefined
    ? false
    : checkBoolean(o.removeOnEnd, "sourceFrom's removeOnEnd option");
  const iterable = toAsyncIterable(source);
  const initial = batch ? { items: [] as V[], ended: false } : { item: undefined, ended: false };
  const b = new NodeBuilder<{ item?: V | undefined; items?: V[]; ended: boolean }>(initial);
  if (name !== undefined) b.named(name);
  const [node, tx] = b.buildWith(
    executor,
    localChannel<V>({ capacity, overflow: Overflow.Reject }),
    (self, _ctx, rx) => {
      const v = self.value;
      if (batch) {
        v.items!.length = 0;
        for (let x = rx.tryRecv(); x !== undefined; x = rx.tryRecv()) v.items!.push(x);
        if (v.items!.length > 0) return Control.Broadcast;
      } else if (rx.length > 0) {
        v.item = rx.tryRecv();
        return Control.Broadcast;
      }
      // Drained: the end is reported once, in a run of its own (the channel runs the node
      // again after its last sender closed).
      if (rx.isClosed) {
        if (removeOnEnd) return Control.Sweep;
        if (!v.ended) {
          v.ended = true;
          v.item = undefined;
          return Control.Broadcast;
        }
      }
      return Control.Unchanged;
    },
  );
  (async () => {
    try {
      for await (const item of iterable) {
        if ((await tx.sendAsync(item)) === SendStatus.Closed) return;
      }
    } catch (err) {
      reportError(executor, err, node, "source");
    } finally {
      if (!tx.isClosed) tx.close();
    }
  })();
  return node;
}

/**
 * Options of {@linkcode sinkTo}.
 *
 * @example Mapping and buffering what a sink writes
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { type SinkOptions, sinkTo } from "@wavelet/wavelet/channel";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const lines: string[] = [];
 * const options: SinkOptions<number, string> = {
 *   name: "to-lines",
 *   capacity: 16,
 *   overflow: "dropOldest",
 *   map: (v) => `value=${v}`,
 * };
 * sinkTo(rt.executor, input.node, (line: string) => {
 *   lines.push(line);
 * }, options);
 * input.push(42);
 * rt.runOneCycle();
 * await new Promise((r) => setTimeout(r, 0));
 * if (lines[0] !== "value=42") throw new Error("the mapped value was written");
 * ```
 */
export interface SinkOptions<T, W> {
  /** Debug name of the node. */
  name?: string;
  /** Values buffered while the stream is not ready (an integer in [1, 2^24], default 1024). */
  capacity?: number;
  /** What to do when the buffer is full: drop the oldest (default) or reject the new value. */
  overflow?: "dropOldest" | "reject";
  /** Turns the parent's value into what is written (default: the value itself). */
  map?: (value: T) => W;
}

/**
 * State of a sink node: what was written, buffered and dropped.
 *
 * @example Watching a sink's counters
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { type SinkState, sinkTo } from "@wavelet/wavelet/channel";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const out: number[] = [];
 * const sink = sinkTo(rt.executor, input.node, new WritableStream<number>({
 *   write(v) {
 *     out.push(v);
 *   },
 * }));
 * input.push(1);
 * rt.runOneCycle();
 * await new Promise((r) => setTimeout(r, 10));
 * const state: SinkState = sink.value;
 * if (state.written !== 1 || state.buffered !== 0 || state.dropped !== 0 || state.failed) {
 *   throw new Error(JSON.stringify(state));
 * }
 * ```
 */
export interface SinkState {
  /** Values handed to the stream or callback. */
  written: number;
  /** Values waiting for the stream to be ready. */
  buffered: number;
  /** Values dropped because the buffer was full. */
  dropped: number;
  /** The stream or callback failed; nothing more is written. */
  failed: boolean;
}

/**
 * A node that writes its parent's value to a `WritableStream` (or calls an async callback)
 * every cycle the parent broadcasts. Writes wait for the stream to be ready; values that arrive
 * meanwhile are buffered up to `capacity`, then dropped per `overflow` (counted in the node's
 * value). A failing stream is reported to `executor.onError` (phase `"sink"`).
 *
 * @param executor The executor to build into.
 * @param parent The node whose broadcasts are written.
 * @param target An unlocked `WritableStream` (locked for the node's lifetime once built) or a
 *   function called with each value (it may return a promise, awaited before the next write).
 * @param options Name, capacity (an integer in [1, 2^24]), overflow and map.
 * @returns The node; its value counts what was written, buffered and dropped.
 * @throws {InvalidArgumentError} If the executor is not one, `target` is neither a function
 *   nor an unlocked `WritableStream`, or an option has the wrong type or range.
 * @throws {NodeRemovedError} If `parent` has left the graph.
 * @throws {ForeignNodeError} If `parent` belongs to another executor.
 *
 * @example
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { sinkTo } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const src = new NodeBuilder(0)
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, (self) => {
 *     self.value++;
 *     return true;
 *   });
 * const seen: number[] = [];
 * sinkTo(rt.executor, src, (v) => {
 *   seen.push(v);
 * });
 * rt.runOneCycle();
 * await new Promise((r) => setTimeout(r, 0)); // seen: [1]
 * ```
 */
export function sinkTo<T, W = T>(
  executor: Executor,
  parent: Node<T>,
  target: WritableStream<W> | ((value: W) => void | Promise<void>),
  options?: SinkOptions<T, W>,
): Node<SinkState> {
  if (options === undefined) options = {};
  checkExecutor(executor, "sinkTo's executor");
  checkNodeOf(executor, parent, "sinkTo's parent");
  const o = checkOptions<SinkOptions<T, W>>(options, "sinkTo's options", [
    "name",
    "capacity",
    "overflow",
    "map",
  ]);
  const name = o.name === undefined ? undefined : checkString(o.name, "sinkTo's name option");
  const capacity = o.capacity === undefined
    ? 1024
    : checkInteger(o.capacity, "sinkTo's capacity option", 1, MAX_CAPACITY);
  const reject = o.overflow === undefined
    ? false
    : checkOneOf(o.overflow, ["dropOldest", "reject"] as const, "sinkTo's overflow option") ===
      "reject";
  const map = o.map === undefined
    ? ((v: T) => v as unknown as W)
    : checkFunction<(value: T) => W>(o.map, "sinkTo's map option");
  const stream = typeof target === "function" ? null : checkWritable<W>(target);
  let write: (v: W) => void | Promise<void> = typeof target === "function" ? target : () => {};
  const queue: W[] = [];
  let pumping = false;
  // deno-lint-ignore prefer-const
  let node: Node<SinkState>; // assigned below; the pump closure needs it first
  const pump = async () => {
    pumping = true;
    try {
      while (queue.length > 0 && !node.value.failed) {
        const v = queue.shift()!;
        node.value.buffered = queue.length;
        await write(v);
        node.value.written++;
      }
    } catch (err) {
      node.value.failed = true;
      try {
        executor.onError(err, { node, phase: "sink" });
      } catch { /* see sourceFrom */ }
    } finally {
      pumping = false;
    }
  };
  const b = new NodeBuilder<SinkState>({ written: 0, buffered: 0, dropped: 0, failed: false })
    .triggeredBy(parent);
  if (name !== undefined) b.named(name);
  node = b.build(executor, (self) => {
    if (self.value.failed) return Control.Unchanged;
    if (queue.length >= capacity) {
      self.value.dropped++;
      if (reject) return Control.Unchanged;
      queue.shift();
    }
    queue.push(map(parent.value));
    self.value.buffered = queue.length;
    if (!pumping) void pump();
    return Control.Unchanged;
  });
  if (stream !== null) {
    // The stream is locked only once the node exists, so a failed build leaves it unlocked.
    let writer: WritableStreamDefaultWriter<W>;
    try {
      writer = stream.getWriter();
    } catch (cause) {
      executor.remove(node);
      throw invalid("sinkTo's target could not be locked for writing", cause);
    }
    write = async (v: W) => {
      await writer.ready;
      await writer.write(v);
    };
  }
  return node;
}

/** Checks a sink target that is not a function: an unlocked WritableStream (or alike). */
function checkWritable<W>(target: unknown): WritableStream<W> {
  let getWriter: unknown, locked: unknown;
  try {
    if (target !== null && typeof target === "object") {
      getWriter = (target as WritableStream<W>).getWriter;
      locked = (target as WritableStream<W>).locked;
    }
  } catch (cause) {
    throw invalid("sinkTo's target could not be read", cause);
  }
  if (typeof getWriter !== "function") {
    throw invalid(
      `sinkTo's target must be a WritableStream or a function, got ${describe(target)}`,
    );
  }
  if (locked === true) {
    throw invalid("sinkTo's target is a WritableStream that is already locked to a writer");
  }
  return target as WritableStream<W>;
}

function toAsyncIterable<V>(source: AsyncIterable<V> | ReadableStream<V>): AsyncIterable<V> {
  let iter: unknown, getReader: unknown, locked: unknown;
  try {
    if (source !== null && typeof source === "object") {
      iter = (source as AsyncIterable<V>)[Symbol.asyncIterator];
      getReader = (source as ReadableStream<V>).getReader;
      locked = (source as ReadableStream<V>).locked;
    }
  } catch (cause) {
    throw invalid("sourceFrom's source could not be read", cause);
  }
  if (typeof getReader === "function" && locked === true) {
    throw invalid("sourceFrom's source is a ReadableStream that is already locked to a reader");
  }
  if (typeof iter === "function") return source as AsyncIterable<V>;
  if (typeof getReader === "function") {
    const stream = source as ReadableStream<V>;
    return {
      async *[Symbol.asyncIterator]() {
        const reader = stream.getReader();
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            yield value;
          }
        } finally {
          reader.releaseLock();
        }
      },
    };
  }
  throw invalid(
    `sourceFrom's source must be an async iterable or a ReadableStream, got ${describe(source)}`,
  );
}
