// The sharded runtime with real Workers: keyed records routed to N shards in order with exact
// sums, a shard that throws reported and restarted while the others go on, graceful shutdown
// running every onDrop, a shard's recorded run replayed on its own, and typed refusals.
import fc from "fast-check";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Control,
  ErrorCode,
  ExecutionMode,
  InvalidArgumentError,
  NodeBuilder,
  RealtimeRuntime,
  TestRuntime,
  us,
} from "../mod.ts";
import { SendStatus } from "../channel.ts";
import { ReplayError } from "../replay.ts";
import {
  defineShard,
  replayShard,
  ShardedRuntime,
  ShardError,
  shardOf,
  type ShardOptions,
} from "../shard.ts";
import sums, { In, type Out, type SumParams } from "./fixtures/sum_shard.ts";
import { assert, assertEquals, assertRejects, assertThrows, test } from "./_harness.ts";

type OutRec = {
  key: number;
  seq: number;
  sum: number;
  kind: number;
  shard: number;
  incarnation: number;
};

/** The value of the i-th record (exact in f64 for any sum here). */
const valueOf = (i: number) => (i % 7) + 1;

interface Run {
  /** Per-record outputs per key, in arrival order: [seq, sum, shard, incarnation]. */
  byKey: number[][][];
  /** Final records (from onDrop) in arrival order. */
  finals: OutRec[];
  /** Every output in arrival order (only when keepAll). */
  all: OutRec[];
  /** Errors reported to the main executor. */
  errors: unknown[];
  pool: ShardedRuntime<typeof In.fields, typeof Out.fields, SumParams>;
  /** Records the producer got Sent for, per shard. */
  sentPerShard: number[];
}

/**
 * Runs `total` records over `keys` keys through a pool of `shards` shards: record i has key
 * i % keys and sequence number floor(i / keys) within its key. Stops the pool once everything
 * was sent, and returns once the output node reported the end.
 */
async function runPool(
  shards: number,
  total: number,
  keys: number,
  options: Partial<ShardOptions<SumParams>> = {},
  keepAll = false,
): Promise<Run> {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const errors: unknown[] = [];
  rt.executor.onError = (e) => errors.push(e);
  const pool = ShardedRuntime.create(rt.executor, sums, { shards, ...options });
  const sentPerShard = new Array(shards).fill(0);
  let i = 0;
  const rec = { key: 0, seq: 0, v: 0 };
  new NodeBuilder(0)
    .named("producer")
    .onInit((ex, self) => ex.yieldNow(self))
    .build(rt.executor, (self, ctx) => {
      for (let n = 0; n < 4096 && i < total; n++) {
        rec.key = i % keys;
        rec.seq = Math.floor(i / keys);
        rec.v = valueOf(i);
        const s = pool.send(rec);
        if (s === SendStatus.Full) {
          ctx.registerTimerAfter(self, us(200));
          return Control.Unchanged;
        }
        assertEquals(s, SendStatus.Sent);
        sentPerShard[shardOf(rec.key, shards)]++;
        i++;
      }
      if (i < total) ctx.yieldNow();
      else void pool.shutdown();
      return Control.Unchanged;
    });
  const byKey: number[][][] = Array.from({ length: keys }, () => []);
  const finals: OutRec[] = [];
  const all: OutRec[] = [];
  const out = pool.output!;
  new NodeBuilder(0).named("check").triggeredBy(out).build(rt.executor, () => {
    for (const r of out.value.items) {
      if (keepAll) all.push({ ...r });
      if (r.kind === 0) byKey[r.key].push([r.seq, r.sum, r.shard, r.incarnation]);
      else finals.push({ ...r });
    }
    return out.value.ended ? Control.Terminate : Control.Unchanged;
  });
  await rt.run();
  return { byKey, finals, all, errors, pool, sentPerShard };
}

