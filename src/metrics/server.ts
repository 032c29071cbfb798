/**
 * The metrics endpoint: a small HTTP server that runs as nodes of the graph it measures, on the
 * runtime's own sockets and epoll set (a `tcpListenerNode`, and per connection a
 * `tcpConnectionNode` cutting lines plus a handler node), so it answers whenever the graph
 * cycles: under `runForever()` as well as under `run()`. `/metrics` is the Prometheus text,
 * `/` the live inspector, `/api/*` its JSON and `/events` its stream of updates.
 *
 * @module
 */

import { Control } from "../core/control.ts";
import { Executor } from "../core/executor.ts";
import type { Node } from "../core/node.ts";
import { NodeBuilder } from "../core/builder.ts";
import type { ExecutionContext } from "../core/context.ts";
import {
  checkInstance,
  checkInteger,
  checkOptions,
  checkString,
  describe,
  invalid,
} from "../core/validate.ts";
import type { NetRuntime } from "../net/address.ts";
import { Framing, type TcpConnection, tcpConnectionNode } from "../net/nodes.ts";
import { tcpListenerNode } from "../net/listener_node.ts";
import { TcpListener, type TcpStream } from "../net/socket.ts";
import { trace, type TraceEntry, type Tracer } from "../observe/trace.ts";
import { graphJson, hidden, nodeJson, statsJson } from "./api.ts";
import {
  event,
  eventStreamHead,
  HttpRefusal,
  type HttpRequest,
  RequestReader,
  response,
} from "./http.ts";
import { INSPECTOR_ASSETS } from "./inspector_assets.ts";
import { Metrics } from "./metrics.ts";
import { CONTENT_TYPE } from "./text.ts";

/**
 * A runtime the endpoint can serve on: a `RealtimeRuntime` (its executor, and the backend
 * that opens sockets).
 *
 * @example The realtime runtime is one
 * ```ts
 * import { RealtimeRuntime } from "@wavelet/wavelet";
 * import type { MetricsRuntime } from "@wavelet/wavelet/metrics";
 *
 * const rt: MetricsRuntime = new RealtimeRuntime();
 * if (rt.executor.nodeCount !== 0) throw new Error("an empty graph");
 * ```
 */
export interface MetricsRuntime extends NetRuntime {
  /** The executor whose graph is measured and that runs the endpoint's nodes. */
  readonly executor: Executor;
}

/**
 * Options of {@linkcode serveMetrics}.
 *
 * @example An endpoint on a fixed port with faster inspector updates
 * ```ts
 * import { RealtimeRuntime } from "@wavelet/wavelet";
 * import { type MetricsServerOptions, serveMetrics } from "@wavelet/wavelet/metrics";
 *
 * const rt = new RealtimeRuntime();
 * const options: MetricsServerOptions = { host: "127.0.0.1", port: 0, pushEveryMs: 250 };
 * const server = serveMetrics(rt, options);
 * if (!server.url.startsWith("http://127.0.0.1:")) throw new Error(server.url);
 * rt.shutdown();
 * ```
 */
export interface MetricsServerOptions {
  /** A numeric address to listen on (default `"127.0.0.1"`; `"0.0.0.0"` for every interface). */
  host?: string;
  /** The port (default 0: a free one, read it back from `server.port`). */
  port?: number;
  /** The registry to serve (default: a new `Metrics` of the runtime's executor). */
  metrics?: Metrics;
  /**
   * Measure data age (per-hop latency, `wavelet_node_data_age_seconds`) in the registry this
   * endpoint makes: default true. Not allowed with `metrics` (set `dataAge` on that registry).
   */
  dataAge?: boolean;
  /** How often the inspector's event stream sends an update, in ms: [20, 3 600 000], 1000. */
  pushEveryMs?: number;
  /** Most connections at once: [1, 4096], default 64 (more are answered 503 and closed). */
  maxConnections?: number;
  /** A keep-alive connection idle this long (ms) is closed: [100, 86 400 000], default 30 000. */
  idleTimeoutMs?: number;
}

