// Signals and teardown, without a terminal (tests/terminal_test.ts has the terminal cases):
// the signal bridge as a set of eventfds, several runtimes stopped by one signal, repeated
// signals during a shutdown, what a signal does once every runtime is gone, a handler replaced
// behind the bridge's back, and the fds a runtime gives back (wake eventfds included, with a
// Worker still holding a notifier of the dead runtime).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ExecutionMode } from "../src/core/control.ts";
import { loadBackend } from "../ffi/load.ts";
import { NativeError } from "../src/core/system_errors.ts";
import { NodeBuilder } from "../src/core/builder.ts";
import type { NotifierTransferable } from "../src/drivers/notify.ts";
import { RealtimeRuntime } from "../src/runtime/realtime.ts";
import { Errno, Signal } from "../ffi/backend.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import { describe, driveChild, runtimeArgs, shellQuote, type Step } from "./_child.ts";
import { runtimePort } from "../src/core/executor.ts";

const native = loadBackend();
const child = fileURLToPath(new URL("./fixtures/signal_child.ts", import.meta.url));

/** The caught-signals mask of this process (SigCgt in /proc/self/status). */
function caughtSignals(): bigint {
  const m = readFileSync("/proc/self/status", "utf8").match(/^SigCgt:\s*([0-9a-f]+)$/m);
  assert(m !== null, "no SigCgt line in /proc/self/status");
  return BigInt(`0x${m[1]}`);
}

function caught(sig: number): boolean {
  return ((caughtSignals() >> BigInt(sig - 1)) & 1n) === 1n;
}

/** Reads eventfd `fd` until it is non-zero or 2 s have passed; returns the count. */
async function awaitCount(fd: number): Promise<number> {
  const end = Date.now() + 2000;
  for (;;) {
    const n = native.eventfdRead(fd);
    if (n > 0 || Date.now() > end) return n;
    await new Promise((r) => setTimeout(r, 5));
  }
}

function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

test("the signal bridge writes every member's eventfd and gives the signal back after the last leaves", async () => {
  const usr2 = Signal.SIGUSR2;
  const before = caught(usr2);
  const a = native.eventfdCreate(), b = native.eventfdCreate();
  try {
    native.signalBridgeAdd(a, [usr2]);
    native.signalBridgeAdd(b, [usr2]);
    assert(caught(usr2), "the handler is in place");
    const dup = assertThrows(() => native.signalBridgeAdd(a, [usr2]), NativeError);
    assertEquals(dup.errno, Errno.EEXIST);
    const bad = assertThrows(() => native.signalBridgeAdd(a, [usr2, 9]), NativeError);
    assertEquals(bad.errno, Errno.EINVAL);

    process.kill(process.pid, "SIGUSR2");
    assertEquals(await awaitCount(a), 1, "the first member was written");
    assertEquals(await awaitCount(b), 1, "the second member was written");
    assertEquals(native.signalBridgeLast(), usr2);

    native.signalBridgeRemove(a);
    assert(caught(usr2), "b still holds the signal");
    process.kill(process.pid, "SIGUSR2");
    assertEquals(await awaitCount(b), 1, "b still hears it");
    assertEquals(native.eventfdRead(a), 0, "a left the set: never written again");

    native.signalBridgeRemove(b);
    assertEquals(caught(usr2), before, "the previous disposition is back");
    const gone = assertThrows(() => native.signalBridgeRemove(b), NativeError);
    assertEquals(gone.errno, Errno.ENOENT);
    assertEquals(native.signalBridgeReassert(), 0, "nothing is bridged: nothing to take back");
  } finally {
    for (const fd of [a, b]) {
      try {
        native.signalBridgeRemove(fd);
      } catch {
        // not a member any more
      }
      native.close(fd);
    }
  }
});

for (
  const [scenario, what] of [["two-run", "two runtimes in run() on one thread"], [
    "worker",
    "a runtime in runForever() and one in a Worker",
  ]] as const
) {
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    const num = sig === "SIGTERM" ? 15 : 2;
    test(`one ${sig} stops ${what}: every onDrop ran, exit 0`, async () => {
      const r = await driveChild(
        runtimeArgs(child, [scenario]),
        [{ when: "ready", signal: sig, delayMs: 100 }],
        20_000,
      );
      const expected = scenario === "two-run"
        ? `a dropped 3 signal ${num}; b dropped 3 signal ${num}`
        : `main dropped 3 signal ${num}; worker dropped 2 signal ${num}`;
      assert(r.out.includes(expected), `expected "${expected}"; ${describe(r)}`);
      assertEquals([r.code, r.signal, r.timedOut], [0, null, false], describe(r));
    }, { timeoutMs: 30_000 });
  }
}