test(
  "4 shards x 250 000 keyed records: per-key order, none lost or repeated, exact sums, every onDrop",
  async () => {
    const shards = 4, total = 1_000_000, keys = 1000;
    const { byKey, finals, errors, pool, sentPerShard } = await runPool(shards, total, keys);
    assertEquals(errors, []);
    for (let key = 0; key < keys; key++) {
      const got = byKey[key];
      assertEquals(got.length, total / keys, `key ${key}: every record once`);
      let sum = 0;
      for (let s = 0; s < got.length; s++) {
        sum += valueOf(s * keys + key);
        const [seq, running, shard] = got[s];
        if (seq !== s || running !== sum || shard !== shardOf(key, shards)) {
          throw new Error(`key ${key} output ${s}: seq ${seq}, sum ${running}, shard ${shard}`);
        }
      }
    }
    // Every shard's onDrop ran at the graceful stop: one final record per key, exact sums.
    assertEquals(finals.length, keys);
    const finalOf = new Map(finals.map((f) => [f.key, f]));
    for (let key = 0; key < keys; key++) {
      const f = finalOf.get(key)!;
      assertEquals(f.sum, byKey[key][byKey[key].length - 1][1], `final of key ${key}`);
      assertEquals(f.seq, total / keys - 1);
    }
    const st = pool.state();
    assertEquals(st.map((s) => s.status), ["stopped", "stopped", "stopped", "stopped"]);
    assertEquals(st.map((s) => s.sent), sentPerShard);
    assertEquals(st.map((s) => s.consumed), sentPerShard);
    assertEquals(st.map((s) => s.lost + s.restarts + s.lag), [0, 0, 0, 0]);
    assertEquals(st.reduce((a, s) => a + s.emitted, 0), total + keys);
    assertEquals(pool.received, total + keys);
    for (const n of sentPerShard) assert(n > total / shards / 2, `keys spread: ${sentPerShard}`);
  },
  { timeoutMs: 180_000 },
);

test("a shard that throws is reported and restarted while the other shards go on", async () => {
  const shards = 4, total = 80_000, keys = 200;
  const { byKey, finals, errors, pool, sentPerShard } = await runPool(shards, total, keys, {
    params: { failShard: 1, failAfter: 1000 },
    restartDelayMs: 20,
  });
  assertEquals(errors.length, 1, `one report: ${errors}`);
  const e = errors[0] as ShardError;
  assert(e instanceof ShardError, `a ShardError: ${e}`);
  assertEquals(e.code, ErrorCode.ShardFailed);
  assertEquals(e.shard, 1);
  assert(/node sum \(cycle\)/.test(e.message), e.message);
  assertEquals((e.cause as Error).message, "planned failure");
  const st = pool.state();
  assertEquals(st.map((s) => s.restarts), [0, 1, 0, 0]);
  assertEquals(st.map((s) => s.status), ["stopped", "stopped", "stopped", "stopped"]);
  assertEquals(st[1].lastError, e.message);
  for (let key = 0; key < keys; key++) {
    const shard = shardOf(key, shards);
    const got = byKey[key];
    if (shard !== 1) {
      // Untouched: every record, in order, on the first incarnation.
      assertEquals(got.length, total / keys, `key ${key}`);
      for (let s = 0; s < got.length; s++) {
        if (got[s][0] !== s || got[s][3] !== 0) throw new Error(`key ${key} output ${s}`);
      }
      continue;
    }
    // The failed shard: still in order per key; what it lost is accounted for.
    for (let s = 1; s < got.length; s++) {
      if (!(got[s][0] > got[s - 1][0])) throw new Error(`key ${key} out of order at ${s}`);
    }
  }
  const outputs1 = byKey.filter((_, k) => shardOf(k, shards) === 1)
    .reduce((a, g) => a + g.length, 0);
  assertEquals(st[1].sent, sentPerShard[1]);
  // The failing incarnation took some records it never processed: at most one batch (the
  // batch of the record that threw), plus what was still in its ring (lost).
  const unprocessed = st[1].sent - st[1].lost - outputs1;
  assert(unprocessed >= 1 && unprocessed <= 1024, `unprocessed ${unprocessed}, lost ${st[1].lost}`);
  // Both incarnations of shard 1 ran their onDrop (the failed one as its graph went down).
  const finalIncarnations = new Set(finals.filter((f) => f.shard === 1).map((f) => f.incarnation));
  assertEquals([...finalIncarnations].sort(), [0, 1]);
  const otherKeys = Array.from({ length: keys }, (_, k) => k).filter((k) =>
    shardOf(k, shards) !== 1
  );
  assertEquals(finals.filter((f) => f.shard !== 1).length, otherKeys.length);
}, { timeoutMs: 120_000 });

