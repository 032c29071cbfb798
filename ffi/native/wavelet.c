/*
 * wavelet native layer. See wavelet.h for the contract of every function.
 *
 * Build: cc -O2 -fPIC -shared -fvisibility=hidden -o libwavelet.so wavelet.c
 * (scripts/build_native.sh, or ffi/load.ts on first use).
 */
#define _GNU_SOURCE
#include "wavelet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* Tests build a library with another ABI number to check the loader's refusal. */
#ifdef WV_ABI_OVERRIDE
#define WV_ABI_VALUE WV_ABI_OVERRIDE
#else
#define WV_ABI_VALUE WV_ABI_VERSION
#endif

#define NS_PER_S 1000000000LL
#define WV_MAX_EVENTS 1024
#define WV_EVENT_BYTES 8 /* one event in events_out: (events, data) as two int32 */

WV_EXPORT int32_t wv_abi_version(void) { return WV_ABI_VALUE; }

static inline double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

WV_EXPORT double wv_clock_monotonic_ns(void) { return mono_now(); }

WV_EXPORT int32_t wv_clock_realtime(double *out, int32_t out_cap) {
  struct timespec ts;
  if (out == NULL) return -EFAULT;
  if (out_cap < (int32_t)(2 * sizeof(double))) return -ENOSPC;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -errno;
  out[0] = (double)ts.tv_sec;
  out[1] = (double)ts.tv_nsec;
  return 0;
}

WV_EXPORT double wv_clock_realtime_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -(double)errno;
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- epoll --------------------------------------------------------------------------- */

/* Set when the kernel lacks epoll_pwait2 (ENOSYS); never cleared. */
static atomic_int pwait2_missing = 0;
/* Timer slack is a per-thread attribute: set it once on each thread that waits. */
static __thread int slack_set = 0;

static void ensure_timer_slack(void) {
  if (!slack_set) {
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    slack_set = 1;
  }
}

WV_EXPORT int32_t wv_epoll_create(void) {
  ensure_timer_slack();
  int fd = epoll_create1(EPOLL_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

WV_EXPORT int32_t wv_epoll_ctl(int32_t epfd, int32_t op, int32_t fd, uint32_t events,
                               uint32_t data) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = events;
  ev.data.u64 = data;
  if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_DEL && op != EPOLL_CTL_MOD) return -EINVAL;
  for (;;) {
    if (epoll_ctl(epfd, op, fd, &ev) == 0) return 0;
    if (errno != EINTR) return -errno;
  }
}

/* One wait of at most timeout_ns (< 0: forever). Returns the count or -errno, EINTR included. */
static int wait_once(int epfd, struct epoll_event *evs, int max, double timeout_ns) {
  if (!atomic_load_explicit(&pwait2_missing, memory_order_relaxed)) {
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
      long long t = (long long)timeout_ns;
      ts.tv_sec = (time_t)(t / NS_PER_S);
      ts.tv_nsec = (long)(t % NS_PER_S);
      tsp = &ts;
    }
    long n = syscall(SYS_epoll_pwait2, epfd, evs, max, tsp, NULL, (size_t)8);
    if (n >= 0) return (int)n;
    if (errno != ENOSYS) return -errno;
    atomic_store_explicit(&pwait2_missing, 1, memory_order_relaxed);
  }
  int ms;
  if (timeout_ns < 0) {
    ms = -1;
  } else {
    double m = ceil(timeout_ns / 1e6); /* rounded up: never early */
    ms = m > 2147483647.0 ? 2147483647 : (int)m;
  }
  int n = epoll_wait(epfd, evs, max, ms);
  return n >= 0 ? n : -errno;
}

