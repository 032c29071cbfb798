/**
 * The native layer with the real library: clocks, epoll on eventfds and timerfds, errno
 * errors, the signal bridge, loading (cache, build, prebuilt, bad files) and the pure-JS
 * backend. Runs under `deno test -A` and `bun test`.
 */

import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertRejects, assertThrows, isBun, test } from "./_harness.ts";
import { EpollEvents, EpollOp, Errno, errnoName, Signal } from "../ffi/backend.ts";
import { NativeError, NativeLoadError, UnsupportedError } from "../src/core/system_errors.ts";
import { JsBackend } from "../ffi/js_backend.ts";
import { Readiness } from "../src/drivers/io.ts";
import { ErrorCode, InvalidArgumentError } from "../src/core/errors.ts";
import {
  buildNative,
  loadBackend,
  loadNative,
  NATIVE_LIB_ENV,
  nativeCachePath,
  nativeSourceHash,
} from "../ffi/load.ts";
import { PREBUILT_ABI, PREBUILT_SOURCE_HASH } from "../ffi/prebuilt_linux_x64.ts";
import { ABI_VERSION } from "../ffi/symbols.ts";

const native = loadNative();

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "wavelet-native-test-"));
}

/** Runs `fn` with fresh fds that are closed afterwards, whatever happens. */
function withFds(fn: (fds: number[]) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const fds: number[] = [];
    try {
      await fn(fds);
    } finally {
      for (const fd of fds.reverse()) native.close(fd);
    }
  };
}

test("the native backend loads the real library with the expected ABI", () => {
  assertEquals(native.kind, isBun ? "bun" : "deno");
  assertEquals(native.abiVersion, ABI_VERSION);
  assert(native.hasEpoll);
  assert(native.path !== null && existsSync(native.path), `library at ${native.path}`);
  assert(loadNative() === native, "loadNative is memoized");
  assert(loadBackend() === native, "loadBackend prefers the native backend");
});

test("the monotonic clock never goes backwards and advances", () => {
  let prev = native.monotonicNs();
  const first = prev;
  for (let i = 0; i < 100_000; i++) {
    const t = native.monotonicNs();
    assert(t >= prev, `monotonic went back: ${prev} -> ${t}`);
    prev = t;
  }
  assert(prev > first, "monotonic advanced");
  assert(Number.isInteger(prev), "whole nanoseconds");
});

test("the realtime clock is exact seconds plus nanoseconds and matches Date.now()", () => {
  const out = new Float64Array(2);
  const before = Date.now();
  native.realtime(out);
  const after = Date.now();
  assert(Number.isInteger(out[0]) && Number.isInteger(out[1]), "integers");
  assert(out[1] >= 0 && out[1] < 1e9, `nanoseconds in range: ${out[1]}`);
  const ms = out[0] * 1e3 + out[1] / 1e6;
  assert(ms >= before - 5 && ms <= after + 5, `realtime ${ms} vs Date.now ${before}..${after}`);
  const ns = native.realtimeNs();
  assert(Math.abs(ns / 1e6 - Date.now()) < 50, "realtimeNs near Date.now");
  assertThrows(
    () => native.realtime(new Float64Array(1)),
    InvalidArgumentError,
    ErrorCode.InvalidArgument,
  );
});

test(
  "epoll returns exactly the eventfd that was written, with its data",
  withFds((fds) => {
    const ep = native.epollCreate();
    fds.push(ep);
    const a = native.eventfdCreate();
    fds.push(a);
    const b = native.eventfdCreate();
    fds.push(b);
    native.epollCtl(ep, EpollOp.Add, a, EpollEvents.In, 7);
    native.epollCtl(ep, EpollOp.Add, b, EpollEvents.In, 0xfffffff0);
    const events = new Int32Array(32);
    const clock = new Float64Array(1);
    assertEquals(native.epollWait(ep, events, 16, 0, clock), 0, "nothing ready");
    native.eventfdWrite(b, 3);
    const before = native.monotonicNs();
    assertEquals(native.epollWait(ep, events, 16, 1e9, clock), 1);
    assertEquals(events[0] & EpollEvents.In, EpollEvents.In);
    assertEquals(events[1] >>> 0, 0xfffffff0, "the data of b");
    assert(clock[0] >= before, "clock sampled after the wait");
    assertEquals(native.eventfdRead(b), 3);
    assertEquals(native.eventfdRead(b), 0, "drained (EAGAIN reads as 0)");
    assertEquals(native.epollWait(ep, events, 16, 0, clock), 0, "level cleared");
    native.eventfdWrite(a);
    native.eventfdWrite(b);
    assertEquals(native.epollWait(ep, events, 16, 0, null), 2, "both, no clock buffer");
    const datas = [events[1] >>> 0, events[3] >>> 0].sort((x, y) => x - y);
    assertEquals(datas, [7, 0xfffffff0]);
    native.epollCtl(ep, EpollOp.Del, a, 0, 0);
    native.eventfdRead(b);
    assertEquals(native.epollWait(ep, events, 16, 0, null), 0, "a no longer registered");
  }),
);

