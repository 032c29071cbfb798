/**
 * Regression tests for arguments that used to slip through (issue 10): each bad argument is an
 * `InvalidArgumentError` with code `INVALID_ARGUMENT`, thrown before any state changes or
 * native call, and the graph keeps working. The fuzz suite (`tests/fuzz_api_*_test.ts`) probes
 * the same rule with random values; these are the cases the issue named, kept by hand.
 *
 * @module
 */

import { assert, assertEquals, assertThrows, test } from "./_harness.ts";
import { counter, Graph } from "./_fuzz.ts";
import { Control, ExecutionMode } from "../src/core/control.ts";
import { CycleTime } from "../src/core/time.ts";
import { ErrorCode, InvalidArgumentError } from "../src/core/errors.ts";
import { ffiAvailable, loadBackend } from "../ffi/load.ts";
import { filter, map } from "../src/std/transform.ts";
import { Histogram } from "../src/observe/histogram.ts";
import { NodeBuilder } from "../src/core/builder.ts";
import { periodic } from "../src/std/time.ts";
import { pushBatchNode, runCycles } from "../src/testing.ts";
import { RealtimeRuntime } from "../src/runtime/realtime.ts";
import { sinkTo } from "../src/channel/adapters.ts";
import { SocketAddress } from "../src/net/address.ts";
import { tcpConnectionNode } from "../src/net/nodes.ts";
import { TcpListener, TcpStream, UdpSocket } from "../src/net/socket.ts";
import { tcpListenerNode } from "../src/net/listener_node.ts";
import { TestClock } from "../src/clock/test_clock.ts";
import { TestRuntime } from "../src/runtime/test_runtime.ts";

const IA = ErrorCode.InvalidArgument;
const native = { skip: ffiAvailable() ? false as const : "needs the native backend (FFI)" };

test("runUntilIdle(NaN) is a typed error, not an endless loop", () => {
  const g = new Graph();
  new NodeBuilder(0)
    .onInit((ex, self) => ex.yieldNow(self))
    .build(g.ex, (_self, ctx) => ctx.yieldNow()); // busy forever
  for (const bad of [NaN, -1, 1.5, Infinity, "10", null]) {
    const e = assertThrows(() => g.rt.runUntilIdle(bad as number), InvalidArgumentError, IA);
    assert(e.message.startsWith("runUntilIdle's maxCycles must be an integer"), e.message);
  }
  assertEquals(g.queued.value, 0, "no cycle ran");
  g.assertStillWorks("runUntilIdle(NaN)");
});

test("map(ex, null) and a non-function fail at build, before any function runs", () => {
  const g = new Graph();
  const input = g.node(1);
  let calls = 0;
  const count = (x: number) => (calls++, x);
  assertThrows(() => map(g.ex, null as never, count), InvalidArgumentError, IA);
  assertThrows(() => (map as any)(g.ex, null), InvalidArgumentError, IA);
  assertThrows(() => map(null as never, input, count), InvalidArgumentError, IA);
  assertThrows(() => map(g.ex, input, count, null as never), InvalidArgumentError, IA);
  assertThrows(() => map(g.ex, input, "x" as never), InvalidArgumentError, IA);
  assertThrows(() => filter(g.ex, input, 5 as never), InvalidArgumentError, IA);
  assertEquals(calls, 0, "map's function never ran for a refused build");
  const before = g.ex.nodeCount;
  g.assertStillWorks("refused std builds");
  assertEquals(g.ex.nodeCount, before + 1, "nothing half-built stayed (only the fresh node)");
});

test("sinkTo(.., null) is a typed error and leaves a stream unlocked", () => {
  const g = new Graph();
  const input = g.node(1);
  assertThrows(() => sinkTo(g.ex, input, null as never), InvalidArgumentError, IA);
  assertThrows(() => sinkTo(g.ex, input, {} as never), InvalidArgumentError, IA);
  const stream = new WritableStream();
  for (const options of [null, { capacity: 0 }, { overflow: "drop" }, { map: 1 }]) {
    assertThrows(() => sinkTo(g.ex, input, stream, options as never), InvalidArgumentError, IA);
    assert(!stream.locked, "a refused sink does not lock the stream");
  }
  const locked = new WritableStream();
  locked.getWriter();
  assertThrows(() => sinkTo(g.ex, input, locked), InvalidArgumentError, IA);
  g.assertStillWorks("refused sinks");
});