WV_EXPORT int32_t wv_epoll_wait(int32_t epfd, int32_t *events_out, int32_t events_cap,
                                int32_t max_events, double timeout_ns, double *clock_out,
                                int32_t clock_cap) {
  struct epoll_event evs[WV_MAX_EVENTS];
  if (events_out == NULL) return -EFAULT;
  if (max_events < 1) return -EINVAL;
  if (timeout_ns != timeout_ns) return -EINVAL; /* NaN */
  if (timeout_ns > 9.2e18) timeout_ns = -1;    /* +Infinity and beyond: forever */
  if (max_events > WV_MAX_EVENTS) max_events = WV_MAX_EVENTS;
  /* Checked before waiting: events must never be taken from the kernel and then dropped. */
  if (events_cap < 0 || max_events > events_cap / WV_EVENT_BYTES) return -ENOSPC;
  if (clock_out != NULL && clock_cap < (int32_t)sizeof(double)) return -ENOSPC;
  if (timeout_ns > 0) ensure_timer_slack();
  double deadline = timeout_ns > 0 ? mono_now() + timeout_ns : 0;
  double remaining = timeout_ns;
  int n;
  for (;;) {
    n = wait_once(epfd, evs, max_events, remaining);
    if (n != -EINTR) break;
    if (timeout_ns > 0) {
      remaining = deadline - mono_now();
      if (remaining <= 0) {
        n = 0;
        break;
      }
    }
  }
  if (n < 0) return n; /* a failed wait writes nothing */
  if (clock_out != NULL) clock_out[0] = mono_now();
  for (int i = 0; i < n; i++) {
    events_out[2 * i] = (int32_t)evs[i].events;
    events_out[2 * i + 1] = (int32_t)(uint32_t)evs[i].data.u64;
  }
  return n;
}

/* ---- eventfd / timerfd ---------------------------------------------------------------- */

WV_EXPORT int32_t wv_eventfd_create(uint32_t initval, int32_t flags) {
  int f = EFD_CLOEXEC;
  if (flags & 1) f |= EFD_SEMAPHORE;
  if (!(flags & 2)) f |= EFD_NONBLOCK;
  int fd = eventfd(initval, f);
  return fd < 0 ? -errno : fd;
}

WV_EXPORT int32_t wv_eventfd_write(int32_t fd, double value) {
  if (!(value >= 1 && value <= 9007199254740992.0) || value != floor(value)) return -EINVAL;
  uint64_t v = (uint64_t)value;
  for (;;) {
    ssize_t w = write(fd, &v, sizeof v);
    if (w == (ssize_t)sizeof v) return 0;
    if (w >= 0) return -EIO;
    if (errno != EINTR) return -errno;
  }
}

static double read_u64(int fd) {
  uint64_t v;
  for (;;) {
    ssize_t r = read(fd, &v, sizeof v);
    if (r == (ssize_t)sizeof v) return (double)v;
    if (r >= 0) return -(double)EIO;
    if (errno != EINTR) return -(double)errno;
  }
}

WV_EXPORT double wv_eventfd_read(int32_t fd) { return read_u64(fd); }

WV_EXPORT int32_t wv_timerfd_create(void) {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

WV_EXPORT int32_t wv_timerfd_settime(int32_t fd, double abs_deadline_ns) {
  struct itimerspec its;
  if (!(abs_deadline_ns >= 0) || abs_deadline_ns > 9.2e18) return -EINVAL;
  memset(&its, 0, sizeof its);
  long long t = (long long)abs_deadline_ns;
  if (t == 0 && abs_deadline_ns > 0) t = 1; /* a sub-ns deadline is not "disarm" */
  its.it_value.tv_sec = (time_t)(t / NS_PER_S);
  its.it_value.tv_nsec = (long)(t % NS_PER_S);
  if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) != 0) return -errno;
  return 0;
}

WV_EXPORT double wv_timerfd_read(int32_t fd) { return read_u64(fd); }

WV_EXPORT int32_t wv_close(int32_t fd) {
  if (close(fd) == 0) return 0;
  return errno == EINTR ? 0 : -errno;
}

/* ---- signal bridge (the only process-wide state) -------------------------------------- */

#define WV_NSIG 65
static volatile sig_atomic_t bridge_last = 0;
static volatile sig_atomic_t bridge_count = 0;
static volatile sig_atomic_t bridge_fd = -1;
static struct sigaction bridge_prev[WV_NSIG];
static unsigned char bridge_saved[WV_NSIG];

static void bridge_handler(int sig, siginfo_t *info, void *uctx) {
  int saved_errno = errno;
  bridge_last = sig;
  bridge_count = bridge_count + 1;
  int fd = bridge_fd;
  if (fd >= 0) {
    uint64_t one = 1;
    ssize_t r;
    do {
      r = write(fd, &one, sizeof one);
    } while (r < 0 && errno == EINTR);
  }
  if (sig > 0 && sig < WV_NSIG && bridge_saved[sig]) {
    const struct sigaction *p = &bridge_prev[sig];
    if (p->sa_flags & SA_SIGINFO) {
      if (p->sa_sigaction != NULL) p->sa_sigaction(sig, info, uctx);
    } else if (p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN && p->sa_handler != NULL) {
      p->sa_handler(sig);
    }
  }
  errno = saved_errno;
}

