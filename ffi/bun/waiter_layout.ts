/**
 * Word indices of the control block shared by `waiter.ts` and its Worker.
 *
 * @module
 */

/** Set by the Worker once it loaded the library. */
export const READY = 0;
/** Set by the caller to start a wait; cleared by the Worker when it finished. */
export const ARM = 1;
/** Set by the Worker when a result is ready. */
export const DONE = 2;
/** The wait's result (events or -errno). */
export const N = 3;
/** The epoll fd to wait on. */
export const EPFD = 4;
/** The most events to return. */
export const MAX = 5;
/** Set to make the Worker exit. */
export const QUIT = 6;
/** Words in the control block. */
export const CTL_WORDS = 8;
/** Events the shared buffer holds (pairs of events, data). */
export const WAITER_MAX_EVENTS = 1024;
