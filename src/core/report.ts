/**
 * How the executor reports the errors it isolates: where an error came from, the handler type,
 * and the default handler.
 *
 * @module
 */

import { Node } from "./node.ts";

/**
 * Where an error reported to {@linkcode Executor.onError} came from.
 *
 * @example Telling init errors from drop errors
 * ```ts
 * import { type ErrorPhase, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const phases: ErrorPhase[] = [];
 * rt.executor.onError = (_error, report) => phases.push(report.phase);
 * new NodeBuilder(0)
 *   .onInit(() => {
 *     throw new Error("bad init");
 *   })
 *   .build(rt.executor, () => false);
 * new NodeBuilder(0)
 *   .onDrop(() => {
 *     throw new Error("bad drop");
 *   })
 *   .build(rt.executor, () => false)
 *   .remove();
 * if (phases.join() !== "init,drop") throw new Error(`phases: ${phases}`);
 * ```
 */
export type ErrorPhase = "cycle" | "init" | "drop" | "spawn" | "release" | "source" | "sink";

/**
 * Context of an error reported to {@linkcode Executor.onError}.
 *
 * @example Which node threw
 * ```ts
 * import { type ErrorReport, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const reports: ErrorReport[] = [];
 * rt.executor.onError = (_error, report) => reports.push(report);
 * const bad = new NodeBuilder(0)
 *   .named("bad")
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, () => {
 *     throw new Error("boom");
 *   });
 * rt.runOneCycle();
 * if (reports[0].node !== bad || reports[0].phase !== "cycle") throw new Error("bad threw");
 * if (bad.isAlive) throw new Error("a node that throws is removed");
 * ```
 */
export interface ErrorReport {
  /** The node whose callback threw, if any (a spawn closure has none). */
  node: Node<unknown> | undefined;
  /** Which callback threw. */
  phase: ErrorPhase;
}

/**
 * Receives errors that the executor isolated (the node was removed, the runtime goes on).
 *
 * @example Collecting errors instead of printing them
 * ```ts
 * import { type ErrorHandler, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const messages: string[] = [];
 * const collect: ErrorHandler = (error, report) => {
 *   messages.push(`${report.node?.name}: ${(error as Error).message}`);
 * };
 * const rt = new TestRuntime();
 * rt.executor.onError = collect;
 * new NodeBuilder(0)
 *   .named("parser")
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, () => {
 *     throw new Error("bad input");
 *   });
 * rt.runOneCycle();
 * if (messages.join() !== "parser: bad input") throw new Error(`got ${messages}`);
 * ```
 */
export type ErrorHandler = (error: unknown, report: ErrorReport) => void;

/**
 * Hands `error` to `target.onError` (an executor's handler). A handler that throws is logged
 * rather than thrown on: the caller is reporting a failure already and has nowhere to send a
 * second one. @internal
 */
export function reportError(
  target: { onError: ErrorHandler },
  error: unknown,
  node: Node<unknown> | undefined,
  phase: ErrorPhase,
): void {
  try {
    target.onError(error, { node, phase });
  } catch (inner) {
    console.error("wavelet: the onError handler threw:", inner, "while reporting:", error);
  }
}

/** How a node is named in messages: its name and id, or "a spawn closure". */
export function describeNode(node: Node<unknown> | undefined): string {
  return node === undefined
    ? "a spawn closure"
    : `node "${node.name ?? "unnamed"}" (id ${node.id})`;
}

/**
 * The default error handler: one line on stderr with the node's name and id, then the error.
 *
 * @example Printing, then counting
 * ```ts
 * import { NodeBuilder, printError, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * if (rt.executor.onError !== printError) throw new Error("printError is the default");
 * let count = 0;
 * rt.executor.onError = (error, report) => {
 *   count++;
 *   printError(error, report); // wavelet: node "flaky" (id 0) threw during cycle: Error: ...
 * };
 * new NodeBuilder(0)
 *   .named("flaky")
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, () => {
 *     throw new Error("flaky");
 *   });
 * rt.runOneCycle();
 * if (count !== 1) throw new Error("one error reported");
 * ```
 */
export function printError(error: unknown, report: ErrorReport): void {
  // A handler of last resort: whatever it is given, it prints and never throws.
  let node: unknown, phase: unknown;
  try {
    node = report?.node;
    phase = report?.phase;
  } catch {
    node = phase = undefined;
  }
  const who = node instanceof Node
    ? describeNode(node)
    : node === undefined
    ? "a spawn closure"
    : "?";
  console.error(`wavelet: ${who} threw during ${typeof phase === "string" ? phase : "?"}:`, error);
}
