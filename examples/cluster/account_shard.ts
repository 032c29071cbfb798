/**
 * The shard of the cluster example: a running total and count per account. Each order routed
 * here updates its account and emits the account's new total, with the order's stream sequence
 * (the id of the result) and the time the producer stamped on it (for end-to-end latency).
 *
 * @module
 */

import { NodeBuilder } from "../../mod.ts";
import { defineRecord } from "../../channel.ts";
import { defineShard } from "../../shard.ts";

/** An order as the partition process routes it to a shard. */
export const Order = defineRecord({
  account: "u32",
  qty: "f64",
  seq: "f64",
  sentAt: "f64",
  partition: "u32",
});

/** An account's total after an order. */
export const Total = defineRecord({
  account: "u32",
  total: "f64",
  count: "u32",
  seq: "f64",
  sentAt: "f64",
  partition: "u32",
});

export default defineShard(import.meta.url, {
  input: Order,
  output: Total,
  key: "account",
  build(ctx) {
    const totals = new Map<number, { total: number; count: number }>();
    new NodeBuilder(0)
      .named("totals")
      .triggeredBy(ctx.input)
      .build(ctx.executor, (self) => {
        for (const o of ctx.input.value.items) {
          let t = totals.get(o.account);
          if (t === undefined) totals.set(o.account, t = { total: 0, count: 0 });
          t.total += o.qty;
          t.count++;
          self.value++;
          ctx.emit({
            account: o.account,
            total: t.total,
            count: t.count,
            seq: o.seq,
            sentAt: o.sentAt,
            partition: o.partition,
          });
        }
        return false;
      });
  },
});
