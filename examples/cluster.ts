/**
 * The cluster example: a local `nats-server -js`, a producer, and two partition-owning processes
 * each running a sharded graph.
 *
 *     npm run example:cluster          (Deno, then Bun)
 *     deno run -A examples/cluster.ts [--orders N] [--rate N] [--shards N]
 *     bun run examples/cluster.ts [...]
 *
 * The server maps `orders.<account>` to `orders.<partition>.<account>` (4 partitions, NATS's
 * `partition()` function) into the ORDERS stream. Process A owns partitions 0 and 1, process B
 * partitions 2 and 3, each through one durable consumer per partition; each routes its orders
 * by account to shards (one graph per Worker) that keep a running total per account, and
 * publishes every new total to `totals.<account>` (TOTALS stream) with the order's stream
 * sequence as message id. This process produces the orders (each stamped with its send time),
 * reads the totals as they are stored, and prints per-partition counts and the end-to-end
 * latency (producer publish to total stored and received), then stops everything gracefully.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { connect } from "@nats-io/transport-node";
import { jetstream, type PubAck } from "@nats-io/jetstream";
import { ensureStream, natsServerAvailable, partitionMapping, startNatsServer } from "../nats.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const ORDERS = arg("orders", 100_000), RATE = arg("rate", 20_000), SHARDS = arg("shards", 2);
const ACCOUNTS = 1000;

if (!natsServerAvailable()) {
  console.error(
    "This example needs nats-server (with JetStream) on the PATH.\n" +
      "  Debian or Ubuntu: sudo apt-get install nats-server\n" +
      "  elsewhere: install the nats-server release for your platform, then run this again",
  );
  process.exit(1);
}

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const runtime = isBun ? "bun" : "deno";
const [from, to] = partitionMapping("orders", 4);
const server = await startNatsServer({ mappings: { [from]: to } });
console.log(`nats-server on ${server.url} (store ${server.storeDir}), runtime ${runtime}`);
const nc = await connect({ servers: server.url });
await ensureStream({ connection: nc, stream: "ORDERS", subjects: ["orders.*.*"] });
await ensureStream({ connection: nc, stream: "TOTALS", subjects: ["totals.>"] });

// The totals, as they are stored: count per partition, latency from the order's send time.
const perPartition = [0, 0, 0, 0];
const latencies = new Float64Array(ORDERS);
let received = 0;
let allReceived!: () => void;
const done = new Promise<void>((r) => allReceived = r);
const sub = nc.subscribe("totals.>");
(async () => {
  const dec = new TextDecoder();
  for await (const m of sub) {
    const f = dec.decode(m.data).split(",");
    if (received < ORDERS) latencies[received] = Date.now() - Number(f[4]);
    received++;
    perPartition[Number(f[3])]++;
    if (received === ORDERS) allReceived();
  }
})();

const script = new URL("./cluster/partition_process.ts", import.meta.url).pathname;
const argv = (owned: string) =>
  isBun
    ? [process.execPath, "run", script, server.url, owned, String(SHARDS)]
    : [process.execPath, "run", "-A", script, server.url, owned, String(SHARDS)];
const children: ChildProcess[] = [];
const claimed: Promise<void>[] = [];
const exited: Promise<void>[] = [];
for (const [name, owned] of [["A", "0,1"], ["B", "2,3"]]) {
  const [cmd, ...rest] = argv(owned);
  const child = spawn(cmd, rest, { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  let out = "";
  claimed.push(
    new Promise((resolve) =>
      child.stdout!.on("data", (d: Uint8Array) => {
        const text = new TextDecoder().decode(d);
        out += text;
        for (const line of text.split("\n")) if (line !== "") console.log(`  ${name}: ${line}`);
        if (/claimed/.test(out)) resolve();
      })
    ),
  );
  exited.push(new Promise((resolve) => child.once("exit", () => resolve())));
}
await Promise.all(claimed);

// The producer: ORDERS orders at RATE per second, each stamped with its send time.
const js = jetstream(nc);
const t0 = performance.now();
let pending: Promise<PubAck>[] = [];
for (let i = 0; i < ORDERS; i++) {
  const account = i % ACCOUNTS;
  pending.push(js.publish(`orders.${account}`, `${account},${1 + (i % 5)},${Date.now()}`, {
    msgID: `order-${i}`,
  }));
  if (pending.length === 500) {
    await Promise.all(pending);
    pending = [];
    const ahead = (i + 1) / RATE * 1000 - (performance.now() - t0);
    if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
  }
}
await Promise.all(pending);
const sentMs = performance.now() - t0;
console.log(`produced ${ORDERS} orders in ${(sentMs / 1000).toFixed(1)} s`);
let timer: ReturnType<typeof setTimeout> | undefined;
await Promise.race([done, new Promise((r) => timer = setTimeout(r, 60_000))]);
clearTimeout(timer);
const tookMs = performance.now() - t0;

for (const c of children) c.kill("SIGTERM");
await Promise.all(exited);
sub.unsubscribe();
await nc.close();
await server.stop();

const lat = latencies.slice(0, Math.min(received, ORDERS)).sort();
const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
console.log(
  `totals received: ${received} of ${ORDERS} in ${(tookMs / 1000).toFixed(1)} s ` +
    `(${Math.round(received / (tookMs / 1000))}/s)`,
);
console.log(`per partition: ${perPartition.map((n, p) => `${p}: ${n}`).join(", ")}`);
console.log(
  `end-to-end latency (ms): p50 ${q(0.5)}, p90 ${q(0.9)}, p99 ${q(0.99)}, max ${lat.at(-1)}`,
);
if (received !== ORDERS) process.exitCode = 1;
