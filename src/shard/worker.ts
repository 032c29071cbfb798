/**
 * The Worker one shard runs in: it imports the shard's module, builds its graph on a
 * `RealtimeRuntime` (input node first), hands the input sender to the main thread, and runs the
 * graph until the main thread closes the input (graceful stop: every `onDrop` runs) or the graph
 * throws (the error is reported, the runtime shuts down the same way, and the main thread
 * restarts the shard). Started by {@linkcode ShardedRuntime}; not meant to be started by hand.
 *
 * Messages: in `{ type: "start", ... }` ({@linkcode ShardStart}); out `ready` (with the input
 * sender), `error` (a report), `stopped` (with whether the shard failed).
 *
 * @module
 */

import type { ExecutionMode } from "../core/control.ts";
import { describeThrown } from "../core/validate.ts";
import { RealtimeRuntime } from "../runtime/realtime.ts";
import { RingSender } from "../channel/channel.ts";
import type { SharedSenderTransferable } from "../channel/shared.ts";
import { SendStatus } from "../channel/status.ts";
import type { FieldType, RecordOf } from "../channel/record.ts";
import { fileSink } from "../replay/file_sink.ts";
import {
  buildShardGraph,
  isShardDefinition,
  noOutput,
  type ShardBuildInfo,
  ShardError,
} from "./define.ts";

/** The start message the main thread posts: the build's facts, then the Worker's own. */
export interface ShardStart extends ShardBuildInfo {
  /** Discriminates the message. */
  type: "start";
  /** The declaring module's URL. */
  module: string;
  /** The declaration's name. */
  name: string;
  /** The main graph's output sender, or null. */
  output: SharedSenderTransferable | null;
  /** Counters shared with the main thread: [consumed, emitted] (BigInt64). */
  stats: SharedArrayBuffer;
  /** Where to record the shard's run, or null. */
  record: string | null;
  /** The runtime's mode. */
  mode: ExecutionMode;
}

/** A report of what went wrong, as plain data (errors do not clone alike on every runtime). */
export interface ShardFailure {
  /** The error's class name. */
  name: string;
  /** Its message. */
  message: string;
  /** Its stack, if any. */
  stack: string;
  /** Its code, for a WaveletError. */
  code: string | null;
  /** The node that threw, if known. */
  node: string | null;
  /** Where it happened (cycle, init, drop, build, ...). */
  phase: string;
}

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;

/** A thrown value as plain data. */
export function failureOf(e: unknown, node: string | null, phase: string): ShardFailure {
  let name = "Error", stack = "", code: string | null = null;
  try {
    if (e instanceof Error) {
      name = e.name;
      stack = e.stack ?? "";
      const c = (e as { code?: unknown }).code;
      if (typeof c === "string") code = c;
    }
  } catch {
    // A thrown value whose properties throw: its text is all we report.
  }
  return { name, message: describeThrown(e), stack, code, node, phase };
}

async function start(m: ShardStart): Promise<void> {
  const post = (msg: unknown) => scope.postMessage(msg);
  let failed = false;
  const fail = (f: ShardFailure) => {
    failed = true;
    post({ type: "error", failure: f });
  };
  let def: unknown;
  try {
    const mod = await import(m.module);
    def = Object.values(mod).find((v) => isShardDefinition(v) && v.name === m.name);
    if (def === undefined) {
      throw new ShardError(
        `The module ${m.module} exports no shard declaration named ${JSON.stringify(m.name)}`,
        m.shard,
      );
    }
  } catch (e) {
    fail(failureOf(e, null, "load"));
    post({ type: "stopped", failed: true });
    return;
  }
  const stats = new BigInt64Array(m.stats);
  let emitted = 0, consumedTotal = 0;
  const out = m.output === null
    ? null
    : RingSender.fromTransferable<Record<string, FieldType>>(m.output);
  const emit = out === null
    ? () => {
      throw noOutput(m.shard);
    }
    : (r: Partial<RecordOf<Record<string, FieldType>>>) => {
      if (out.trySend(r) !== SendStatus.Sent) {
        throw new ShardError(
          `Shard ${m.shard} cannot emit: the main graph's output node is gone`,
          m.shard,
        );
      }
      emitted++;
    };
  let rt: RealtimeRuntime | null = null;
  try {
    const runtime = rt = new RealtimeRuntime({ mode: m.mode });
    const ex = runtime.executor;
    ex.onError = (error, report) => {
      fail(failureOf(error, report.node?.name ?? null, report.phase));
      // The graph lost a node: stop here (graceful: onDrop runs) and let the main thread
      // start a fresh graph.
      runtime.shutdown();
    };
    const tx = buildShardGraph(
      ex,
      def as never,
      m,
      emit as never,
      (n) => {
        consumedTotal += n;
        Atomics.store(stats, 0, BigInt(consumedTotal));
        Atomics.store(stats, 1, BigInt(emitted));
      },
      () => runtime.shutdown(),
    );
    if (m.record !== null) runtime.startRecording(fileSink(m.record));
    const input = tx.toTransferable();
    tx.close();
    post({ type: "ready", input });
    if (!failed) runtime.runForever();
  } catch (e) {
    fail(failureOf(e, null, "build"));
  } finally {
    try {
      rt?.shutdown(); // a build that threw: what it built is dropped (onDrop runs)
    } catch (e) {
      fail(failureOf(e, null, "drop"));
    }
    Atomics.store(stats, 1, BigInt(emitted));
    out?.close();
    post({ type: "stopped", failed });
  }
}

scope.onmessage = (ev: MessageEvent) => {
  const m = ev.data as ShardStart;
  if (m === null || typeof m !== "object" || m.type !== "start") return;
  scope.onmessage = null;
  void start(m);
};