static int allowed_signal(int s) {
  return s == SIGINT || s == SIGTERM || s == SIGHUP || s == SIGQUIT || s == SIGUSR1 ||
         s == SIGUSR2;
}

WV_EXPORT int32_t wv_signal_bridge_install(int32_t eventfd_fd, uint32_t signal_mask) {
  if (eventfd_fd < 0) return -EBADF;
  if (signal_mask == 0) signal_mask = (1u << SIGINT) | (1u << SIGTERM);
  for (int s = 1; s < 32; s++) {
    if ((signal_mask & (1u << s)) && !allowed_signal(s)) return -EINVAL;
  }
  if (signal_mask & 1u) return -EINVAL;
  bridge_fd = eventfd_fd;
  for (int s = 1; s < 32; s++) {
    if (!(signal_mask & (1u << s))) continue;
    struct sigaction sa, prev;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = bridge_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(s, &sa, &prev) != 0) return -errno;
    /* Keep the first saved handler: re-installing must not chain to ourselves. */
    if (!bridge_saved[s]) {
      bridge_prev[s] = prev;
      bridge_saved[s] = 1;
    }
  }
  return 0;
}

WV_EXPORT int32_t wv_signal_bridge_uninstall(void) {
  int rc = 0;
  for (int s = 1; s < WV_NSIG; s++) {
    if (!bridge_saved[s]) continue;
    if (sigaction(s, &bridge_prev[s], NULL) != 0) rc = -errno;
    bridge_saved[s] = 0;
  }
  bridge_fd = -1;
  return rc;
}

WV_EXPORT int32_t wv_signal_bridge_last(void) { return bridge_last; }

WV_EXPORT int32_t wv_signal_bridge_count(void) { return bridge_count; }

/* ---- sockets -------------------------------------------------------------------------- */

/* Builds a sockaddr from a WV_ADDR_LEN buffer; returns its length or -errno. */
static int to_sockaddr(const uint8_t *addr, int32_t addr_len, struct sockaddr_storage *ss) {
  if (addr == NULL) return -EFAULT;
  if (addr_len < WV_ADDR_LEN) return -EINVAL;
  memset(ss, 0, sizeof *ss);
  uint16_t port_be;
  memcpy(&port_be, addr + 20, 2);
  if (addr[22] == 4) {
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    in->sin_port = port_be;
    memcpy(&in->sin_addr, addr, 4);
    return (int)sizeof *in;
  }
  if (addr[22] == 6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = port_be;
    memcpy(&in6->sin6_addr, addr, 16);
    uint32_t scope;
    memcpy(&scope, addr + 16, 4);
    in6->sin6_scope_id = scope;
    return (int)sizeof *in6;
  }
  return -EAFNOSUPPORT;
}

/* Writes a sockaddr into a WV_ADDR_LEN buffer; returns the family (4 or 6) or -errno. */
static int from_sockaddr(const struct sockaddr_storage *ss, uint8_t *out) {
  memset(out, 0, WV_ADDR_LEN);
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
    memcpy(out, &in->sin_addr, 4);
    memcpy(out + 20, &in->sin_port, 2);
    out[22] = 4;
    return 4;
  }
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
    memcpy(out, &in6->sin6_addr, 16);
    uint32_t scope = in6->sin6_scope_id;
    memcpy(out + 16, &scope, 4);
    memcpy(out + 20, &in6->sin6_port, 2);
    out[22] = 6;
    return 6;
  }
  return -EAFNOSUPPORT;
}

static int check_range(const void *buf, int32_t cap, int32_t offset, int32_t len) {
  if (cap < 0 || offset < 0 || len < 0 || offset > cap || len > cap - offset) return -EINVAL;
  if (buf == NULL && len > 0) return -EFAULT;
  return 0;
}

