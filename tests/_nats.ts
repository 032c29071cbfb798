/**
 * Helpers of the tests that run against a real `nats-server -js` (tests/nats_test.ts,
 * tests/partition_test.ts): the partitioned ORDERS stream and the RESULTS stream, a producer of
 * keyed orders, and a reader of a whole stream.
 *
 * @module
 */

import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type PubAck,
} from "@nats-io/jetstream";
import { ensureStream, type NatsServer, partitionMapping, startNatsServer } from "../nats.ts";

/** A server with the orders mapping (4 partitions), and a connection to it. */
export async function serverWithStreams(): Promise<{ server: NatsServer; nc: NatsConnection }> {
  const [from, to] = partitionMapping("orders", 4);
  const server = await startNatsServer({ mappings: { [from]: to } });
  const nc = await connect({
    servers: server.url,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
  await ensureStream({ connection: nc, stream: "ORDERS", subjects: ["orders.*.*"] });
  await ensureStream({
    connection: nc,
    stream: "RESULTS",
    subjects: ["results.>"],
    duplicateWindowMs: 600_000,
  });
  return { server, nc };
}

/**
 * Publishes `total` orders "key,k" to `orders.<key>` (key = i % keys, k = its number within
 * the key), at most `window` awaiting their acknowledgement; each with a message id, so a retry
 * after a failure stores it once.
 */
export async function produce(
  nc: NatsConnection,
  total: number,
  keys: number,
  window = 2000,
  from = 0,
): Promise<void> {
  const js = jetstream(nc, { timeout: 10_000 });
  let inFlight: Promise<PubAck>[] = [];
  for (let i = from; i < total; i++) {
    const key = i % keys, k = Math.floor(i / keys);
    const id = `order-${i}`;
    const publish = async (): Promise<PubAck> => {
      for (let attempt = 0;; attempt++) {
        try {
          return await js.publish(`orders.${key}`, `${key},${k}`, { msgID: id });
        } catch (e) {
          if (attempt > 50) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    inFlight.push(publish());
    if (inFlight.length >= window) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
}

/** Every message of a stream, in stream order, as text with its subject. */
export async function readStream(
  nc: NatsConnection,
  stream: string,
): Promise<{ subject: string; data: string; seq: number }[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  const total = info.state.messages;
  const name = `reader-${Math.random().toString(36).slice(2)}`;
  await jsm.consumers.add(stream, {
    name,
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.All,
    inactive_threshold: 60e9,
  });
  const c = await jetstream(nc).consumers.get(stream, name);
  const out: { subject: string; data: string; seq: number }[] = [];
  const dec = new TextDecoder();
  while (out.length < total) {
    const it = await c.fetch({ max_messages: Math.min(10_000, total - out.length), expires: 2000 });
    for await (const m of it) {
      out.push({ subject: m.subject, data: dec.decode(m.data), seq: m.seq });
    }
  }
  await jsm.consumers.delete(stream, name);
  return out;
}

/**
 * Checks the RESULTS stream against `total` orders over `keys` keys: per key, the results
 * "key,k,partition" come in order k = 0, 1, ... with none missing and none repeated. Returns
 * a list of problems (empty when all is well) and the partition of each key.
 */
export function checkResults(
  results: { subject: string; data: string }[],
  total: number,
  keys: number,
): { problems: string[]; partitionOfKey: Map<number, number> } {
  const next = new Array(keys).fill(0);
  const problems: string[] = [];
  const partitionOfKey = new Map<number, number>();
  for (const r of results) {
    const [key, k, p] = r.data.split(",").map(Number);
    if (r.subject !== `results.${key}`) problems.push(`subject ${r.subject} for key ${key}`);
    if (partitionOfKey.has(key) && partitionOfKey.get(key) !== p) {
      problems.push(`key ${key} came from partitions ${partitionOfKey.get(key)} and ${p}`);
    }
    partitionOfKey.set(key, p);
    if (k !== next[key]) problems.push(`key ${key}: result ${k} where ${next[key]} was due`);
    next[key] = Math.max(next[key], k + 1);
    if (problems.length > 20) break;
  }
  if (results.length !== total) problems.push(`${results.length} results for ${total} orders`);
  for (let key = 0; key < keys && problems.length < 30; key++) {
    const want = Math.floor(total / keys) + (key < total % keys ? 1 : 0);
    if (next[key] !== want) problems.push(`key ${key}: ${next[key]} results, ${want} due`);
  }
  return { problems, partitionOfKey };
}
