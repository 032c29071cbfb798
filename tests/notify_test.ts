import { ErrorCode, NodeBuilder, Notifier, NotifierClosedError, TestRuntime } from "../mod.ts";
import { NotifyQueue } from "../src/drivers/notify.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import { runtimePort } from "../src/core/executor.ts";

test("notify runs the node once in the next cycle however many notifications arrived", () => {
  const rt = new TestRuntime();
  let runs = 0;
  const [, notifier] = new NodeBuilder(0).buildWithNotifier(rt.executor, () => {
    runs++;
    return false;
  });
  rt.runOneCycle();
  assertEquals(runs, 0);
  for (let i = 0; i < 10; i++) notifier.notify();
  rt.runOneCycle();
  assertEquals(runs, 1);
  rt.runOneCycle();
  assertEquals(runs, 1);
  notifier.notify();
  rt.runOneCycle();
  assertEquals(runs, 2);
});

test("a notification for a removed node is dropped and never reaches the slot's next node", () => {
  const rt = new TestRuntime();
  const runs: string[] = [];
  const [old, oldNotifier] = new NodeBuilder(0).named("old").buildWithNotifier(
    rt.executor,
    () => {
      runs.push("old");
      return false;
    },
  );
  oldNotifier.notify();
  old.remove();
  // The new node reuses the slot and the notifier index.
  const [, fresh] = new NodeBuilder(0).named("new").buildWithNotifier(rt.executor, () => {
    runs.push("new");
    return false;
  });
  rt.runOneCycle();
  assertEquals(runs, []);
  oldNotifier.notify(); // stale: must not wake "new"
  rt.runOneCycle();
  assertEquals(runs, []);
  fresh.notify();
  rt.runOneCycle();
  assertEquals(runs, ["new"]);
});

test("a newer notifier takes over an index whose stale notification is still pending", () => {
  const q = new NotifyQueue(4);
  const [i1, g1] = q.allocate(7, 1);
  const stale = new Notifier(q.sab, i1, g1, { wake() {} }, -1);
  stale.notify();
  q.release(i1);
  const [i2, g2] = q.allocate(9, 3);
  assertEquals(i2, i1);
  const fresh = new Notifier(q.sab, i2, g2, { wake() {} }, -1);
  fresh.notify(); // the index is pending with the stale generation: take it over
  stale.notify(); // an older generation never takes it back
  const got: number[][] = [];
  q.drain((slot, gen) => got.push([slot, gen]));
  assertEquals(got, [[9, 3]]);
});

test("the ring never overflows: each index is queued at most once", () => {
  const q = new NotifyQueue(8);
  const ns = [];
  for (let i = 0; i < 8; i++) {
    const [idx, gen] = q.allocate(i, 1);
    ns.push(new Notifier(q.sab, idx, gen, { wake() {} }, -1));
  }
  for (let round = 0; round < 100; round++) for (const n of ns) n.notify();
  const got: number[] = [];
  q.drain((slot) => got.push(slot));
  assertEquals(got, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert(!q.hasPending());
});

test("park refuses to block when a notification is pending and the producer wakes a parked consumer", () => {
  const q = new NotifyQueue(4);
  const [idx, gen] = q.allocate(0, 1);
  let wakes = 0;
  const n = new Notifier(q.sab, idx, gen, { wake: () => wakes++ }, -1);
  assert(q.park(), "nothing pending: may block");
  n.notify();
  assertEquals(wakes, 1);
  n.notify(); // already pending: no second wake
  assertEquals(wakes, 1);
  q.unpark();
  assert(!q.park(), "a notification is pending: must not block");
  q.drain(() => {});
  assert(q.park());
  q.unpark();
});

test("notify after close throws NotifierClosedError", () => {
  const rt = new TestRuntime();
  const [, n] = new NodeBuilder(0).buildWithNotifier(rt.executor, () => false);
  runtimePort(rt.executor).notifications().close();
  const err = assertThrows(() => n.notify(), NotifierClosedError, ErrorCode.NotifierClosed);
  assert(err.message.includes("shut down"));
});

test("fromTransferable rejects what is not a notifier description", () => {
  assertThrows(
    // deno-lint-ignore no-explicit-any
    () => Notifier.fromTransferable({ kind: "nope" } as any),
    Error,
    ErrorCode.InvalidArgument,
  );
});

test(
  "4 Workers x 25 000 notifications: no notification is lost and no node runs twice in a cycle",
  async () => {
    const rt = new TestRuntime();
    const NODES = 16, WORKERS = 4, COUNT = 25_000;
    const published = new Int32Array(new SharedArrayBuffer(4 * NODES));
    const done = new Int32Array(new SharedArrayBuffer(4));
    const seen = new Array<number>(NODES).fill(0);
    const lastEpoch = new Array<number>(NODES).fill(-1);
    let doubleRuns = 0;
    const transferables = [];
    for (let k = 0; k < NODES; k++) {
      const [, n] = new NodeBuilder(0).buildWithNotifier(rt.executor, (_self, ctx) => {
        if (lastEpoch[k] === ctx.epoch) doubleRuns++;
        lastEpoch[k] = ctx.epoch;
        seen[k] = Atomics.load(published, k);
        return false;
      });
      transferables.push(n.toTransferable());
    }
    const workers: Worker[] = [];
    const finished: Promise<void>[] = [];
    for (let w = 0; w < WORKERS; w++) {
      const worker = new Worker(new URL("./fixtures/notify_worker.ts", import.meta.url).href, {
        type: "module",
      });
      workers.push(worker);
      finished.push(new Promise((resolve) => (worker.onmessage = () => resolve())));
      worker.postMessage({
        notifiers: transferables,
        published: published.buffer,
        done: done.buffer,
        count: COUNT,
        seed: 1234 + w,
      });
    }
    const deadline = Date.now() + 60_000;
    let cycles = 0;
    while (Atomics.load(done, 0) < WORKERS && Date.now() < deadline) {
      rt.runOneCycle();
      if (++cycles % 2000 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    await Promise.all(finished);
    for (const w of workers) w.terminate();
    rt.runUntilIdle();
    assertEquals(Atomics.load(done, 0), WORKERS);
    let total = 0;
    for (let k = 0; k < NODES; k++) total += Atomics.load(published, k);
    assertEquals(total, WORKERS * COUNT);
    // Every node that was notified after its last run ran again and saw the final count.
    for (let k = 0; k < NODES; k++) assertEquals(seen[k], Atomics.load(published, k), `node ${k}`);
    assertEquals(doubleRuns, 0);
  },
  { timeoutMs: 90_000 },
);
