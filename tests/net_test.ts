/**
 * The network layer on real loopback sockets (127.0.0.1 and ::1), on both runtimes: accept,
 * echo, partial writes, resets, refused connections, half-close, many connections, UDP, bad
 * addresses, closed and zero-length buffers, and no fd leaks. Every wait is bounded.
 *
 * @module
 */

import {
  Control,
  ExecutionMode,
  InvalidArgumentError,
  NodeBuilder,
  Readiness,
  RealtimeRuntime,
} from "../mod.ts";
import {
  Framing,
  NetError,
  SocketAddress,
  SocketOption,
  type TcpConnection,
  tcpConnectionNode,
  TcpListener,
  tcpListenerNode,
  TcpStream,
  UdpSocket,
  WOULD_BLOCK,
} from "../net.ts";
import { loadBackend, UnsupportedError } from "../native.ts";
import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import { readdirSync } from "node:fs";
import * as net from "node:net";

const hosts = ["127.0.0.1", "::1"];

/** Runs cycles (each waits at most 1 ms) until `done()` or the time limit. */
function pump(rt: RealtimeRuntime, done: () => boolean, limitMs = 10_000): void {
  const end = performance.now() + limitMs;
  while (!done()) {
    if (performance.now() > end) throw new Error(`timed out after ${limitMs} ms`);
    rt.runOneCycle(1e6);
  }
}

function fdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

/** An echo server: every frame read is written back. */
function echoServer(
  rt: RealtimeRuntime,
  host: string,
  onStream?: (s: TcpStream) => void,
  framing: Framing = Framing.Raw,
) {
  const listener = TcpListener.bind(rt, host, 0);
  const closed: TcpConnection[] = [];
  const lnode = tcpListenerNode(rt.executor, listener, (ex, stream) => {
    onStream?.(stream);
    const conn = tcpConnectionNode(ex, stream, { framing, onClose: (c) => closed.push(c) });
    new NodeBuilder(0).triggeredBy(conn).build(ex, () => {
      const c = conn.value;
      for (let i = 0; i < c.frameCount; i++) {
        if (framing === Framing.Raw) c.write(c.buffer, c.frameStart(i), c.frameLength(i));
        else c.writeFrame(c.frame(i));
      }
      return Control.Unchanged;
    });
  });
  return { listener, port: listener.localAddress.port, lnode, closed };
}

/** A client connection that records what it receives (FNV-1a checksum and byte count). */
function client(rt: RealtimeRuntime, host: string, port: number, opts = {}) {
  const stream = TcpStream.connect(rt, host, port, opts);
  const st = {
    bytes: 0,
    hash: 0x811c9dc5,
    text: "",
    closed: false,
    error: null as NetError | null,
  };
  const conn = tcpConnectionNode(rt.executor, stream, {
    onClose: (c) => {
      st.closed = true;
      st.error = c.error;
    },
  });
  const dec = new TextDecoder();
  new NodeBuilder(0).triggeredBy(conn).build(rt.executor, () => {
    const c = conn.value;
    for (let i = 0; i < c.frameCount; i++) {
      const f = c.frame(i);
      st.bytes += f.length;
      let h = st.hash;
      for (let k = 0; k < f.length; k++) h = Math.imul(h ^ f[k], 16777619) >>> 0;
      st.hash = h;
      if (st.text.length < 4096) st.text += dec.decode(f);
    }
    return Control.Unchanged;
  });
  return { stream, conn, st };
}

function fnv(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < data.length; k++) h = Math.imul(h ^ data[k], 16777619) >>> 0;
  return h;
}

const enc = new TextEncoder();