test("a shard's recorded run replays on its own into the same outputs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wavelet-shard-"));
  try {
    const shards = 2, total = 20_000, keys = 50;
    const { all, errors } = await runPool(shards, total, keys, {
      record: (shard, incarnation) => join(dir, `shard-${shard}-${incarnation}.wvlog`),
    }, true);
    assertEquals(errors, []);
    for (let shard = 0; shard < shards; shard++) {
      const live = all.filter((r) => r.shard === shard);
      assert(live.length > total / 4, `shard ${shard} emitted ${live.length}`);
      const log = new Uint8Array(readFileSync(join(dir, `shard-${shard}-0.wvlog`)));
      const replay = replayShard(sums, log, { shard, shards });
      assert(replay.cycles > 0);
      assertEquals(replay.outputs.length, live.length, `shard ${shard}: as many outputs`);
      for (let k = 0; k < live.length; k++) {
        const a = live[k], b = replay.outputs[k];
        if (a.key !== b.key || a.seq !== b.seq || a.sum !== b.sum || a.kind !== b.kind) {
          throw new Error(`shard ${shard} output ${k}: ${JSON.stringify([a, b])}`);
        }
      }
      // A cut log is refused before any cycle runs.
      assertThrows(
        () => replayShard(sums, log.subarray(0, log.length - 9), { shard, shards }),
        ReplayError,
        ErrorCode.ReplayLogInvalid,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, { timeoutMs: 120_000 });

test("a shard module that cannot start makes start() reject with a ShardError", async () => {
  const rt = new TestRuntime();
  const errors: unknown[] = [];
  rt.executor.onError = (e) => errors.push(e);
  const failing = ShardedRuntime.start(rt.executor, sums, {
    shards: 2,
    params: { throwInBuild: true },
  });
  const e = await assertRejects(() => failing, ShardError);
  assert(/planned build failure/.test(e.message), e.message);
  // A declaration whose module does not export it.
  const stray = defineShard(new URL("./fixtures/replay_graph.ts", import.meta.url).href, {
    input: In,
    key: "key",
    build: () => {},
  });
  const e2 = await assertRejects(
    () => ShardedRuntime.start(rt.executor, stray, { shards: 1 }),
    ShardError,
  );
  assert(/exports no shard declaration/.test(e2.message), e2.message);
  assert(errors.length >= 2 && errors.every((x) => x instanceof ShardError));
  // Give the refused Workers' terminations a turn before the sanitizers look.
  await new Promise((r) => setTimeout(r, 50));
});

test("bad sharded-runtime arguments are refused with typed errors before anything starts", () => {
  const rt = new TestRuntime();
  const before = rt.executor.nodeCount;
  assertThrows(
    () => ShardedRuntime.create(rt.executor, {} as never, { shards: 1 }),
    InvalidArgumentError,
  );
  assertThrows(
    () => ShardedRuntime.create({} as never, sums, { shards: 1 }),
    InvalidArgumentError,
  );
  assertThrows(() => shardOf(1.5, 4), InvalidArgumentError);
  assertThrows(() => shardOf(1, 0), InvalidArgumentError);
  assertThrows(
    () => defineShard("not a url", { input: In, key: "key", build: () => {} }),
    InvalidArgumentError,
  );
  assertThrows(
    () => defineShard(import.meta.url, { input: In, key: "nope" as "key", build: () => {} }),
    InvalidArgumentError,
  );
  const bad = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.double(),
    fc.integer({ min: -5, max: 1 << 22 }),
    fc.string(),
    fc.constant(() => 1),
  );
  fc.assert(
    fc.property(
      fc.record({
        shards: bad,
        capacity: bad,
        outputCapacity: bad,
        maxBatch: bad,
        mode: bad,
        restartDelayMs: bad,
        maxRestarts: bad,
        record: bad,
      }, { requiredKeys: [] }),
      (o) => {
        const valid = (v: unknown, min: number, max: number, optional = true) =>
          (optional && v === undefined) ||
          (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max);
        const ok = valid(o.shards, 1, 256, false) && valid(o.capacity, 1, 1 << 20) &&
          valid(o.outputCapacity, 1, 1 << 20) && valid(o.maxBatch, 1, 1 << 20) &&
          (o.mode === undefined || o.mode === 0 || o.mode === 1) &&
          valid(o.restartDelayMs, 0, 3.6e6) &&
          (o.maxRestarts === undefined || valid(o.maxRestarts, 0, 2 ** 31)) &&
          (o.record === undefined || typeof o.record === "function");
        if (ok) return; // valid options would start Workers: not this property's business
        assertThrows(
          () => ShardedRuntime.create(rt.executor, sums, o as never),
          InvalidArgumentError,
        );
        assertEquals(rt.executor.nodeCount, before, "nothing was built");
      },
    ),
    { numRuns: 300 },
  );
});