WV_EXPORT int32_t wv_addr_parse(const uint8_t *text, int32_t len, int32_t port, uint8_t *addr_out,
                                int32_t addr_cap) {
  char tmp[64];
  if (addr_out == NULL) return -EFAULT;
  if (addr_cap < WV_ADDR_LEN) return -ENOSPC;
  if (text == NULL || len <= 0 || len >= (int32_t)sizeof tmp) return -EINVAL;
  if (port < 0 || port > 65535) return -EINVAL;
  memcpy(tmp, text, (size_t)len);
  tmp[len] = '\0';
  if (memchr(tmp, '\0', (size_t)len) != NULL) return -EINVAL;
  uint8_t bytes[16];
  int family;
  if (inet_pton(AF_INET, tmp, bytes) == 1) {
    family = 4;
  } else if (inet_pton(AF_INET6, tmp, bytes) == 1) {
    family = 6;
  } else {
    return -EINVAL;
  }
  memset(addr_out, 0, WV_ADDR_LEN);
  memcpy(addr_out, bytes, family == 4 ? 4 : 16);
  addr_out[20] = (uint8_t)(port >> 8);
  addr_out[21] = (uint8_t)(port & 0xff);
  addr_out[22] = (uint8_t)family;
  return family;
}

WV_EXPORT int32_t wv_socket_create(int32_t family, int32_t type) {
  int af = family == 4 ? AF_INET : family == 6 ? AF_INET6 : -1;
  int st = type == 1 ? SOCK_STREAM : type == 2 ? SOCK_DGRAM : -1;
  if (af < 0 || st < 0) return -EINVAL;
  int fd = socket(af, st | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  return fd < 0 ? -errno : fd;
}

WV_EXPORT int32_t wv_socket_bind(int32_t fd, const uint8_t *addr, int32_t addr_len) {
  struct sockaddr_storage ss;
  int sl = to_sockaddr(addr, addr_len, &ss);
  if (sl < 0) return sl;
  return bind(fd, (struct sockaddr *)&ss, (socklen_t)sl) == 0 ? 0 : -errno;
}

WV_EXPORT int32_t wv_socket_listen(int32_t fd, int32_t backlog) {
  return listen(fd, backlog < 1 ? SOMAXCONN : backlog) == 0 ? 0 : -errno;
}

WV_EXPORT int32_t wv_socket_accept(int32_t fd, uint8_t *addr_out, int32_t addr_cap) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (addr_out != NULL && addr_cap < WV_ADDR_LEN) return -ENOSPC;
  for (;;) {
    int c = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0) {
      if (addr_out != NULL) from_sockaddr(&ss, addr_out);
      return c;
    }
    if (errno != EINTR) return -errno;
  }
}

WV_EXPORT int32_t wv_socket_connect(int32_t fd, const uint8_t *addr, int32_t addr_len) {
  struct sockaddr_storage ss;
  int sl = to_sockaddr(addr, addr_len, &ss);
  if (sl < 0) return sl;
  /* An interrupted non-blocking connect continues in the background: report it in progress. */
  if (connect(fd, (struct sockaddr *)&ss, (socklen_t)sl) == 0) return 0;
  return errno == EINTR ? -EINPROGRESS : -errno;
}

WV_EXPORT int32_t wv_socket_error(int32_t fd) {
  int err = 0;
  socklen_t l = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0) return -errno;
  return err;
}

WV_EXPORT int32_t wv_socket_recv(int32_t fd, uint8_t *buf, int32_t buf_cap, int32_t offset,
                                 int32_t len, int32_t flags) {
  int rc = check_range(buf, buf_cap, offset, len);
  if (rc < 0) return rc;
  for (;;) {
    ssize_t n = recv(fd, buf == NULL ? NULL : buf + offset, (size_t)len, flags);
    if (n >= 0) return (int32_t)n;
    if (errno != EINTR) return -errno;
  }
}

WV_EXPORT int32_t wv_socket_send(int32_t fd, const uint8_t *buf, int32_t buf_cap,
                                 int32_t offset, int32_t len, int32_t flags) {
  int rc = check_range(buf, buf_cap, offset, len);
  if (rc < 0) return rc;
  for (;;) {
    ssize_t n = send(fd, buf == NULL ? NULL : buf + offset, (size_t)len, flags | MSG_NOSIGNAL);
    if (n >= 0) return (int32_t)n;
    if (errno != EINTR) return -errno;
  }
}