for (const host of hosts) {
  test(`a listener node accepts and a connection node echoes on ${host}`, () => {
    const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
    try {
      const srv = echoServer(rt, host);
      assertEquals(srv.listener.localAddress.family, host === "::1" ? 6 : 4);
      const c = client(rt, host, srv.port);
      c.conn.value.write(enc.encode("hello wavelet"));
      pump(rt, () => c.st.bytes >= 13);
      assertEquals(c.st.text, "hello wavelet");
      assertEquals(srv.lnode.value.accepted, 1);
      assertEquals(c.stream.peerAddress.port, srv.port);
      assertEquals(c.stream.peerAddress.address, host);
      assertEquals(c.stream.localAddress.address, host);
      c.conn.value.end();
      pump(rt, () => srv.closed.length === 1 && c.st.closed);
      assertEquals(srv.closed[0].error, null);
      assertEquals(c.st.error, null);
    } finally {
      rt.shutdown();
    }
  });

  test(`10 MB through small send buffers arrive complete and in order on ${host}`, () => {
    const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
    try {
      const srv = echoServer(rt, host, (s) => s.setOption(SocketOption.SendBuffer, 4096));
      const c = client(rt, host, srv.port, { sendBufferSize: 4096, receiveBufferSize: 8192 });
      const total = 10 * 1024 * 1024;
      const data = new Uint8Array(total);
      let x = 12345;
      for (let i = 0; i < total; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        data[i] = x >>> 24;
      }
      // Write in 64 KiB pieces as the queue drains, so partial writes happen all the time.
      let sent = 0;
      new NodeBuilder(0)
        .onInit((ex, self) => ex.yieldNow(self))
        .build(rt.executor, (self, ctx) => {
          const conn = c.conn.value;
          while (sent < total && conn.pendingBytes < 256 * 1024) {
            const n = Math.min(65536, total - sent);
            assert(conn.write(data, sent, n));
            sent += n;
          }
          if (sent < total) ctx.yieldNow(self);
          return Control.Unchanged;
        });
      pump(rt, () => c.st.bytes >= total, 30_000);
      assertEquals(c.st.bytes, total);
      assertEquals(c.st.hash, fnv(data));
      assert(c.conn.value.bytesWritten === total);
    } finally {
      rt.shutdown();
    }
  });

  test(`a peer reset fails only that connection (CONNECTION_RESET) on ${host}`, () => {
    const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
    try {
      const srv = echoServer(rt, host);
      const a = client(rt, host, srv.port);
      const b = client(rt, host, srv.port);
      a.conn.value.write(enc.encode("a"));
      b.conn.value.write(enc.encode("b"));
      pump(rt, () => a.st.bytes === 1 && b.st.bytes === 1);
      // SO_LINGER 0: close sends a reset instead of a FIN.
      a.stream.setOption(SocketOption.Linger, 0);
      a.conn.value.close();
      pump(rt, () => srv.closed.length === 1);
      assertEquals(srv.closed[0].error?.code, "CONNECTION_RESET");
      assertEquals(srv.closed[0].error?.errnoName, "ECONNRESET");
      b.conn.value.write(enc.encode("still here"));
      pump(rt, () => b.st.bytes === 11);
      assertEquals(b.st.text, "bstill here");
    } finally {
      rt.shutdown();
    }
  });

  test(`a connect to a closed port fails with CONNECTION_REFUSED on ${host}`, () => {
    const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
    try {
      const l = TcpListener.bind(rt, host, 0);
      const port = l.localAddress.port;
      l.close();
      let err: NetError | null = null;
      try {
        const c = client(rt, host, port);
        pump(rt, () => c.st.closed);
        err = c.st.error;
      } catch (e) {
        err = e as NetError; // reported at once by connect()
      }
      assert(err instanceof NetError);
      assertEquals(err.code, "CONNECTION_REFUSED");
    } finally {
      rt.shutdown();
    }
  });

  test(`after a half-close the server still answers, then closes on ${host}`, () => {
    const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
    try {
      const srv = echoServer(rt, host, undefined, Framing.Lines);
      const c = client(rt, host, srv.port);
      pump(rt, () => !c.stream.isConnecting);
      c.conn.value.write(enc.encode("one\ntwo\nlast-without-newline"));
      c.stream.shutdown("write");
      pump(rt, () => c.st.closed);
      assertEquals(c.st.text, "one\ntwo\nlast-without-newline\n");
      assertEquals(c.st.error, null);
      pump(rt, () => srv.closed.length === 1);
      assertEquals(srv.closed[0].eof, true);
    } finally {
      rt.shutdown();
    }
  });

  test(`200 concurrent connections are all served on ${host}`, () => {
    const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
    try {
      const srv = echoServer(rt, host, undefined, Framing.Lines);
      const clients: ReturnType<typeof client>[] = [];
      for (let i = 0; i < 200; i++) {
        const c = client(rt, host, srv.port);
        c.conn.value.write(enc.encode(`client ${i}\n`));
        clients.push(c);
      }
      pump(rt, () => clients.every((c, i) => c.st.text === `client ${i}\n`), 20_000);
      assertEquals(srv.lnode.value.accepted, 200);
      for (const c of clients) c.conn.value.end();
      pump(rt, () => srv.closed.length === 200 && clients.every((c) => c.st.closed), 20_000);
      assert(srv.closed.every((c) => c.error === null));
    } finally {
      rt.shutdown();
    }
  });

  test(`UDP datagrams (empty ones too) arrive with their sender on ${host}`, () => {
    const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
    try {
      const a = UdpSocket.bind(rt, host, 0);
      const b = UdpSocket.bind(rt, host, 0);
      const got: number[] = [];
      let sender = "";
      const buf = new Uint8Array(2048);
      new NodeBuilder(0)
        .onInit((ex, self) => {
          ex.registerIo(a.fd, self, Readiness.Readable);
          ex.own(self, () => a.close());
        })
        .build(rt.executor, () => {
          for (;;) {
            const n = a.tryReceive(buf);
            if (n === WOULD_BLOCK) break;
            got.push(n === 0 ? -1 : buf[0] + (n << 8));
            sender = a.lastSender!.toString();
          }
          return Control.Unchanged;
        });
      const to = a.localAddress;
      for (let i = 0; i < 50; i++) {
        const d = new Uint8Array(1 + i * 10).fill(i);
        assertEquals(b.trySend(d, to), d.length);
      }
      assertEquals(b.trySend(new Uint8Array(0), to), 0);
      pump(rt, () => got.length === 51);
      for (let i = 0; i < 50; i++) assertEquals(got[i], i + ((1 + i * 10) << 8));
      assertEquals(got[50], -1);
      assertEquals(sender, b.localAddress.toString());
      b.close();
    } finally {
      rt.shutdown();
    }
  });

  test(`a listener on a port in use fails with ADDRESS_IN_USE on ${host}`, () => {
    const rt = new RealtimeRuntime({ mode: ExecutionMode.Spin });
    try {
      const l = TcpListener.bind(rt, host, 0);
      const e = assertThrows(
        () => TcpListener.bind(rt, host, l.localAddress.port),
        NetError,
        "ADDRESS_IN_USE",
      );
      assertEquals(e.errnoName, "EADDRINUSE");
      assert(e.message.includes("already in use"), e.message);
      l.close();
    } finally {
      rt.shutdown();
    }
  });

  test(`writing to a closed peer is BROKEN_PIPE or CONNECTION_RESET, never SIGPIPE, on ${host}`, () => {
    const rt = new RealtimeRuntime({ mode: ExecutionMode.Spin });
    try {
      const l = TcpListener.bind(rt, host, 0);
      const s = TcpStream.connect(rt, host, l.localAddress.port);
      let peer: TcpStream | null = null;
      pump(rt, () => (peer ??= l.accept()) !== null && s.finishConnect());
      peer!.close();
      const chunk = new Uint8Array(65536);
      let err: unknown = null;
      const end = performance.now() + 5000;
      while (err === null && performance.now() < end) {
        try {
          s.tryWrite(chunk);
        } catch (e) {
          err = e;
        }
      }
      assert(err instanceof NetError, String(err));
      assert(["BROKEN_PIPE", "CONNECTION_RESET"].includes(err.code), err.code);
      s.close();
      l.close();
    } finally {
      rt.shutdown();
    }
  });
}

