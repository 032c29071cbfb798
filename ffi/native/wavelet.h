/*
 * wavelet native layer: a flat C API made for FFI (bun:ffi and Deno.dlopen).
 *
 * Conventions
 *   - Names are wv_<object>_<verb>.
 *   - Arguments are ints, doubles and caller-owned buffers with explicit lengths; the library
 *     never writes past the lengths it is given and keeps no pointer after a call returns.
 *   - Functions returning int return >= 0 on success or -errno on failure. Functions returning
 *     double return a value >= 0 or -errno (exact: errno values are small integers).
 *   - EINTR is retried inside every function; it never reaches the caller.
 *   - Timestamps are f64 nanoseconds (CLOCK_MONOTONIC is exact in a double for ~104 days of
 *     uptime; beyond that the spacing is 2 ns, then 4 ns, ...).
 *   - File descriptors are created O_CLOEXEC and O_NONBLOCK unless stated otherwise.
 *   - Global state: only the signal bridge (process-wide by nature), a cached "epoll_pwait2
 *     is not available" flag, and a per-thread "timer slack already set" flag.
 *
 * Thread-safety is stated per function.
 */
#ifndef WAVELET_H
#define WAVELET_H

#include <stdint.h>

#if defined(__GNUC__)
#define WV_EXPORT __attribute__((visibility("default")))
#else
#define WV_EXPORT
#endif

/* Bumped on every incompatible change of a signature or a meaning. */
#define WV_ABI_VERSION 1

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this library was built with. Thread-safe. */
WV_EXPORT int32_t wv_abi_version(void);

/* CLOCK_MONOTONIC in nanoseconds. Thread-safe, no syscall (vDSO). */
WV_EXPORT double wv_clock_monotonic_ns(void);

/* CLOCK_REALTIME written exactly as out2[0] = whole seconds since the Unix epoch and
 * out2[1] = nanoseconds in [0, 1e9). out2 must hold 2 doubles. Returns 0 or -errno.
 * Thread-safe. */
WV_EXPORT int32_t wv_clock_realtime(double *out2);

/* CLOCK_REALTIME in nanoseconds since the Unix epoch, rounded to a double (about 256 ns
 * spacing today; use wv_clock_realtime for exact values). Thread-safe. */
WV_EXPORT double wv_clock_realtime_ns(void);

/* A new epoll instance (EPOLL_CLOEXEC). Also sets this thread's timer slack to 1 ns.
 * Returns the fd or -errno. Thread-safe. */
WV_EXPORT int32_t wv_epoll_create(void);

/* epoll_ctl(epfd, op, fd, {events, data}) with op 1 = ADD, 2 = DEL, 3 = MOD; `data` is handed
 * back by wv_epoll_wait. Returns 0 or -errno (EBADF for a closed fd, EPERM for a regular
 * file, EEXIST / ENOENT for a duplicate / unknown registration). Thread-safe. */
WV_EXPORT int32_t wv_epoll_ctl(int32_t epfd, int32_t op, int32_t fd, uint32_t events,
                               uint32_t data);

/* Waits for events. Writes up to max_events pairs (events, data) into events_out, which must
 * hold 2 * max_events int32 values; max_events is clamped to [1, 1024] per call.
 * timeout_ns < 0 (or +Infinity) waits forever, 0 polls, > 0 waits at most that long with nanosecond
 * precision (epoll_pwait2 with 1 ns timer slack; on kernels before 5.11 the timeout is rounded
 * UP to whole milliseconds, so it is never early). EINTR is retried with the remaining time.
 * When clock_out is not NULL, clock_out[0] receives CLOCK_MONOTONIC sampled right after the
 * wait. Returns the number of events (0 on timeout) or -errno (-EINVAL for a NaN timeout).
 * Thread-safe (any thread may wait; each thread sets its own timer slack once). */
WV_EXPORT int32_t wv_epoll_wait(int32_t epfd, int32_t *events_out, int32_t max_events,
                                double timeout_ns, double *clock_out);

/* A new eventfd with the initial count `initval`. flags: bit 0 = semaphore mode,
 * bit 1 = blocking (default non-blocking). Always close-on-exec. Returns the fd or -errno.
 * Thread-safe. */
WV_EXPORT int32_t wv_eventfd_create(uint32_t initval, int32_t flags);

/* Adds `value` (an integer in [1, 2^53]) to the eventfd counter. Returns 0 or -errno
 * (-EAGAIN when the counter would overflow a non-blocking fd, -EINVAL for a bad value).
 * Thread-safe and async-signal-safe: this is the call other threads use to wake a loop. */
WV_EXPORT int32_t wv_eventfd_write(int32_t fd, double value);

/* Reads and resets the counter (or decrements by one in semaphore mode). Returns the count
 * (> 0) or -errno (-EAGAIN when it is zero on a non-blocking fd). Thread-safe. */
WV_EXPORT double wv_eventfd_read(int32_t fd);

/* A new CLOCK_MONOTONIC timerfd (non-blocking, close-on-exec). Returns the fd or -errno.
 * Thread-safe. */
WV_EXPORT int32_t wv_timerfd_create(void);

/* Arms the timer to expire once at the absolute CLOCK_MONOTONIC instant abs_deadline_ns
 * (a past instant expires at once), or disarms it when abs_deadline_ns is 0. Re-arming resets
 * the expiration count. Returns 0 or -errno (-EINVAL for a negative or NaN deadline).
 * Thread-safe. */
WV_EXPORT int32_t wv_timerfd_settime(int32_t fd, double abs_deadline_ns);

/* Reads and resets the expiration count. Returns it (> 0) or -errno (-EAGAIN when the timer
 * has not expired). Thread-safe. */
WV_EXPORT double wv_timerfd_read(int32_t fd);

/* Closes fd. Returns 0 or -errno (EINTR is not retried by close, per Linux semantics: the fd
 * is released either way, so it is reported as success). Thread-safe. */
WV_EXPORT int32_t wv_close(int32_t fd);

/* Signal bridge. Installs a sigaction handler for the signals whose bits are set in
 * signal_mask (bit n = signal n; 0 means SIGINT and SIGTERM; only SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, SIGUSR1 and SIGUSR2 are accepted). The handler records the signal number and adds
 * 1 to `eventfd` (async-signal-safe), then calls the previous handler if that was a function
 * (SIG_DFL and SIG_IGN are not chained: the process is not terminated). Install it after the
 * host runtime's own signal listeners so they are chained. Installing again replaces the
 * eventfd and adds signals, keeping the first saved previous handlers. Returns 0 or -errno.
 * Not thread-safe with respect to the other wv_signal_bridge_* calls (call from one thread). */
WV_EXPORT int32_t wv_signal_bridge_install(int32_t eventfd, uint32_t signal_mask);

/* Restores the handlers saved by wv_signal_bridge_install. Returns 0 or -errno.
 * Not thread-safe with respect to the other wv_signal_bridge_* calls. */
WV_EXPORT int32_t wv_signal_bridge_uninstall(void);

/* The number of the last signal the bridge received, or 0. Thread-safe. */
WV_EXPORT int32_t wv_signal_bridge_last(void);

/* How many bridged signals arrived since the process started (wraps at 2^31). Reading it
 * costs no syscall, so a spinning loop can check it every cycle. Thread-safe. */
WV_EXPORT int32_t wv_signal_bridge_count(void);

#ifdef __cplusplus
}
#endif

#endif /* WAVELET_H */
