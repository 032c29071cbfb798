/**
 * The standard node library: transforms (map, filter, scan, accumulate, deduplicate, count
 * windows), boolean logic, control flow (combineLatest, switches, keyed router), time
 * (periodic trigger, throttle, debounce, time windows) and utilities (constant).
 *
 * Every function takes the executor first, then its parents, then options, and returns typed
 * node handles. Each one's JSDoc states exactly when it broadcasts, what it holds, and what it
 * does before its inputs have values.
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
 * console.log(total.value); // 20
 * ```
 *
 * @module
 */

export {
  accumulate,
  type AccumulateOptions,
  deduplicate,
  type DistinctOptions,
  distinctUntilChanged,
  filter,
  filterBatch,
  type FilterOptions,
  map,
  mapBatch,
  type MapOptions,
  scan,
  type StdOptions,
  windowCount,
  type WindowCountOptions,
} from "./transform.ts";
export { and, type LogicOptions, not, or, xor } from "./logic.ts";
export {
  combineLatest,
  type CombineLatestOptions,
  type NodesOf,
  Router,
  router,
  switchStream,
  switchValue,
} from "./control.ts";
export {
  debounce,
  periodic,
  type PeriodicOptions,
  throttle,
  type ThrottleOptions,
  windowTime,
} from "./time.ts";
export { constant, type ConstantOptions } from "./util.ts";
