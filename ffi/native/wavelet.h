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
#define WV_ABI_VERSION 2

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this library was built with. Thread-safe. */
WV_EXPORT int32_t wv_abi_version(void);

/* CLOCK_MONOTONIC in nanoseconds. Thread-safe, no syscall (vDSO). */
WV_EXPORT double wv_clock_monotonic_ns(void);

/* CLOCK_REALTIME written exactly as out[0] = whole seconds since the Unix epoch and
 * out[1] = nanoseconds in [0, 1e9). out_cap is the size of out in bytes; nothing is written
 * unless it is at least 16 (-ENOSPC). Returns 0 or -errno (-EFAULT for NULL). Thread-safe. */
WV_EXPORT int32_t wv_clock_realtime(double *out, int32_t out_cap);

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

/* Waits for events. Writes up to max_events pairs (events, data) into events_out, 8 bytes per
 * event; max_events is clamped to at most 1024 per call, and events_cap (the size of
 * events_out in bytes) must hold that many events. clock_cap is the size of clock_out in
 * bytes (at least 8 unless clock_out is NULL). Capacities are checked before waiting, and
 * nothing is ever written past them.
 * timeout_ns < 0 (or +Infinity) waits forever, 0 polls, > 0 waits at most that long with nanosecond
 * precision (epoll_pwait2 with 1 ns timer slack; on kernels before 5.11 the timeout is rounded
 * UP to whole milliseconds, so it is never early). EINTR is retried with the remaining time.
 * When clock_out is not NULL, clock_out[0] receives CLOCK_MONOTONIC sampled right after the
 * wait. Returns the number of events (0 on timeout) or -errno (-EINVAL for a NaN timeout or
 * max_events < 1, -ENOSPC for a capacity too small, -EFAULT for a NULL events_out); a failed
 * wait writes nothing.
 * Thread-safe (any thread may wait; each thread sets its own timer slack once). */
WV_EXPORT int32_t wv_epoll_wait(int32_t epfd, int32_t *events_out, int32_t events_cap,
                                int32_t max_events, double timeout_ns, double *clock_out,
                                int32_t clock_cap);

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

/* Signal bridge: a set of eventfds (up to 1024) that a sigaction handler writes when one of
 * their signals arrives, so that every loop parked on one of them wakes.
 *
 * wv_signal_bridge_add adds `eventfd` to the set for the signals whose bits are set in
 * signal_mask (bit n = signal n; 0 means SIGINT and SIGTERM; only SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, SIGUSR1 and SIGUSR2 are accepted). A signal that gains its first member gets the
 * handler, which keeps the handler it replaces and chains to it when that was a function. The
 * handler records the signal number, counts it, adds 1 to every member eventfd that wants the
 * signal (async-signal-safe), then calls the previous handler, except where that would end the
 * process: SIG_DFL and SIG_IGN are not chained, nor a handler installed with SA_RESETHAND (it
 * asks for the default action after it; Bun's terminal handler is one). When the previous
 * handler gives the signal away while it runs (sets SIG_DFL to re-raise it, or installs
 * another handler), the bridge takes it back before returning and chains to the new one. Returns 0 or -errno (-EBADF,
 * -EINVAL for another signal, -EEXIST when the eventfd is already a member, -ENOSPC when the
 * set is full). Thread-safe (an internal lock serializes add, remove and reassert; never call
 * them from a signal handler). */
WV_EXPORT int32_t wv_signal_bridge_add(int32_t eventfd, uint32_t signal_mask);

/* Removes `eventfd` from the set. A signal that loses its last member gets back the handler
 * the bridge replaced, unless another handler has replaced the bridge's since (that one is
 * left in place). Returns only once no handler can still write the eventfd, so the caller may
 * close it at once. Returns 0, -ENOENT when it is not a member, or -EBUSY when a handler on
 * another thread did not finish within 2 s (the eventfd left the set, but a write may still
 * come: do not close it). Thread-safe, as wv_signal_bridge_add. */
WV_EXPORT int32_t wv_signal_bridge_remove(int32_t eventfd);

/* Puts the bridge's handler back on every bridged signal whose handler was replaced by
 * someone else (a host runtime installing its own with sigaction); the bridge then chains to
 * the replacement. Returns the number of signals taken back (0: nothing had changed) or
 * -errno. Costs one sigaction(2) query per bridged signal. Thread-safe, as
 * wv_signal_bridge_add. */
WV_EXPORT int32_t wv_signal_bridge_reassert(void);

/* The number of the last signal the bridge received, or 0. Thread-safe. */
WV_EXPORT int32_t wv_signal_bridge_last(void);

/* How many bridged signals arrived since the process started (wraps at 2^31). Reading it
 * costs no syscall, so a spinning loop can check it every cycle. Thread-safe. */
WV_EXPORT int32_t wv_signal_bridge_count(void);

/* ---- sockets ---------------------------------------------------------------------------
 *
 * Addresses travel in a caller-owned buffer of WV_ADDR_LEN (24) bytes:
 *   bytes  0..15  the address (IPv4: the first 4 bytes), network byte order
 *   bytes 16..19  the IPv6 scope id (native byte order), 0 for IPv4
 *   bytes 20..21  the port, network byte order (big-endian)
 *   byte  22      the family: 4 or 6
 *   byte  23      reserved, 0
 * Socket fds are created O_NONBLOCK and O_CLOEXEC. Sends always pass MSG_NOSIGNAL: a write to a
 * closed connection returns -EPIPE and never raises SIGPIPE. All socket functions are
 * thread-safe (they hold no state); the usual rules of the socket API apply to one fd. */

#define WV_ADDR_LEN 24

