/**
 * Boolean logic nodes with change-only propagation.
 *
 * @module
 */

import { Control } from "../core/control.ts";
import type { Executor } from "../core/executor.ts";
import type { Node } from "../core/node.ts";
import { checkBoolean } from "../core/validate.ts";
import { builder, needNode, stdArgs, type StdOptions } from "./transform.ts";

/**
 * Options for {@linkcode and}, {@linkcode or} and {@linkcode xor}.
 *
 * @example Evaluating once at start
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { and, constant } from "@wavelet/wavelet/std";
 *
 * const rt = new TestRuntime();
 * const armed = constant(rt.executor, true);
 * const open = constant(rt.executor, true);
 * const lazy = and(rt.executor, armed, open);
 * const eager = and(rt.executor, armed, open, { bootstrap: true, init: false });
 * rt.runOneCycle();
 * if (lazy.value !== false) throw new Error("no input broadcast: still the init value");
 * if (eager.value !== true) throw new Error("bootstrap evaluates in the first cycle");
 * ```
 */
export interface LogicOptions extends StdOptions {
  /** The value held before the node is first evaluated. Default `false`. */
  init?: boolean;
  /**
   * Evaluate once in the first cycle after build (the node yields itself at build), so the
   * value reflects the inputs even if neither broadcasts. Default `false`.
   */
  bootstrap?: boolean;
}

function logic(
  executor: Executor,
  left: Node<boolean>,
  right: Node<boolean>,
  op: (a: boolean, b: boolean) => boolean,
  name: string,
  options: LogicOptions,
): Node<boolean> {
  options = stdArgs(name, executor, options, ["init", "bootstrap"]);
  needNode(executor, left, `${name}'s left input`);
  needNode(executor, right, `${name}'s right input`);
  const init = options.init === undefined
    ? false
    : checkBoolean(options.init, `${name}'s init option`);
  const bootstrap = options.bootstrap === undefined
    ? false
    : checkBoolean(options.bootstrap, `${name}'s bootstrap option`);
  const b = builder(init, options, name).triggeredBy(left, right);
  if (bootstrap) b.onInit((ex, self) => ex.yieldNow(self));
  return b.build(executor, (self) => {
    const v = op(left.value, right.value);
    if (v === self.value) return Control.Unchanged;
    self.value = v;
    return Control.Broadcast;
  });
}

/**
 * `left && right` with change-only propagation. Triggered by both inputs: in a cycle in which
 * either broadcasts (or the bootstrap cycle), the node recomputes from the inputs' current
 * values and broadcasts iff the result differs from the value it holds. Until then it holds
 * `options.init` (default `false`), whatever the inputs hold: with `bootstrap: true` it is
 * evaluated in the first cycle after build.
 *
 * @param executor The executor.
 * @param left One input.
 * @param right The other input.
 * @param options `init`, `bootstrap` and name.
 * @returns The conjunction.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type.
 * @throws {NodeRemovedError} If an input has left the graph.
 * @throws {ForeignNodeError} If an input belongs to another executor.
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { and } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const a = pushNode(rt.executor, false);
 * const b = pushNode(rt.executor, true);
 * const both = and(rt.executor, a.node, b.node);
 * a.push(true);
 * rt.runOneCycle();
 * console.log(both.value); // true
 * ```
 */
export function and(
  executor: Executor,
  left: Node<boolean>,
  right: Node<boolean>,
  options?: LogicOptions,
): Node<boolean> {
  if (options === undefined) options = {};
  return logic(executor, left, right, (a, b) => a && b, "and", options);
}

/**
 * `left || right` with change-only propagation; same evaluation rules as {@linkcode and}.
 *
 * @param executor The executor.
 * @param left One input.
 * @param right The other input.
 * @param options `init`, `bootstrap` and name.
 * @returns The disjunction.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type.
 * @throws {NodeRemovedError} If an input has left the graph.
 * @throws {ForeignNodeError} If an input belongs to another executor.
 *
 * @example Bootstrapped
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { constant, or } from "@wavelet/wavelet/std";
 *
 * const rt = new TestRuntime();
 * const n = or(rt.executor, constant(rt.executor, false), constant(rt.executor, true), {
 *   bootstrap: true,
 * });
 * console.log(n.value); // false (not evaluated yet)
 * rt.runOneCycle();
 * console.log(n.value); // true
 * ```
 */
export function or(
  executor: Executor,
  left: Node<boolean>,
  right: Node<boolean>,
  options?: LogicOptions,
): Node<boolean> {
  if (options === undefined) options = {};
  return logic(executor, left, right, (a, b) => a || b, "or", options);
}

/**
 * `left !== right` with change-only propagation; same evaluation rules as {@linkcode and}.
 *
 * @param executor The executor.
 * @param left One input.
 * @param right The other input.
 * @param options `init`, `bootstrap` and name.
 * @returns The exclusive or.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type.
 * @throws {NodeRemovedError} If an input has left the graph.
 * @throws {ForeignNodeError} If an input belongs to another executor.
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { xor } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const a = pushNode(rt.executor, false);
 * const b = pushNode(rt.executor, false);
 * const x = xor(rt.executor, a.node, b.node);
 * b.push(true);
 * rt.runOneCycle();
 * console.log(x.value); // true
 * ```
 */
export function xor(
  executor: Executor,
  left: Node<boolean>,
  right: Node<boolean>,
  options?: LogicOptions,
): Node<boolean> {
  if (options === undefined) options = {};
  return logic(executor, left, right, (a, b) => a !== b, "xor", options);
}

/**
 * `!input` with change-only propagation: triggered by `input`, recomputes when it broadcasts
 * and broadcasts iff the result changed. Holds `!input.value` from build.
 *
 * @param executor The executor.
 * @param input The input.
 * @param options Name.
 * @returns The negation.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type.
 * @throws {NodeRemovedError} If an input has left the graph.
 * @throws {ForeignNodeError} If an input belongs to another executor.
 *
 * @example
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { not } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const a = pushNode(rt.executor, false);
 * const n = not(rt.executor, a.node);
 * console.log(n.value); // true
 * ```
 */
export function not(executor: Executor, input: Node<boolean>, options?: StdOptions): Node<boolean> {
  options = stdArgs("not", executor, options);
  needNode(executor, input, "not's input");
  return builder(!input.value, options, "not").triggeredBy(input).build(executor, (self) => {
    const v = !input.value;
    if (v === self.value) return Control.Unchanged;
    self.value = v;
    return Control.Broadcast;
  });
}
