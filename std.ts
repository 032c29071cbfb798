/**
 * The standard node library (transforms, logic, control flow, time, utilities) and the node
 * factories (`SimpleFactory`, `KeyedFactory`) that build a shared node once, on first use.
 *
 * @example A small pipeline
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { filter, map, scan } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const evens = filter(rt.executor, input.node, (x) => x % 2 === 0, { initial: 0 });
 * const squares = map(rt.executor, evens, (x) => x * x);
 * const total = scan(rt.executor, squares, 0, (a, x) => a + x);
 * for (const x of [1, 2, 3, 4]) {
 *   input.push(x);
 *   rt.runOneCycle();
 * }
 * if (total.value !== 20) throw new Error(`total ${total.value}`);
 * ```
 *
 * @module
 */

export * from "./src/std/mod.ts";
export {
  FactoryError,
  KeyedFactory,
  type KeyedFactoryFn,
  SimpleFactory,
  type SimpleFactoryFn,
} from "./src/factory.ts";
