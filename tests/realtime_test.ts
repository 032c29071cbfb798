import {
  Control,
  ErrorCode,
  ExecutionMode,
  ExecutorState,
  type IoHandle,
  ms,
  NodeBuilder,
  NotifierClosedError,
  type NotifierTransferable,
  Readiness,
  RealtimeRuntime,
  RuntimeShutDownError,
  us,
} from "../mod.ts";
import { loadBackend, type NativeBackend, NativeError } from "../native.ts";
import { assert, assertEquals, assertThrows, isBun, test } from "./_harness.ts";
import { spawn } from "node:child_process";
import process from "node:process";

const backends: [string, () => NativeBackend][] = [
  ["native", () => loadBackend({ prefer: "native" })],
  ["js", () => loadBackend({ prefer: "js" })],
];
const modes: [string, typeof ExecutionMode[keyof typeof ExecutionMode]][] = [
  ["Park", ExecutionMode.Park],
  ["Spin", ExecutionMode.Spin],
];

test("the native backend is the one loaded here (the suite runs with FFI)", () => {
  assert(loadBackend().hasEpoll, "expected the native backend with epoll");
});

for (const [bname, backend] of backends) {
  for (const [mname, mode] of modes) {
    test(`${mname} on the ${bname} backend fires a timer set 200 us ahead, never early`, () => {
      const rt = new RealtimeRuntime({ mode, backend: backend() });
      let deadline = 0, sampled = 0, actual = 0, cycles = 0;
      new NodeBuilder(0)
        .onInit((ex, self) => {
          deadline = rt.clock.nowNs() + us(200);
          ex.registerTimer(self, deadline);
        })
        .build(rt.executor, (_self, ctx) => {
          sampled = ctx.time.monotonicNs;
          actual = rt.backend.monotonicNs();
          cycles = ctx.epoch;
          return Control.Terminate;
        });
      assertEquals(rt.runForever(), ExecutorState.Terminated);
      assert(sampled >= deadline, `fired early: cycle time ${sampled} < deadline ${deadline}`);
      assert(actual >= deadline, `fired early: ${actual} < ${deadline}`);
      if (mode === ExecutionMode.Park) {
        assertEquals(cycles, 1, "Park handles the timer that woke it in the same cycle");
      }
      assert(rt.isShutDown);
    });

    test(
      `${mname} on the ${bname} backend wakes on a Worker's notify and loses none of 4 x 100 000`,
      async () => {
        const rt = new RealtimeRuntime({ mode, backend: backend() });
        const NODES = 8, WORKERS = 4, COUNT = 100_000;
        const published = new Int32Array(new SharedArrayBuffer(4 * NODES));
        const done = new Int32Array(new SharedArrayBuffer(4));
        const seen = new Array<number>(NODES).fill(0);
        const lastEpoch = new Array<number>(NODES).fill(-1);
        let doubleRuns = 0;
        const nodes = [];
        const transferables: NotifierTransferable[] = [];
        for (let k = 0; k < NODES; k++) {
          const [node, n] = new NodeBuilder(0).buildWithNotifier(rt.executor, (_self, ctx) => {
            if (lastEpoch[k] === ctx.epoch) doubleRuns++;
            lastEpoch[k] = ctx.epoch;
            seen[k] = Atomics.load(published, k);
            return false;
          });
          nodes.push(node);
          transferables.push(n.toTransferable());
        }
        // Deeper than every counting node, so it runs after them in its cycle.
        const [, finish] = new NodeBuilder(0)
          .observerOf(...nodes)
          .buildWithNotifier(rt.executor, () => Control.Terminate);
        const workers: Worker[] = [];
        const ready: Promise<void>[] = [];
        for (let w = 0; w < WORKERS; w++) {
          const worker = new Worker(
            new URL("./fixtures/realtime_notify_worker.ts", import.meta.url).href,
            { type: "module" },
          );
          workers.push(worker);
          ready.push(new Promise((resolve) => (worker.onmessage = () => resolve())));
          worker.postMessage({
            notifiers: transferables,
            finish: finish.toTransferable(),
            published: published.buffer,
            done: done.buffer,
            workers: WORKERS,
            count: COUNT,
            seed: 99 + w,
            delayMs: 50,
          });
        }
        // Give the Workers time to start (module loading needs this thread's event loop on
        // some runtimes), then park/spin until the last one notifies "finish".
        await new Promise((r) => setTimeout(r, 20));
        rt.runForever();
        await Promise.all(ready);
        for (const w of workers) w.terminate();
        let total = 0;
        for (let k = 0; k < NODES; k++) {
          total += Atomics.load(published, k);
          assertEquals(seen[k], Atomics.load(published, k), `node ${k} missed notifications`);
        }
        assertEquals(total, WORKERS * COUNT);
        assertEquals(doubleRuns, 0, "a node ran twice in one cycle");
        assertThrows(() => finish.notify(), NotifierClosedError, ErrorCode.NotifierClosed);
      },
      { timeoutMs: 120_000 },
    );
  }
}

