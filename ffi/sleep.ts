/**
 * Host-timer sleeps for the backends' async waits where no OS wait is possible.
 *
 * @module
 */

const MAX_TIMER_MS = 0x7fffffff;

/**
 * Resolves after about `timeoutNs` nanoseconds using a host timer.
 *
 * @param timeoutNs Nanoseconds (not NaN); rounded up to whole milliseconds, negative as 0.
 * @returns A promise that resolves once the time has passed.
 */
export function hostSleep(timeoutNs: number): Promise<void> {
  let left = timeoutNs > 0 ? Math.ceil(timeoutNs / 1e6) : 0;
  if (left <= MAX_TIMER_MS) return new Promise((resolve) => setTimeout(resolve, left));
  return new Promise((resolve) => {
    const step = () => {
      const d = Math.min(left, MAX_TIMER_MS);
      left -= d;
      setTimeout(left > 0 ? step : resolve, d);
    };
    step();
  });
}
