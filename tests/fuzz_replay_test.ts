// Random damage to a real recorded log (a live run with a Worker-fed ring channel, a diamond and
// timers): flipped bits, overwritten bytes, cuts at any offset, blocks moved around, bytes
// appended. A replay of a damaged log must never differ silently: it either throws a
// ReplayError or produces exactly the recorded run's node executions. The last test asserts
// the stronger property the format gives: every such damage is found before the first cycle
// (by the chained checksums and the end marker), as REPLAY_LOG_INVALID, with no node run.
import fc from "fast-check";
import { ErrorCode } from "../src/core/errors.ts";
import { HistoricalRuntime } from "../src/runtime/historical.ts";
import { ReplayError } from "../src/replay/log.ts";
import { assert, assertEquals, test } from "./_harness.ts";
import { buildGraph, recordLiveRun, type Trace } from "./fixtures/replay_graph.ts";

let recorded: { live: Trace; log: Uint8Array } | undefined;
async function recording(): Promise<{ live: Trace; log: Uint8Array }> {
  if (recorded === undefined) {
    const live: Trace = [];
    recorded = { live, log: await recordLiveRun(live, 12_000) };
  }
  return recorded;
}

/** Replays `log` into a fresh copy of the graph: the error it threw (or null) and the trace. */
function replay(log: Uint8Array): { error: unknown; trace: Trace } {
  const trace: Trace = [];
  const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  buildGraph(h.executor, trace);
  h.executor.onError = () => {};
  try {
    h.replayLog(log);
    return { error: null, trace };
  } catch (error) {
    return { error, trace };
  }
}

/** The property: a replay of `damaged` either throws a ReplayError or equals the recorded run. */
function checkNoSilentDifference(damaged: Uint8Array, live: Trace, what: string): void {
  const { error, trace } = replay(damaged);
  if (error === null) {
    assertEquals(trace, live, `${what}: a replay without an error must equal the recorded run`);
    return;
  }
  assert(error instanceof ReplayError, `${what}: threw ${error}`);
}

/** The stronger property of formats 2 and 3: the damage is found before any node runs. */
function checkRefusedUpFront(damaged: Uint8Array, what: string): void {
  const { error, trace } = replay(damaged);
  assert(error instanceof ReplayError, `${what}: ${error === null ? "no error" : error}`);
  assertEquals(error.code, ErrorCode.ReplayLogInvalid, `${what}: ${error.message}`);
  assertEquals(trace, [], `${what}: no node ran before the damage was found`);
}

test("the undamaged log replays to the recorded run (the baseline of the fuzz tests)", async () => {
  const { live, log } = await recording();
  assert(log.length > 3 * (1 << 16), `the log spans several blocks (${log.length} bytes)`);
  const { error, trace } = replay(log);
  assertEquals(error, null);
  assertEquals(trace, live);
}, { timeoutMs: 60_000 });

test("flipping any bits of a recorded log never replays to a silent difference", async () => {
  const { live, log } = await recording();
  fc.assert(
    fc.property(
      fc.array(fc.record({ at: fc.nat(log.length - 1), bit: fc.nat(7) }), {
        minLength: 1,
        maxLength: 3,
      }),
      (flips) => {
        const damaged = log.slice();
        for (const f of flips) damaged[f.at] ^= 1 << f.bit;
        const changed = damaged.some((b, i) => b !== log[i]);
        if (!changed) return; // two flips of one bit undo each other
        checkNoSilentDifference(damaged, live, `flips ${JSON.stringify(flips)}`);
      },
    ),
    { numRuns: 400 },
  );
  // Every single bit of the header and of the end marker, exhaustively.
  const edges = [...Array(64).keys()].concat([...Array(17).keys()].map((i) => log.length - 17 + i));
  for (const at of edges) {
    for (let bit = 0; bit < 8; bit++) {
      const damaged = log.slice();
      damaged[at] ^= 1 << bit;
      checkNoSilentDifference(damaged, live, `flip of bit ${bit} at ${at}`);
    }
  }
}, { timeoutMs: 120_000 });

test(
  "overwriting a run of bytes of a recorded log never replays to a silent difference",
  async () => {
    const { live, log } = await recording();
    fc.assert(
      fc.property(
        fc.nat(log.length - 1),
        fc.uint8Array({ minLength: 1, maxLength: 16 }),
        (at, bytes) => {
          const damaged = log.slice();
          damaged.set(bytes.subarray(0, Math.min(bytes.length, log.length - at)), at);
          if (damaged.every((b, i) => b === log[i])) return;
          checkNoSilentDifference(damaged, live, `${bytes.length} bytes at ${at}`);
        },
      ),
      { numRuns: 300 },
    );
  },
  { timeoutMs: 120_000 },
);

