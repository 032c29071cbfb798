/**
 * Time-driven nodes on the cycle clock. "Now" is always `ctx.time.monotonicNs`, the time the
 * executor sampled for the cycle (simulated in the test and historical runtimes), never a host
 * clock; deadlines are executor timers, which fire in the first cycle whose time is at or after
 * the deadline and are released with the node.
 *
 * @module
 */

import { Control } from "../core/control.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import type { Executor } from "../core/executor.ts";
import type { Node } from "../core/node.ts";
import type { TimerHandle } from "../drivers/timer.ts";
import { checkBoolean, describe } from "../core/validate.ts";
import { builder, needNode, stdArgs, type StdOptions } from "./transform.ts";

/**
 * Durations are finite; a period or window is at least 1 ns (the clocks' resolution: a shorter
 * one would make every cycle a new period), an interval may be 0.
 */
function needDuration(d: unknown, what: string, allowZero: boolean): void {
  if (typeof d !== "number" || !Number.isFinite(d) || d < 0 || (!allowZero && d < 1)) {
    throw new InvalidArgumentError(
      `${what} must be a finite number of ns ${allowZero ? ">= 0" : ">= 1"}, got ${describe(d)}`,
    );
  }
}

/**
 * The index `k` of the period that `now` falls in (`start + k * p <= now < start + (k+1) * p`),
 * as far as floating point can tell. The division may be off by one either way; one
 * correction step each way fixes that. Past 2^53 periods a step no longer changes `k`, so the
 * correction is never a loop (it would spin forever there).
 */
function periodIndex(start: number, p: number, now: number): number {
  let k = Math.floor((now - start) / p);
  if (!Number.isFinite(k) || k < 0) return 0;
  if (start + (k + 1) * p <= now) k++;
  else if (k > 0 && start + k * p > now) k--;
  return k;
}

/**
 * Options for {@linkcode periodic}.
 *
 * @example A tick at the start instant
 * ```ts
 * import { ms, TestRuntime } from "@wavelet/wavelet";
 * import { periodic } from "@wavelet/wavelet/std";
 *
 * const rt = new TestRuntime();
 * const tick = periodic(rt.executor, ms(10), { immediate: true, name: "tick" });
 * rt.runOneCycle();
 * const atStart = rt.executor.hasMutated(tick) ? tick.value : -1;
 * rt.advanceClock(ms(10));
 * rt.runOneCycle();
 * if (atStart !== 0 || tick.value !== 1) throw new Error("expected 0 at start, then 1");
 * ```
 */
export interface PeriodicOptions extends StdOptions {
  /** Also broadcast at the start instant (with value 0). Default `false`. */
  immediate?: boolean;
}

/**
 * A periodic trigger. The node yields itself at build; its first run (the next cycle) fixes
 * the start instant `start = ctx.time.monotonicNs` and does not broadcast (unless
 * `immediate`). Deadlines are `start + k * periodNs` for k = 1, 2, 3, ... (computed from the
 * start, never from the late cycle time, so there is no drift). In the first cycle at or after
 * a deadline the node's value becomes k, the number of whole periods elapsed since the start,
 * and it broadcasts.
 *
 * Skip-ahead when cycles run late: a node broadcasts at most once per cycle, so if the cycle
 * time passed several deadlines at once, the node broadcasts once, its value jumps to the
 * latest k reached (`value - previous value - 1` deadlines were skipped), and the next
 * deadline is the first one after the cycle time. Missed ticks are never replayed in a burst.
 * The value starts at 0. The timer is cancelled when the node leaves the graph.
 *
 * @param executor The executor.
 * @param periodNs The period in ns (finite, at least 1).
 * @param options `immediate` and name.
 * @returns The trigger; its value is the tick count.
 * @throws {InvalidArgumentError} If the executor is not one, the period is not a finite
 *   number >= 1 ns, or an option has the wrong type.
 *
 * @example
 * ```ts
 * import { ms, TestRuntime } from "@wavelet/wavelet";
 * import { periodic } from "@wavelet/wavelet/std";
 *
 * const rt = new TestRuntime();
 * const tick = periodic(rt.executor, ms(10));
 * rt.runOneCycle(); // start = 0
 * rt.advanceClock(ms(10));
 * rt.runOneCycle();
 * console.log(tick.value, rt.executor.hasMutated(tick)); // 1 true
 * rt.advanceClock(ms(35)); // now 45 ms: deadlines 20, 30, 40 passed
 * rt.runOneCycle();
 * console.log(tick.value); // 4; next deadline 50 ms
 * ```
 */
