/*
 * C baseline for wavelet's cross-thread notify latency (bench/latency_bench.ts).
 *
 * A producer thread stamps CLOCK_MONOTONIC into shared memory and writes an eventfd; the
 * consumer thread either blocks in epoll_wait on the eventfd ("park": the clock is read as soon
 * as epoll_wait returns, the eventfd is drained after) or spins reading it non-blocking ("spin":
 * the clock is read after the read that succeeded), and records the wake latency = now - stamp. The producer waits until
 * the consumer acknowledged the previous sample (spinning on an atomic word), sleeps a random
 * 20-100 us gap, then sends the next one: the same protocol as the TypeScript contenders.
 *
 * Build: cc -O2 -pthread -o eventfd_baseline eventfd_baseline.c
 * Usage: eventfd_baseline park|spin [samples=20000] [warmup=2000]
 * Prints one JSON object: {"name", "mode", "n", "p50_ns", "p99_ns", "p999_ns", "mean_ns", ...,
 * "read_syscall_ns": the mean cost of one read() of an empty eventfd, for context}.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static int efd;
static int spin_mode;
static long total;
static _Atomic double stamp;
static atomic_long ack;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void sleep_ns(long ns) {
  struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static void *producer(void *arg) {
  (void)arg; /* default timer slack for the gap, like the JS Worker's Atomics.wait */
  uint32_t x = 0x9e3779b9u;
  for (long i = 0; i < total; i++) {
    while (atomic_load_explicit(&ack, memory_order_acquire) != i) {
    }
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    sleep_ns(20000 + (long)(x % 80000u));
    atomic_store_explicit(&stamp, now_ns(), memory_order_release);
    uint64_t one = 1;
    while (write(efd, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }
  return NULL;
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
  if (argc < 2 || (strcmp(argv[1], "park") != 0 && strcmp(argv[1], "spin") != 0)) {
    fprintf(stderr, "usage: %s park|spin [samples] [warmup]\n", argv[0]);
    return 2;
  }
  spin_mode = strcmp(argv[1], "spin") == 0;
  long n = argc > 2 ? atol(argv[2]) : 20000;
  long warm = argc > 3 ? atol(argv[3]) : 2000;
  total = n + warm;
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1};
  epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
  /* Context for the report: the cost of one read() syscall on an empty eventfd (EAGAIN). */
  uint64_t junk;
  double r0 = now_ns();
  for (int i = 0; i < 20000; i++) {
    if (read(efd, &junk, sizeof junk) > 0) break;
  }
  double read_ns = (now_ns() - r0) / 20000.0;
  double *lat = malloc(sizeof(double) * (size_t)n);
  pthread_t t;
  pthread_create(&t, NULL, producer, NULL);
  for (long i = 0; i < total; i++) {
    uint64_t v;
    double d;
    if (spin_mode) {
      while (read(efd, &v, sizeof v) < 0) {
      }
      d = now_ns() - atomic_load_explicit(&stamp, memory_order_acquire);
    } else {
      /* The clock is read as soon as epoll_wait returns; the eventfd is drained afterwards. */
      struct epoll_event out;
      while (epoll_wait(ep, &out, 1, -1) <= 0) {
      }
      d = now_ns() - atomic_load_explicit(&stamp, memory_order_acquire);
      while (read(efd, &v, sizeof v) < 0 && errno == EINTR) {
      }
    }
    if (i >= warm) lat[i - warm] = d;
    atomic_store_explicit(&ack, i + 1, memory_order_release);
  }
  pthread_join(t, NULL);
  double sum = 0;
  for (long i = 0; i < n; i++) sum += lat[i];
  qsort(lat, (size_t)n, sizeof(double), cmp);
  printf("{\"name\":\"c_eventfd_%s\",\"mode\":\"%s\",\"n\":%ld,\"p50_ns\":%.0f,\"p99_ns\":%.0f,"
         "\"p999_ns\":%.0f,\"mean_ns\":%.0f,\"min_ns\":%.0f,\"max_ns\":%.0f,"
         "\"read_syscall_ns\":%.0f}\n",
         argv[1], argv[1], n, pct(lat, n, 0.5), pct(lat, n, 0.99), pct(lat, n, 0.999),
         sum / (double)n, lat[0], lat[n - 1], read_ns);
  return 0;
}