test("TestClock and CycleTime stay finite and exact whatever they are given", () => {
  const clock = new TestClock();
  clock.advance(Number.MAX_VALUE);
  assertThrows(() => clock.advance(Number.MAX_VALUE), InvalidArgumentError, IA);
  assertEquals(clock.nowNs(), Number.MAX_VALUE, "the refused advance did not move the clock");
  const t = new CycleTime();
  t.setWall(10, 0, 0.75); // a fraction of a nanosecond is dropped, not a RangeError
  assertEquals(t.unixNanos, 10_000_000_000n);
  assertThrows(() => t.setWall(NaN, 0, 0), InvalidArgumentError, IA);
  t.unixSeconds = 1e300; // beyond the Date range: still printable
  assert(t.toString().startsWith("CycleTime("), t.toString());
});

test("a histogram refuses what is not a finite number, and its sum stays a number", () => {
  const h = new Histogram();
  h.record(5);
  for (const bad of ["5", NaN, Infinity, null, {}]) {
    assertThrows(() => h.record(bad as number), InvalidArgumentError, IA);
  }
  assertThrows(() => h.percentile(101), InvalidArgumentError, IA);
  assertThrows(() => h.percentile(NaN), InvalidArgumentError, IA);
  assertEquals(h.snapshot().mean, 5);
});

test("pushAll keeps the batch whole when its iterable fails half-way", () => {
  const rt = new TestRuntime();
  const h = pushBatchNode<number>(rt.executor);
  h.push(1);
  function* failing() {
    yield 2;
    throw new Error("the source failed");
  }
  assertThrows(() => h.pushAll(failing()), Error);
  assertThrows(() => h.pushAll(5 as never), InvalidArgumentError, IA);
  assertEquals(h.pendingCount, 1, "nothing of the failed pushAll was added");
  rt.runOneCycle();
  assertEquals(h.node.value, [1]);
});

test("runCycles refuses a runtime without runOneCycle and a count that is not safe", () => {
  const rt = new TestRuntime();
  assertThrows(() => runCycles(null as never, 1), InvalidArgumentError, IA);
  assertThrows(() => runCycles({} as never, 1), InvalidArgumentError, IA);
  assertThrows(() => runCycles(rt, 2 ** 53), InvalidArgumentError, IA);
  assertEquals(runCycles(rt, 2), 2);
});

test("periodic refuses sub-nanosecond periods and never spins at huge clock times", () => {
  const rt = new TestRuntime();
  assertThrows(() => periodic(rt.executor, Number.MIN_VALUE), InvalidArgumentError, IA);
  assertThrows(() => periodic(rt.executor, 0.5), InvalidArgumentError, IA);
  const p = periodic(rt.executor, 1);
  rt.runOneCycle();
  rt.advanceClock(1e300); // far beyond 2^53 periods: k can no longer be stepped by one
  const cycles = rt.runUntilIdle(10);
  assert(cycles <= 2, `periodic settled in ${cycles} cycles`);
  assert(p.value > 0 && Number.isFinite(p.value), `tick ${p.value}`);
});

