/**
 * The listener node: accepts connections and spawns a subgraph per connection (re-exported by
 * `nodes.ts` beside the connection node).
 *
 * @module
 */

import { Control } from "../core/control.ts";
import type { Executor } from "../core/executor.ts";
import type { Node } from "../core/node.ts";
import { NodeBuilder } from "../core/builder.ts";
import { type IoHandle, Readiness } from "../drivers/io.ts";
import { checkExecutor } from "../core/check_node.ts";
import {
  checkBoolean,
  checkFunction,
  checkInstance,
  checkInteger,
  checkOptions,
  checkString,
} from "../core/validate.ts";
import { NetError } from "./errors.ts";
import { ErrorCode } from "../core/errors.ts";
import { TcpListener, type TcpStream } from "./socket.ts";

/** The most connections a listener node accepts in one cycle. */
const MAX_ACCEPTS = 65_536;

/** @internal Throws `SOCKET_CLOSED` for a node built on a closed socket. */
export function checkOpen(socket: { readonly isClosed: boolean }, what: string): void {
  if (socket.isClosed) {
    throw new NetError(`Cannot build a node on a closed ${what}`, {
      code: ErrorCode.SocketClosed,
      op: "build a node on",
      errno: 0,
    });
  }
}

/**
 * Options of {@linkcode tcpListenerNode}.
 *
 * @example A named listener that closes its socket when removed
 * ```ts
 * import { RealtimeRuntime } from "@wavelet/wavelet";
 * import { TcpListener, tcpListenerNode } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * const listener = TcpListener.bind(rt, "127.0.0.1", 0);
 * const server = tcpListenerNode(rt.executor, listener, (_ex, stream) => stream.close(), {
 *   name: "server",
 *   maxAcceptsPerCycle: 16,
 *   closeOnDrop: true,
 * });
 * if (server.name !== "server") throw new Error("named");
 * server.remove();
 * if (!listener.isClosed) throw new Error("closeOnDrop closed the listener");
 * rt.shutdown();
 * ```
 */
export interface TcpListenerNodeOptions {
  /** The node's name (default `"tcp-listener"`). */
  name?: string;
  /**
   * Most connections accepted per cycle (an integer in [1, 65536], default 64), so one burst
   * cannot stall a cycle.
   */
  maxAcceptsPerCycle?: number;
  /** Close the listener when the node leaves the graph (default true). */
  closeOnDrop?: boolean;
}

/**
 * The value of a listener node.
 *
 * @example Counting accepted connections
 * ```ts
 * import { ms, RealtimeRuntime } from "@wavelet/wavelet";
 * import {
 *   TcpListener,
 *   tcpListenerNode,
 *   type TcpListenerState,
 *   TcpStream,
 * } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * const server = tcpListenerNode(
 *   rt.executor,
 *   TcpListener.bind(rt, "127.0.0.1", 0),
 *   (_ex, stream) => stream.close(),
 * );
 * const state: TcpListenerState = server.value;
 * const client = TcpStream.connect(rt, "127.0.0.1", state.listener.localAddress.port);
 * for (let i = 0; i < 200 && state.accepted < 1; i++) rt.runOneCycle(ms(10));
 * client.close();
 * rt.shutdown();
 * if (state.accepted !== 1) throw new Error("one connection accepted");
 * ```
 */
export interface TcpListenerState {
  /** The listener. */
  readonly listener: TcpListener;
  /** Connections accepted so far. */
  accepted: number;
}