/* Parses a numeric IPv4 ("127.0.0.1") or IPv6 ("::1") address of `len` bytes (UTF-8, no NUL
 * needed, no brackets, no zone) with inet_pton and writes it with `port` (0..65535) into
 * addr_out (addr_cap >= WV_ADDR_LEN). Returns the family (4 or 6), -EINVAL when the text is
 * not a numeric address or the port is out of range, -EFAULT / -ENOSPC for bad buffers. */
WV_EXPORT int32_t wv_addr_parse(const uint8_t *text, int32_t len, int32_t port, uint8_t *addr_out,
                                int32_t addr_cap);

/* A new non-blocking socket: family 4 or 6, type 1 = TCP stream, 2 = UDP datagram.
 * Returns the fd or -errno (-EINVAL for another family or type). */
WV_EXPORT int32_t wv_socket_create(int32_t family, int32_t type);

/* bind(2) to the address in `addr` (WV_ADDR_LEN bytes). Returns 0 or -errno
 * (-EADDRINUSE, -EADDRNOTAVAIL, -EAFNOSUPPORT for a family that does not match the socket). */
WV_EXPORT int32_t wv_socket_bind(int32_t fd, const uint8_t *addr, int32_t addr_len);

/* listen(2) with `backlog` (< 1 means SOMAXCONN). Returns 0 or -errno. */
WV_EXPORT int32_t wv_socket_listen(int32_t fd, int32_t backlog);

/* accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC. When addr_out is not NULL (addr_cap >=
 * WV_ADDR_LEN) the peer address is written there. Returns the new fd or -errno (-EAGAIN when
 * no connection is pending; -ECONNABORTED when one was reset before it was taken: try again). */
WV_EXPORT int32_t wv_socket_accept(int32_t fd, uint8_t *addr_out, int32_t addr_cap);

/* connect(2) on a non-blocking socket. Returns 0 when connected at once, -EINPROGRESS when
 * the connection is under way (wait for writable, then read wv_socket_error), or -errno. */
WV_EXPORT int32_t wv_socket_connect(int32_t fd, const uint8_t *addr, int32_t addr_len);

/* Takes the pending error (SO_ERROR): returns 0 when none, a positive errno value (for
 * example ECONNREFUSED after a failed connect), or -errno when getsockopt itself fails. */
WV_EXPORT int32_t wv_socket_error(int32_t fd);

/* recv(2) into buf[offset, offset + len) where buf holds buf_cap bytes. Returns the byte
 * count, 0 at end of stream (or for len 0), or -errno (-EAGAIN when nothing is available,
 * -ECONNRESET, ...). -EINVAL when the range does not fit the buffer. */
WV_EXPORT int32_t wv_socket_recv(int32_t fd, uint8_t *buf, int32_t buf_cap, int32_t offset,
                                 int32_t len, int32_t flags);

/* send(2) of buf[offset, offset + len) with MSG_NOSIGNAL (plus `flags`). Returns the byte
 * count (possibly fewer than len), or -errno (-EAGAIN when the send buffer is full, -EPIPE,
 * -ECONNRESET). -EINVAL when the range does not fit the buffer. */
WV_EXPORT int32_t wv_socket_send(int32_t fd, const uint8_t *buf, int32_t buf_cap,
                                 int32_t offset, int32_t len, int32_t flags);

/* recvfrom(2) of one datagram into buf[offset, offset + len); the sender's address goes to
 * addr_out when not NULL. Returns the byte count (a longer datagram is truncated), or -errno. */
WV_EXPORT int32_t wv_socket_recvfrom(int32_t fd, uint8_t *buf, int32_t buf_cap, int32_t offset,
                                     int32_t len, uint8_t *addr_out, int32_t addr_cap);

/* sendto(2) of buf[offset, offset + len) as one datagram to `addr` (MSG_NOSIGNAL). Returns the
 * byte count or -errno. */
WV_EXPORT int32_t wv_socket_sendto(int32_t fd, const uint8_t *buf, int32_t buf_cap,
                                   int32_t offset, int32_t len, const uint8_t *addr,
                                   int32_t addr_len);

/* shutdown(2): how 0 = read, 1 = write, 2 = both. Returns 0 or -errno. */
WV_EXPORT int32_t wv_socket_shutdown(int32_t fd, int32_t how);

/* Socket options, by number:
 *   1 SO_REUSEADDR, 2 SO_REUSEPORT, 3 TCP_NODELAY, 4 SO_RCVBUF, 5 SO_SNDBUF, 6 IPV6_V6ONLY,
 *   7 SO_KEEPALIVE, 8 SO_BROADCAST, 9 SO_LINGER (value = seconds with l_onoff = 1, or < 0 to
 *   turn lingering off; 0 makes close() send a reset).
 * wv_socket_setopt returns 0 or -errno (-ENOPROTOOPT for an unknown number). */
WV_EXPORT int32_t wv_socket_setopt(int32_t fd, int32_t opt, int32_t value);

/* The current value of an option numbered as for wv_socket_setopt (SO_RCVBUF / SO_SNDBUF: the
 * size the kernel uses, which is double the size asked for). Returns it (>= 0) or -errno
 * (-ENOPROTOOPT for SO_LINGER and unknown numbers). */
WV_EXPORT int32_t wv_socket_getopt(int32_t fd, int32_t opt);

/* getsockname (peer = 0) or getpeername (peer = 1) into addr_out (addr_cap >= WV_ADDR_LEN).
 * Returns the family (4 or 6) or -errno (-ENOTCONN for an unconnected peer). */
WV_EXPORT int32_t wv_socket_address(int32_t fd, int32_t peer, uint8_t *addr_out,
                                    int32_t addr_cap);

#ifdef __cplusplus
}
#endif

#endif /* WAVELET_H */
