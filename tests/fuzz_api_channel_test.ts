/**
 * Public-API fuzz, channels and notifiers: defineRecord, channel options, senders, receivers,
 * transferables (forged fields included), Notifier, AtomicsWaker, sourceFrom and sinkTo. Each
 * call must succeed or throw a typed `WaveletError`, and the executor must keep working.
 *
 * @module
 */

import fc from "fast-check";
import { assert, assertEquals, test } from "./_harness.ts";
import {
  arg,
  badValue,
  expectTyped,
  expectTypedAsync,
  fuzzCall,
  Graph,
  opts,
  pick,
} from "./_fuzz.ts";
import { RUNS } from "../src/core/graph.ts";
import { AtomicsWaker, Notifier, type NotifierTransferable } from "../src/drivers/notify.ts";
import { Control } from "../src/core/control.ts";
import { defineRecord } from "../src/channel/record.ts";
import type { LocalSender } from "../src/channel/local.ts";
import { NodeBuilder } from "../src/core/builder.ts";
import { RingSender, ValueSender } from "../src/channel/channel.ts";
import type { SharedSenderTransferable } from "../src/channel/shared.ts";
import { sinkTo, sourceFrom } from "../src/channel/adapters.ts";
import { channel } from "../src/channel/build.ts";

const fieldType = fc.oneof(fc.constantFrom("f64", "i32", "u32"), badValue);

fuzzCall("defineRecord(fields)", [
  arg(fc.oneof(badValue, fc.dictionary(fc.string(), fieldType, { maxKeys: 4 }))),
], (_g, [fields]) => {
  const layout = defineRecord(pick(fields, () => ({ x: "f64" })));
  assert(layout.byteSize > 0, "a layout has a size");
});

const Px = defineRecord({ px: "f64", qty: "i32" });

/** A node with a channel of `kind` (drains everything it receives) and its sender. */
function channelNode(g: Graph, kind: "ring" | "value" | "local") {
  const got: unknown[] = [];
  const options = kind === "ring"
    ? { kind, record: Px, capacity: 4 } as const
    : kind === "value"
    ? { kind, capacity: 4, maxItemBytes: 64 } as const
    : { kind, capacity: 4 } as const;
  const out = { px: 0, qty: 0 };
  const [node, tx] = new NodeBuilder(0).buildWith(
    g.ex,
    channel(options),
    (_self, _ctx, rx: any) => {
      if (kind === "ring") { while (rx.tryRecv(out) === 1) got.push({ ...out }); }
      else for (let v = rx.tryRecv(); v !== undefined; v = rx.tryRecv()) got.push(v);
      return Control.Unchanged;
    },
  );
  return { node, tx: tx as any, got };
}

const KINDS = ["ring", "value", "local"] as const;

fuzzCall("senders' trySend(item) and close()", [
  fc.constantFrom(...KINDS),
  fc.array(arg(fc.oneof(badValue, fc.record({ px: badValue, qty: badValue }))), {
    maxLength: 4,
  }),
  fc.boolean(),
], (g, [kind, items, close]) => {
  const c = channelNode(g, kind as "ring");
  for (const item of items as unknown[]) {
    const v = pick(item, () => (kind === "ring" ? { px: 1.5, qty: 2 } : 7));
    expectTyped(`${kind as string} trySend`, () => c.tx.trySend(v));
  }
  if (close) {
    c.tx.close();
    expectTyped(`${kind as string} trySend after close`, () => c.tx.trySend(1));
  }
  const before = c.got.length;
  g.rt.runOneCycle();
  assert(c.got.length >= before, "received items are kept");
});

test("fuzz: ring receivers' tryRecv(out) with a bad out record is typed", () => {
  fc.assert(
    fc.property(badValue, (out) => {
      const g = new Graph();
      const failures: string[] = [];
      const [, tx] = new NodeBuilder(0).buildWith(
        g.ex,
        channel({ kind: "ring", record: Px, capacity: 4 }),
        (_self, _ctx, rx) => {
          try {
            rx.tryRecv(out as never);
          } catch (e) {
            try {
              expectTyped("RingReceiver.tryRecv", () => {
                throw e;
              });
            } catch (bad) {
              failures.push((bad as Error).message);
            }
          }
          return Control.Unchanged;
        },
      );
      tx.trySend({ px: 1, qty: 1 });
      g.rt.runOneCycle();
      assertEquals(failures, []);
      g.assertStillWorks("tryRecv(bad out)");
    }),
    { numRuns: RUNS },
  );
});

fuzzCall("LocalSender.sendAsync(item) on a full channel", [badValue], (g, [item]) => {
  const c = channelNode(g, "local");
  for (let i = 0; i < 4; i++) c.tx.trySend(i);
  const p = (c.tx as LocalSender<unknown>).sendAsync(item);
  g.rt.runOneCycle(); // drains: the pending send completes later
  void p.then(() => {}, () => {});
});

const TRANSFERABLE_KEYS = [
  "kind",
  "sab",
  "capacity",
  "cellBytes",
  "overflow",
  "blockTimeoutMs",
  "names",
  "offsets",
  "types",
  "notifier",
] as const;

