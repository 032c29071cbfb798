/**
 * The small vocabularies of the runtime: what a node returns, how it relates to its parents,
 * how a realtime loop waits, and the state of an executor. They are plain numeric constants
 * (not TypeScript enums) so that every module compiled on its own sees the same values.
 *
 * @module
 */

/**
 * What a cycle function returns. A boolean is accepted too: `true` means `Broadcast`, `false`
 * (or `undefined`) means `Unchanged`.
 *
 * @example
 * ```ts
 * import { Control, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * new NodeBuilder(0)
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, (self) => (++self.value > 1 ? Control.Broadcast : Control.Unchanged));
 * ```
 */
export const Control = {
  /** Nothing worth propagating changed; children are not scheduled. */
  Unchanged: 0,
  /** The node changed: mark it mutated this cycle and run its Trigger children this cycle. */
  Broadcast: 1,
  /** Remove the node at the end of this cycle, together with all its descendants. */
  Sweep: 2,
  /** Stop: nothing else runs this cycle and `cycle()` returns `ExecutorState.Terminated`. */
  Terminate: 3,
} as const;
/** A value of {@linkcode Control}. */
export type Control = typeof Control[keyof typeof Control];

/** How a child relates to a parent. */
export const Relationship = {
  /** The child runs in the same cycle whenever the parent broadcasts. */
  Trigger: 0,
  /** The child may read the parent and ask `hasMutated`, but the parent never schedules it. */
  Observe: 1,
} as const;
/** A value of {@linkcode Relationship}. */
export type Relationship = typeof Relationship[keyof typeof Relationship];

/** How a realtime loop behaves when no work is ready. */
export const ExecutionMode = {
  /** Never block: poll again at once (lowest latency, one core at 100%). */
  Spin: 0,
  /** Block in the OS until the next stimulus or timer deadline. */
  Park: 1,
} as const;
/** A value of {@linkcode ExecutionMode}. */
export type ExecutionMode = typeof ExecutionMode[keyof typeof ExecutionMode];

/** The state a cycle leaves the executor in. */
export const ExecutorState = {
  /** Keep running cycles. */
  Running: 0,
  /** A node returned `Control.Terminate` (or shutdown was requested). */
  Terminated: 1,
} as const;
/** A value of {@linkcode ExecutorState}. */
export type ExecutorState = typeof ExecutorState[keyof typeof ExecutorState];
