/**
 * THE native symbol table: every function of `ffi/native/wavelet.h`, declared once in a
 * runtime-neutral form. `ffi/bun/open.ts` and `ffi/deno/open.ts` translate it mechanically; nothing else
 * names a native symbol's signature.
 *
 * Types: `i32` / `u32` are C `int32_t` / `uint32_t`, `f64` is `double`, `buffer` is a pointer to
 * caller-owned memory (a typed array on the JS side), `void` is no value. An `i32` is never
 * widened.
 *
 * @module
 */

/** A runtime-neutral FFI value type. */
export type NativeType = "i32" | "u32" | "f64" | "buffer" | "void";

/** One native function: argument types in order and the return type. */
export interface NativeSymbol {
  /** Argument types, in C order. */
  readonly args: readonly NativeType[];
  /** Return type. */
  readonly returns: NativeType;
  /** True when the call may block; `ffi/deno/open.ts` also declares a `nonblocking` variant. */
  readonly mayBlock?: boolean;
}

/** The ABI version this TypeScript code expects (`WV_ABI_VERSION` in wavelet.h). */
export const ABI_VERSION = 2;

/** Every native function, by C name. */
export const symbols = {
  /** `int32_t wv_abi_version(void)` */
  wv_abi_version: { args: [], returns: "i32" },
  /** `double wv_clock_monotonic_ns(void)` */
  wv_clock_monotonic_ns: { args: [], returns: "f64" },
  /** `int32_t wv_clock_realtime(double *out, int32_t out_cap)` */
  wv_clock_realtime: {
    args: [
      "buffer", // double *out (2 doubles: seconds, nanoseconds)
      "i32", // int32_t out_cap (bytes of out, >= 16)
    ],
    returns: "i32",
  },
  /** `double wv_clock_realtime_ns(void)` */
  wv_clock_realtime_ns: { args: [], returns: "f64" },
  /** `int32_t wv_epoll_create(void)` */
  wv_epoll_create: { args: [], returns: "i32" },
  /** `int32_t wv_epoll_ctl(int32_t epfd, int32_t op, int32_t fd, uint32_t events, uint32_t data)` */
  wv_epoll_ctl: {
    args: [
      "i32", // int32_t epfd
      "i32", // int32_t op (1 add, 2 del, 3 mod)
      "i32", // int32_t fd
      "u32", // uint32_t events (EPOLLIN, ...)
      "u32", // uint32_t data (handed back by wait)
    ],
    returns: "i32",
  },
  /** `int32_t wv_epoll_wait(int32_t epfd, int32_t *events_out, int32_t events_cap, int32_t max_events, double timeout_ns, double *clock_out, int32_t clock_cap)` */
  wv_epoll_wait: {
    args: [
      "i32", // int32_t epfd
      "buffer", // int32_t *events_out (2 * max_events values: events, data)
      "i32", // int32_t events_cap (bytes of events_out, >= 8 * max_events)
      "i32", // int32_t max_events
      "f64", // double timeout_ns (< 0 forever, 0 poll)
      "buffer", // double *clock_out (1 double, may be NULL)
      "i32", // int32_t clock_cap (bytes of clock_out, >= 8 unless NULL)
    ],
    returns: "i32",
    mayBlock: true,
  },
  /** `int32_t wv_eventfd_create(uint32_t initval, int32_t flags)` */
  wv_eventfd_create: {
    args: [
      "u32", // uint32_t initval
      "i32", // int32_t flags (bit 0 semaphore, bit 1 blocking)
    ],
    returns: "i32",
  },
  /** `int32_t wv_eventfd_write(int32_t fd, double value)` */
  wv_eventfd_write: {
    args: [
      "i32", // int32_t fd
      "f64", // double value (integer in [1, 2^53])
    ],
    returns: "i32",
  },
  /** `double wv_eventfd_read(int32_t fd)` */
  wv_eventfd_read: {
    args: [
      "i32", // int32_t fd
    ],
    returns: "f64",
  },
  /** `int32_t wv_timerfd_create(void)` */
  wv_timerfd_create: { args: [], returns: "i32" },
  /** `int32_t wv_timerfd_settime(int32_t fd, double abs_deadline_ns)` */
  wv_timerfd_settime: {
    args: [
      "i32", // int32_t fd
      "f64", // double abs_deadline_ns (CLOCK_MONOTONIC; 0 disarms)
    ],
    returns: "i32",
  },
  /** `double wv_timerfd_read(int32_t fd)` */
  wv_timerfd_read: {
    args: [
      "i32", // int32_t fd
    ],
    returns: "f64",
  },
  /** `int32_t wv_close(int32_t fd)` */
  wv_close: {
    args: [
      "i32", // int32_t fd
    ],
    returns: "i32",
  },
  /** `int32_t wv_signal_bridge_add(int32_t eventfd, uint32_t signal_mask)` */
  wv_signal_bridge_add: {
    args: [
      "i32", // int32_t eventfd
      "u32", // uint32_t signal_mask (bit n = signal n; 0 = SIGINT | SIGTERM)
    ],
    returns: "i32",
  },
  /** `int32_t wv_signal_bridge_remove(int32_t eventfd)` */
  wv_signal_bridge_remove: {
    args: [
      "i32", // int32_t eventfd
    ],
    returns: "i32",
  },
  /** `int32_t wv_signal_bridge_reassert(void)` */
  wv_signal_bridge_reassert: { args: [], returns: "i32" },
  /** `int32_t wv_signal_bridge_last(void)` */
  wv_signal_bridge_last: { args: [], returns: "i32" },
  /** `int32_t wv_signal_bridge_count(void)` */
  wv_signal_bridge_count: { args: [], returns: "i32" },
  /** `int32_t wv_addr_parse(const uint8_t *text, int32_t len, int32_t port, uint8_t *addr_out, int32_t addr_cap)` */
  wv_addr_parse: {
    args: [
      "buffer", // const uint8_t *text (numeric address, UTF-8)
      "i32", // int32_t len
      "i32", // int32_t port
      "buffer", // uint8_t *addr_out (WV_ADDR_LEN = 24 bytes)
      "i32", // int32_t addr_cap
    ],
    returns: "i32",
  },
  /** `int32_t wv_socket_create(int32_t family, int32_t type)` */
  wv_socket_create: {
    args: [
      "i32", // int32_t family (4 or 6)
      "i32", // int32_t type (1 stream, 2 datagram)
    ],
    returns: "i32",
  },
  /** `int32_t wv_socket_bind(int32_t fd, const uint8_t *addr, int32_t addr_len)` */
  wv_socket_bind: {
    args: [
      "i32", // int32_t fd
      "buffer", // const uint8_t *addr (24 bytes)
      "i32", // int32_t addr_len
    ],
    returns: "i32",
  },
  /** `int32_t wv_socket_listen(int32_t fd, int32_t backlog)` */
  wv_socket_listen: {
    args: [
      "i32", // int32_t fd
      "i32", // int32_t backlog (< 1: SOMAXCONN)
    ],
    returns: "i32",
  },
  /** `int32_t wv_socket_accept(int32_t fd, uint8_t *addr_out, int32_t addr_cap)` */
  wv_socket_accept: {
    args: [
      "i32", // int32_t fd
      "buffer", // uint8_t *addr_out (24 bytes, may be NULL)
      "i32", // int32_t addr_cap
    ],
    returns: "i32",
  },
  /** `int32_t wv_socket_connect(int32_t fd, const uint8_t *addr, int32_t addr_len)` */
  wv_socket_connect: {
    args: [
      "i32", // int32_t fd
      "buffer", // const uint8_t *addr (24 bytes)
      "i32", // int32_t addr_len
    ],
    returns: "i32",
  },
  /** `int32_t wv_socket_error(int32_t fd)` */
  wv_socket_error: {
    args: [
      "i32", // int32_t fd
    ],
    returns: "i32",
  },
  /** `int32_t wv_socket_recv(int32_t fd, uint8_t *buf, int32_t buf_cap, int32_t offset, int32_t len, int32_t flags)` */
  wv_socket_recv: {
    args: [
      "i32", // int32_t fd
      "buffer", // uint8_t *buf
      "i32", // int32_t buf_cap
      "i32", // int32_t offset
      "i32", // int32_t len
      "i32", // int32_t flags
    ],
    returns: "i32",
  },
  /** `int32_t wv_socket_send(int32_t fd, const uint8_t *buf, int32_t buf_cap, int32_t offset, int32_t len, int32_t flags)` */
  wv_socket_send: {
    args: [
      "i32", // int32_t fd
      "buffer", // const uint8_t *buf
      "i32", // int32_t buf_cap
      "i32", // int32_t offset
      "i32", // int32_t len
      "i32", // int32_t flags (MSG_NOSIGNAL is always added)
    ],
    returns: "i32",
  },
  /** `int32_t wv_socket_recvfrom(int32_t fd, uint8_t *buf, int32_t buf_cap, int32_t offset, int32_t len, uint8_t *addr_out, int32_t addr_cap)` */
  wv_socket_recvfrom: {
    args: [
      "i32", // int32_t fd
      "buffer", // uint8_t *buf
      "i32", // int32_t buf_cap
      "i32", // int32_t offset
      "i32", // int32_t len
      "buffer", // uint8_t *addr_out (24 bytes, may be NULL)
      "i32", // int32_t addr_cap
    ],
    returns: "i32",
  },
  /** `int32_t wv_socket_sendto(int32_t fd, const uint8_t *buf, int32_t buf_cap, int32_t offset, int32_t len, const uint8_t *addr, int32_t addr_len)` */
  wv_socket_sendto: {
    args: [
      "i32", // int32_t fd
      "buffer", // const uint8_t *buf
      "i32", // int32_t buf_cap
      "i32", // int32_t offset
      "i32", // int32_t len
      "buffer", // const uint8_t *addr (24 bytes)
      "i32", // int32_t addr_len
    ],
    returns: "i32",
  },
  /** `int32_t wv_socket_shutdown(int32_t fd, int32_t how)` */
  wv_socket_shutdown: {
    args: [
      "i32", // int32_t fd
      "i32", // int32_t how (0 read, 1 write, 2 both)
    ],
    returns: "i32",
  },
  /** `int32_t wv_socket_setopt(int32_t fd, int32_t opt, int32_t value)` */
  wv_socket_setopt: {
    args: [
      "i32", // int32_t fd
      "i32", // int32_t opt (1 REUSEADDR ... 9 LINGER)
      "i32", // int32_t value
    ],
    returns: "i32",
  },
  /** `int32_t wv_socket_getopt(int32_t fd, int32_t opt)` */
  wv_socket_getopt: {
    args: [
      "i32", // int32_t fd
      "i32", // int32_t opt
    ],
    returns: "i32",
  },
  /** `int32_t wv_socket_address(int32_t fd, int32_t peer, uint8_t *addr_out, int32_t addr_cap)` */
  wv_socket_address: {
    args: [
      "i32", // int32_t fd
      "i32", // int32_t peer (0 local, 1 peer)
      "buffer", // uint8_t *addr_out (24 bytes)
      "i32", // int32_t addr_cap
    ],
    returns: "i32",
  },
} as const satisfies Record<string, NativeSymbol>;

/** The names of the native functions. */
export type SymbolName = keyof typeof symbols;

type JsOf<T extends NativeType> = T extends "buffer" ? ArrayBufferView | null
  : T extends "void" ? void
  : number;
type JsArgs<A extends readonly NativeType[]> = { -readonly [K in keyof A]: JsOf<A[K]> };

/**
 * The library as the loaders hand it over: one plain function per symbol, taking typed arrays
 * for `buffer` arguments, plus `wv_epoll_wait_async` (the same wait off the JS thread, where the
 * runtime can do that) and `close()` to unload.
 */
export type RawLibrary =
  & {
    -readonly [K in SymbolName]: (
      ...args: JsArgs<typeof symbols[K]["args"]>
    ) => JsOf<typeof symbols[K]["returns"]>;
  }
  & {
    /** `wv_epoll_wait` run on another thread (Deno `nonblocking`); absent on Bun. */
    wv_epoll_wait_async?: (
      ...args: JsArgs<typeof symbols["wv_epoll_wait"]["args"]>
    ) => Promise<number>;
    /** Unloads the library. */
    close(): void;
  };
