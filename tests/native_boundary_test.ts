/**
 * Regression tests for the native boundary (issue 10, finding 3 and the NaN fds of finding
 * 10): each case runs in a child process (`tests/fixtures/backend_abuse.ts`) because before the
 * argument checks some crashed the process with SIGSEGV or wrote into memory another buffer
 * owned. Each asserts the child exits normally, the call was refused with an
 * InvalidArgumentError (INVALID_ARGUMENT), and no guard byte around the buffers changed.
 * Also: the C side's own byte-capacity checks, through the raw library functions.
 */

import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { assert, assertEquals, isBun, test } from "./_harness.ts";
import { EpollEvents, EpollOp, Errno } from "../ffi/backend.ts";
import { openBun } from "../ffi/bun/open.ts";
import { openDeno } from "../ffi/deno/open.ts";
import { loadNative } from "../ffi/load.ts";
import { Guarded } from "./_guard.ts";

const fixture = fileURLToPath(new URL("./fixtures/backend_abuse.ts", import.meta.url));

interface Outcome {
  outcome: "threw" | "returned";
  name?: string;
  code?: string;
  message?: string;
  value?: unknown;
  changed: string;
}

function child(name: string): Outcome {
  const args = isBun ? ["run", fixture, name] : ["run", "-A", fixture, name];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 30_000 });
  assertEquals(
    r.status,
    0,
    `the child of case ${name} exited with status ${r.status}, signal ${r.signal}:\n${r.stderr}`,
  );
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
}

function assertRefused(name: string, mention: string): void {
  const out = child(name);
  assertEquals(out.changed, "", `case ${name}: a byte outside the buffers changed`);
  assertEquals(out.outcome, "threw", `case ${name} returned ${JSON.stringify(out.value)}`);
  assertEquals(out.name, "InvalidArgumentError", `case ${name}: ${out.name}: ${out.message}`);
  assertEquals(out.code, "INVALID_ARGUMENT");
  assert(out.message!.includes(mention), `case ${name}: "${out.message}" names ${mention}`);
}

test("epollWait refuses a clock view over a resizable buffer shrunk to 0 bytes", () => {
  assertRefused("shrunk-clock", "clockOut");
});

test("epollWait refuses a clock view of 0 bytes in the middle of a buffer", () => {
  assertRefused("zero-length-clock", "clockOut");
});

test("epollWait refuses a Uint8Array of 8 bytes as events when 4 fds are ready", () => {
  assertRefused("uint8-events", "events must be an Int32Array");
});

test("epollWait refuses an Int32Array of 28 bytes for 4 events", () => {
  assertRefused("small-int32-events", "at least 32 bytes");
});

test("epollWait writes exactly maxEvents events and one clock value, nothing outside", () => {
  const out = child("exact-events");
  assertEquals(out.outcome, "returned", `${out.name}: ${out.message}`);
  assertEquals(out.value, 4, "4 of the 6 ready fds fit");
  assertEquals(out.changed, "");
});

test("realtime refuses a Float32Array of 2 elements and a Float64Array of 1", () => {
  assertRefused("float32-realtime", "Float64Array of at least 16 bytes");
  assertRefused("short-realtime", "Float64Array of at least 16 bytes");
});

test("a clock buffer transferred between two waits is refused, its new owner untouched", () => {
  assertRefused("transfer-between-calls", "detached Float64Array");
});

test("buffers transferred while an async wait is in flight are never written", () => {
  assertRefused("transfer-in-flight", "while the wait was in flight");
});

test("NaN for any integer argument is InvalidArgumentError on both runtimes", () => {
  const out = child("nan-fds");
  assertEquals(out.outcome, "returned", `${out.name}: ${out.message}`);
  const outcomes = out.value as string[];
  assertEquals(outcomes.length, 29);
  for (const [i, o] of outcomes.entries()) {
    assertEquals(o, "InvalidArgumentError INVALID_ARGUMENT", `call ${i}`);
  }
});

test("the C side refuses capacities too small for what it would write, and writes nothing", () => {
  const native = loadNative();
  const raw = isBun ? openBun(native.path!) : openDeno(native.path!);
  const ep = native.epollCreate();
  const fd = native.eventfdCreate(1, 0);
  try {
    native.epollCtl(ep, EpollOp.Add, fd, EpollEvents.In, 1);
    const spec = { backing: "plain", tracking: false, fate: "keep", shrinkTo: 0 } as const;
    const ev = new Guarded({ ...spec, kind: "Int32Array", length: 8 });
    const ck = new Guarded({ ...spec, kind: "Float64Array", length: 2 });
    // 4 events need 32 bytes; 31 is refused before waiting, whatever is ready.
    assertEquals(raw.wv_epoll_wait(ep, ev.view, 31, 4, 0, ck.view, 8), -Errno.ENOSPC);
    assertEquals(raw.wv_epoll_wait(ep, ev.view, 32, 4, 0, ck.view, 7), -Errno.ENOSPC);
    assertEquals(raw.wv_epoll_wait(ep, ev.view, -1, 1, 0, null, 0), -Errno.ENOSPC);
    assertEquals(raw.wv_clock_realtime(ck.view, 15), -Errno.ENOSPC);
    assertEquals(ev.changedOutside(), "");
    assertEquals(ck.changedOutside(), "");
    // The same calls with room: one event (8 bytes) and one clock value are written.
    assertEquals(raw.wv_epoll_wait(ep, ev.view, 8, 1, 0, ck.view, 8), 1);
    assertEquals(ev.changedOutside(0, 8), "");
    assertEquals(ck.changedOutside(0, 8), "");
    assertEquals(raw.wv_clock_realtime(ck.view, 16), 0);
    assertEquals(ck.changedOutside(0, 16), "");
  } finally {
    native.close(fd);
    native.close(ep);
    raw.close();
  }
});

test("concurrent async waits each deliver their own events into their own buffers", async () => {
  const native = loadNative();
  const fds: number[] = [];
  try {
    const eps = [0, 1, 2].map(() => native.epollCreate());
    fds.push(...eps);
    const efds = eps.map((ep, i) => {
      const fd = native.eventfdCreate(0, 0);
      fds.push(fd);
      native.epollCtl(ep, EpollOp.Add, fd, EpollEvents.In, 10 + i);
      return fd;
    });
    const bufs = eps.map(() => new Int32Array(8).fill(-1));
    const clocks = eps.map(() => new Float64Array(1));
    const before = native.monotonicNs();
    const waits = eps.map((ep, i) => native.epollWaitAsync(ep, bufs[i], 4, 5e9, clocks[i]));
    // Wake them in reverse order, each after the host loop ran.
    for (const fd of [...efds].reverse()) {
      await new Promise((r) => setTimeout(r, 5));
      native.eventfdWrite(fd, 1);
    }
    assertEquals(await Promise.all(waits), [1, 1, 1]);
    for (let i = 0; i < eps.length; i++) {
      assertEquals([bufs[i][0], bufs[i][1], bufs[i][2]], [EpollEvents.In, 10 + i, -1]);
      assert(clocks[i][0] >= before, `clock ${i} was written`);
    }
  } finally {
    for (const fd of fds) native.close(fd);
  }
});
