// The metrics endpoint over real sockets: served by nodes of the graph under run() (with
// fetch and raw TCP clients on the host event loop) and under runForever() in a child process;
// promtool accepts /metrics; the inspector's files, JSON and event stream; HTTP edge cases;
// limits; close(); and typed errors for bad options with nothing left bound.
import { connect, type Socket } from "node:net";
import fc from "fast-check";
import { Control, ExecutionMode } from "../src/core/control.ts";
import { runtimePort } from "../src/core/executor.ts";
import { NodeBuilder } from "../src/core/builder.ts";
import { ms } from "../src/core/time.ts";
import { RealtimeRuntime } from "../src/runtime/realtime.ts";
import { TcpListener } from "../src/net/socket.ts";
import { Metrics } from "../src/metrics/metrics.ts";
import { type MetricsServer, serveMetrics } from "../src/metrics/server.ts";
import { assert, assertEquals, test } from "./_harness.ts";
import { arg, expectTyped, pick } from "./_fuzz.ts";
import { runtimeArgs } from "./_child.ts";
import { start } from "./_spawn.ts";
import { promtoolCheck } from "./_promtool.ts";

/** A running graph (timer-driven source, a child, an observer) with the endpoint. */
function graph(options: Parameters<typeof serveMetrics>[1] = {}) {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const src = new NodeBuilder(0).named("src").onInit((ex, s) => ex.yieldNow(s))
    .build(rt.executor, (self, ctx) => {
      self.value++;
      ctx.registerTimerAfter(self, ms(1));
      return Control.Broadcast;
    });
  const mid = new NodeBuilder(0).named("mid").triggeredBy(src).build(rt.executor, () => true);
  new NodeBuilder(0).named("sink").triggeredBy(mid).observerOf(src)
    .build(rt.executor, () => false);
  const server = serveMetrics(rt, options);
  const running = rt.run();
  return { rt, server, running };
}

async function stop(g: { rt: RealtimeRuntime; running: Promise<unknown> }): Promise<void> {
  g.rt.shutdown();
  await g.running;
}

async function get(server: MetricsServer, path: string): Promise<Response> {
  return await fetch(new URL(path, server.url));
}

function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

/** Sends `request` on a fresh TCP connection and reads until the server closes it. */
function raw(port: number, request: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(port, "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(text)}`));
    }, timeoutMs);
    sock.on("data", (d: Uint8Array) => (text += new TextDecoder().decode(d)));
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(text);
    });
    sock.write(request);
  });
}