WV_EXPORT int32_t wv_socket_recvfrom(int32_t fd, uint8_t *buf, int32_t buf_cap, int32_t offset,
                                     int32_t len, uint8_t *addr_out, int32_t addr_cap) {
  int rc = check_range(buf, buf_cap, offset, len);
  if (rc < 0) return rc;
  if (addr_out != NULL && addr_cap < WV_ADDR_LEN) return -ENOSPC;
  struct sockaddr_storage ss;
  for (;;) {
    socklen_t sl = sizeof ss;
    ssize_t n = recvfrom(fd, buf == NULL ? NULL : buf + offset, (size_t)len, 0,
                         (struct sockaddr *)&ss, &sl);
    if (n >= 0) {
      if (addr_out != NULL) from_sockaddr(&ss, addr_out);
      return (int32_t)n;
    }
    if (errno != EINTR) return -errno;
  }
}

WV_EXPORT int32_t wv_socket_sendto(int32_t fd, const uint8_t *buf, int32_t buf_cap,
                                   int32_t offset, int32_t len, const uint8_t *addr,
                                   int32_t addr_len) {
  int rc = check_range(buf, buf_cap, offset, len);
  if (rc < 0) return rc;
  struct sockaddr_storage ss;
  int sl = to_sockaddr(addr, addr_len, &ss);
  if (sl < 0) return sl;
  for (;;) {
    ssize_t n = sendto(fd, buf == NULL ? NULL : buf + offset, (size_t)len, MSG_NOSIGNAL,
                       (struct sockaddr *)&ss, (socklen_t)sl);
    if (n >= 0) return (int32_t)n;
    if (errno != EINTR) return -errno;
  }
}

WV_EXPORT int32_t wv_socket_shutdown(int32_t fd, int32_t how) {
  int h = how == 0 ? SHUT_RD : how == 1 ? SHUT_WR : how == 2 ? SHUT_RDWR : -1;
  if (h < 0) return -EINVAL;
  return shutdown(fd, h) == 0 ? 0 : -errno;
}

/* Maps an option number to (level, name); returns 0 or -ENOPROTOOPT. */
static int opt_of(int32_t opt, int *level, int *name) {
  switch (opt) {
    case 1: *level = SOL_SOCKET; *name = SO_REUSEADDR; return 0;
    case 2: *level = SOL_SOCKET; *name = SO_REUSEPORT; return 0;
    case 3: *level = IPPROTO_TCP; *name = TCP_NODELAY; return 0;
    case 4: *level = SOL_SOCKET; *name = SO_RCVBUF; return 0;
    case 5: *level = SOL_SOCKET; *name = SO_SNDBUF; return 0;
    case 6: *level = IPPROTO_IPV6; *name = IPV6_V6ONLY; return 0;
    case 7: *level = SOL_SOCKET; *name = SO_KEEPALIVE; return 0;
    case 8: *level = SOL_SOCKET; *name = SO_BROADCAST; return 0;
    case 9: *level = SOL_SOCKET; *name = SO_LINGER; return 0;
    default: return -ENOPROTOOPT;
  }
}

WV_EXPORT int32_t wv_socket_setopt(int32_t fd, int32_t opt, int32_t value) {
  int level, name;
  if (opt_of(opt, &level, &name) != 0) return -ENOPROTOOPT;
  if (name == SO_LINGER && level == SOL_SOCKET) {
    struct linger lg;
    lg.l_onoff = value >= 0 ? 1 : 0;
    lg.l_linger = value >= 0 ? value : 0;
    return setsockopt(fd, level, name, &lg, sizeof lg) == 0 ? 0 : -errno;
  }
  int v = value;
  return setsockopt(fd, level, name, &v, sizeof v) == 0 ? 0 : -errno;
}

WV_EXPORT int32_t wv_socket_getopt(int32_t fd, int32_t opt) {
  int level, name;
  if (opt_of(opt, &level, &name) != 0 || opt == 9) return -ENOPROTOOPT;
  int v = 0;
  socklen_t l = sizeof v;
  if (getsockopt(fd, level, name, &v, &l) != 0) return -errno;
  return v < 0 ? 0 : v;
}

WV_EXPORT int32_t wv_socket_address(int32_t fd, int32_t peer, uint8_t *addr_out,
                                    int32_t addr_cap) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (addr_out == NULL) return -EFAULT;
  if (addr_cap < WV_ADDR_LEN) return -ENOSPC;
  int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &sl)
                : getsockname(fd, (struct sockaddr *)&ss, &sl);
  if (rc != 0) return -errno;
  return from_sockaddr(&ss, addr_out);
}