/** A node's trace while an inspector shows the node. */
interface Watch {
  tracer: Tracer;
  entries: TraceEntry[];
  lastAskMs: number;
}

/** The longest request line or header line served. */
const MAX_LINE = 8192;
/** Traces no inspector asked for this long stop. */
const WATCH_IDLE_MS = 10_000;
/** Trace entries kept per watched node. */
const WATCH_ENTRIES = 32;
/** An event-stream client with this much output still queued skips updates. */
const SLOW_CLIENT_BYTES = 1 << 20;

/**
 * A running metrics endpoint, from {@linkcode serveMetrics}.
 *
 * @example Closing the endpoint and keeping the graph
 * ```ts
 * import { RealtimeRuntime } from "@wavelet/wavelet";
 * import { serveMetrics } from "@wavelet/wavelet/metrics";
 *
 * const rt = new RealtimeRuntime();
 * const server = serveMetrics(rt);
 * server.close(); // the listener and its connections leave the graph; the metrics stop
 * if (!server.isClosed || !server.metrics.isStopped) throw new Error("closed");
 * rt.shutdown();
 * ```
 */
export class MetricsServer {
  /** The registry served. */
  readonly metrics: Metrics;
  /** The address listened on. */
  readonly host: string;
  /** The port listened on. */
  readonly port: number;
  /** The inspector's URL (`/metrics` below it is the Prometheus text). */
  readonly url: string;
  readonly #listener: Node<unknown>;
  readonly #release: () => void;
  #closed = false;

