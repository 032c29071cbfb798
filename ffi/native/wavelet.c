/*
 * wavelet native layer. See wavelet.h for the contract of every function.
 *
 * Build: cc -O2 -fPIC -shared -fvisibility=hidden -o libwavelet.so wavelet.c
 * (scripts/build_native.sh, or ffi/load.ts on first use).
 */
#define _GNU_SOURCE
#include "wavelet.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
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

WV_EXPORT int32_t wv_abi_version(void) { return WV_ABI_VALUE; }

static inline double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

WV_EXPORT double wv_clock_monotonic_ns(void) { return mono_now(); }

WV_EXPORT int32_t wv_clock_realtime(double *out2) {
  struct timespec ts;
  if (out2 == NULL) return -EFAULT;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -errno;
  out2[0] = (double)ts.tv_sec;
  out2[1] = (double)ts.tv_nsec;
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

WV_EXPORT int32_t wv_epoll_wait(int32_t epfd, int32_t *events_out, int32_t max_events,
                                double timeout_ns, double *clock_out) {
  struct epoll_event evs[WV_MAX_EVENTS];
  if (events_out == NULL) return -EFAULT;
  if (max_events < 1) return -EINVAL;
  if (timeout_ns != timeout_ns) return -EINVAL; /* NaN */
  if (timeout_ns > 9.2e18) timeout_ns = -1;    /* +Infinity and beyond: forever */
  if (max_events > WV_MAX_EVENTS) max_events = WV_MAX_EVENTS;
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