test("shutdown() from a node stops runForever after the cycle and runs every onDrop once", () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Spin });
  const drops: number[] = [];
  let runs = 0;
  for (let i = 0; i < 5; i++) {
    new NodeBuilder(i).onDrop((self) => drops.push(self.value)).build(rt.executor, () => false);
  }
  new NodeBuilder(0)
    .onInit((ex, self) => ex.yieldNow(self))
    .build(rt.executor, (_self, ctx) => {
      runs++;
      if (runs === 3) rt.shutdown();
      ctx.yieldNow();
      return false;
    });
  rt.runForever();
  assertEquals(runs, 3);
  assertEquals(drops.sort(), [0, 1, 2, 3, 4]);
  assertEquals(rt.executor.nodeCount, 0);
  assertThrows(() => rt.runOneCycle(), RuntimeShutDownError, ErrorCode.RuntimeShutDown);
  rt.shutdown(); // idempotent
});

test("runOneCycle with a finite timeout waits at most that long when nothing is ready", () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const before = rt.backend.monotonicNs();
  assertEquals(rt.runOneCycle(ms(2)), ExecutorState.Running);
  const waited = rt.backend.monotonicNs() - before;
  assert(waited >= ms(2), `returned after ${waited} ns, before the 2 ms timeout`);
  rt.shutdown();
});

test("an invalid mode, a negative or NaN timeout are typed errors and the runtime keeps working", () => {
  // deno-lint-ignore no-explicit-any
  assertThrows(() => new RealtimeRuntime({ mode: 7 as any }), Error, ErrorCode.InvalidArgument);
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Spin });
  assertThrows(() => rt.runOneCycle(-1), Error, ErrorCode.InvalidTimeout);
  assertThrows(() => rt.runOneCycle(NaN), Error, ErrorCode.InvalidTimeout);
  let ran = 0;
  new NodeBuilder(0).onInit((ex, self) => ex.yieldNow(self)).build(rt.executor, () => {
    ran++;
    return false;
  });
  rt.runOneCycle();
  assertEquals(ran, 1);
  rt.shutdown();
});

test("poll and the raw epoll calls refuse outside callers at once, and the runtime keeps working", () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  try {
    let pinged = 0, timed = 0;
    const [, notifier] = new NodeBuilder(0).buildWithNotifier(rt.executor, () => {
      pinged++;
      return false;
    });
    // A bound on every wait below: a poll that wrongly waited returns within a second.
    new NodeBuilder(0)
      .onInit((ex, self) => void ex.registerTimer(self, rt.clock.nowNs() + ms(1000)))
      .build(rt.executor, () => {
        timed++;
        return false;
      });
    // An outside poll would wait as long as it was told; an outside epoll call could take the
    // runtime's own wake fd out of its set, or carry the signal token. The poller is private.
    for (const m of ["poll", "ioAdd", "ioModify", "ioRemove", "_setPoller", "_io"]) {
      assert(!(m in rt) && !(m in rt.executor), `${m} is not reachable`);
    }
    assertEquals(timed, 0, "nothing waited for the timer");
    notifier.notify();
    rt.runOneCycle(Infinity);
    assertEquals([pinged, timed], [1, 0], "the notified node ran at once");
    assert(!rt.isShutDown, "no signal token reached the runtime");
  } finally {
    rt.shutdown();
  }
});

