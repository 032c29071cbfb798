/**
 * Utility nodes.
 *
 * @module
 */

import { Control } from "../core/control.ts";
import type { Executor } from "../core/executor.ts";
import type { Node } from "../core/node.ts";
import { checkBoolean } from "../core/validate.ts";
import { builder, stdArgs, type StdOptions } from "./transform.ts";

/**
 * Options for {@linkcode constant}.
 *
 * @example A constant that broadcasts once
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { constant } from "@wavelet/wavelet/std";
 *
 * const rt = new TestRuntime();
 * const limit = constant(rt.executor, 10, { emit: true });
 * rt.runOneCycle();
 * if (!rt.executor.hasMutated(limit)) throw new Error("broadcasts in the first cycle");
 * rt.runOneCycle();
 * if (rt.executor.hasMutated(limit)) throw new Error("and never again");
 * ```
 */
export interface ConstantOptions extends StdOptions {
  /**
   * Broadcast once, in the first cycle after build, so that Trigger children (a
   * `combineLatest`, a logic node) see the value as an event. Default `false`.
   */
  emit?: boolean;
}

/**
 * A node that holds `value` and never changes. It has no parents and nothing schedules it, so
 * by default it never runs and never broadcasts: children read it but are never triggered by
 * it. With `emit: true` it broadcasts exactly once, in the first cycle after build.
 *
 * @param executor The executor.
 * @param value The value.
 * @param options `emit` and name.
 * @returns The constant node.
 * @throws {InvalidArgumentError} If the executor is not one or an option has the wrong type.
 *
 * @example A fixed switch input
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { constant } from "@wavelet/wavelet/std";
 *
 * const rt = new TestRuntime();
 * const on = constant(rt.executor, true);
 * rt.runOneCycle();
 * console.log(on.value, rt.executor.hasMutated(on)); // true false
 * ```
 */
export function constant<T>(executor: Executor, value: T, options?: ConstantOptions): Node<T> {
  if (options === undefined) options = {};
  options = stdArgs("constant", executor, options, ["emit"]);
  let pending = options.emit === undefined
    ? false
    : checkBoolean(options.emit, "constant's emit option");
  const b = builder(value, options, "constant");
  if (pending) b.onInit((ex, self) => ex.yieldNow(self));
  return b.build(executor, () => {
    if (!pending) return Control.Unchanged;
    pending = false;
    return Control.Broadcast;
  });
}