test(
  "a 2 ms epoll timeout returns no events after at least 2 ms",
  withFds((fds) => {
    const ep = native.epollCreate();
    fds.push(ep);
    const e = native.eventfdCreate();
    fds.push(e);
    native.epollCtl(ep, EpollOp.Add, e, EpollEvents.In, 1);
    const events = new Int32Array(8);
    const clock = new Float64Array(1);
    const before = native.monotonicNs();
    assertEquals(native.epollWait(ep, events, 4, 2e6, clock), 0);
    const after = native.monotonicNs();
    assert(clock[0] >= before + 2e6, `woke after ${(clock[0] - before) / 1e3} us`);
    assert(after >= clock[0], "clock_out is sampled before return");
  }),
);

test(
  "a timerfd wakes epoll at an absolute deadline 200 us ahead, never early",
  withFds((fds) => {
    const ep = native.epollCreate();
    fds.push(ep);
    const tfd = native.timerfdCreate();
    fds.push(tfd);
    native.epollCtl(ep, EpollOp.Add, tfd, EpollEvents.In, 42);
    const events = new Int32Array(8);
    const clock = new Float64Array(1);
    for (let i = 0; i < 20; i++) {
      const deadline = native.monotonicNs() + 200e3;
      native.timerfdSettime(tfd, deadline);
      // Reading now is 0, unless the machine stalled past the deadline already.
      if (native.timerfdRead(tfd) > 0) {
        assert(native.monotonicNs() >= deadline, "expired early");
        native.timerfdSettime(tfd, deadline);
      }
      const n = native.epollWait(ep, events, 4, 1e9, clock);
      assertEquals(n, 1, "the timer fired");
      assertEquals(events[1], 42);
      assert(clock[0] >= deadline, `early by ${(deadline - clock[0]) / 1e3} us`);
      assertEquals(native.timerfdRead(tfd), 1);
    }
    native.timerfdSettime(tfd, native.monotonicNs() + 1e6);
    native.timerfdSettime(tfd, 0); // disarm
    assertEquals(native.epollWait(ep, events, 4, 3e6, clock), 0, "disarmed timer is silent");
    assertThrows(
      () => native.timerfdSettime(tfd, -1),
      InvalidArgumentError,
      ErrorCode.InvalidArgument,
    );
  }),
);

test(
  "a closed or foreign fd handed to epoll_ctl gives NativeError EBADF",
  withFds((fds) => {
    const ep = native.epollCreate();
    fds.push(ep);
    const e = native.eventfdCreate();
    native.close(e);
    const closed = assertThrows(
      () => native.epollCtl(ep, EpollOp.Add, e, EpollEvents.In, 0),
      NativeError,
      ErrorCode.NativeCallFailed,
    );
    assertEquals(closed.errno, Errno.EBADF);
    assertEquals(closed.errnoName, "EBADF");
    assertEquals(closed.op, "epoll_ctl");
    assert(closed.message.includes("EBADF"), closed.message);
    const foreign = assertThrows(
      () => native.epollCtl(ep, EpollOp.Add, 1_000_000, EpollEvents.In, 0),
      NativeError,
    );
    assertEquals(foreign.errno, Errno.EBADF);
    const notEpoll = assertThrows(
      () => native.epollCtl(123_456, EpollOp.Add, ep, EpollEvents.In, 0),
      NativeError,
    );
    assertEquals(notEpoll.errno, Errno.EBADF);
    // A regular file cannot be polled: EPERM, not a crash.
    const file = openSync(fileURLToPath(import.meta.url), "r");
    try {
      const perm = assertThrows(
        () => native.epollCtl(ep, EpollOp.Add, file, EpollEvents.In, 0),
        NativeError,
      );
      assertEquals(perm.errno, Errno.EPERM);
    } finally {
      closeSync(file);
    }
    assertThrows(() => native.close(e), NativeError);
    assertEquals(errnoName(9999), "errno 9999");
  }),
);

test(
  "bad wait arguments give InvalidArgumentError before the native call, never a crash",
  withFds((fds) => {
    const ep = native.epollCreate();
    fds.push(ep);
    const events = new Int32Array(4);
    const nan = assertThrows(
      () => native.epollWait(ep, events, 2, NaN, null),
      InvalidArgumentError,
    );
    assertEquals(nan.code, ErrorCode.InvalidArgument);
    assert(nan.message.includes("timeoutNs"), nan.message);
    const small = assertThrows(
      () => native.epollWait(ep, events, 3, 0, null),
      InvalidArgumentError,
    );
    assert(small.message.includes("24 bytes"), small.message);
    assertThrows(() => native.eventfdWrite(ep, 0), InvalidArgumentError);
  }),
);