export function periodic(
  executor: Executor,
  periodNs: number,
  options?: PeriodicOptions,
): Node<number> {
  if (options === undefined) options = {};
  options = stdArgs("periodic", executor, options, ["immediate"]);
  needDuration(periodNs, "periodic's period", false);
  const immediate = options.immediate === undefined
    ? false
    : checkBoolean(options.immediate, "periodic's immediate option");
  let start = -1;
  let next = Infinity;
  return builder(0, options, "periodic")
    .onInit((ex, self) => ex.yieldNow(self))
    .build(executor, (self, ctx) => {
      const now = ctx.time.monotonicNs;
      if (start < 0) {
        start = now;
        next = start + periodNs;
        ctx.registerTimer(self, next);
        return immediate ? Control.Broadcast : Control.Unchanged;
      }
      if (now < next) return Control.Unchanged; // run by something else; the timer stays
      const k = periodIndex(start, periodNs, now);
      self.value = k;
      next = start + (k + 1) * periodNs;
      // Far from the start a period may be below the spacing of doubles: wait at least one
      // representable step, so the timer never falls due again at the same instant.
      if (!(next > now)) next = now + Math.abs(now) * Number.EPSILON * 2;
      ctx.registerTimer(self, next);
      return Control.Broadcast;
    });
}

/**
 * Options for {@linkcode throttle}.
 *
 * @example Keeping the trailing value
 * ```ts
 * import { ms, TestRuntime } from "@wavelet/wavelet";
 * import { throttle } from "@wavelet/wavelet/std";
 * import { probe, pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const p = probe(rt.executor, throttle(rt.executor, input.node, ms(100), { trailing: true }));
 * input.push(1);
 * rt.runOneCycle();
 * input.push(2);
 * rt.runOneCycle();
 * rt.advanceClock(ms(100));
 * rt.runOneCycle();
 * if (p.values().join() !== "1,2") throw new Error(`got ${p.values()}`);
 * ```
 */
export interface ThrottleOptions extends StdOptions {
  /**
   * Keep the latest value dropped during a quiet interval and emit it when the interval ends
   * (at the first cycle at or after `lastEmit + intervalNs`). Default `false` (drop it).
   */
  trailing?: boolean;
}

/**
 * Throttles a value stream on the cycle clock. When `parent` broadcasts at time `now` and
 * `now >= lastEmit + intervalNs` (or nothing was emitted yet), the node takes the value and
 * broadcasts at once (leading edge) and `lastEmit = now`. Otherwise the value is dropped, or,
 * with `trailing`, kept as the pending value (a newer one replaces it) and emitted by a timer
 * in the first cycle at or after `lastEmit + intervalNs`, which then becomes `lastEmit`. A
 * parent broadcast in a cycle where a trailing value is due wins over that older value. Holds
 * `parent.value` as of build until the first emission.
 *
 * @param executor The executor.
 * @param parent The input stream.
 * @param intervalNs Minimum time between emissions (0 passes everything).
 * @param options `trailing` and name.
 * @returns The throttled stream.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type or range.
 * @throws {NodeRemovedError} If the parent has left the graph.
 * @throws {ForeignNodeError} If the parent belongs to another executor.
 *
 * @example
 * ```ts
 * import { ms, TestRuntime } from "@wavelet/wavelet";
 * import { throttle } from "@wavelet/wavelet/std";
 * import { probe, pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const p = probe(rt.executor, throttle(rt.executor, input.node, ms(100)));
 * for (const x of [1, 2, 3]) {
 *   input.push(x);
 *   rt.runOneCycle();
 *   rt.advanceClock(ms(60)); // events at 0, 60, 120 ms
 * }
 * console.log(p.values()); // [1, 3]
 * ```
 */
