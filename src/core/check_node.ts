/**
 * Checks of executor and node arguments for the feature modules (std, testing, adapters, net,
 * factories). They give the errors a build would give, but before a feature calls any user
 * function or changes any state. (The core checks its own arguments; this module is apart
 * from `validate.ts` so that the core can use that one without an import circle.)
 *
 * @module
 */

import { ForeignNodeError, NodeRemovedError } from "./errors.ts";
import { Executor } from "./executor.ts";
import { Node } from "./node.ts";
import { checkInstance } from "./validate.ts";

/**
 * Checks that `value` is an {@linkcode Executor}.
 *
 * @param value The argument.
 * @param name How the message names it.
 * @returns The executor.
 * @throws {InvalidArgumentError} Otherwise.
 *
 * @example
 * ```ts
 * import { checkExecutor } from "./check_node.ts";
 * import { TestRuntime } from "../../mod.ts";
 * const rt = new TestRuntime();
 * if (checkExecutor(rt.executor, "executor") !== rt.executor) throw new Error("the same");
 * ```
 */
export function checkExecutor(value: unknown, name: string): Executor {
  return checkInstance(value, Executor, name);
}

/**
 * Checks that `node` is a live node of `executor`.
 *
 * @param executor The executor the node must belong to.
 * @param node The argument.
 * @param name How the message names it.
 * @returns The node.
 * @throws {InvalidArgumentError} If `node` is not a Node handle.
 * @throws {ForeignNodeError} If it belongs to another executor.
 * @throws {NodeRemovedError} If it has left the graph.
 *
 * @example
 * ```ts
 * import { checkNodeOf } from "./check_node.ts";
 * import { NodeBuilder, TestRuntime } from "../../mod.ts";
 * const rt = new TestRuntime();
 * const n = new NodeBuilder(0).build(rt.executor, () => false);
 * checkNodeOf(rt.executor, n, "parent");
 * n.remove();
 * try {
 *   checkNodeOf(rt.executor, n, "parent");
 *   throw new Error("unreachable");
 * } catch (e) {
 *   if ((e as { code?: string }).code !== "NODE_REMOVED") throw e;
 * }
 * ```
 */
export function checkNodeOf<T>(executor: Executor, node: unknown, name: string): Node<T> {
  const n = checkInstance(node, Node, name) as Node<T>;
  if (n._ex !== executor) {
    throw new ForeignNodeError(`${name} belongs to another executor`);
  }
  if (!n.isAlive) {
    throw new NodeRemovedError(`${name} has left the graph`);
  }
  return n;
}