test(
  "the async epoll wait resolves with the event without blocking the host loop",
  withFds(async (fds) => {
    const ep = native.epollCreate();
    fds.push(ep);
    const e = native.eventfdCreate();
    fds.push(e);
    native.epollCtl(ep, EpollOp.Add, e, EpollEvents.In, 5);
    const events = new Int32Array(8);
    const clock = new Float64Array(1);
    let ticked = false;
    setTimeout(() => {
      ticked = true;
      native.eventfdWrite(e);
    }, 5);
    const n = await native.epollWaitAsync(ep, events, 4, 2e9, clock);
    assert(ticked, "the host timer ran while waiting");
    assertEquals(n, 1);
    assertEquals(events[1], 5);
    native.eventfdRead(e);
    const before = native.monotonicNs();
    assertEquals(await native.epollWaitAsync(ep, events, 4, 3e6, clock), 0);
    assert(clock[0] >= before + 3e6, "async timeout is not early");
    await assertRejects(
      () => native.epollWaitAsync(ep, events, 4, NaN, clock),
      InvalidArgumentError,
      ErrorCode.InvalidArgument,
    );
  }),
);

test(
  "the signal bridge turns a signal into an eventfd wake-up and records it",
  withFds(async (fds) => {
    const ep = native.epollCreate();
    fds.push(ep);
    const e = native.eventfdCreate();
    fds.push(e);
    native.epollCtl(ep, EpollOp.Add, e, EpollEvents.In, 9);
    native.signalBridgeAdd(e, [Signal.SIGUSR2]);
    try {
      process.kill(process.pid, "SIGUSR2");
      const events = new Int32Array(8);
      const n = await native.epollWaitAsync(ep, events, 4, 2e9, null);
      assertEquals(n, 1, "woken by the signal");
      assertEquals(events[1], 9);
      assertEquals(native.signalBridgeLast(), Signal.SIGUSR2);
    } finally {
      native.signalBridgeRemove(e);
    }
    const bad = assertThrows(() => native.signalBridgeAdd(e, [Signal.SIGUSR2, 9]), NativeError);
    assertEquals(bad.errno, Errno.EINVAL);
  }),
);

test("loading a missing path gives NATIVE_NOT_FOUND naming the path", () => {
  const missing = join(tmpdir(), "wavelet-does-not-exist", "libnothing.so");
  const err = assertThrows(
    () => loadNative({ path: missing }),
    NativeLoadError,
    ErrorCode.NativeNotFound,
  );
  assert(err.message.includes(missing), err.message);
  assertEquals(err.attempts.length, 1);
  assertEquals(err.attempts[0].failure, "missing");
});

test("the environment variable names the library to load", () => {
  const missing = join(tmpdir(), "wavelet-env-missing", "libwavelet.so");
  const old = process.env[NATIVE_LIB_ENV];
  process.env[NATIVE_LIB_ENV] = missing;
  try {
    const err = assertThrows(() => loadNative(), NativeLoadError, ErrorCode.NativeNotFound);
    assert(err.message.includes(missing), err.message);
  } finally {
    if (old === undefined) delete process.env[NATIVE_LIB_ENV];
    else process.env[NATIVE_LIB_ENV] = old;
  }
});

