/**
 * A line-protocol pub/sub server. Clients send `SUB <topic>`, `UNSUB <topic>` and
 * `PUB <topic> <message>`; every subscriber of the topic receives `<topic> <message>`. A feed
 * node publishes `ticks <n>` on the topic `ticks` every 100 ms. Slow subscribers get their
 * output queued (drained on writable readiness); a subscriber that disconnects is removed.
 *
 *     deno run -A examples/pubsub_server.ts [port]     (or: bun run examples/pubsub_server.ts)
 *     deno run -A examples/pubsub_server.ts --demo     (in-process clients, then exits)
 *
 * @module
 */

import { Control, ExecutionMode, ms, type Node, NodeBuilder, RealtimeRuntime } from "../mod.ts";
import {
  Framing,
  type TcpConnection,
  tcpConnectionNode,
  TcpListener,
  tcpListenerNode,
  TcpStream,
} from "../net.ts";
import process from "node:process";

const demo = process.argv.includes("--demo");
const portArg = process.argv.slice(2).find((a) => /^\d+$/.test(a));
const enc = new TextEncoder();
const dec = new TextDecoder();

/** topic -> subscribed connections. */
const topics = new Map<string, Set<TcpConnection>>();

function publish(topic: string, message: string): number {
  const subs = topics.get(topic);
  if (subs === undefined) return 0;
  const line = enc.encode(`${topic} ${message}\n`);
  for (const c of subs) c.write(line);
  return subs.size;
}

const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
rt.enableGracefulShutdown();
const listener = TcpListener.bind(rt, "::", demo ? 0 : Number(portArg ?? 7008));

tcpListenerNode(rt.executor, listener, (ex, stream) => {
  const mine = new Set<string>();
  const conn = tcpConnectionNode(ex, stream, {
    framing: Framing.Lines,
    maxFrameBytes: 64 * 1024,
    onClose: (c) => {
      for (const t of mine) topics.get(t)?.delete(c);
    },
  });
  new NodeBuilder(0).triggeredBy(conn).build(ex, () => {
    const c = conn.value;
    for (let i = 0; i < c.frameCount; i++) {
      const line = dec.decode(c.frame(i));
      const [cmd, topic = "", ...rest] = line.split(" ");
      if (cmd === "SUB" && topic !== "") {
        mine.add(topic);
        let subs = topics.get(topic);
        if (subs === undefined) topics.set(topic, subs = new Set());
        subs.add(c);
        c.write(enc.encode(`OK SUB ${topic}\n`));
      } else if (cmd === "UNSUB" && topic !== "") {
        mine.delete(topic);
        topics.get(topic)?.delete(c);
        c.write(enc.encode(`OK UNSUB ${topic}\n`));
      } else if (cmd === "PUB" && topic !== "") {
        const n = publish(topic, rest.join(" "));
        c.write(enc.encode(`OK PUB ${n}\n`));
      } else if (line !== "") {
        c.write(enc.encode(`ERR unknown command\n`));
      }
    }
    return Control.Unchanged;
  });
});

// The feed: publishes a tick every 100 ms.
new NodeBuilder(0)
  .named("feed")
  .onInit((ex, self) => {
    ex.registerTimerAfter(self, ms(100));
  })
  .build(rt.executor, (self, ctx) => {
    self.value++;
    publish("ticks", String(self.value));
    ctx.registerTimerAfter(self, ms(100));
    return Control.Broadcast;
  });

const port = listener.localAddress.port;
console.log(`pub/sub server listening on [::]:${port} (SUB t / UNSUB t / PUB t msg)`);

if (demo) {
  // A subscriber to "news" and "ticks", and a publisher; ends after two ticks and the news.
  const lines: string[] = [];
  const demoClient = (name: string, commands: string[]): Node<TcpConnection> => {
    const conn = tcpConnectionNode(rt.executor, TcpStream.connect(rt, "::1", port), {
      framing: Framing.Lines,
    });
    for (const cmd of commands) conn.value.writeFrame(enc.encode(cmd));
    new NodeBuilder(0).triggeredBy(conn).build(rt.executor, () => {
      const c = conn.value;
      for (let i = 0; i < c.frameCount; i++) lines.push(`${name} <- ${dec.decode(c.frame(i))}`);
      return Control.Unchanged;
    });
    return conn;
  };
  const sub = demoClient("subscriber", ["SUB news", "SUB ticks"]);
  let pubSent = false;
  new NodeBuilder(0)
    .onInit((ex, self) => ex.yieldNow(self))
    .build(rt.executor, (self, ctx) => {
      const ticks = lines.filter((l) => l.includes("<- ticks")).length;
      if (!pubSent && lines.length >= 2) {
        pubSent = true;
        ctx.spawnSubgraph(() => {
          demoClient("publisher", ["PUB news hello subscribers"]);
        });
      }
      if (ticks >= 2 && lines.some((l) => l.includes("news hello"))) {
        for (const l of lines) console.log(l);
        sub.value.end();
        return Control.Terminate;
      }
      ctx.registerTimerAfter(self, ms(10));
      return Control.Unchanged;
    });
}
rt.runForever();
console.log("pub/sub server stopped");
