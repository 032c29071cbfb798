/**
 * Test helpers: nodes a test pushes values into (`pushNode`, `pushBatchNode`), a probe that
 * records what a node held after each cycle, and loops that run cycles (`runCycles`,
 * `runUntil`).
 *
 * @example Probing a derived node
 * ```ts
 * import { TestRuntime } from "@wavelet/wavelet";
 * import { map } from "@wavelet/wavelet/std";
 * import { probe, pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const doubled = map(rt.executor, input.node, (x) => x * 2);
 * const seen = probe(rt.executor, doubled);
 * input.push(1);
 * rt.runOneCycle();
 * input.push(2);
 * rt.runOneCycle();
 * if (seen.values().join() !== "2,4") throw new Error(`seen ${seen.values()}`);
 * ```
 *
 * @module
 */

export {
  type CycleRunner,
  type Probe,
  probe,
  type ProbeOptions,
  type ProbeRecord,
  type PushBatchHandle,
  pushBatchNode,
  type PushHandle,
  pushNode,
  type PushNodeOptions,
  runCycles,
  runUntil,
} from "./src/testing.ts";