  /**
   * @internal Use {@linkcode serveMetrics}.
   *
   * @param release Closes the connections, stops the traces (and the metrics it made).
   */
  constructor(
    metrics: Metrics,
    host: string,
    port: number,
    listener: Node<unknown>,
    release: () => void,
  ) {
    this.metrics = metrics;
    this.host = host;
    this.port = port;
    this.url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/`;
    this.#listener = listener;
    this.#release = release;
  }

  /** True once closed (by `close()`, or because the listener left the graph: a shutdown). */
  get isClosed(): boolean {
    return this.#closed || !this.#listener.isAlive;
  }

  /**
   * Stops serving: the listener and every open connection leave the graph (their sockets
   * close), traces stop, and metrics the server created stop. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.remove();
    this.#release();
  }
}

/**
 * Serves metrics and the inspector over HTTP from inside the graph: a listener node on
 * `host:port` (on the runtime's sockets), whose connections are nodes too. Nothing is served
 * unless this is called. Build it between cycles, like any node; the endpoint's nodes are
 * named `wavelet-http*`, appear in `/metrics` like any other, and are left out of the
 * inspector's picture.
 *
 * Paths: `/metrics` (Prometheus text format 0.0.4), `/` (the inspector page, with
 * `/inspector.js` and `/inspector.css`), `/api/graph`, `/api/stats`, `/api/node?id=N` (JSON)
 * and `/events` (Server-Sent Events: a `stats` event every `pushEveryMs`). While an inspector
 * shows a node, that node alone is traced (`trace()` with `nodes`), for 10 s after the last
 * request.
 *
 * A graph with the endpoint has I/O registrations, so a recording of it cannot be replayed.
 *
 * @param rt The runtime (a `RealtimeRuntime` with the native backend).
 * @param options Address, registry and limits.
 * @returns The server (`server.url`, `server.close()`).
 * @throws {InvalidArgumentError} If `rt` has no executor, an option has the wrong type or
 *   range, or `metrics` measures another executor or is stopped.
 * @throws {NetError} If the address does not parse or is in use.
 * @throws {UnsupportedError} On the pure-JS backend (no sockets).
 *
 * @example Serving a graph's metrics and reading them back
 * ```ts
 * import { ms, NodeBuilder, RealtimeRuntime } from "@wavelet/wavelet";
 * import { serveMetrics } from "@wavelet/wavelet/metrics";
 * import { TcpStream } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * new NodeBuilder(0).named("beat").onInit((ex, s) => ex.yieldNow(s))
 *   .build(rt.executor, (self, ctx) => {
 *     ctx.registerTimerAfter(self, ms(1));
 *     return true;
 *   });
 * const server = serveMetrics(rt);
 * // A raw client on the same runtime, so this example needs no host event loop.
 * const client = TcpStream.connect(rt, "127.0.0.1", server.port);
 * const request = new TextEncoder().encode("GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n");
 * let sent = false, text = "";
 * const buf = new Uint8Array(65536), dec = new TextDecoder();
 * for (let i = 0; i < 500; i++) {
 *   rt.runOneCycle(ms(5));
 *   if (client.isConnecting && !client.finishConnect()) continue;
 *   if (!sent) sent = client.tryWrite(request) === request.length;
 *   const n = client.tryRead(buf);
 *   if (n === 0) break; // the server closed after the response
 *   if (n > 0) text += dec.decode(buf.subarray(0, n));
 * }
 * client.close();
 * rt.shutdown();
 * if (!text.includes('wavelet_node_runs_total{node="beat"}')) throw new Error(text);
 * ```
 */
export function serveMetrics(
  rt: MetricsRuntime,
  options?: MetricsServerOptions,
): MetricsServer {
  if (options === undefined) options = {};
  let ex: unknown;
  try {
    ex = rt !== null && typeof rt === "object" ? rt.executor : undefined;
  } catch (cause) {
    throw invalid("serveMetrics's runtime could not be read", cause);
  }
  checkInstance(ex, Executor, "serveMetrics's runtime's executor");
  const executor = ex as Executor;
  const o = checkOptions(options, "serveMetrics's options", [
    "host",
    "port",
    "metrics",
    "pushEveryMs",
    "maxConnections",
    "idleTimeoutMs",
    "dataAge",
  ]);
  if (o.dataAge !== undefined && typeof o.dataAge !== "boolean") {
    throw invalid(`The dataAge option must be a boolean, got ${describe(o.dataAge)}`);
  }
  const host = o.host === undefined ? "127.0.0.1" : checkString(o.host, "The host option");
  const port = o.port === undefined ? 0 : checkInteger(o.port, "The port option", 0, 65535);
  const pushNs = 1e6 *
    (o.pushEveryMs === undefined
      ? 1000
      : checkInteger(o.pushEveryMs, "The pushEveryMs option", 20, 3_600_000));
  const maxConnections = o.maxConnections === undefined
    ? 64
    : checkInteger(o.maxConnections, "The maxConnections option", 1, 4096);
  const idleNs = 1e6 *
    (o.idleTimeoutMs === undefined
      ? 30_000
      : checkInteger(o.idleTimeoutMs, "The idleTimeoutMs option", 100, 86_400_000));
  if (o.metrics !== undefined) {
    checkInstance(o.metrics, Metrics, "The metrics option");
    if (o.metrics.executor !== executor) {
      throw invalid("The metrics option measures another executor than the runtime's");
    }
    if (o.metrics.isStopped) throw invalid("The metrics option is stopped");
    if (o.dataAge !== undefined) {
      throw invalid("The dataAge option only applies to the registry serveMetrics makes");
    }
  }
  const listener = TcpListener.bind(rt, host, port);
  const ownMetrics = o.metrics === undefined;
  let metrics: Metrics | null = null;
  try {
    // The runtime's native clock: on Deno a third of the cost of performance.now() per read.
    metrics = o.metrics ?? new Metrics(executor, { clock: rt.backend, dataAge: o.dataAge ?? true });
    const m = metrics;
    const connections = new Set<Node<TcpConnection>>();
    const watches = new Map<number, Watch>();
    const ctx: Serving = { m, pushNs, idleNs, watches };
    const listenerNode = tcpListenerNode(
      executor,
      listener,
      (sub, stream) => {
        let conn: Node<TcpConnection> | null = null;
        conn = connect(sub, stream, ctx, connections.size >= maxConnections, () => {
          if (conn !== null) connections.delete(conn);
        });
        if (conn.isAlive) connections.add(conn);
      },
      { name: "wavelet-http" },
    );
    hidden.add(listenerNode);
    return new MetricsServer(m, host, listener.localAddress.port, listenerNode, () => {
      for (const c of connections) c.remove();
      connections.clear();
      for (const w of watches.values()) w.tracer.stop();
      watches.clear();
      if (ownMetrics) m.stop();
    });
  } catch (err) {
    listener.close();
    if (ownMetrics && metrics !== null) metrics.stop();
    throw err;
  }
}

/** What every connection of one server shares. */
interface Serving {
  m: Metrics;
  pushNs: number;
  idleNs: number;
  watches: Map<number, Watch>;
}

/** A connection's handler state. */
interface Handler {
  reader: RequestReader;
  /** True once the connection is an event stream. */
  sse: boolean;
  /** True once the last response went out: what the peer still sends is read and dropped. */
  closing: boolean;
  /** Cycle time of the last request (ns). */
  lastActive: number;
  /** When the handler's timer is due (ns): the next update, or the idle check; -1 at first. */
  due: number;
}

const dec = new TextDecoder();

/**
 * Builds a connection's nodes, the connection (lines) and its handler, and returns the
 * connection; `onClosed` runs when it closes. Over the limit, it answers 503 and closes.
 */
function connect(
  ex: Executor,
  stream: TcpStream,
  s: Serving,
  refuse: boolean,
  onClosed: () => void,
): Node<TcpConnection> {
  const conn = tcpConnectionNode(ex, stream, {
    name: "wavelet-http-connection",
    framing: Framing.Lines,
    readBufferBytes: 8192,
    // Lines up to MAX_LINE get a 414 or 431; longer ones fail the connection at once.
    maxFrameBytes: 8 * MAX_LINE,
    maxPendingBytes: 16 << 20,
    onClose: onClosed,
  });
  hidden.add(conn);
  const c = conn.value;
  if (refuse) {
    c.write(response(503, "text/plain; charset=utf-8", "Too many connections\n", false));
    c.end(); // the node leaves once the answer is written (at once, when it all went out)
    return conn;
  }
  const st: Handler = {
    reader: new RequestReader(),
    sse: false,
    closing: false,
    lastActive: 0,
    due: -1,
  };
  const handler = new NodeBuilder(st)
    .named("wavelet-http-handler")
    .triggeredBy(conn)
    .onInit((e, self) => e.yieldNow(self)) // its first run arms the idle timer
    .build(ex, (self, cx) => {
      try {
        return handle(self, cx, c, st, s);
      } catch (err) {
        c.close(); // a handler that failed leaves no connection behind
        throw err;
      }
    });
  hidden.add(handler);
  return conn;
}

/** A handler's run: requests that arrived, then the update or idle timer when due. */
function handle(
  self: Node<Handler>,
  cx: ExecutionContext,
  c: TcpConnection,
  st: Handler,
  s: Serving,
): Control {
  const now = cx.time.monotonicNs;
  if (st.due < 0) {
    st.lastActive = now;
    st.due = now + s.idleNs;
    cx.registerTimer(self, st.due);
  }
  for (let i = 0; i < c.frameCount && !st.sse && !st.closing && !c.isClosed; i++) {
    const r = c.frameLength(i) > MAX_LINE
      ? st.reader.tooLong()
      : st.reader.feed(dec.decode(c.frame(i)));
    if (r === null) continue;
    st.lastActive = now;
    if (r instanceof HttpRefusal) {
      c.write(response(r.status, "text/plain; charset=utf-8", `${r.reason}\n`, false));
      lingerClose(c, st);
      break;
    }
    serve(r, c, st, s, now, self, cx);
  }
  if (now >= st.due && !c.isClosed) {
    if (st.sse) {
      if (c.pendingBytes < SLOW_CLIENT_BYTES) c.write(event("stats", statsJson(s.m)));
      expireWatches(s.watches);
      st.due = now + s.pushNs;
    } else if (now - st.lastActive >= s.idleNs) {
      c.close();
      return Control.Unchanged;
    } else st.due = st.lastActive + s.idleNs;
    cx.registerTimer(self, st.due);
  }
  return Control.Unchanged;
}

/**
 * After the last response (a refusal, or `Connection: close`): half-closes once it is written, then reads and drops whatever the
 * peer still sends until it closes (or the idle timeout): closing with unread bytes would send
 * a reset, which can destroy the response before the peer reads it.
 */
function lingerClose(c: TcpConnection, st: Handler): void {
  st.closing = true;
  if (c.pendingBytes > 0) {
    c.end(); // rare (a small answer goes out at once): written, then closed
    return;
  }
  try {
    c.stream.shutdown("write");
  } catch {
    c.close();
  }
}

/** Answers one request. */
function serve(
  r: HttpRequest,
  c: TcpConnection,
  st: Handler,
  s: Serving,
  now: number,
  self: Node<Handler>,
  cx: ExecutionContext,
): void {
  const head = r.method === "HEAD";
  const ok = (type: string, body: string) => c.write(response(200, type, body, r.keepAlive, head));
  const json = "application/json; charset=utf-8";
  const asset = INSPECTOR_ASSETS.get(r.path === "/" ? "/index.html" : r.path);
  if (r.path === "/metrics") ok(CONTENT_TYPE, s.m.text());
  else if (asset !== undefined) ok(asset.type, asset.body);
  else if (r.path === "/api/graph") ok(json, graphJson(s.m));
  else if (r.path === "/api/stats") ok(json, statsJson(s.m));
  else if (r.path === "/api/node") {
    const body = nodeDetail(s, r.query.get("id"));
    if (body === null) {
      c.write(response(404, json, '{"error":"no such node"}', r.keepAlive, head));
    } else ok(json, body);
  } else if (r.path === "/events" && !head) {
    c.write(eventStreamHead());
    c.write(event("stats", statsJson(s.m)));
    st.sse = true;
    st.due = now + s.pushNs;
    cx.registerTimer(self, st.due);
    return;
  } else {
    c.write(response(404, "text/plain; charset=utf-8", "Not found\n", r.keepAlive, head));
  }
  if (!r.keepAlive) lingerClose(c, st);
}

/** The JSON of a visible live node (and its trace, which starts on the first request). */
function nodeDetail(s: Serving, idText: string | undefined): string | null {
  const id = Number(idText);
  if (idText === undefined || !Number.isInteger(id)) return null;
  const node = s.m.executor.liveNodes().find((n) => n.id === id);
  if (node === undefined || hidden.has(node)) return null;
  let w = s.watches.get(id);
  if (w === undefined) {
    w = { tracer: trace(s.m.executor, { nodes: [node], limit: 64 }), entries: [], lastAskMs: 0 };
    s.watches.set(id, w);
  }
  w.lastAskMs = Date.now();
  w.entries.push(...w.tracer.take());
  if (w.entries.length > WATCH_ENTRIES) w.entries.splice(0, w.entries.length - WATCH_ENTRIES);
  expireWatches(s.watches);
  return nodeJson(s.m, node, w.entries);
}

/** Stops the traces nobody asked for lately, and those of nodes that left the graph. */
function expireWatches(watches: Map<number, Watch>): void {
  const now = Date.now();
  for (const [id, w] of watches) {
    if (now - w.lastAskMs > WATCH_IDLE_MS) {
      w.tracer.stop();
      watches.delete(id);
    }
  }
}
