/*
 * C baseline for wavelet's Park-mode timer lateness (bench/latency_bench.ts).
 *
 * Arms an absolute CLOCK_MONOTONIC timerfd at now + period, blocks in epoll_wait on it (timer
 * slack 1 ns via PR_SET_TIMERSLACK), and records lateness = wake time - deadline; repeats.
 * Mode "pwait2" instead blocks in epoll_pwait2 with the relative nanosecond timeout
 * (deadline - now) on an empty epoll set: what wavelet's native wait does.
 *
 * Build: cc -O2 -pthread -o timerfd_baseline timerfd_baseline.c
 * Usage: timerfd_baseline period_ns [samples=5000] [warmup=200] [timerfd|pwait2]
 * Prints one JSON object: {"name", "period_ns", "n", "p50_ns", "p99_ns", "p999_ns", ...}.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(const double *s, long n, double p) {
  long i = (long)(p * (double)n);
  if (i >= n) i = n - 1;
  return s[i];
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s period_ns [samples] [warmup] [timerfd|pwait2]\n", argv[0]);
    return 2;
  }
  double period = atof(argv[1]);
  long n = argc > 2 ? atol(argv[2]) : 5000;
  long warm = argc > 3 ? atol(argv[3]) : 200;
  int pwait2 = argc > 4 && strcmp(argv[4], "pwait2") == 0;
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (!pwait2) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1};
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
  }
  double *lat = malloc(sizeof(double) * (size_t)n);
  for (long i = 0; i < n + warm; i++) {
    double deadline = now_ns() + period;
    struct epoll_event out;
    if (pwait2) {
      for (;;) {
        double left = deadline - now_ns();
        if (left <= 0) break;
        struct timespec ts = {(time_t)(left / 1e9), (long)((int64_t)left % 1000000000)};
        syscall(SYS_epoll_pwait2, ep, &out, 1, &ts, NULL, (size_t)8);
      }
    } else {
      int64_t d = (int64_t)deadline;
      struct itimerspec its = {{0, 0}, {d / 1000000000, d % 1000000000}};
      timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
      for (;;) {
        int r = epoll_wait(ep, &out, 1, -1);
        if (r > 0) break;
      }
      uint64_t v;
      while (read(tfd, &v, sizeof v) < 0 && errno == EINTR) {
      }
    }
    double l = now_ns() - deadline;
    if (i >= warm) lat[i - warm] = l;
  }
  double sum = 0;
  for (long i = 0; i < n; i++) sum += lat[i];
  qsort(lat, (size_t)n, sizeof(double), cmp);
  printf("{\"name\":\"c_%s_%.0fus\",\"period_ns\":%.0f,\"n\":%ld,\"p50_ns\":%.0f,\"p99_ns\":%.0f,"
         "\"p999_ns\":%.0f,\"mean_ns\":%.0f,\"min_ns\":%.0f,\"max_ns\":%.0f}\n",
         pwait2 ? "pwait2" : "timerfd", period / 1e3, period, n, pct(lat, n, 0.5),
         pct(lat, n, 0.99), pct(lat, n, 0.999), sum / (double)n, lat[0], lat[n - 1]);
  return 0;
}