test("loading a file that is not our library gives NATIVE_INVALID_LIBRARY with a cause", () => {
  const dir = tempDir();
  try {
    const text = join(dir, "libtext.so");
    writeFileSync(text, "this is not a shared library\n");
    const e1 = assertThrows(
      () => loadNative({ path: text }),
      NativeLoadError,
      ErrorCode.NativeInvalidLibrary,
    );
    assert(e1.message.includes(text), e1.message);
    assert(e1.cause !== undefined, "keeps the cause");

    const other = join(dir, "libother.so");
    const src = fileURLToPath(new URL("./fixtures/not_ours.c", import.meta.url));
    execFileSync("cc", ["-O2", "-fPIC", "-shared", "-o", other, src]);
    const e2 = assertThrows(
      () => loadNative({ path: other }),
      NativeLoadError,
      ErrorCode.NativeInvalidLibrary,
    );
    assert(e2.message.includes(other), e2.message);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("loading a library built for another ABI gives NATIVE_ABI_MISMATCH", () => {
  const dir = tempDir();
  try {
    const lib = join(dir, "libwavelet-abi999.so");
    buildNative(lib, ["-DWV_ABI_OVERRIDE=999"]);
    const err = assertThrows(
      () => loadNative({ path: lib }),
      NativeLoadError,
      ErrorCode.NativeAbiMismatch,
    );
    assert(err.message.includes(lib), err.message);
    assert(err.message.includes("ABI 999"), err.message);
    assertEquals(err.attempts[0].failure, "abi");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a cache holding a wrong-ABI file is rebuilt, and every path tried is listed on failure", () => {
  const dir = tempDir();
  try {
    const cached = nativeCachePath(dir);
    buildNative(cached, ["-DWV_ABI_OVERRIDE=998"]);
    const err = assertThrows(
      () => loadNative({ cacheDir: dir, build: false, prebuilt: false }),
      NativeLoadError,
      ErrorCode.NativeAbiMismatch,
    );
    assert(err.message.includes(cached), err.message);
    const rebuilt = loadNative({ cacheDir: dir });
    assertEquals(rebuilt.abiVersion, ABI_VERSION);
    assertEquals(rebuilt.path, cached);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an empty cache is filled by compiling the source", () => {
  const dir = tempDir();
  try {
    const b = loadNative({ cacheDir: dir, prebuilt: false });
    assertEquals(b.path, nativeCachePath(dir));
    assert(b.monotonicNs() > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the embedded prebuilt library matches the sources and loads without a compiler", () => {
  assertEquals(PREBUILT_SOURCE_HASH, nativeSourceHash(), "run scripts/embed_native.ts");
  assertEquals(PREBUILT_ABI, ABI_VERSION);
  if (process.platform !== "linux" || process.arch !== "x64") return;
  const dir = tempDir();
  try {
    const b = loadNative({ cacheDir: dir, build: false });
    assertEquals(b.path, nativeCachePath(dir));
    assertEquals(b.abiVersion, ABI_VERSION);
    const out = new Float64Array(2);
    b.realtime(out);
    assert(Math.abs(out[0] * 1e3 - Date.now()) < 2000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the JS backend reports epoll as unsupported and its clocks work", async () => {
  const js = loadBackend({ prefer: "js" });
  assert(js instanceof JsBackend);
  assertEquals(js.kind, "js");
  assertEquals(js.hasEpoll, false);
  assertEquals(js.path, null);
  const err = assertThrows(() => js.epollCreate(), UnsupportedError, ErrorCode.Unsupported);
  assert(err.message.includes("epoll"), err.message);
  assertThrows(() => js.eventfdCreate(), UnsupportedError);
  assertThrows(() => js.timerfdCreate(), UnsupportedError);
  assertThrows(() => js.signalBridgeAdd(0), UnsupportedError);
  await assertRejects(
    () => js.epollWaitAsync(0, new Int32Array(2), 1, 0, null),
    UnsupportedError,
    ErrorCode.Unsupported,
  );
  let prev = js.monotonicNs();
  for (let i = 0; i < 10_000; i++) {
    const t = js.monotonicNs();
    assert(t >= prev, "JS monotonic never goes backwards");
    prev = t;
  }
  const out = new Float64Array(2);
  js.realtime(out);
  assert(Number.isInteger(out[0]) && Number.isInteger(out[1]) && out[1] < 1e9);
  const ms = out[0] * 1e3 + out[1] / 1e6;
  assert(Math.abs(ms - Date.now()) < 5, `JS realtime ${ms} vs ${Date.now()}`);
  const before = js.monotonicNs();
  await js.sleep(2e6);
  assert(js.monotonicNs() - before >= 1.5e6, "sleep waits");
});

test(
  "Deno without --allow-ffi gets the JS backend, and loadNative says FFI is not permitted",
  () => {
    const probe = fileURLToPath(new URL("./fixtures/no_ffi_probe.ts", import.meta.url));
    const out = execFileSync(process.execPath, ["run", "--allow-read", "--allow-env", probe], {
      encoding: "utf8",
    });
    assertEquals(JSON.parse(out.trim()), {
      kind: "js",
      code: ErrorCode.NativeUnavailable,
    });
  },
  { skip: isBun ? "Bun has no FFI permission" : false },
);

test("Readiness carries the epoll values of EpollEvents (both are written as literals)", () => {
  assertEquals(
    [
      Readiness.Readable,
      Readiness.Writable,
      Readiness.Error,
      Readiness.HangUp,
      Readiness.ReadHangUp,
      Readiness.EdgeTriggered,
    ],
    [
      EpollEvents.In,
      EpollEvents.Out,
      EpollEvents.Err,
      EpollEvents.Hup,
      EpollEvents.RdHup,
      EpollEvents.EdgeTriggered,
    ],
  );
  assertEquals([EpollEvents.Exclusive, EpollEvents.WakeUp, EpollEvents.OneShot], [
    1 << 28,
    1 << 29,
    1 << 30,
  ]);
});
