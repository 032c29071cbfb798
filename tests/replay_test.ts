import {
  Control,
  defineRecord,
  ErrorCode,
  ExecutionMode,
  type Executor,
  HistoricalRuntime,
  ms,
  NodeBuilder,
  Overflow,
  RealtimeRuntime,
  RecvStatus,
  ReplayError,
  type RingSender,
} from "../mod.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";

const Quote = defineRecord({ seq: "i32", px: "f64", qty: "u32" });
type Trace = string[];

/** The graph under test: a Worker-fed channel, a diamond, a timer, and the cycle time. */
function buildGraph(ex: Executor, trace: Trace): RingSender<typeof Quote.fields> {
  const q = { seq: 0, px: 0, qty: 0 };
  const [feed, tx] = new NodeBuilder({ n: 0, last: 0, pv: 0, vol: 0, closed: false })
    .named("feed")
    .buildWithChannel(
      ex,
      { kind: "ring", record: Quote, capacity: 256, overflow: Overflow.Block },
      (self, ctx, rx) => {
        const v = self.value;
        let got = 0;
        for (let k = 0; k < 64; k++) { // a bounded batch: the channel re-runs the node
          const s = rx.tryRecv(q);
          if (s === RecvStatus.Item) {
            got++;
            v.n++;
            v.last = q.px;
            v.pv += q.px * q.qty;
            v.vol += q.qty;
          } else {
            if (s === RecvStatus.Closed) v.closed = true;
            break;
          }
        }
        trace.push(`${ctx.epoch} feed ${got} ${v.n} ${v.pv}`);
        return got > 0 || v.closed ? Control.Broadcast : Control.Unchanged;
      },
    );
  const vwap = new NodeBuilder(0).named("vwap").triggeredBy(feed).build(ex, (self, ctx) => {
    self.value = feed.value.vol > 0 ? feed.value.pv / feed.value.vol : 0;
    trace.push(`${ctx.epoch} vwap ${self.value}`);
    return true;
  });
  const last = new NodeBuilder(0).named("last").triggeredBy(feed).build(ex, (self, ctx) => {
    self.value = feed.value.last;
    trace.push(`${ctx.epoch} last ${self.value}`);
    return true;
  });
  const ticks = new NodeBuilder(0)
    .named("ticks")
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (self, ctx) => {
      self.value++;
      ctx.registerTimer(self, ctx.time.monotonicNs + ms(1));
      trace.push(`${ctx.epoch} ticks ${self.value} ${ctx.time.unixNanos}`);
      return true;
    });
  new NodeBuilder(0)
    .named("signal")
    .triggeredBy(vwap, last, ticks)
    .observerOf(feed)
    .build(ex, (self, ctx) => {
      self.value = last.value - vwap.value;
      trace.push(`${ctx.epoch} signal ${self.value} ${ctx.time.monotonicNs} ${ticks.value}`);
      return feed.value.closed ? Control.Terminate : Control.Broadcast;
    });
  return tx;
}

/** Runs the graph live with a Worker producing `count` quotes, recording it; returns the log. */
async function recordLiveRun(live: Trace, count: number): Promise<Uint8Array> {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const tx = buildGraph(rt.executor, live);
  rt.startRecording();
  const worker = new Worker(new URL("./fixtures/replay_producer.ts", import.meta.url).href, {
    type: "module",
  });
  const done = new Promise((r) => (worker.onmessage = r));
  worker.postMessage({ sender: tx.toTransferable(), count });
  tx.close();
  await new Promise((r) => setTimeout(r, 20));
  rt.runForever();
  await done;
  worker.terminate();
  return rt.recordedBytes()!;
}

test("a recorded realtime run with a Worker channel and timers replays bit for bit", async () => {
  const live: Trace = [];
  const log = await recordLiveRun(live, 5_000);
  assert(live.some((l) => l.includes(" feed ")), "the live run processed quotes");
  assert(live.filter((l) => l.includes(" ticks ")).length >= 2, "timers fired during the run");
  assert(live.at(-1)!.includes("signal"), "the run ended in the signal node");

  const replayed: Trace = [];
  const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  buildGraph(h.executor, replayed);
  const cycles = h.replayLog(log);
  assert(cycles > 0);
  assertEquals(replayed.length, live.length, "same number of node runs");
  assertEquals(replayed, live, "same executions, same values, same cycle numbers and times");
}, { timeoutMs: 60_000 });

test("a replay against a different graph is a clear ReplayError", async () => {
  const live: Trace = [];
  const log = await recordLiveRun(live, 300);

  // A graph without the "feed" name.
  const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  new NodeBuilder(0).named("other").build(h.executor, () => false);
  const e = assertThrows(() => h.replayLog(log), ReplayError, ErrorCode.ReplayMismatch);
  assert(e.message.includes('"feed"'), e.message);
  // Not a log at all.
  assertThrows(() => h.replayLog(new Uint8Array([1, 2, 3])), ReplayError);
}, { timeoutMs: 60_000 });