test("a runtime cannot take over an executor that another live runtime owns; after shutdown it can", () => {
  const first = new RealtimeRuntime();
  const ex = first.executor;
  assertThrows(() => new RealtimeRuntime({ executor: ex }), Error, ErrorCode.InvalidArgument);
  assertThrows(() => RealtimeRuntime.adopt(first), Error, ErrorCode.InvalidArgument);
  let ran = 0;
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, () => {
    ran++;
    return false;
  });
  first.runOneCycle(0);
  assertEquals(ran, 1, "the owner still runs its executor");
  first.shutdown();
  const second = new RealtimeRuntime({ executor: ex });
  new NodeBuilder(0).onInit((e, self) => e.yieldNow(self)).build(ex, () => {
    ran++;
    return false;
  });
  second.runOneCycle(0);
  assertEquals(ran, 2, "the executor runs under its new runtime");
  second.shutdown();
});

test("Spin mode with nothing registered reads the clock but makes no epoll call per cycle", () => {
  const real = loadBackend();
  let waits = 0;
  const counting = new Proxy(real, {
    get(target, prop) {
      if (prop === "epollWait") {
        return (...args: Parameters<NativeBackend["epollWait"]>) => {
          waits++;
          return target.epollWait(...args);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Spin, backend: counting });
  let runs = 0;
  new NodeBuilder(0).onInit((ex, self) => ex.yieldNow(self)).build(rt.executor, (_s, ctx) => {
    if (++runs < 1000) ctx.yieldNow();
    return false;
  });
  for (let i = 0; i < 2000; i++) rt.runOneCycle();
  assertEquals(runs, 1000);
  assertEquals(waits, 0);
  rt.shutdown();
});

/** Spawns this runtime on a script; `kill` sends a signal once `ready` was printed. */
async function runChildUntilReady(
  script: string,
  signal: "SIGTERM" | "SIGINT",
): Promise<{ code: number | null; signal: string | null; out: string }> {
  const args = isBun ? [script] : ["run", "-A", script];
  if (!isBun) {
    // Deno: Deno.Command reports the real exit status (node:child_process reports the signal
    // that kill() sent even when the child handled it and exited 0).
    // deno-lint-ignore no-explicit-any
    const D = (globalThis as any).Deno;
    const child = new D.Command(D.execPath(), { args, stdout: "piped", stderr: "piped" }).spawn();
    const reader = child.stdout.getReader();
    let out = "";
    while (!out.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    await new Promise((r) => setTimeout(r, 100)); // now parked in epoll
    child.kill(signal);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    await child.stderr.cancel();
    const status = await child.status;
    return { code: status.code, signal: status.signal, out };
  }
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const exited = new Promise<[number | null, string | null]>((resolve) =>
    child.on("exit", (code, sig) => resolve([code, sig]))
  );
  await new Promise<void>((resolve) => {
    child.stdout.on("data", (d: Uint8Array) => {
      out += new TextDecoder().decode(d);
      if (out.includes("ready")) resolve();
    });
  });
  await new Promise((r) => setTimeout(r, 100)); // now parked in epoll
  child.kill(signal);
  const [code, sig] = await exited;
  return { code, signal: sig, out };
}

for (const [sig, num] of [["SIGTERM", 15], ["SIGINT", 2]] as const) {
  test(`a child process parked in runForever exits 0 on ${sig} after running onDrop`, async () => {
    const script = new URL("./fixtures/sigterm_child.ts", import.meta.url).pathname;
    const r = await runChildUntilReady(script, sig);
    assertEquals([r.code, r.signal], [0, null], `stdout: ${r.out}`);
    assert(r.out.includes(`dropped 3 signal ${num}`), `stdout was: ${r.out}`);
  }, { timeoutMs: 60_000 });
}

test("an fd registered with registerIo schedules its node once per ready cycle and reports readiness", () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const b = rt.backend;
  const efd = b.eventfdCreate(0, 0);
  const got: number[] = [];
  let handle: IoHandle | null = null;
  const node = new NodeBuilder(0)
    .onInit((ex, self) => {
      handle = ex.registerIo(efd, self, Readiness.Readable);
    })
    .build(rt.executor, (_self, ctx) => {
      got.push(ctx.ioReadiness(handle!));
      b.eventfdRead(efd); // drain, so level-triggered readiness clears
      return false;
    });
  rt.runOneCycle(0);
  assertEquals(got, []);
  b.eventfdWrite(efd, 3);
  rt.runOneCycle(Infinity);
  assertEquals(got.length, 1);
  assert((got[0] & Readiness.Readable) !== 0);
  rt.runOneCycle(ms(1));
  assertEquals(got.length, 1, "drained: not ready again");
  node.remove(); // deregisters: a write no longer wakes anything
  b.eventfdWrite(efd, 1);
  rt.runOneCycle(ms(1));
  assertEquals(got.length, 1);
  assertEquals(rt.executor.deregisterIo(handle!), false);
  b.close(efd);
  rt.shutdown();
});

test("registerIo with a closed fd is a NativeError EBADF and without epoll an UNSUPPORTED error", () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Spin });
  const n = new NodeBuilder(0).build(rt.executor, () => false);
  const efd = rt.backend.eventfdCreate(0, 0);
  rt.backend.close(efd);
  const e = assertThrows(() => rt.executor.registerIo(efd, n, Readiness.Readable), NativeError);
  assertEquals(e.errnoName, "EBADF");
  assertThrows(() => rt.executor.registerIo(-1, n, Readiness.Readable), Error, "INVALID_ARGUMENT");
  assertThrows(() => rt.executor.registerIo(0, n, 0), Error, "INVALID_ARGUMENT");
  rt.runOneCycle(); // still works
  rt.shutdown();
  const js = new RealtimeRuntime({
    mode: ExecutionMode.Spin,
    backend: loadBackend({ prefer: "js" }),
  });
  const m = new NodeBuilder(0).build(js.executor, () => false);
  assertThrows(() => js.executor.registerIo(0, m, Readiness.Readable), Error, "UNSUPPORTED");
  js.shutdown();
});

