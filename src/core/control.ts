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
/**
 * A value of {@linkcode Control}.
 *
 * @example Typing a decision
 * ```ts
 * import { Control, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const decide = (changed: boolean): Control => changed ? Control.Broadcast : Control.Unchanged;
 * const rt = new TestRuntime();
 * const node = new NodeBuilder(0)
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, (self) => decide(++self.value === 1));
 * rt.runOneCycle();
 * if (!rt.executor.hasMutated(node)) throw new Error("Broadcast marks the node mutated");
 * ```
 */
export type Control = typeof Control[keyof typeof Control];

/**
 * How a child relates to a parent.
 *
 * @example Trigger versus Observe children
 * ```ts
 * import { NodeBuilder, Relationship, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const src = new NodeBuilder(0)
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, (self) => {
 *     self.value++;
 *     return true;
 *   });
 * let triggered = 0, observed = 0;
 * new NodeBuilder(0).addRelationship(src, Relationship.Trigger).build(rt.executor, () => {
 *   triggered++;
 * });
 * new NodeBuilder(0).addRelationship(src, Relationship.Observe).build(rt.executor, () => {
 *   observed++;
 * });
 * rt.runOneCycle();
 * if (triggered !== 1 || observed !== 0) throw new Error("only the Trigger child runs");
 * ```
 */
export const Relationship = {
  /** The child runs in the same cycle whenever the parent broadcasts. */
  Trigger: 0,
  /** The child may read the parent and ask `hasMutated`, but the parent never schedules it. */
  Observe: 1,
} as const;
/**
 * A value of {@linkcode Relationship}.
 *
 * @example Choosing a relationship at run time
 * ```ts
 * import { NodeBuilder, Relationship, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const parent = new NodeBuilder(0).build(rt.executor, () => false);
 * const rel: Relationship = Relationship.Observe;
 * const child = new NodeBuilder(0).addRelationship(parent, rel).build(rt.executor, () => false);
 * if (rt.executor.observerChildrenOf(parent)[0] !== child) throw new Error("child observes");
 * if (rt.executor.triggerChildrenOf(parent).length !== 0) throw new Error("and is no trigger");
 * ```
 */
export type Relationship = typeof Relationship[keyof typeof Relationship];

/**
 * How a realtime loop behaves when no work is ready.
 *
 * @example A Park loop that sleeps until a timer
 * ```ts
 * import { ExecutionMode, ms, NodeBuilder, RealtimeRuntime } from "@wavelet/wavelet";
 *
 * const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
 * try {
 *   let fired = false;
 *   new NodeBuilder(0)
 *     .onInit((ex, self) => {
 *       ex.registerTimer(self, rt.clock.nowNs() + ms(2));
 *     })
 *     .build(rt.executor, () => {
 *       fired = true;
 *     });
 *   // Park: each cycle blocks in the OS until the timer's deadline (or another stimulus).
 *   for (let i = 0; i < 10 && !fired; i++) rt.runOneCycle(ms(50));
 *   if (!fired || rt.mode !== ExecutionMode.Park) throw new Error("the timer fired");
 * } finally {
 *   rt.shutdown();
 * }
 * ```
 */
export const ExecutionMode = {
  /** Never block: poll again at once (lowest latency, one core at 100%). */
  Spin: 0,
  /** Block in the OS until the next stimulus or timer deadline. */
  Park: 1,
} as const;
/**
 * A value of {@linkcode ExecutionMode}.
 *
 * @example Picking a mode
 * ```ts
 * import { ExecutionMode } from "@wavelet/wavelet";
 *
 * function modeFor(spareCores: number): ExecutionMode {
 *   return spareCores > 0 ? ExecutionMode.Spin : ExecutionMode.Park;
 * }
 * if (modeFor(0) !== ExecutionMode.Park) throw new Error("park without a spare core");
 * ```
 */
export type ExecutionMode = typeof ExecutionMode[keyof typeof ExecutionMode];

/**
 * The state a cycle leaves the executor in.
 *
 * @example Terminating from a node
 * ```ts
 * import { Control, ExecutorState, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * new NodeBuilder(0)
 *   .onInit((ex, self) => ex.yieldNow(self))
 *   .build(rt.executor, (self, ctx) => {
 *     ctx.yieldNow();
 *     return ++self.value === 2 ? Control.Terminate : Control.Broadcast;
 *   });
 * if (rt.runOneCycle() !== ExecutorState.Running) throw new Error("the first cycle goes on");
 * if (rt.runOneCycle() !== ExecutorState.Terminated) throw new Error("the second terminates");
 * ```
 */
export const ExecutorState = {
  /** Keep running cycles. */
  Running: 0,
  /** A node returned `Control.Terminate` (or shutdown was requested). */
  Terminated: 1,
} as const;
/**
 * A value of {@linkcode ExecutorState}.
 *
 * @example Running until terminated
 * ```ts
 * import { ExecutorState, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * let state: ExecutorState = ExecutorState.Running;
 * for (let i = 0; i < 3 && state === ExecutorState.Running; i++) state = rt.runOneCycle();
 * if (state !== ExecutorState.Running || rt.executor.epoch !== 3) throw new Error("3 cycles");
 * ```
 */
export type ExecutorState = typeof ExecutorState[keyof typeof ExecutorState];

/**
 * The name of a value of one of the vocabularies above, for logs and messages: the values are
 * plain numbers so that they cost nothing in the hot loop, and print as numbers.
 *
 * @param vocabulary `Control`, `Relationship`, `ExecutionMode` or `ExecutorState` (any object
 *   of names to values works).
 * @param value A value of it.
 * @returns The value's name, or `undefined` when the vocabulary has no such value.
 *
 * @example Readable states in a log line
 * ```ts
 * import { Control, ExecutorState, nameOf, TestRuntime } from "@wavelet/wavelet";
 *
 * const rt = new TestRuntime();
 * const state = rt.runOneCycle();
 * console.log(`state ${nameOf(ExecutorState, state)}`); // state Running
 * if (nameOf(Control, Control.Sweep) !== "Sweep") throw new Error("names by value");
 * if (nameOf(Control, 42) !== undefined) throw new Error("no such value");
 * ```
 */
export function nameOf(
  vocabulary: Readonly<Record<string, number>>,
  value: number,
): string | undefined {
  if (vocabulary === null || typeof vocabulary !== "object") return undefined;
  try {
    for (const key of Object.keys(vocabulary)) if (vocabulary[key] === value) return key;
  } catch {
    // An object that cannot be read names nothing.
  }
  return undefined;
}