test("addresses that do not parse are INVALID_ADDRESS errors", () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Spin });
  try {
    for (
      const bad of ["localhost", "1.2.3", "::g", "", "1.2.3.4.5", "x".repeat(200), "1.2.3.4\0"]
    ) {
      assertThrows(() => SocketAddress.parse(rt, bad, 80), NetError, "INVALID_ADDRESS");
      assertThrows(() => TcpListener.bind(rt, bad, 0), NetError, "INVALID_ADDRESS");
    }
    for (const port of [-1, 65536, 1.5, NaN]) {
      assertThrows(() => TcpStream.connect(rt, "127.0.0.1", port), NetError, "INVALID_ADDRESS");
    }
    assertEquals(SocketAddress.parse(rt, "[::1]", 9).toString(), "[::1]:9");
    assertEquals(SocketAddress.parse(rt, "::ffff:1.2.3.4", 9).address, "::ffff:1.2.3.4");
    assertEquals(SocketAddress.parse(rt, "2001:db8:0:0:1:0:0:1", 1).address, "2001:db8::1:0:0:1");
  } finally {
    rt.shutdown();
  }
});

test("zero-length buffers and closed sockets give clear typed errors", () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Spin });
  try {
    const l = TcpListener.bind(rt, "127.0.0.1", 0);
    const s = TcpStream.connect(rt, "127.0.0.1", l.localAddress.port);
    let peer: TcpStream | null = null;
    pump(rt, () => (peer ??= l.accept()) !== null && s.finishConnect());
    assertThrows(() => s.tryRead(new Uint8Array(0)), InvalidArgumentError);
    assertThrows(() => s.tryRead(new Uint8Array(8), 8), InvalidArgumentError);
    assertThrows(() => s.tryRead(new Uint8Array(8), 4, 5), InvalidArgumentError);
    assertEquals(s.tryWrite(new Uint8Array(0)), 0);
    assertEquals(s.tryRead(new Uint8Array(8)), WOULD_BLOCK);
    assertEquals(s.tryWrite(new Uint8Array([1, 2, 3, 4]), 1, 2), 2);
    const buf = new Uint8Array(8);
    pump(rt, () => peer!.tryRead(buf, 3) !== WOULD_BLOCK);
    assertEquals([buf[3], buf[4]], [2, 3]);
    s.close();
    s.close(); // idempotent
    for (const f of [() => s.tryRead(buf), () => s.tryWrite(buf), () => s.localAddress]) {
      assertThrows(f, NetError, "SOCKET_CLOSED");
    }
    peer!.close();
    l.close();
    assertThrows(() => l.accept(), NetError, "SOCKET_CLOSED");
  } finally {
    rt.shutdown();
  }
});