export function throttle<T>(
  executor: Executor,
  parent: Node<T>,
  intervalNs: number,
  options?: ThrottleOptions,
): Node<T> {
  if (options === undefined) options = {};
  options = stdArgs("throttle", executor, options, ["trailing"]);
  needNode(executor, parent, "throttle's parent");
  needDuration(intervalNs, "throttle's interval", true);
  const trailing = options.trailing === undefined
    ? false
    : checkBoolean(options.trailing, "throttle's trailing option");
  let last = -Infinity;
  let hasPending = false;
  let pending: T = undefined as T;
  let timer: TimerHandle | null = null;
  let timerDue = 0;
  return builder(parent.value, options, "throttle").triggeredBy(parent).build(
    executor,
    (self, ctx) => {
      const now = ctx.time.monotonicNs;
      if (timer !== null && now >= timerDue) timer = null; // it fired
      const fresh = ctx.hasMutated(parent);
      if (!fresh && !hasPending) return Control.Unchanged;
      const v = fresh ? parent.value : pending;
      if (now >= last + intervalNs) {
        self.value = v;
        last = now;
        hasPending = false;
        pending = undefined as T;
        if (timer !== null) {
          ctx.cancelTimer(timer);
          timer = null;
        }
        return Control.Broadcast;
      }
      if (fresh && trailing) {
        pending = v;
        hasPending = true;
        if (timer === null) {
          timerDue = last + intervalNs;
          timer = ctx.registerTimer(self, timerDue);
        }
      }
      return Control.Unchanged;
    },
  );
}

/**
 * Debounces a value stream on the cycle clock. Every broadcast of `parent` at time `t` makes
 * its value the pending one with deadline `t + quietNs` (replacing any older pending value and
 * its deadline). In the first cycle whose time is at or after the deadline, the node takes the
 * pending value and broadcasts. If the parent broadcasts again in that very cycle, the due
 * value is still emitted and the new one becomes pending with a fresh deadline. With
 * `quietNs === 0` every value is emitted in the cycle it arrives. Holds `parent.value` as of
 * build until the first emission.
 *
 * @param executor The executor.
 * @param parent The input stream.
 * @param quietNs How long the input must stay quiet (ns, not negative).
 * @param options Name.
 * @returns The debounced stream.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type or range.
 * @throws {NodeRemovedError} If the parent has left the graph.
 * @throws {ForeignNodeError} If the parent belongs to another executor.
 *
 * @example
 * ```ts
 * import { ms, TestRuntime } from "@wavelet/wavelet";
 * import { debounce } from "@wavelet/wavelet/std";
 * import { probe, pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, "");
 * const p = probe(rt.executor, debounce(rt.executor, input.node, ms(50)));
 * for (const s of ["a", "ab", "abc"]) {
 *   input.push(s);
 *   rt.runOneCycle();
 *   rt.advanceClock(ms(20));
 * }
 * rt.advanceClock(ms(40));
 * rt.runOneCycle(); // 100 ms: 50 ms after the last keystroke
 * console.log(p.values()); // ["abc"]
 * ```
 */