test("a realtime cycle refuses a timeout that is not a number (work is queued: no wait)", () => {
  for (const backend of ffiAvailable() ? ["native", "js"] as const : ["js"] as const) {
    const rt = new RealtimeRuntime({
      mode: ExecutionMode.Park,
      backend: loadBackend({ prefer: backend }),
    });
    try {
      for (const bad of ["1e12", [1e300], NaN, -1]) {
        counter(rt.executor, "queued");
        let code: string | undefined;
        try {
          rt.runOneCycle(bad as number);
        } catch (e) {
          code = (e as { code?: string }).code;
        }
        assert(
          code === ErrorCode.InvalidTimeout || code === IA,
          `runOneCycle took the timeout ${JSON.stringify(bad)} (${backend})`,
        );
      }
    } finally {
      rt.shutdown();
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Network: checked before any native call, the same on Bun and Deno

test('tryRead("x") and other non-buffers are typed errors before any native call', () => {
  const rt = new RealtimeRuntime();
  const listener = TcpListener.bind(rt, "127.0.0.1", 0);
  const client = TcpStream.connect(rt, "127.0.0.1", listener.localAddress.port);
  const udp = UdpSocket.bind(rt, "127.0.0.1", 0);
  try {
    for (const bad of ["x", null, undefined, [1, 2], new ArrayBuffer(4), {}]) {
      assertThrows(() => client.tryRead(bad as never), InvalidArgumentError, IA);
      assertThrows(() => client.tryWrite(bad as never), InvalidArgumentError, IA);
      assertThrows(() => udp.tryReceive(bad as never), InvalidArgumentError, IA);
      assertThrows(() => udp.trySend(bad as never, udp.localAddress), InvalidArgumentError, IA);
    }
    const buf = new Uint8Array(8);
    for (const [off, len] of [[NaN, 1], [0, NaN], [1.5, 1], [0, 9], ["0", 1], [-1, 1]]) {
      assertThrows(() => client.tryRead(buf, off as number, len as number), InvalidArgumentError);
      assertThrows(() => client.tryWrite(buf, off as number, len as number), InvalidArgumentError);
    }
    assertThrows(() => udp.trySend(buf, "127.0.0.1:1" as never), InvalidArgumentError, IA);
    assertThrows(() => client.setOption(NaN, 1), InvalidArgumentError, IA);
    assertThrows(() => client.setOption(1, 0.5), InvalidArgumentError, IA);
    assertThrows(() => client.getOption(9), InvalidArgumentError, IA); // Linger cannot be read
    // -0 passes every range check; the FFI gets +0.
    assertEquals(udp.trySend(buf, udp.localAddress, -0, 1), 1);
    assertEquals(client.tryRead(buf, -0, 8) <= 8, true);
    assertEquals(SocketAddress.parse(rt, "127.0.0.1", -0).port, 0);
  } finally {
    client.close();
    listener.close();
    udp.close();
    rt.shutdown();
  }
}, native);

test("maxAcceptsPerCycle: NaN and readBufferBytes: 0 are typed errors, nothing is built", () => {
  const rt = new RealtimeRuntime();
  const listener = TcpListener.bind(rt, "127.0.0.1", 0);
  const client = TcpStream.connect(rt, "127.0.0.1", listener.localAddress.port);
  try {
    const before = rt.executor.nodeCount;
    const onConnection = () => {};
    for (const bad of [NaN, 0, -1, 1.5, Infinity, "64", 2 ** 31]) {
      const e = assertThrows(
        () =>
          tcpListenerNode(rt.executor, listener, onConnection, {
            maxAcceptsPerCycle: bad as number,
          }),
        InvalidArgumentError,
        IA,
      );
      assert(e.message.includes("maxAcceptsPerCycle"), e.message);
    }
    for (const bad of [0, -1, NaN, 0.5, 2 ** 31, "1024"]) {
      const e = assertThrows(
        () => tcpConnectionNode(rt.executor, client, { readBufferBytes: bad as number }),
        InvalidArgumentError,
        IA,
      );
      assertEquals(
        e.message,
        `tcpConnectionNode's readBufferBytes option must be an integer in [1, 2^30], got ${
          typeof bad === "string" ? JSON.stringify(bad) : String(bad)
        }`,
      );
    }
    for (const options of [null, 5, { framing: 7 }, { closeOnEof: "no" }, { onClose: 1 }]) {
      assertThrows(
        () => tcpConnectionNode(rt.executor, client, options as never),
        InvalidArgumentError,
      );
    }
    assertThrows(() => tcpListenerNode(rt.executor, listener, null as never), InvalidArgumentError);
    assertThrows(
      () => tcpListenerNode(rt.executor, {} as never, onConnection),
      InvalidArgumentError,
    );
    assertEquals(rt.executor.nodeCount, before, "no node was built");
    assert(!listener.isClosed && !client.isClosed, "the sockets were left alone");
    // The same listener and stream still make working nodes.
    const lnode = tcpListenerNode(rt.executor, listener, (_ex, s) => s.close());
    const conn = tcpConnectionNode(rt.executor, client, { readBufferBytes: 1 });
    const end = performance.now() + 5000;
    while (lnode.value.accepted < 1 && performance.now() < end) rt.runOneCycle(1e6);
    assertEquals(lnode.value.accepted, 1);
    conn.remove();
    lnode.remove();
  } finally {
    client.close();
    listener.close();
    rt.shutdown();
  }
}, native);

test("a node on a closed socket is a SOCKET_CLOSED error, not a registration failure", () => {
  const rt = new RealtimeRuntime();
  const listener = TcpListener.bind(rt, "127.0.0.1", 0);
  listener.close();
  try {
    const e = assertThrows(
      () => tcpListenerNode(rt.executor, listener, () => {}),
      Error,
    ) as { code?: string };
    assertEquals(e.code, "SOCKET_CLOSED");
    const fresh = counter(rt.executor, "fresh");
    rt.runOneCycle(0);
    assertEquals(fresh.value, 1);
    void Control;
  } finally {
    rt.shutdown();
  }
}, native);