test("every fd is closed after shutdown, with connections still open", () => {
  // Warm up: the first runtime takes a pooled wake eventfd that stays open by design.
  new RealtimeRuntime({ mode: ExecutionMode.Park }).shutdown();
  const before = fdCount();
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const srv = echoServer(rt, "127.0.0.1");
  const clients: ReturnType<typeof client>[] = [];
  for (let i = 0; i < 20; i++) {
    const c = client(rt, "127.0.0.1", srv.port);
    c.conn.value.write(enc.encode("x"));
    clients.push(c);
  }
  const u = UdpSocket.bind(rt, "::1", 0);
  new NodeBuilder(0).onInit((ex, self) => ex.own(self, () => u.close())).build(
    rt.executor,
    () => false,
  );
  pump(rt, () => clients.every((c) => c.st.bytes === 1));
  assert(fdCount() >= before + 41);
  rt.shutdown();
  assertEquals(fdCount(), before);
  assert(clients.every((c) => c.st.closed && c.stream.isClosed));
  assert(srv.listener.isClosed && u.isClosed);
});

test("a node:net client is served while cycles alternate with host event-loop turns", async () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const srv = echoServer(rt, "127.0.0.1", undefined, Framing.Lines);
  let received = "";
  let done = false;
  const sock = net.connect(srv.port, "127.0.0.1", () => sock.write("ping 1\nping 2\n"));
  sock.on("data", (d: Uint8Array) => {
    received += new TextDecoder().decode(d);
    if (received === "ping 1\nping 2\n") sock.end();
  });
  sock.on("close", () => (done = true));
  try {
    const end = performance.now() + 10_000;
    while (!(done && srv.closed.length === 1)) {
      if (performance.now() > end) throw new Error("timed out");
      rt.runOneCycle(0);
      await new Promise((r) => setTimeout(r, 0));
    }
    assertEquals(received, "ping 1\nping 2\n");
  } finally {
    sock.destroy();
    rt.shutdown();
  }
});

test("sockets on the pure-JS backend throw UnsupportedError", () => {
  const rt = new RealtimeRuntime({ backend: loadBackend({ prefer: "js" }) });
  try {
    assertThrows(() => TcpListener.bind(rt, "127.0.0.1", 0), UnsupportedError);
    assertThrows(() => UdpSocket.bind(rt, "127.0.0.1", 0), UnsupportedError);
  } finally {
    rt.shutdown();
  }
});