for (const [sig, num] of [["SIGTERM", 15], ["SIGINT", 2]] as const) {
  test(
    `${sig} stops a runtime on the pure-JS backend in run() through the host listeners`,
    async () => {
      const r = await driveChild(
        runtimeArgs(child, ["js-run"]),
        [{ when: "ready", signal: sig, delayMs: 100 }],
        20_000,
      );
      assert(r.out.includes(`js dropped 1 signal ${num} backend js`), describe(r));
      assertEquals([r.code, r.signal, r.timedOut], [0, null, false], describe(r));
    },
    { timeoutMs: 30_000 },
  );
}

test(
  "SIGTERM again during onDrop and after runForever() returns does not kill the process",
  async () => {
    const r = await driveChild(runtimeArgs(child, ["twice"]), [
      { when: "ready", signal: "SIGTERM", delayMs: 100 },
      { when: "dropping", signal: "SIGTERM", delayMs: 100 },
      { when: "wrapping up", signal: "SIGTERM", delayMs: 100 },
    ], 20_000);
    assertEquals(r.fired, 3, describe(r));
    assert(r.out.includes("done: dropped 1 signal 15"), describe(r));
    assertEquals([r.code, r.signal], [0, null], describe(r));
  },
  { timeoutMs: 30_000 },
);

test(
  "a runtime started right after a signal stopped another is not stopped by that signal",
  async () => {
    const r = await driveChild(runtimeArgs(child, ["stale"]), [
      { when: "ready", signal: "SIGTERM", delayMs: 100 },
    ], 20_000);
    assert(r.out.includes("a signal 15; b signal 0"), describe(r));
    assertEquals([r.code, r.signal, r.timedOut], [0, null, false], describe(r));
  },
  { timeoutMs: 30_000 },
);

test(
  "once the grace period after a signal has passed, SIGTERM ends the process as by default",
  async () => {
    const r = await driveChild(runtimeArgs(child, ["released"]), [
      { when: "ready", signal: "SIGTERM", delayMs: 100 },
      { when: /released after \d+ ms/, signal: "SIGTERM" },
    ], 20_000);
    assert(r.out.includes("dropped 2 signal 15"), describe(r));
    const m = r.out.match(/released after (\d+) ms/);
    assert(m !== null, describe(r));
    // The grace period is a lower bound (a loaded machine only makes it longer).
    assert(Number(m[1]) >= 900, `released after ${m[1]} ms, before the grace period ended`);
    assert(!r.out.includes("still alive"), describe(r));
    assertEquals([r.signal, r.timedOut], ["SIGTERM", false], describe(r));
  },
  { timeoutMs: 30_000 },
);

test(
  "when no signal stopped the runtime, signals get their default action back at once",
  async () => {
    const r = await driveChild(runtimeArgs(child, ["terminate"]), [
      { when: "released at once", signal: "SIGTERM" },
    ], 20_000);
    assert(r.out.includes("released at once"), describe(r));
    assertEquals([r.signal, r.timedOut], ["SIGTERM", false], describe(r));
  },
  { timeoutMs: 30_000 },
);