test("/metrics under run(): promtool accepts it, and counters advance between scrapes", async () => {
  const g = graph();
  try {
    const r1 = await get(g.server, "/metrics");
    assertEquals(r1.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const t1 = await r1.text();
    await new Promise((r) => setTimeout(r, 50));
    const t2 = await (await get(g.server, "/metrics")).text();
    const check = await promtoolCheck(t2);
    assertEquals(check.code, 0, check.out);
    for (const name of ["src", "mid", "sink"]) {
      const series = `wavelet_node_runs_total{node="${name}"}`;
      assert(
        sample(t2, series) > sample(t1, series),
        `${series}: ${sample(t1, series)} -> ${sample(t2, series)}`,
      );
    }
    assert(sample(t2, "wavelet_cycles_total") > sample(t1, "wavelet_cycles_total"));
    assert(sample(t2, "wavelet_timer_lateness_seconds_count") > 0, "the 1 ms timer fired");
    assert(
      sample(t2, 'wavelet_io_accepted_connections_total{node="wavelet-http"}') >= 1,
      "the endpoint's own connections are counted",
    );
    assert(sample(t2, 'wavelet_io_written_bytes_total{node="wavelet-http-connection"}') > 0);
  } finally {
    await stop(g);
  }
});

test("the inspector's files and JSON: every node with its edges, a node's details, 404s, HEAD", async () => {
  const g = graph();
  try {
    const page = await get(g.server, "/");
    assertEquals(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert((await page.text()).includes('<script src="/inspector.js">'));
    const js = await get(g.server, "/inspector.js");
    assertEquals(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert((await js.text()).includes("EventSource"));
    assert((await (await get(g.server, "/inspector.css")).text()).includes(".node"));
    const graphJson = await (await get(g.server, "/api/graph")).json();
    const byName = Object.fromEntries(
      graphJson.nodes.map((n: { name: string }) => [n.name, n]),
    );
    assertEquals(Object.keys(byName).sort(), ["mid", "sink", "src"], "the endpoint is hidden");
    assertEquals(byName.sink.parents, [[byName.mid.id, 0], [byName.src.id, 1]]);
    assertEquals(byName.sink.depth, 2);
    const detail = await (await get(g.server, `/api/node?id=${byName.mid.id}`)).json();
    assertEquals(detail.name, "mid");
    assertEquals(detail.parents, [{ id: byName.src.id, name: "src", kind: "trigger" }]);
    assertEquals(detail.children, [{ id: byName.sink.id, name: "sink", kind: "trigger" }]);
    assert(detail.runs > 0);
    await new Promise((r) => setTimeout(r, 50));
    const again = await (await get(g.server, `/api/node?id=${byName.mid.id}`)).json();
    assert(again.trace.length > 0, "the node is traced once asked for");
    assertEquals(again.trace[0].reasons, [`trigger src#${byName.src.id}`]);
    const stats = await (await get(g.server, "/api/stats")).json();
    assertEquals(stats.version, graphJson.version);
    assertEquals(stats.runs.length, 3);
    const missing = await get(g.server, "/api/node?id=999");
    assertEquals(missing.status, 404);
    await missing.body?.cancel();
    const hiddenNode = await get(g.server, "/api/node?id=3"); // the listener: hidden
    assertEquals(hiddenNode.status, 404);
    await hiddenNode.body?.cancel();
    const nope = await get(g.server, "/nope");
    assertEquals(nope.status, 404);
    await nope.body?.cancel();
    const head = await fetch(new URL("/metrics", g.server.url), { method: "HEAD" });
    assertEquals(head.status, 200);
    assert(Number(head.headers.get("content-length")) > 1000, "HEAD gives the length");
    assertEquals(await head.text(), "");
  } finally {
    await stop(g);
  }
});

test("bad requests get 400, 405 or 505 and a close; keep-alive serves pipelined requests", async () => {
  const g = graph();
  try {
    const port = g.server.port;
    const cases: [string, number][] = [
      ["POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405],
      ["GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 400],
      ["GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
      ["nonsense\r\n\r\n", 400],
      ["GET / HTTP/2.0\r\n\r\n", 505],
      ["GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400],
      ["GET /api/node?id=%zz HTTP/1.1\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\n" + "X-A: b\r\n".repeat(70) + "\r\n", 431],
    ];
    for (const [request, status] of cases) {
      const text = await raw(port, request);
      assert(
        text.startsWith(`HTTP/1.1 ${status} `),
        `${JSON.stringify(request)}: ${text.slice(0, 40)}`,
      );
    }
    const long = await raw(port, "GET /" + "a".repeat(9000) + " HTTP/1.1\r\n\r\n");
    assert(long.startsWith("HTTP/1.1 414 "), long.slice(0, 40));
    const longHeader = await raw(port, "GET / HTTP/1.1\r\nX: " + "b".repeat(9000) + "\r\n\r\n");
    assert(longHeader.startsWith("HTTP/1.1 431 "), longHeader.slice(0, 40));
    // A line beyond 64 KiB fails the connection at once: no response (a reset or a close).
    const huge = await raw(port, "GET /" + "a".repeat(70_000)).catch((e) => String(e));
    assert(huge === "" || /ECONNRESET|EPIPE/.test(huge), huge.slice(0, 60));
    // Three pipelined requests, the last one closing: three responses in order, then a close.
    const text = await raw(
      port,
      "GET /api/graph HTTP/1.1\r\n\r\nHEAD /metrics HTTP/1.1\r\n\r\n" +
        "GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    // Bodies do not end with a line feed: a status line may follow a body on the same line.
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    assertEquals(statuses, [200, 200, 404]);
    assert(text.indexOf('"nodes"') < text.indexOf("text/plain; version=0.0.4"), "in order");
    // HTTP/1.0 closes after the response unless asked to keep the connection.
    assert((await raw(port, "GET /api/stats HTTP/1.0\r\n\r\n")).startsWith("HTTP/1.1 200"));
  } finally {
    await stop(g);
  }
});

test("the event stream pushes a stats update every pushEveryMs, with cycles advancing", async () => {
  const g = graph({ pushEveryMs: 50 });
  try {
    const ctl = new AbortController();
    const r = await fetch(new URL("/events", g.server.url), { signal: ctl.signal });
    assertEquals(r.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = r.body!.getReader();
    let text = "";
    const t0 = Date.now();
    while ((text.match(/^event: stats$/gm) ?? []).length < 4) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const elapsed = Date.now() - t0;
    ctl.abort();
    await reader.cancel().catch(() => {});
    const events = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]));
    assert(events.length >= 4, `${events.length} events`);
    assert(events[3].cycles > events[0].cycles, "cycles advance between updates");
    assert(elapsed >= 100, `four updates 50 ms apart took ${elapsed} ms`);
    assertEquals(events[0].runs.map((x: number[]) => x.length), [3, 3, 3]);
  } finally {
    await stop(g);
  }
});

test("limits: a connection over maxConnections gets 503; an idle connection is closed", async () => {
  const g = graph({ maxConnections: 1, idleTimeoutMs: 300 });
  try {
    const port = g.server.port;
    const first: Socket = connect(port, "127.0.0.1");
    let firstClosedAt = 0;
    const closed = new Promise<void>((r) =>
      first.on("close", () => {
        firstClosedAt = Date.now();
        r();
      })
    );
    await new Promise<void>((r) => first.on("connect", () => r()));
    const opened = Date.now();
    await new Promise((r) => setTimeout(r, 50)); // accepted by now
    const second = await raw(port, "GET /metrics HTTP/1.1\r\n\r\n");
    assert(second.startsWith("HTTP/1.1 503 "), second.slice(0, 40));
    await closed; // the idle one, after about 300 ms
    const idle = firstClosedAt - opened;
    assert(idle >= 250 && idle < 5000, `closed after ${idle} ms`);
    first.destroy();
    // Once it closed, the next connection is served.
    assert(
      (await raw(port, "GET /api/stats HTTP/1.1\r\nConnection: close\r\n\r\n")).startsWith(
        "HTTP/1.1 200",
      ),
    );
  } finally {
    await stop(g);
  }
});

test("close() stops the listener and open connections; metrics it made stop; the graph runs on", async () => {
  const g = graph();
  try {
    const port = g.server.port;
    const stream = await fetch(new URL("/events", g.server.url));
    const reader = stream.body!.getReader();
    await reader.read();
    const before = g.rt.executor.nodeCount;
    g.server.close();
    g.server.close(); // idempotent
    assert(g.server.isClosed && g.server.metrics.isStopped);
    for (;;) {
      const { done } = await reader.read(); // the stream's connection was closed
      if (done) break;
    }
    await new Promise((r) => setTimeout(r, 20));
    assertEquals(g.rt.executor.nodeCount, 3, `the three graph nodes remain (of ${before})`);
    const refused = await raw(port, "GET / HTTP/1.1\r\n\r\n").then(() => "", (e) => String(e));
    assert(/ECONNREFUSED|refused/i.test(refused), `connecting after close: ${refused}`);
  } finally {
    await stop(g);
  }
});

test("a registry passed in keeps running after close(); shutdown closes the endpoint", () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const metrics = new Metrics(rt.executor);
  const server = serveMetrics(rt, { metrics });
  server.close();
  assert(!metrics.isStopped, "not the server's to stop");
  const again = serveMetrics(rt, { metrics });
  rt.shutdown();
  assert(again.isClosed, "the listener left with the graph");
  metrics.stop();
});

test("fuzz: serveMetrics refuses bad options with a typed error and binds nothing", () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const other = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const foreign = new Metrics(other.executor);
  const holder = TcpListener.bind(rt, "127.0.0.1", 0);
  const port = holder.localAddress.port;
  holder.close();
  try {
    fc.assert(
      fc.property(
        arg(fc.constant(null)),
        fc.record({
          host: fc.constantFrom("127.0.0.1", "nonsense", 5, ""),
          port: fc.constantFrom(port, -1, 70000, 1.5, "80"),
          pushEveryMs: fc.constantFrom(1000, 0, 10, 1e9, NaN),
          maxConnections: fc.constantFrom(8, 0, 5000),
          idleTimeoutMs: fc.constantFrom(1000, 5, 1e12),
          metrics: fc.constantFrom(foreign, {}, undefined),
          dataAge: fc.constantFrom(true, false, undefined, 1, "yes", null, { clock: null }),
        }, { requiredKeys: [] }),
        (runtime, options) => {
          const server = expectTyped(
            "serveMetrics",
            () => serveMetrics(pick(runtime, () => rt), options as never),
          ) as MetricsServer | undefined;
          if (server !== undefined) server.close();
          // Whatever happened, no registry is left asking for ingest stamps.
          assert(!runtimePort(rt.executor).ingest.on, "data age is off again");
          // Whatever happened, the port is free again.
          TcpListener.bind(rt, "127.0.0.1", port).close();
        },
      ),
      { numRuns: 150 },
    );
  } finally {
    foreign.stop();
    other.shutdown();
    rt.shutdown();
  }
});

test("under runForever() in a child process: scraped twice, promtool passes, SIGTERM ends it", async () => {
  const child = start(
    runtimeArgs(new URL("./fixtures/metrics_child.ts", import.meta.url).pathname),
  );
  try {
    const [, url] = await child.waitFor(/^url (\S+)$/m);
    const t1 = await (await fetch(new URL("/metrics", url))).text();
    await new Promise((r) => setTimeout(r, 100));
    const t2 = await (await fetch(new URL("/metrics", url))).text();
    const runs = (t: string) => sample(t, 'wavelet_node_runs_total{node="beat"}');
    assert(runs(t2) > runs(t1), `beat ran ${runs(t1)} then ${runs(t2)} times`);
    assertEquals((await promtoolCheck(t2)).code, 0);
  } finally {
    child.kill("SIGTERM");
  }
  const code = await child.exited;
  assert(child.output().includes("stopped"), `graceful stop:\n${child.output()}`);
  assertEquals(code, 0, child.output());
});
