/**
 * The cost of one call into the native backend, argument checks included: the calls on the
 * runtime's hot paths (the epoll wait of every Park cycle, the clocks, an eventfd write, a
 * socket send and receive). Each call does its real syscall; the wait is a 0 ns poll with
 * nothing ready, so it measures the crossing, the checks and `epoll_pwait2` itself. The same
 * calls through a backend over a no-op library (every symbol returns 0 at once) isolate what
 * the TypeScript side costs: the argument checks and the dispatch.
 *
 * Run with `deno run -A bench/backend_call_bench.ts` or `bun run bench/backend_call_bench.ts`.
 *
 * @module
 */

import { bench, do_not_optimize, run, summary } from "mitata";
import { LibraryBackend } from "../ffi/library.ts";
import { loadBackend } from "../ffi/load.ts";
import { type RawLibrary, symbols } from "../ffi/symbols.ts";

const b = loadBackend();
if (!b.hasEpoll) throw new Error("This benchmark needs the native backend");
const ep = b.epollCreate();
const events = new Int32Array(2 * 64);
const clock = new Float64Array(1);
const wall = new Float64Array(2);
const efd = b.eventfdCreate(0, 0);

// A connected loopback pair for send and receive.
const addr = new Uint8Array(24);
b.addrParse("127.0.0.1", 0, addr);
const lfd = b.socketCreate(4, 1);
b.socketBind(lfd, addr);
b.socketListen(lfd, 1);
b.socketAddress(lfd, false, addr);
const cfd = b.socketCreate(4, 1);
b.socketConnect(cfd, addr);
let sfd = -1;
while (sfd < 0) sfd = b.socketAccept(lfd, null);
const payload = new Uint8Array(64);
const inbox = new Uint8Array(4096);

// The backend over a library whose every function returns 0: the wrapper's own cost.
const noop = Object.fromEntries(Object.keys(symbols).map((k) => [k, () => 0])) as unknown;
const js = new LibraryBackend(noop as RawLibrary, "bun", "(no-op)");

summary(() => {
  bench("no-op library: epollWait(ep, events, 64, 0, clock)", () => {
    do_not_optimize(js.epollWait(ep, events, 64, 0, clock));
  });
  bench("no-op library: realtime(wall)", () => {
    js.realtime(wall);
  });
  bench("no-op library: socketRecv(fd, inbox, 0, 4096)", () => {
    do_not_optimize(js.socketRecv(sfd, inbox, 0, 4096));
  });
  bench("no-op library: eventfdWrite(fd, 1)", () => {
    js.eventfdWrite(efd, 1);
  });
});

summary(() => {
  bench("epollWait(ep, events, 64, 0, clock)", () => {
    do_not_optimize(b.epollWait(ep, events, 64, 0, clock));
  });
  bench("epollWait(ep, events, 64, 0, null)", () => {
    do_not_optimize(b.epollWait(ep, events, 64, 0, null));
  });
  bench("monotonicNs()", () => {
    do_not_optimize(b.monotonicNs());
  });
  bench("realtime(wall)", () => {
    b.realtime(wall);
  });
  bench("eventfdWrite + eventfdRead", () => {
    b.eventfdWrite(efd, 1);
    do_not_optimize(b.eventfdRead(efd));
  });
  bench("socketSend 64 B + socketRecv", () => {
    b.socketSend(cfd, payload, 0, 64);
    do_not_optimize(b.socketRecv(sfd, inbox, 0, 4096));
  });
});

await run();
for (const fd of [sfd, cfd, lfd, efd, ep]) b.close(fd);