test(
  "Park with spinBeforeParkNs still wakes on timers and Workers and loses no notification",
  async () => {
    assertThrows(
      () => new RealtimeRuntime({ mode: ExecutionMode.Park, spinBeforeParkNs: -1 }),
      Error,
      ErrorCode.InvalidArgument,
    );
    const rt = new RealtimeRuntime({ mode: ExecutionMode.Park, spinBeforeParkNs: 50_000 });
    const published = new Int32Array(new SharedArrayBuffer(4 * 2));
    const done = new Int32Array(new SharedArrayBuffer(4));
    const seen = [0, 0];
    const nodes = [];
    const transferables: NotifierTransferable[] = [];
    for (let k = 0; k < 2; k++) {
      const [node, n] = new NodeBuilder(0).buildWithNotifier(rt.executor, () => {
        seen[k] = Atomics.load(published, k);
        return false;
      });
      nodes.push(node);
      transferables.push(n.toTransferable());
    }
    let ticks = 0;
    new NodeBuilder(0).onInit((ex, self) => ex.yieldNow(self)).build(rt.executor, (_s, ctx) => {
      ticks++;
      ctx.registerTimer(ctx.current, ctx.time.monotonicNs + ms(1));
      return false;
    });
    const [, finish] = new NodeBuilder(0)
      .observerOf(...nodes)
      .buildWithNotifier(rt.executor, () => Control.Terminate);
    const worker = new Worker(
      new URL("./fixtures/realtime_notify_worker.ts", import.meta.url).href,
      { type: "module" },
    );
    const ended = new Promise((resolve) => (worker.onmessage = resolve));
    worker.postMessage({
      notifiers: transferables,
      finish: finish.toTransferable(),
      published: published.buffer,
      done: done.buffer,
      workers: 1,
      count: 20_000,
      seed: 7,
      delayMs: 20,
    });
    await new Promise((r) => setTimeout(r, 20));
    rt.runForever();
    await ended;
    worker.terminate();
    assertEquals(seen, [Atomics.load(published, 0), Atomics.load(published, 1)]);
    assertEquals(seen[0] + seen[1], 20_000);
    assert(ticks >= 1, "timers still fire");
  },
  { timeoutMs: 60_000 },
);