/**
 * Builds a node that accepts connections on `listener` and, for each, spawns a subgraph with
 * `onConnection(executor, stream)` (after the sweep phase of the cycle, so it may build nodes).
 * `onConnection` takes ownership of the stream: hand it to {@linkcode tcpConnectionNode} (or
 * close it); if it throws, the stream is closed and the error reported to `executor.onError`.
 * Build it between cycles.
 *
 * @param ex The executor (`rt.executor`).
 * @param listener A listening socket; the node closes it when it leaves the graph.
 * @param onConnection Builds the connection's subgraph.
 * @param options Name and limits.
 * @returns The node; its value counts accepted connections.
 * @throws {WaveletError} `UNSUPPORTED` without a native runtime.
 * @throws {InvalidArgumentError} If an argument or option has the wrong type or range
 *   (`maxAcceptsPerCycle` is an integer in [1, 65536]).
 * @throws {NetError} `SOCKET_CLOSED` if the listener is closed.
 *
 * @example
 * ```ts ignore
 * import { NodeBuilder, RealtimeRuntime } from "@wavelet/wavelet";
 * import { Framing, tcpConnectionNode, TcpListener, tcpListenerNode } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * const listener = TcpListener.bind(rt, "127.0.0.1", 7000);
 * tcpListenerNode(rt.executor, listener, (ex, stream) => {
 *   const conn = tcpConnectionNode(ex, stream, { framing: Framing.Lines });
 *   // A child of the connection reads this cycle's frames and answers each line.
 *   new NodeBuilder(0).triggeredBy(conn).build(ex, () => {
 *     const c = conn.value;
 *     for (let i = 0; i < c.frameCount; i++) c.writeFrame(c.frame(i)); // echo each line
 *     return false;
 *   });
 * });
 * rt.runForever();
 * ```
 */
export function tcpListenerNode(
  ex: Executor,
  listener: TcpListener,
  onConnection: (ex: Executor, stream: TcpStream) => void,
  options?: TcpListenerNodeOptions,
): Node<TcpListenerState> {
  if (options === undefined) options = {};
  checkExecutor(ex, "tcpListenerNode's executor");
  checkInstance(listener, TcpListener, "tcpListenerNode's listener");
  checkOpen(listener, "listener");
  checkFunction(onConnection, "tcpListenerNode's onConnection");
  const o = checkOptions(options, "tcpListenerNode's options", [
    "name",
    "maxAcceptsPerCycle",
    "closeOnDrop",
  ]);
  const name = o.name === undefined
    ? "tcp-listener"
    : checkString(o.name, "tcpListenerNode's name option");
  const max = o.maxAcceptsPerCycle === undefined ? 64 : checkInteger(
    o.maxAcceptsPerCycle,
    "tcpListenerNode's maxAcceptsPerCycle option",
    1,
    MAX_ACCEPTS,
  );
  const closeOnDrop = o.closeOnDrop === undefined
    ? true
    : checkBoolean(o.closeOnDrop, "tcpListenerNode's closeOnDrop option");
  const state: TcpListenerState = { listener, accepted: 0 };
  // While accept fails (out of fds: EMFILE/ENFILE), the listener stops watching readiness and
  // retries on a timer, instead of spinning on a level-triggered readable fd.
  let io: IoHandle | null = null;
  return new NodeBuilder(state)
    .named(name)
    .onInit((e, self) => {
      io = e.registerIo(listener.fd, self, Readiness.Readable);
      if (closeOnDrop) e.own(self, () => listener.close());
    })
    .build(ex, (self, ctx) => {
      if (io === null) io = ctx.registerIo(listener.fd, self, Readiness.Readable); // backoff over
      let n = 0;
      for (; n < max; n++) {
        let stream: TcpStream | null;
        try {
          stream = listener.accept();
        } catch (err) {
          // Out of fds and the like: keep serving the open connections, back off 50 ms.
          if (err instanceof NetError && (err.code as string) !== ErrorCode.SocketClosed) {
            ctx.deregisterIo(io);
            io = null;
            ctx.registerTimerAfter(self, 50e6);
            break;
          }
          throw err;
        }
        if (stream === null) break;
        self.value.accepted++;
        const s = stream;
        ctx.spawnSubgraph((sub) => {
          try {
            onConnection(sub, s);
          } catch (err) {
            s.close();
            throw err;
          }
        });
      }
      return n > 0 ? Control.Broadcast : Control.Unchanged;
    });
}
