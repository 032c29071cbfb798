/**
 * One partition-owning process of the cluster example: it owns some partitions of the ORDERS
 * stream (one durable consumer each), routes every order by account to a sharded graph (one
 * graph per Worker), and publishes each account's new total to `totals.<account>` with the
 * order's stream sequence as message id. SIGTERM stops it gracefully: no more orders are
 * fetched, the shards finish what they hold (every shard's onDrop runs), the sink stores the
 * last totals; it then prints how many orders each of its partitions and shards took.
 *
 *     deno run -A examples/cluster/partition_process.ts NATS_URL PARTITIONS [SHARDS]
 *
 * @module
 */

import { connect } from "@nats-io/transport-node";
import process from "node:process";
import { Control, ExecutionMode, ms, NodeBuilder, RealtimeRuntime } from "../../mod.ts";
import { SendStatus } from "../../channel.ts";
import { type JetStreamOutput, jetStreamSink, partitionedSource } from "../../nats.ts";
import { ShardedRuntime } from "../../shard.ts";
import accounts from "./account_shard.ts";

const [url, ownedArg, shardsArg = "2"] = process.argv.slice(2);
const owned = ownedArg.split(",").map(Number);
const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
rt.executor.onError = (e) => console.error(`[${owned}] ${(e as Error).message}`);

const shards = await ShardedRuntime.start(rt.executor, accounts, { shards: Number(shardsArg) });
const parts = partitionedSource(rt.executor, {
  connection: nc,
  stream: "ORDERS",
  subject: "orders",
  partitions: 4,
  owned,
  durablePrefix: "totals",
  decode: (d) => new TextDecoder().decode(d),
});

// The router: every new order goes to its account's shard; what a full shard refuses waits
// here, in order, and is sent again a moment later.
const order = { account: 0, qty: 0, seq: 0, sentAt: 0, partition: 0 };
const held: (typeof order)[] = [];
new NodeBuilder(0)
  .named("router")
  .triggeredBy(...parts.nodes)
  .build(rt.executor, (self, ctx) => {
    for (const [p, src] of parts.sources) {
      if (!ctx.hasMutated(src.node)) continue;
      for (const m of src.node.value.messages) {
        const [account, qty, sentAt] = m.value.split(",").map(Number);
        held.push({ account, qty, seq: m.seq, sentAt, partition: p });
      }
    }
    let k = 0;
    while (k < held.length && shards.send(held[k]) === SendStatus.Sent) k++;
    held.splice(0, k);
    self.value += k;
    if (held.length > 0) ctx.registerTimerAfter(self, ms(1));
    return Control.Unchanged;
  });

// Totals come back from the shards into one node and go out to JetStream.
const out = shards.output!;
const totals = new NodeBuilder<JetStreamOutput[]>([])
  .named("totals")
  .triggeredBy(out)
  .build(rt.executor, (self) => {
    self.value = out.value.items.map((t) => ({
      subject: `totals.${t.account}`,
      data: `${t.account},${t.total},${t.count},${t.partition},${t.sentAt}`,
      id: `ORDERS:${t.seq}`,
    }));
    return self.value.length > 0 ? Control.Broadcast : Control.Unchanged;
  });
const sink = jetStreamSink(rt.executor, totals, { connection: nc, outputs: (v) => v });
parts.commitAfter(sink);

await Promise.all([...parts.sources.values()].map((s) => s.claimed));
console.log(`partitions ${owned} claimed, ${shards.count} shards ready`);

// SIGTERM: stop taking orders, let the shards finish what they hold (their totals still flow
// out), wait until the sink stored everything, then stop the graph.
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await parts.stop();
  await shards.shutdown();
  while (!out.value.ended) await new Promise((r) => setTimeout(r, 5));
  await sink.flush();
  rt.shutdown();
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
await rt.run();
await nc.drain();
const st = parts.state().map((s) => `partition ${s.partition}: ${s.delivered} orders`).join(", ");
const sh = shards.state().map((s) => `shard ${s.index}: ${s.consumed}`).join(", ");
console.log(`[process owning ${owned}] ${st}; ${sh}`);