export function debounce<T>(
  executor: Executor,
  parent: Node<T>,
  quietNs: number,
  options?: StdOptions,
): Node<T> {
  options = stdArgs("debounce", executor, options);
  needNode(executor, parent, "debounce's parent");
  needDuration(quietNs, "debounce's quiet interval", true);
  let hasPending = false;
  let pending: T = undefined as T;
  let deadline = 0;
  let timer: TimerHandle | null = null;
  let timerDue = 0;
  return builder(parent.value, options, "debounce").triggeredBy(parent).build(
    executor,
    (self, ctx) => {
      const now = ctx.time.monotonicNs;
      if (timer !== null && now >= timerDue) timer = null; // it fired
      let emitted = false;
      if (hasPending && now >= deadline) {
        self.value = pending;
        hasPending = false;
        pending = undefined as T;
        emitted = true;
      }
      if (ctx.hasMutated(parent)) {
        pending = parent.value;
        hasPending = true;
        deadline = now + quietNs;
        if (!emitted && now >= deadline) {
          self.value = pending;
          hasPending = false;
          pending = undefined as T;
          emitted = true;
        }
      }
      // One timer at a time: a timer that fires before a moved deadline re-arms here.
      if (hasPending && timer === null) {
        timerDue = deadline;
        timer = ctx.registerTimer(self, deadline);
      }
      return emitted ? Control.Broadcast : Control.Unchanged;
    },
  );
}

/**
 * Tumbling time windows over a value stream. The grid is anchored at the cycle time of the
 * first value: window k covers `[anchor + k*durationNs, anchor + (k+1)*durationNs)`. Each
 * parent broadcast adds its value to the window containing the cycle time. In the first cycle
 * at or after a window's end (a timer), the node's value becomes a new array of that window's
 * values (in arrival order) and it broadcasts; a value arriving in that same cycle belongs to
 * the next window. Windows that received nothing are never emitted. Starts as `[]`.
 *
 * @param executor The executor.
 * @param parent The input stream.
 * @param durationNs Window length in ns (finite, at least 1).
 * @param options Name.
 * @returns The windows.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type or range.
 * @throws {NodeRemovedError} If the parent has left the graph.
 * @throws {ForeignNodeError} If the parent belongs to another executor.
 *
 * @example
 * ```ts
 * import { ms, TestRuntime } from "@wavelet/wavelet";
 * import { windowTime } from "@wavelet/wavelet/std";
 * import { pushNode } from "@wavelet/wavelet/testing";
 *
 * const rt = new TestRuntime();
 * const input = pushNode(rt.executor, 0);
 * const w = windowTime(rt.executor, input.node, ms(100));
 * input.push(1);
 * rt.runOneCycle(); // t = 0: window [0, 100)
 * rt.advanceClock(ms(50));
 * input.push(2);
 * rt.runOneCycle(); // t = 50
 * rt.advanceClock(ms(50));
 * rt.runOneCycle(); // t = 100: the window closes
 * console.log(w.value); // [1, 2]
 * ```
 */
export function windowTime<T>(
  executor: Executor,
  parent: Node<T>,
  durationNs: number,
  options?: StdOptions,
): Node<readonly T[]> {
  options = stdArgs("windowTime", executor, options);
  needNode(executor, parent, "windowTime's parent");
  needDuration(durationNs, "windowTime's duration", false);
  let anchor = NaN;
  let buf: T[] = [];
  let windowEnd = 0;
  let timer: TimerHandle | null = null;
  let timerDue = 0;
  return builder<readonly T[]>([], options, "windowTime").triggeredBy(parent).build(
    executor,
    (self, ctx) => {
      const now = ctx.time.monotonicNs;
      if (timer !== null && now >= timerDue) timer = null; // it fired
      let out: T[] | null = null;
      if (buf.length > 0 && now >= windowEnd) {
        out = buf;
        buf = [];
      }
      if (ctx.hasMutated(parent)) {
        if (buf.length === 0) {
          if (anchor !== anchor) anchor = now;
          const k = periodIndex(anchor, durationNs, now);
          windowEnd = anchor + (k + 1) * durationNs;
        }
        buf.push(parent.value);
      }
      if (buf.length > 0 && timer === null) {
        timerDue = windowEnd;
        timer = ctx.registerTimer(self, windowEnd);
      }
      if (out === null) return Control.Unchanged;
      self.value = out;
      return Control.Broadcast;
    },
  );
}
