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
#include <sched.h>
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
#define WV_BRIDGE_SLOTS 1024
#define WV_BRIDGEABLE                                                                     \
  ((1u << SIGINT) | (1u << SIGTERM) | (1u << SIGHUP) | (1u << SIGQUIT) | (1u << SIGUSR1) | \
   (1u << SIGUSR2))
/* How long wv_signal_bridge_remove waits for a handler that is still writing. */
#define WV_BRIDGE_QUIET_NS 2e9

/* The members: slot i holds eventfd + 1 (0: free) and the signals it wants. The handler reads
 * them without a lock; add and remove change them under bridge_lock. */
static atomic_int bridge_fd1[WV_BRIDGE_SLOTS];
static atomic_uint bridge_mask[WV_BRIDGE_SLOTS];
/* Slots [0, bridge_high) may be in use; it only grows. */
static atomic_int bridge_high = 0;
/* Handlers between their first write and their last: remove waits for it to drop to 0 before
 * it returns, so a removed eventfd may be closed (and its number reused) safely. */
static atomic_int bridge_active = 0;
static atomic_int bridge_last = 0;
static atomic_int bridge_count = 0;
/* Set while the handler calls the previous handler of a signal: a previous handler that chains
 * back to ours (installed over ours, then displaced by wv_signal_bridge_reassert) must not
 * recurse. */
static volatile sig_atomic_t bridge_chaining[WV_NSIG];
/* The handler each signal had before ours, double-buffered so that reassert can replace it
 * while a handler on another thread may be reading it. */
static struct sigaction bridge_prev[2][WV_NSIG];
static atomic_int bridge_prev_sel[WV_NSIG];
static atomic_int bridge_prev_saved[WV_NSIG];
/* Under bridge_lock (never taken by the handler). */
static atomic_flag bridge_lock = ATOMIC_FLAG_INIT;
static int bridge_users[WV_NSIG];
static unsigned char bridge_installed[WV_NSIG];

static void bridge_keep_signal(int sig);

static void bridge_handler(int sig, siginfo_t *info, void *uctx) {
  if (sig <= 0 || sig >= WV_NSIG) return;
  /* Re-entered from a previous handler that chains back to ours: the outer call has written
   * every member already. */
  if (bridge_chaining[sig]) return;
  int saved_errno = errno;
  atomic_fetch_add(&bridge_active, 1);
  atomic_store(&bridge_last, sig);
  atomic_fetch_add(&bridge_count, 1);
  unsigned bit = 1u << sig;
  int high = atomic_load(&bridge_high);
  for (int i = 0; i < high; i++) {
    int fd1 = atomic_load(&bridge_fd1[i]);
    if (fd1 == 0 || !(atomic_load(&bridge_mask[i]) & bit)) continue;
    uint64_t one = 1;
    ssize_t r;
    do {
      r = write(fd1 - 1, &one, sizeof one);
    } while (r < 0 && errno == EINTR);
  }
  atomic_fetch_sub(&bridge_active, 1);
  /* A previous handler installed with SA_RESETHAND runs once and then wants the default action
   * (Bun's terminal handler: it restores the terminal, sets SIG_DFL and re-raises at once): the
   * process would end before any loop woke. It is kept, to be restored, but not called. */
  if (atomic_load(&bridge_prev_saved[sig]) &&
      !(bridge_prev[atomic_load(&bridge_prev_sel[sig])][sig].sa_flags & SA_RESETHAND)) {
    const struct sigaction *p = &bridge_prev[atomic_load(&bridge_prev_sel[sig])][sig];
    int chained = 0;
    bridge_chaining[sig] = 1;
    if (p->sa_flags & SA_SIGINFO) {
      if (p->sa_sigaction != NULL) {
        p->sa_sigaction(sig, info, uctx);
        chained = 1;
      }
    } else if (p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN && p->sa_handler != NULL) {
      p->sa_handler(sig);
      chained = 1;
    }
    bridge_chaining[sig] = 0;
    if (chained) bridge_keep_signal(sig);
  }
  errno = saved_errno;
}

static void bridge_lock_take(void) {
  while (atomic_flag_test_and_set_explicit(&bridge_lock, memory_order_acquire)) sched_yield();
}

static void bridge_lock_give(void) { atomic_flag_clear_explicit(&bridge_lock, memory_order_release); }

static int is_bridge_handler(const struct sigaction *sa) {
  return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == bridge_handler;
}

/* Records `prev` as what signal s chains to (never our own handler). */
static void bridge_set_prev(int s, const struct sigaction *prev) {
  int next = 1 - atomic_load(&bridge_prev_sel[s]);
  bridge_prev[next][s] = *prev;
  if (is_bridge_handler(prev)) {
    memset(&bridge_prev[next][s], 0, sizeof(struct sigaction));
    bridge_prev[next][s].sa_handler = SIG_DFL;
  }
  atomic_store(&bridge_prev_sel[s], next);
  atomic_store(&bridge_prev_saved[s], 1);
}

/* Puts our handler on signal s, chaining to whatever was there. Under the lock. */
static int bridge_take_signal(int s) {
  struct sigaction sa, prev;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = bridge_handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  if (sigaction(s, NULL, &prev) != 0) return -errno;
  bridge_set_prev(s, &prev);
  if (sigaction(s, &sa, NULL) != 0) return -errno;
  return 0;
}

/* Gives signal s back to the handler ours replaced, unless another handler has replaced ours
 * since (then that one stays). Under the lock. */