test("cutting a recorded log at any offset never replays to a silent difference", async () => {
  const { live, log } = await recording();
  fc.assert(
    fc.property(fc.nat(log.length - 1), (at) => {
      checkNoSilentDifference(log.subarray(0, at), live, `cut at ${at} of ${log.length}`);
    }),
    { numRuns: 300 },
  );
  // Cuts at the frame boundaries a random offset rarely hits: after the header, at each
  // block's end, just before the end marker.
  for (let at = 0; at < log.length; at += 1 << 12) {
    checkNoSilentDifference(log.subarray(0, at), live, `cut at ${at}`);
  }
  checkNoSilentDifference(log.subarray(0, log.length - 17), live, "cut before the end marker");
}, { timeoutMs: 120_000 });

/** `[start, end)` of each block frame of a log (the layout is in src/replay/log.ts). */
function blockFrames(log: Uint8Array): [number, number][] {
  const view = new DataView(log.buffer, log.byteOffset, log.byteLength);
  let at = 12 + view.getUint32(8, true) + 4;
  const out: [number, number][] = [];
  while (log[at] === 0x42) {
    const end = at + 9 + view.getUint32(at + 1, true) + 4;
    out.push([at, end]);
    at = end;
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

test(
  "a log with blocks swapped, dropped, repeated or taken from another run never replays to a silent difference",
  async () => {
    const { live, log } = await recording();
    const frames = blockFrames(log);
    assert(frames.length >= 3, `${frames.length} blocks`);
    const head = log.subarray(0, frames[0][0]);
    const tail = log.subarray(frames.at(-1)![1]);
    const block = (i: number, from = log, fs = frames) => from.subarray(fs[i][0], fs[i][1]);
    const other: Trace = [];
    const otherLog = await recordLiveRun(other, 8_000);
    const otherFrames = blockFrames(otherLog);
    fc.assert(
      fc.property(
        fc.nat(frames.length - 1),
        fc.nat(frames.length - 1),
        fc.constantFrom("swap", "drop", "repeat", "foreign"),
        (i, j, how) => {
          const blocks = frames.map((_, k) => block(k));
          if (how === "swap") {
            if (i === j) return;
            [blocks[i], blocks[j]] = [blocks[j], blocks[i]];
          } else if (how === "drop") blocks.splice(i, 1);
          else if (how === "repeat") blocks.splice(i, 0, block(j));
          else blocks[i] = block(Math.min(j, otherFrames.length - 1), otherLog, otherFrames);
          checkNoSilentDifference(concat([head, ...blocks, tail]), live, `${how} ${i} ${j}`);
        },
      ),
      { numRuns: 100 },
    );
  },
  { timeoutMs: 60_000 },
);

test("a log with bytes appended never replays to a silent difference", async () => {
  const { live, log } = await recording();
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), (tail) => {
      const longer = new Uint8Array(log.length + tail.length);
      longer.set(log);
      longer.set(tail, log.length);
      checkNoSilentDifference(longer, live, `${tail.length} bytes appended`);
    }),
    { numRuns: 100 },
  );
  // A whole-log duplicate appended after the end marker is still refused.
  const twice = new Uint8Array(log.length * 2);
  twice.set(log);
  twice.set(log, log.length);
  checkNoSilentDifference(twice, live, "the log twice");
}, { timeoutMs: 60_000 });

test("every kind of damage is found before the first cycle, as REPLAY_LOG_INVALID", async () => {
  const { log } = await recording();
  const frames = blockFrames(log);
  const damage = fc.oneof(
    fc.record({ at: fc.nat(log.length - 1), bit: fc.nat(7) }).map(({ at, bit }) => {
      const d = log.slice();
      d[at] ^= 1 << bit;
      return d;
    }),
    fc.nat(log.length - 1).map((at) => log.subarray(0, at)),
    fc.tuple(fc.nat(frames.length - 1), fc.nat(frames.length - 1)).filter(([i, j]) => i !== j)
      .map(([i, j]) => {
        const blocks = frames.map(([a, b]) => log.subarray(a, b));
        [blocks[i], blocks[j]] = [blocks[j], blocks[i]];
        return concat([log.subarray(0, frames[0][0]), ...blocks, log.subarray(frames.at(-1)![1])]);
      }),
    fc.uint8Array({ minLength: 1, maxLength: 8 }).map((tail) => concat([log, tail])),
  );
  fc.assert(fc.property(damage, (d) => checkRefusedUpFront(d, `${d.length} bytes`)), {
    numRuns: 300,
  });
  const v1 = log.slice();
  v1[5] = 1;
  checkRefusedUpFront(v1, "a version-1 header");
}, { timeoutMs: 120_000 });
