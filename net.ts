/**
 * Networking on the runtime's own epoll set: non-blocking TCP and UDP sockets, and nodes that
 * own a connection or a listener (`tcpConnectionNode`, `tcpListenerNode`), with framing,
 * bounded output and typed errors. Needs the native backend.
 *
 * @example An echo server's listener node
 * ```ts
 * import { RealtimeRuntime } from "@wavelet/wavelet";
 * import { TcpListener, tcpListenerNode } from "@wavelet/wavelet/net";
 *
 * const rt = new RealtimeRuntime();
 * try {
 *   const listener = TcpListener.bind(rt, "127.0.0.1", 0);
 *   const server = tcpListenerNode(rt.executor, listener, (_ex, stream) => stream.close());
 *   if (!server.isAlive || listener.localAddress.port === 0) throw new Error("listening");
 * } finally {
 *   rt.shutdown();
 * }
 * ```
 *
 * @module
 */

export { NetError } from "./src/net/errors.ts";
export { type NetRuntime, SocketAddress } from "./src/net/address.ts";
export {
  Socket,
  TcpListener,
  type TcpListenerOptions,
  TcpStream,
  type TcpStreamOptions,
  UdpSocket,
  type UdpSocketOptions,
  WOULD_BLOCK,
} from "./src/net/socket.ts";
export {
  Framing,
  TcpConnection,
  tcpConnectionNode,
  type TcpConnectionOptions,
} from "./src/net/nodes.ts";
export {
  tcpListenerNode,
  type TcpListenerNodeOptions,
  type TcpListenerState,
} from "./src/net/listener_node.ts";
export { SocketOption } from "./ffi/backend.ts";
