/**
 * A TCP echo server on the runtime's own epoll loop: a listener node accepts connections and
 * spawns one connection node (plus an echo child) per client; a client that closes or fails is
 * removed with its fd, the others go on.
 *
 *     deno run -A examples/echo_server.ts [port]       (or: bun run examples/echo_server.ts)
 *     deno run -A examples/echo_server.ts --demo       (serves three in-process clients, exits)
 *
 * @module
 */

import { Control, ExecutionMode, NodeBuilder, RealtimeRuntime } from "../mod.ts";
import { tcpConnectionNode, TcpListener, tcpListenerNode, TcpStream } from "../net.ts";
import process from "node:process";

const demo = process.argv.includes("--demo");
const portArg = process.argv.slice(2).find((a) => /^\d+$/.test(a));
const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
rt.enableGracefulShutdown();

const listener = TcpListener.bind(rt, "::", demo ? 0 : Number(portArg ?? 7007));
tcpListenerNode(rt.executor, listener, (ex, stream) => {
  const conn = tcpConnectionNode(ex, stream, { name: `conn ${stream.peerAddress}` });
  new NodeBuilder(0).triggeredBy(conn).build(ex, () => {
    const c = conn.value;
    for (let i = 0; i < c.frameCount; i++) c.write(c.buffer, c.frameStart(i), c.frameLength(i));
    return Control.Unchanged;
  });
});
const port = listener.localAddress.port;
console.log(`echo server listening on [::]:${port}`);

if (demo) {
  // Three clients on the same loop; the run ends when all got their echo back.
  let pending = 3;
  for (const host of ["127.0.0.1", "::1", "127.0.0.1"]) {
    const text = `hello from a client on ${host}`;
    const conn = tcpConnectionNode(rt.executor, TcpStream.connect(rt, host, port));
    conn.value.write(new TextEncoder().encode(text));
    let got = "";
    new NodeBuilder(0).triggeredBy(conn).build(rt.executor, () => {
      const c = conn.value;
      for (let i = 0; i < c.frameCount; i++) got += new TextDecoder().decode(c.frame(i));
      if (got !== text) return Control.Unchanged;
      console.log(`echoed: ${got}`);
      c.end();
      return --pending === 0 ? Control.Terminate : Control.Unchanged;
    });
  }
}
rt.runForever();
console.log("echo server stopped");