for (
  const [mode, what, steps, saw] of [
    [0, "takes its handler back from one installed over it, and chains to it", 1, 1],
    [1, "keeps the signal when the handler it chains to gives it away (a second SIGTERM)", 2, 1],
    [2, "does not chain to a handler that re-raises with the default action (SA_RESETHAND)", 1, 0],
  ] as const
) {
  test(`a parked runtime ${what}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "wavelet-displace-"));
    try {
      const lib = join(dir, "libdisplace.so");
      const src = fileURLToPath(new URL("./fixtures/displace.c", import.meta.url));
      execFileSync("cc", ["-O2", "-fPIC", "-shared", "-o", lib, src]);
      const all: Step[] = [
        { when: "ready", signal: "SIGTERM", delayMs: 100 },
        { when: "dropping", signal: "SIGTERM", delayMs: 100 },
      ];
      const r = await driveChild(
        runtimeArgs(child, ["displace", lib, String(mode)]),
        all.slice(0, steps),
        20_000,
      );
      assertEquals(r.fired, steps, describe(r));
      assert(r.out.includes(`dropped 2 signal 15 displacer saw ${saw}`), describe(r));
      assertEquals([r.code, r.signal], [0, null], describe(r));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, { timeoutMs: 30_000 });
}

test("200 runtimes with graceful shutdown, all shut down, leave the process's fd count where it was", () => {
  new RealtimeRuntime().shutdown(); // loads the library first
  const before = openFds();
  const rts: RealtimeRuntime[] = [];
  for (let i = 0; i < 200; i++) {
    const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
    rt.enableGracefulShutdown();
    new NodeBuilder(0).build(rt.executor, () => false);
    rts.push(rt);
  }
  // epoll, wake eventfd and signal eventfd per runtime.
  assertEquals(openFds() - before, 600, "three fds per live runtime");
  for (const rt of rts) rt.shutdown();
  assertEquals(openFds(), before);
});

test(
  "a runtime that cannot get its fds (EMFILE) fails with a NativeError and leaves none open",
  async () => {
    const cmd = runtimeArgs(child, ["emfile"]).map(shellQuote).join(" ");
    // A small fd table for the child only.
    const r = await driveChild(["bash", "-c", `ulimit -n 64 && exec ${cmd}`], [], 20_000);
    const expected = "free 0: EMFILE, leaked 0; free 1: EMFILE, leaked 0; " +
      "free 2: EMFILE, leaked 0; after: leaked 0, ok";
    assert(r.out.includes(expected), `expected "${expected}"; ${describe(r)}`);
    assertEquals([r.code, r.timedOut], [0, false], describe(r));
  },
  { timeoutMs: 30_000 },
);

/**
 * Starts the stale-notifier Worker on a runtime's notifier, waits until it is inside its
 * wake-up write for `holdMs`, shuts the runtime down meanwhile and returns what happened.
 */
async function staleNotifierRound(holdMs: number) {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const node = new NodeBuilder(0).build(rt.executor, () => false);
  const t: NotifierTransferable = rt.executor.registerNotifier(node).toTransferable();
  // As a parked loop does: the Worker's notify() then takes the wake-up path.
  assert(runtimePort(rt.executor).notifications().park(), "nothing pending yet");
  const ctl = new Int32Array(new SharedArrayBuffer(16));
  const worker = new Worker(new URL("./fixtures/stale_notifier_worker.ts", import.meta.url).href, {
    type: "module",
  });
  try {
    const report = new Promise<{ closedErrors: number; other: string; writeErrno: number }>(
      (resolve, reject) => {
        worker.onmessage = (e: MessageEvent) => resolve(e.data);
        worker.onerror = (e) => {
          e.preventDefault();
          reject(new Error(e.message));
        };
      },
    );
    worker.postMessage({ t, ctl: ctl.buffer, holdMs });
    for (let i = 0; i < 1000 && Atomics.load(ctl, 0) === 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assertEquals(Atomics.load(ctl, 0), 1, "the Worker is inside its wake-up write");
    rt.shutdown();
    // New fds take the lowest free numbers: the closed wake eventfd's number, if it was closed.
    const probes: number[] = [];
    for (let i = 0; i < 8; i++) probes.push(native.eventfdCreate());
    const r = await report;
    const reused = probes.includes(t.wakeFd);
    const landed = probes.map((fd) => native.eventfdRead(fd)).reduce((x, y) => x + y, 0);
    for (const fd of probes) native.close(fd);
    return { ...r, reused, landed, wakeFd: t.wakeFd };
  } finally {
    worker.terminate();
  }
}

test(
  "a Worker notifying a dead runtime gets NotifierClosedError, and its wake-up never lands in a reused fd",
  async () => {
    const r = await staleNotifierRound(20);
    assertEquals(r.writeErrno, 0, "the write in flight went to the runtime's own eventfd");
    assert(r.reused, `the wake eventfd ${r.wakeFd} was closed and its number reused`);
    assertEquals(r.landed, 0, "no write reached a reused fd");
    assert(r.closedErrors > 0, `later notify() calls throw NotifierClosedError (${r.other})`);
    assertEquals(r.other, "", "and nothing else");
  },
  { timeoutMs: 30_000 },
);

test(
  "a wake-up stuck past the drain limit keeps its eventfd open for reuse instead of closing it",
  async () => {
    const r = await staleNotifierRound(1500);
    assertEquals(r.writeErrno, 0, "the late write still went to an eventfd of ours");
    assert(!r.reused, "the number was not handed to another file");
    assertEquals(r.landed, 0);
    assert(r.closedErrors > 0, r.other);
    // The next runtime takes the kept eventfd, so it is not leaked either.
    const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
    const node = new NodeBuilder(0).build(rt.executor, () => false);
    assertEquals(rt.executor.registerNotifier(node).toTransferable().wakeFd, r.wakeFd);
    rt.shutdown();
  },
  { timeoutMs: 30_000 },
);
