import {
  Control,
  ExecutionMode,
  ExecutorState,
  NodeBuilder,
  RealtimeRuntime,
  TestRuntime,
} from "../mod.ts";
import { loadBackend, type NativeBackend } from "../native.ts";
import { channel, sinkTo, sourceFrom } from "../channel.ts";
import { assert, assertEquals, isBun, test } from "./_harness.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** Starts an HTTP server on 127.0.0.1 with the host's own API; returns its URL and a stopper. */
function startServer(handler: () => Response): { url: string; stop: () => Promise<void> } {
  if (isBun) {
    const server = g.Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handler });
    return { url: `http://127.0.0.1:${server.port}/`, stop: () => server.stop(true) };
  }
  const ac = new AbortController();
  const server = g.Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    handler,
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    stop: async () => {
      ac.abort();
      await server.finished;
    },
  };
}

const backends: [string, () => NativeBackend][] = [
  ["native", () => loadBackend()],
  ["js", () => loadBackend({ prefer: "js" })],
];

for (const [bname, backend] of backends) {
  test(
    `run() on the ${bname} backend keeps setTimeout and a local HTTP server answering`,
    async () => {
      const rt = new RealtimeRuntime({ mode: ExecutionMode.Park, backend: backend() });
      let hits = 0;
      const server = startServer(() => {
        hits++;
        return new Response("pong");
      });
      // The graph: a local channel fed from host timers; ends after 40 items.
      let processed = 0;
      const [, tx] = new NodeBuilder(0).buildWith(
        rt.executor,
        channel({ kind: "local", capacity: 64 }),
        (self, _ctx, rx) => {
          for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) {
            self.value += v as number;
            processed++;
          }
          return processed >= 40 ? Control.Terminate : Control.Broadcast;
        },
      );
      let timerFires = 0;
      const feeder = setInterval(() => {
        timerFires++;
        tx.trySend(1);
      }, 2);
      const running = rt.run();
      const replies: string[] = [];
      for (let i = 0; i < 5; i++) replies.push(await (await fetch(server.url)).text());
      const state = await running;
      clearInterval(feeder);
      await server.stop();
      assertEquals(state, ExecutorState.Terminated);
      assertEquals(replies, ["pong", "pong", "pong", "pong", "pong"]);
      assertEquals(hits, 5);
      assert(processed >= 40);
      assert(timerFires >= 40, `setTimeout fired ${timerFires} times`);
      assert(rt.isShutDown);
    },
    { timeoutMs: 60_000 },
  );

  test(`run() on the ${bname} backend fires graph timers while idle and returns on shutdown()`, async () => {
    const rt = new RealtimeRuntime({ mode: ExecutionMode.Park, backend: backend() });
    let fired = 0;
    new NodeBuilder(0)
      .onInit((ex, self) => {
        ex.registerTimer(self, rt.clock.nowNs() + 1e6);
      })
      .build(rt.executor, (_self, ctx) => {
        if (++fired < 10) ctx.registerTimer(ctx.current, ctx.time.monotonicNs + 1e6);
        else setTimeout(() => rt.shutdown(), 1);
        return false;
      });
    assertEquals(await rt.run(), ExecutorState.Terminated);
    assertEquals(fired, 10);
  });
}

test("sourceFrom pulls an async iterable one item per cycle, with backpressure", async () => {
  const rt = new TestRuntime();
  let pulled = 0;
  async function* gen() {
    for (let i = 0; i < 10; i++) {
      pulled++;
      yield i;
    }
  }
  const src = sourceFrom(rt.executor, gen(), { capacity: 2 });
  const seen: number[] = [];
  new NodeBuilder(0).triggeredBy(src).build(rt.executor, () => {
    if (src.value.item !== undefined) seen.push(src.value.item);
    return false;
  });
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
  assert(pulled <= 3, `pulled ${pulled} items into a channel of 2 without consuming`);
  for (let i = 0; i < 100 && !src.value.ended; i++) {
    rt.runOneCycle();
    await new Promise((r) => setTimeout(r, 0));
  }
  assertEquals(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert(src.value.ended);
});

test("sourceFrom reads a ReadableStream in batches, reports iterator errors, can remove itself", async () => {
  const rt = new TestRuntime();
  const errors: unknown[] = [];
  rt.executor.onError = (e) => errors.push(e);
  const stream = new ReadableStream<number>({
    start(c) {
      for (let i = 0; i < 5; i++) c.enqueue(i);
      c.close();
    },
  });
  const src = sourceFrom(rt.executor, stream, { mode: "batch", removeOnEnd: true });
  const batches: number[][] = [];
  new NodeBuilder(0).triggeredBy(src).build(rt.executor, () => {
    batches.push([...src.value.items]);
    return false;
  });
  for (let i = 0; i < 20 && src.isAlive; i++) {
    await new Promise((r) => setTimeout(r, 0));
    rt.runOneCycle();
  }
  assertEquals(batches.flat(), [0, 1, 2, 3, 4]);
  assert(!src.isAlive, "removed after the end");
  async function* failing() {
    yield 1;
    throw new Error("feed broke");
  }
  const bad = sourceFrom(rt.executor, failing());
  const badItems: (number | undefined)[] = [];
  new NodeBuilder(0).triggeredBy(bad).build(rt.executor, () => {
    badItems.push(bad.value.item);
    return false;
  });
  for (let i = 0; i < 20 && !bad.value.ended; i++) {
    await new Promise((r) => setTimeout(r, 0));
    rt.runOneCycle();
  }
  assertEquals(badItems, [1, undefined], "the item, then the end");
  assert(bad.value.ended);
  assertEquals((errors[0] as Error).message, "feed broke");
});

test("sinkTo writes every broadcast to a WritableStream, waiting for it to be ready", async () => {
  const rt = new TestRuntime();
  const src = new NodeBuilder(0)
    .onInit((ex, self) => ex.yieldNow(self))
    .build(rt.executor, (self, ctx) => {
      self.value++;
      if (self.value < 20) ctx.yieldNow();
      return true;
    });
  const written: number[] = [];
  const slow = new WritableStream<number>({
    async write(v) {
      await new Promise((r) => setTimeout(r, 1));
      written.push(v);
    },
  }, { highWaterMark: 1 });
  const sink = sinkTo(rt.executor, src, slow, { map: (v) => v * 10 });
  rt.runUntilIdle();
  assert(sink.value.buffered > 0, "values wait while the stream is busy");
  for (let i = 0; i < 200 && written.length < 20; i++) await new Promise((r) => setTimeout(r, 2));
  assertEquals(written, Array.from({ length: 20 }, (_, i) => (i + 1) * 10));
  assertEquals(sink.value.written, 20);
  assertEquals(sink.value.dropped, 0);
});

test("sinkTo drops the oldest buffered value when its buffer is full and counts it", async () => {
  const rt = new TestRuntime();
  const src = new NodeBuilder(0)
    .onInit((ex, self) => ex.yieldNow(self))
    .build(rt.executor, (self, ctx) => {
      self.value++;
      if (self.value < 10) ctx.yieldNow();
      return true;
    });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const got: number[] = [];
  const sink = sinkTo(rt.executor, src, async (v: number) => {
    await gate;
    got.push(v);
  }, { capacity: 3 });
  rt.runUntilIdle();
  release();
  for (let i = 0; i < 50 && got.length < 4; i++) await new Promise((r) => setTimeout(r, 0));
  // The first value was taken by the pump before the gate; then 10 arrived into a buffer of 3.
  assertEquals(got, [1, 8, 9, 10]);
  assertEquals(sink.value.dropped, 6);
});