static int bridge_release_signal(int s) {
  struct sigaction cur;
  if (sigaction(s, NULL, &cur) != 0) return -errno;
  if (!is_bridge_handler(&cur)) return 0;
  const struct sigaction *p = &bridge_prev[atomic_load(&bridge_prev_sel[s])][s];
  return sigaction(s, p, NULL) == 0 ? 0 : -errno;
}

/* Called by the handler after the previous handler returned. A previous handler may have given
 * the signal away (set SIG_DFL to re-raise it later, or installed another handler). While
 * members want the signal, the bridge takes it back (sigaction is async-signal-safe) and chains
 * from then on to whatever that handler installed (SIG_DFL: to nothing). When add, remove or
 * reassert holds the lock (this thread may be the one holding it), the signal is left as the
 * previous handler set it. */
static void bridge_keep_signal(int sig) {
  struct sigaction cur;
  if (sigaction(sig, NULL, &cur) != 0 || is_bridge_handler(&cur)) return;
  if (atomic_flag_test_and_set_explicit(&bridge_lock, memory_order_acquire)) return;
  if (bridge_installed[sig] && bridge_users[sig] > 0) bridge_take_signal(sig);
  bridge_lock_give();
}

/* Waits until no handler is writing; -EBUSY after WV_BRIDGE_QUIET_NS. */
static int bridge_wait_quiet(void) {
  double limit = mono_now() + WV_BRIDGE_QUIET_NS;
  while (atomic_load(&bridge_active) != 0) {
    if (mono_now() > limit) return -EBUSY;
    sched_yield();
  }
  return 0;
}

WV_EXPORT int32_t wv_signal_bridge_add(int32_t eventfd_fd, uint32_t signal_mask) {
  if (eventfd_fd < 0 || eventfd_fd == INT32_MAX) return -EBADF;
  if (signal_mask == 0) signal_mask = (1u << SIGINT) | (1u << SIGTERM);
  if (signal_mask & ~WV_BRIDGEABLE) return -EINVAL;
  bridge_lock_take();
  int high = atomic_load(&bridge_high), slot = -1;
  for (int i = 0; i < high; i++) {
    int fd1 = atomic_load(&bridge_fd1[i]);
    if (fd1 == eventfd_fd + 1) {
      bridge_lock_give();
      return -EEXIST;
    }
    if (fd1 == 0 && slot < 0) slot = i;
  }
  if (slot < 0) {
    if (high == WV_BRIDGE_SLOTS) {
      bridge_lock_give();
      return -ENOSPC;
    }
    slot = high;
  }
  /* Take every signal that gains its first member; undo them all if one fails. */
  unsigned taken = 0;
  for (int s = 1; s < 32; s++) {
    if (!(signal_mask & (1u << s)) || bridge_installed[s]) continue;
    int rc = bridge_take_signal(s);
    if (rc < 0) {
      for (int t = 1; t < 32; t++) {
        if (taken & (1u << t)) {
          bridge_release_signal(t);
          bridge_installed[t] = 0;
        }
      }
      bridge_lock_give();
      return rc;
    }
    bridge_installed[s] = 1;
    taken |= 1u << s;
  }
  for (int s = 1; s < 32; s++) {
    if (signal_mask & (1u << s)) bridge_users[s]++;
  }
  atomic_store(&bridge_mask[slot], signal_mask);
  atomic_store(&bridge_fd1[slot], eventfd_fd + 1);
  if (slot == high) atomic_store(&bridge_high, high + 1);
  bridge_lock_give();
  return 0;
}

WV_EXPORT int32_t wv_signal_bridge_remove(int32_t eventfd_fd) {
  if (eventfd_fd < 0 || eventfd_fd == INT32_MAX) return -EBADF;
  bridge_lock_take();
  int high = atomic_load(&bridge_high), slot = -1;
  for (int i = 0; i < high; i++) {
    if (atomic_load(&bridge_fd1[i]) == eventfd_fd + 1) {
      slot = i;
      break;
    }
  }
  if (slot < 0) {
    bridge_lock_give();
    return -ENOENT;
  }
  unsigned mask = atomic_load(&bridge_mask[slot]);
  atomic_store(&bridge_fd1[slot], 0);
  int rc = 0;
  for (int s = 1; s < 32; s++) {
    if (!(mask & (1u << s))) continue;
    if (--bridge_users[s] == 0 && bridge_installed[s]) {
      int r = bridge_release_signal(s);
      if (r < 0) rc = r;
      bridge_installed[s] = 0;
    }
  }
  bridge_lock_give();
  int q = bridge_wait_quiet();
  return q < 0 ? q : rc;
}

WV_EXPORT int32_t wv_signal_bridge_reassert(void) {
  int n = 0, rc = 0;
  bridge_lock_take();
  for (int s = 1; s < 32; s++) {
    if (!bridge_installed[s]) continue;
    struct sigaction cur;
    if (sigaction(s, NULL, &cur) != 0) {
      rc = -errno;
      continue;
    }
    if (is_bridge_handler(&cur)) continue;
    int r = bridge_take_signal(s);
    if (r < 0) rc = r;
    else n++;
  }
  bridge_lock_give();
  return rc < 0 ? rc : n;
}

WV_EXPORT int32_t wv_signal_bridge_last(void) { return atomic_load(&bridge_last); }

WV_EXPORT int32_t wv_signal_bridge_count(void) { return atomic_load(&bridge_count); }

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
