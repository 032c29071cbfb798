// The cluster example (examples/cluster.ts) as a child process under the current runtime, with
// fewer orders: a local nats-server, two partition processes with two shards each, every
// order's total received, per-partition counts that add up, and a graceful stop.
import { spawn } from "node:child_process";
import { runtimeArgs } from "./_child.ts";
import { assert, assertEquals, test } from "./_harness.ts";

const example = new URL("../examples/cluster.ts", import.meta.url).pathname;

test(
  "the cluster example routes every order through partitions and shards to its total",
  async () => {
    const [cmd, ...args] = runtimeArgs(example, ["--orders", "20000", "--rate", "10000"]);
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d: Uint8Array) => out += new TextDecoder().decode(d));
    child.stderr!.on("data", (d: Uint8Array) => out += new TextDecoder().decode(d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    clearTimeout(timer);
    assertEquals(code, 0, out);
    assert(/totals received: 20000 of 20000/.test(out), out);
    const per = /per partition: 0: (\d+), 1: (\d+), 2: (\d+), 3: (\d+)/.exec(out);
    assert(per !== null, out);
    const counts = per.slice(1).map(Number);
    assertEquals(counts.reduce((a, b) => a + b, 0), 20000);
    assert(counts.every((n) => n > 2000), `every partition took orders: ${counts}`);
    // Each process printed its partitions' and shards' counts after its graceful stop.
    assertEquals((out.match(/\[process owning/g) ?? []).length, 2, out);
    assert(/end-to-end latency \(ms\): p50 \d+/.test(out), out);
  },
  { timeoutMs: 150_000 },
);
