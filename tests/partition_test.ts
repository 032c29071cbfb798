// Partitions across processes against a real nats-server -js: two processes own two of four
// partitions each, turn 200 000 keyed orders into results, and the results stream holds every
// key's results in order, none lost, none repeated; the same after one process is killed with
// SIGKILL mid-stream and started again (it resumes from its acknowledged position, and the
// results' message ids make what it publishes again a no-op).
import { type ChildProcess, spawn } from "node:child_process";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { partitionOf } from "../nats.ts";
import { checkResults, produce, readStream, serverWithStreams } from "./_nats.ts";
import { runtimeArgs } from "./_child.ts";
import { assert, assertEquals, test } from "./_harness.ts";

const WORKER = new URL("./fixtures/partition_worker.ts", import.meta.url).pathname;
const TOTAL = 200_000, KEYS = 1000;

/** A partition-owning child process, its output lines, and waits on them. */
class Worker_ {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  out = "";
  delivered = 0;
  #waiters: { re: RegExp; resolve: () => void }[] = [];

  constructor(url: string, owned: string) {
    const [cmd, ...args] = runtimeArgs(WORKER, [url, owned]);
    this.child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    const onData = (chunk: Buffer) => {
      this.out += chunk.toString();
      const m = this.out.match(/delivered (\d+)\n(?![\s\S]*delivered)/);
      if (m !== null) this.delivered = Number(m[1]);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.re.test(this.out)) return true;
        w.resolve();
        return false;
      });
    };
    this.child.stdout!.on("data", onData);
    this.child.stderr!.on("data", onData);
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  waitFor(re: RegExp, ms: number): Promise<void> {
    if (re.test(this.out)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms:\n${this.out}`)), ms);
      this.#waiters.push({
        re,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }
}

/** Waits until the RESULTS stream holds `n` messages (or fails after `ms`). */
async function waitForResults(nc: NatsConnection, n: number, ms: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const until = Date.now() + ms;
  for (;;) {
    const have = (await jsm.streams.info("RESULTS")).state.messages;
    if (have >= n) return;
    if (Date.now() > until) throw new Error(`RESULTS holds ${have} of ${n} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopWorker(w: Worker_): Promise<void> {
  w.child.kill("SIGTERM");
  const code = await w.exited;
  assert(/stopped/.test(w.out), `a graceful stop: exit ${code}\n${w.out.slice(-2000)}`);
}

function verify(results: { subject: string; data: string }[]): void {
  const { problems, partitionOfKey } = checkResults(results, TOTAL, KEYS);
  assertEquals(problems, []);
  // The server's partition() mapping and partitionOf agree on every key.
  for (const [key, p] of partitionOfKey) {
    if (p !== partitionOf(key, 4)) throw new Error(`key ${key}: partition ${p}`);
  }
}

test(
  "2 processes x 4 partitions: 200 000 keyed orders give every key's results in order, none lost or repeated",
  async () => {
    const { server, nc } = await serverWithStreams();
    const workers: Worker_[] = [];
    try {
      workers.push(new Worker_(server.url, "0,1"), new Worker_(server.url, "2,3"));
      for (const w of workers) await w.waitFor(/claimed/, 30_000);
      await produce(nc, TOTAL, KEYS);
      await waitForResults(nc, TOTAL, 240_000);
      for (const w of workers) await stopWorker(w);
      verify(await readStream(nc, "RESULTS"));
    } finally {
      for (const w of workers) w.child.kill("SIGKILL");
      await nc.close();
      await server.stop();
    }
  },
  { timeoutMs: 400_000 },
);

test(
  "a partition process killed with SIGKILL mid-stream and started again loses and repeats nothing",
  async () => {
    const { server, nc } = await serverWithStreams();
    const workers: Worker_[] = [];
    try {
      workers.push(new Worker_(server.url, "0,1"), new Worker_(server.url, "2,3"));
      for (const w of workers) await w.waitFor(/claimed/, 30_000);
      const producing = produce(nc, TOTAL, KEYS);
      const victim = workers[0];
      await victim.waitFor(/delivered [3-9]\d{4}\n|delivered \d{6}\n/, 240_000);
      victim.child.kill("SIGKILL");
      assertEquals(await victim.exited, null, "killed by the signal");
      const deliveredBefore = victim.delivered;
      const again = new Worker_(server.url, "0,1");
      workers.push(again);
      await again.waitFor(/claimed/, 30_000);
      await producing;
      await waitForResults(nc, TOTAL, 240_000);
      await stopWorker(workers[1]);
      await stopWorker(again);
      verify(await readStream(nc, "RESULTS"));
      // It resumed where the acknowledgements stopped, not from the start of its partitions:
      // it acknowledged its share less what was acknowledged before the kill (at most two
      // partitions' maxAckPending, 2 x 4096, were delivered and not acknowledged then).
      const summary = JSON.parse(/stopped (.*)/.exec(again.out)![1]);
      let share = 0;
      for (let key = 0; key < KEYS; key++) if (partitionOf(key, 4) < 2) share += TOTAL / KEYS;
      console.log(
        `killed after ${deliveredBefore} of ${share} deliveries; the restarted process: ${
          JSON.stringify(summary)
        }`,
      );
      assert(deliveredBefore >= 30_000, `killed after ${deliveredBefore} deliveries`);
      assert(
        summary.acked <= share - deliveredBefore + 2 * 4096,
        `the restarted process acknowledged ${summary.acked} of ${share}`,
      );
      assertEquals(summary.published, summary.acked);
    } finally {
      for (const w of workers) w.child.kill("SIGKILL");
      await nc.close();
      await server.stop();
    }
  },
  { timeoutMs: 400_000 },
);