fuzzCall("RingSender/ValueSender.fromTransferable(t) with forged fields", [
  fc.constantFrom("ring", "value"),
  fc.array(fc.tuple(fc.constantFrom(...TRANSFERABLE_KEYS), badValue), { maxLength: 3 }),
  arg(),
], (g, [kind, edits, whole]) => {
  const c = channelNode(g, kind as "ring");
  const t: Record<string, unknown> = { ...c.tx.toTransferable() };
  for (const [k, v] of edits as [string, unknown][]) t[k] = v;
  const from: (t: SharedSenderTransferable) => unknown = kind === "ring"
    ? RingSender.fromTransferable
    : ValueSender.fromTransferable;
  const tx = expectTyped(
    "fromTransferable",
    () => from(pick(whole, () => t) as SharedSenderTransferable),
  ) as any;
  if (tx !== undefined) {
    expectTyped(
      "a rebuilt sender's trySend",
      () => tx.trySend(kind === "ring" ? { px: 1, qty: 1 } : 1),
    );
  }
  // The original sender still delivers.
  const before = c.got.length;
  c.tx.trySend(kind === "ring" ? { px: 2, qty: 2 } : 2);
  g.rt.runOneCycle();
  assert(c.got.length > before, "the channel still delivers");
});

fuzzCall("Notifier.fromTransferable(t) with forged fields, then notify()", [
  fc.array(fc.tuple(fc.constantFrom("kind", "sab", "index", "gen", "wakeFd"), badValue), {
    maxLength: 3,
  }),
  arg(),
], (g, [edits, whole]) => {
  let runs = 0;
  const [, n] = new NodeBuilder(0).buildWithNotifier(g.ex, () => {
    runs++;
    return Control.Unchanged;
  });
  const t: Record<string, unknown> = { ...n.toTransferable() };
  for (const [k, v] of edits as [string, unknown][]) t[k] = v;
  const forged = expectTyped(
    "Notifier.fromTransferable",
    () => Notifier.fromTransferable(pick(whole, () => t) as NotifierTransferable),
  ) as Notifier | undefined;
  if (forged !== undefined) expectTyped("a forged notifier's notify", () => forged.notify());
  g.rt.runOneCycle();
  // The real notifier still works.
  const before = runs;
  n.notify();
  g.rt.runOneCycle();
  assertEquals(runs, before + 1, "the real notifier still runs its node");
});

test("fuzz: a forged notifier index that is not a non-negative integer is refused", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.constantFrom(NaN, -1, -4, 0.5, Infinity, -Infinity, 2 ** 31, 2 ** 53),
        fc.integer({ max: -1 }),
        fc.double({ noInteger: true }),
      ),
      (index) => {
        const g = new Graph();
        const [, n] = new NodeBuilder(0).buildWithNotifier(g.ex, () => Control.Unchanged);
        const t = { ...n.toTransferable(), index };
        let refused = false;
        try {
          Notifier.fromTransferable(t).notify();
        } catch (e) {
          expectTyped("a forged notifier", () => {
            throw e;
          });
          refused = true;
        }
        assert(refused, `a notifier with index ${index} was accepted`);
        g.assertStillWorks("a forged notifier index");
      },
    ),
    { numRuns: RUNS },
  );
});

fuzzCall("new Notifier(sab, index, gen, waker, wakeFd) and new AtomicsWaker(sab)", [
  badValue,
  badValue,
  badValue,
  badValue,
  badValue,
], (_g, [sab, index, gen, waker, fd]) => {
  const w = expectTyped("new AtomicsWaker", () => new AtomicsWaker(sab as SharedArrayBuffer)) as
    | AtomicsWaker
    | undefined;
  if (w !== undefined) expectTyped("AtomicsWaker.wake", () => w.wake());
  const n = expectTyped(
    "new Notifier",
    () =>
      new Notifier(
        sab as SharedArrayBuffer,
        index as number,
        gen as number,
        waker as never,
        fd as number,
      ),
  ) as Notifier | undefined;
  if (n !== undefined) expectTyped("Notifier.notify", () => n.notify());
});

// ---------------------------------------------------------------------------------------------
// Adapters

const sourceKeys = ["name", "capacity", "mode", "removeOnEnd"];

fuzzCall("sourceFrom(executor, source, options)", [
  arg(),
  arg(),
  opts(sourceKeys, {
    name: fc.string(),
    capacity: fc.integer({ min: 1, max: 8 }),
    mode: fc.constantFrom("one", "batch"),
    removeOnEnd: fc.boolean(),
  }),
], (g, [e, s, o]) => {
  sourceFrom(
    pick(e, () => g.ex),
    pick(s, () => ReadableStream.from([1, 2])),
    pick(o, () => ({})),
  );
});

fuzzCall("sinkTo(executor, parent, target, options)", [
  arg(),
  arg(),
  arg(),
  opts(["name", "capacity", "overflow", "map"], {
    name: fc.string(),
    capacity: fc.integer({ min: 1, max: 8 }),
    overflow: fc.constantFrom("dropOldest", "reject"),
    map: fc.constant((v: unknown) => v),
  }),
], (g, [e, p, t, o]) => {
  const parent = pick(p, () => g.node(1));
  sinkTo(pick(e, () => g.ex), parent, pick(t, () => () => {}), pick(o, () => ({})));
  if (parent?.isAlive === true && parent.executor === g.ex) g.ex.yieldNow(parent);
});

test("fuzz: sinkTo leaves a stream unlocked when it refuses the call", async () => {
  await fc.assert(
    fc.asyncProperty(arg(), badValue, async (e, o) => {
      const g = new Graph();
      const stream = new WritableStream();
      const node = await expectTypedAsync(
        "sinkTo",
        () => sinkTo(pick(e, () => g.ex), g.node(1), stream, o as never),
      );
      if (node === undefined) {
        assert(!stream.locked, "a refused sinkTo left its stream locked");
        stream.getWriter().releaseLock(); // still usable by someone else
      } else {
        assert(stream.locked, "a sink holds its stream");
      }
      g.assertStillWorks("sinkTo");
    }),
    { numRuns: RUNS },
  );
});
