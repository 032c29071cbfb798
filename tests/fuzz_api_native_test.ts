/**
 * Public-API fuzz, the native layer: RealtimeRuntime, PrecisionClock, the loaders, and the
 * network API on real loopback sockets (SocketAddress, TcpListener, TcpStream, UdpSocket, the
 * TCP nodes and TcpConnection). Each call must succeed or throw a typed `WaveletError` before
 * any native call, and the runtime must keep working. Timeouts the fuzz passes are never long
 * valid waits (a valid wait is not a bug), so nothing here can block.
 *
 * @module
 */

import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assert, AssertionError, test } from "./_harness.ts";
import { arg, badNumber, badValue, counter, expectTyped, opts, pick } from "./_fuzz.ts";
import { RUNS } from "../src/core/graph.ts";
import { Control, ExecutionMode } from "../src/core/control.ts";
import { ffiAvailable, loadBackend, loadNative } from "../ffi/load.ts";
import { Framing, TcpConnection, tcpConnectionNode } from "../src/net/nodes.ts";
import type { Node } from "../src/core/node.ts";
import { PrecisionClock } from "../src/clock/precision_clock.ts";
import { RealtimeRuntime } from "../src/runtime/realtime.ts";
import { SocketAddress } from "../src/net/address.ts";
import { SocketOption } from "../ffi/backend.ts";
import { TcpListener, TcpStream, UdpSocket } from "../src/net/socket.ts";
import { tcpListenerNode } from "../src/net/listener_node.ts";
import { TestRuntime } from "../src/runtime/test_runtime.ts";

/**
 * Bad timeouts, less the long waits: a big number is a valid wait, and a value that converts to
 * one (`"1e12"`, `[1e300]`, `10n ** 30n`) would block a runtime that wrongly converts it instead
 * of failing the test (`tests/arguments_test.ts` checks non-number timeouts on their own).
 */
const badTimeout = badValue.filter((v) => {
  try {
    return !(Number(v) > 1e6);
  } catch {
    return true; // a symbol, an object whose conversion throws: cannot become a wait
  }
});

/** A realtime runtime with a node queued before each bad call. */
class Live {
  readonly rt: RealtimeRuntime = new RealtimeRuntime({ mode: ExecutionMode.Park });
  readonly errors: unknown[] = [];
  queued: Node<number>;

  constructor() {
    this.rt.executor.onError = (e) => {
      this.errors.push(e);
    };
    this.queued = counter(this.rt.executor, "queued");
  }

  /** Queues a fresh node before the next bad call. */
  arm(): void {
    this.queued = counter(this.rt.executor, "queued");
  }

  assertStillWorks(what: string): void {
    const q = this.queued;
    const fresh = counter(this.rt.executor, "fresh");
    this.rt.runOneCycle(0);
    if (q.value < 1) throw new AssertionError(`after ${what}, a queued node did not run`);
    if (fresh.value !== 1) throw new AssertionError(`after ${what}, a fresh node did not run`);
  }

  /** Runs cycles until `done()` (each waits at most 1 ms), for at most 5 s. */
  pump(done: () => boolean): void {
    const end = performance.now() + 5000;
    while (!done()) {
      if (performance.now() > end) throw new AssertionError("timed out");
      this.rt.runOneCycle(1e6);
    }
  }

  /** A connected pair of streams (client, server) on 127.0.0.1. */
  pair(listener: TcpListener): [TcpStream, TcpStream] {
    const client = TcpStream.connect(this.rt, "127.0.0.1", listener.localAddress.port);
    let server: TcpStream | null = null;
    this.pump(() => (server ??= listener.accept()) !== null);
    this.pump(() => client.finishConnect());
    return [client, server!];
  }

  close(): void {
    this.rt.shutdown();
  }
}

/**
 * One property over a shared live runtime: `call` either succeeds or throws a typed error, the
 * runtime still runs, and `cleanup` releases what the run opened.
 */
function fuzzLive(
  name: string,
  args: fc.Arbitrary<unknown>[],
  // deno-lint-ignore no-explicit-any
  call: (live: Live, a: unknown[], own: (x: any) => void) => unknown,
  runs = RUNS,
): void {
  test(`fuzz: ${name} gives a typed error or works, and the runtime still runs`, () => {
    const live = new Live();
    try {
      fc.assert(
        fc.property(fc.tuple(...args), (a) => {
          live.arm();
          const opened: { close(): void }[] = [];
          try {
            expectTyped(name, () => call(live, a, (x) => opened.push(x)));
            live.assertStillWorks(name);
          } finally {
            for (const x of opened.reverse()) x.close();
          }
        }),
        { numRuns: runs },
      );
    } finally {
      live.close();
    }
  }, { skip: ffiAvailable() ? false : "needs the native backend (FFI)" });
}

/** Closes a socket-like result of a call that succeeded. */
function owned(own: (x: { close(): void }) => void, r: unknown): unknown {
  if (r instanceof TcpListener || r instanceof TcpStream || r instanceof UdpSocket) own(r);
  return r;
}

// ---------------------------------------------------------------------------------------------
// RealtimeRuntime

const RT_KEYS = [
  "mode",
  "backend",
  "clock",
  "initialCapacity",
  "notifierCapacity",
  "maxEvents",
  "spinBeforeParkNs",
  "runLingerNs",
  "executor",
];

fuzzLive("new RealtimeRuntime(options)", [
  opts(RT_KEYS, {
    mode: fc.constantFrom(ExecutionMode.Park, ExecutionMode.Spin),
    maxEvents: fc.integer({ min: 1, max: 1024 }),
    initialCapacity: fc.integer({ min: 1, max: 4096 }),
    spinBeforeParkNs: fc.nat(1000),
    runLingerNs: fc.nat(1_000_000),
  }),
], (_live, [o], own) => {
  const rt = new RealtimeRuntime(pick(o, () => ({})));
  own({ close: () => rt.shutdown() });
  const fresh = counter(rt.executor, "fresh");
  rt.runOneCycle(0);
  assert(fresh.value === 1, "a node of the new runtime runs");
}, 60);

fuzzLive("RealtimeRuntime.runOneCycle(timeoutNs)", [badTimeout], (live, [t]) => {
  expectTyped("runOneCycle", () => live.rt.runOneCycle(t as number));
  live.queued = counter(live.rt.executor, "queued");
});

fuzzLive("RealtimeRuntime.startRecording(sink)", [badValue], (_live, [sink], own) => {
  const rt = new RealtimeRuntime();
  own({ close: () => rt.shutdown() });
  rt.startRecording(sink as never);
  counter(rt.executor, "recorded");
  rt.runOneCycle(0);
}, 60);

fuzzLive("RealtimeRuntime.adopt(historical, options)", [
  arg(),
  opts(["mode", "maxEvents"], { mode: fc.constantFrom(ExecutionMode.Park) }),
], (_live, [h, o], own) => {
  const rt = RealtimeRuntime.adopt(pick(h, () => new TestRuntime()), pick(o, () => ({})));
  own({ close: () => rt.shutdown() });
  const fresh = counter(rt.executor, "fresh");
  rt.runOneCycle(0);
  assert(fresh.value === 1, "an adopted executor runs live");
}, 60);

fuzzLive("new PrecisionClock(source, options)", [
  arg(),
  opts(["resyncIntervalNs", "thresholdNs", "maxRetries"], {
    resyncIntervalNs: fc.integer({ min: 1 }),
    maxRetries: fc.nat(20),
  }),
], (live, [s, o]) => {
  const clock = new PrecisionClock(pick(s, () => live.rt.backend), pick(o, () => ({})));
  live.rt.executor.cycle(clock);
});

// ---------------------------------------------------------------------------------------------
// Loaders: string paths only under a temporary directory, so the fuzz writes nowhere else.

test("fuzz: loadNative and loadBackend with bad options give typed errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "wavelet-fuzz-"));
  try {
    const where = fc.oneof(
      badValue.filter((v) => typeof v !== "string"),
      fc.string().map((s) => join(dir, "missing", encodeURIComponent(s))),
      fc.constant(join(dir, "cache")),
    );
    const options = fc.oneof(
      badValue.filter((v) => v === null || typeof v !== "object"),
      fc.record({
        path: where,
        cacheDir: where,
        build: fc.oneof(fc.constant(false), badValue.filter((v) => v !== true)),
        prebuilt: badValue,
        prefer: fc.oneof(fc.constantFrom("native", "js"), badValue),
      }, { requiredKeys: [] }),
    );
    fc.assert(
      fc.property(options, (o) => {
        expectTyped("loadNative", () => loadNative(o as never));
        expectTyped("loadBackend", () => loadBackend(o as never));
        assert(typeof ffiAvailable() === "boolean", "ffiAvailable answers");
      }),
      { numRuns: 60 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Sockets

const host = arg(fc.oneof(badValue, fc.constantFrom("::1", "[::1]", "localhost", "1.2.3")));
const port = arg(fc.oneof(badNumber, badValue));

fuzzLive("SocketAddress.parse(rt, host, port) and new SocketAddress(bytes)", [
  arg(),
  host,
  port,
  badValue,
], (live, [r, h, p, bytes]) => {
  expectTyped("new SocketAddress", () => new SocketAddress(bytes as Uint8Array));
  const a = SocketAddress.parse(
    pick(r, () => live.rt),
    pick(h, () => "127.0.0.1"),
    pick(p, () => 0),
  );
  assert(a.toString().length > 0, "an address prints");
});

fuzzLive("TcpListener.bind(rt, host, port, options)", [
  arg(),
  host,
  port,
  opts(["backlog", "reuseAddress", "reusePort", "v6Only"], {
    backlog: fc.nat(128),
    reuseAddress: fc.boolean(),
  }),
], (live, [r, h, p, o], own) =>
  owned(
    own,
    TcpListener.bind(
      pick(r, () => live.rt),
      pick(h, () => "127.0.0.1"),
      pick(p, () => 0),
      pick(o, () => ({})),
    ),
  ));

fuzzLive("UdpSocket.bind(rt, host, port, options)", [
  arg(),
  host,
  port,
  opts(["reuseAddress", "reusePort", "broadcast"], { broadcast: fc.boolean() }),
], (live, [r, h, p, o], own) =>
  owned(
    own,
    UdpSocket.bind(
      pick(r, () => live.rt),
      pick(h, () => "127.0.0.1"),
      pick(p, () => 0),
      pick(o, () => ({})),
    ),
  ));

fuzzLive("new TcpListener, new TcpStream, new UdpSocket, new TcpConnection (wrappers)", [
  badValue,
  badValue,
  badValue,
  opts(["framing", "readBufferBytes"]),
], (live, [b, fd, connecting, o]) => {
  // Only built, never used: a wrapper over an fd it does not own must not close it.
  expectTyped("new TcpListener", () => new TcpListener(b as never, fd as number));
  expectTyped(
    "new TcpStream",
    () => new TcpStream(b as never, fd as number, connecting as boolean),
  );
  expectTyped("new UdpSocket", () => new UdpSocket(b as never, fd as number));
  expectTyped(
    "new TcpListener (real backend)",
    () => new TcpListener(live.rt.backend, fd as number),
  );
  expectTyped("new TcpConnection", () => new TcpConnection(b as never, o as never));
});

test(
  "fuzz: TcpStream.connect and the stream methods give typed errors, sockets keep working",
  () => {
    if (!ffiAvailable()) return;
    const live = new Live();
    const listener = TcpListener.bind(live.rt, "127.0.0.1", 0);
    const [client, server] = live.pair(listener);
    const sink = new Uint8Array(1 << 16);
    try {
      fc.assert(
        fc.property(
          arg(),
          port,
          opts(["noDelay", "sendBufferSize", "receiveBufferSize"], { noDelay: fc.boolean() }),
          arg(),
          arg(badNumber),
          arg(badNumber),
          arg(badNumber),
          arg(badNumber),
          (r, p, o, buf, off, len, option, value) => {
            live.arm();
            const s = expectTyped(
              "TcpStream.connect",
              () =>
                TcpStream.connect(
                  pick(r, () => live.rt),
                  "127.0.0.1",
                  pick(p, () => listener.localAddress.port),
                  pick(o, () => ({})),
                ),
            ) as TcpStream | undefined;
            s?.close();
            for (let a = listener.accept(); a !== null; a = listener.accept()) a.close();
            const b = pick(buf, () => new Uint8Array(8));
            const offset = pick(off, () => 0), length = pick(len, () => undefined);
            expectTyped("tryWrite", () => client.tryWrite(b, offset, length));
            expectTyped("tryRead", () => client.tryRead(b, offset, length));
            expectTyped(
              "setOption",
              () =>
                client.setOption(pick(option, () => SocketOption.NoDelay), pick(value, () => 1)),
            );
            expectTyped(
              "getOption",
              () => client.getOption(pick(option, () => SocketOption.NoDelay)),
            );
            while (server.tryRead(sink) > 0) {
              /* drain what the fuzz wrote */
            }
            live.assertStillWorks("stream calls");
          },
        ),
        { numRuns: RUNS },
      );
      // The pair still carries bytes both ways.
      assert(client.tryWrite(new Uint8Array([1, 2, 3])) === 3, "the client still writes");
      let got = 0;
      live.pump(() => (got += Math.max(0, server.tryRead(sink))) >= 3);
    } finally {
      client.close();
      server.close();
      listener.close();
      live.close();
    }
  },
  { skip: ffiAvailable() ? false : "needs the native backend (FFI)" },
);

fuzzLive("TcpStream.shutdown(how)", [arg(fc.oneof(badValue, fc.constantFrom("read", "both")))], (
  live,
  [how],
  own,
) => {
  const listener = TcpListener.bind(live.rt, "127.0.0.1", 0);
  own(listener);
  const [c, s] = live.pair(listener);
  own(c);
  own(s);
  c.shutdown(pick(how, () => "write"));
}, 40);

test("fuzz: UdpSocket.trySend and tryReceive give typed errors, the socket keeps working", () => {
  if (!ffiAvailable()) return;
  const live = new Live();
  const sock = UdpSocket.bind(live.rt, "127.0.0.1", 0);
  const buf = new Uint8Array(2048);
  try {
    fc.assert(
      fc.property(arg(), arg(), arg(badNumber), arg(badNumber), (b, to, off, len) => {
        live.arm();
        const payload = pick(b, () => new Uint8Array(4));
        const offset = pick(off, () => 0), length = pick(len, () => undefined);
        expectTyped(
          "trySend",
          () => sock.trySend(payload, pick(to, () => sock.localAddress), offset, length),
        );
        expectTyped("tryReceive", () => sock.tryReceive(payload, offset, length));
        while (sock.tryReceive(buf) >= 0) { /* drain */ }
        live.assertStillWorks("datagram calls");
      }),
      { numRuns: RUNS },
    );
    assert(sock.trySend(new Uint8Array([9]), sock.localAddress) === 1, "the socket still sends");
    live.pump(() => sock.tryReceive(buf) === 1);
  } finally {
    sock.close();
    live.close();
  }
}, { skip: ffiAvailable() ? false : "needs the native backend (FFI)" });

// ---------------------------------------------------------------------------------------------
// TCP nodes

fuzzLive("tcpListenerNode(ex, listener, onConnection, options)", [
  arg(),
  arg(fc.oneof(badValue, fc.constant("closed"))),
  arg(),
  opts(["name", "maxAcceptsPerCycle", "closeOnDrop"], {
    maxAcceptsPerCycle: fc.integer({ min: 1, max: 100 }),
    closeOnDrop: fc.boolean(),
  }),
], (live, [e, l, f, o], own) => {
  const listener = TcpListener.bind(live.rt, "127.0.0.1", 0);
  own(listener);
  if (l === "closed") listener.close();
  const node = tcpListenerNode(
    pick(e, () => live.rt.executor),
    l === "closed" ? listener : pick(l, () => listener),
    pick(f, () => (_ex: unknown, s: TcpStream) => s.close()),
    pick(o, () => ({})),
  );
  own({ close: () => node.isAlive && node.remove() });
  const c = TcpStream.connect(live.rt, "127.0.0.1", listener.localAddress.port);
  own(c);
  live.pump(() => node.value.accepted === 1);
}, 60);

const CONNECTION_KEYS = [
  "name",
  "framing",
  "readBufferBytes",
  "maxFrameBytes",
  "maxPendingBytes",
  "closeOnEof",
  "onClose",
];

fuzzLive("tcpConnectionNode(ex, stream, options) and TcpConnection methods", [
  arg(),
  arg(fc.oneof(badValue, fc.constant("closed"))),
  opts(CONNECTION_KEYS, {
    framing: fc.constantFrom(Framing.Raw, Framing.Lines, Framing.LengthPrefixed),
    readBufferBytes: fc.integer({ min: 1, max: 1 << 16 }),
    maxFrameBytes: fc.integer({ min: 1, max: 1 << 20 }),
    closeOnEof: fc.boolean(),
  }),
  badValue,
  arg(),
  arg(badNumber),
  arg(badNumber),
], (live, [e, st, o, i, buf, off, len], own) => {
  const listener = TcpListener.bind(live.rt, "127.0.0.1", 0);
  own(listener);
  const [c, s] = live.pair(listener);
  own(c);
  own(s);
  if (st === "closed") c.close();
  const node = tcpConnectionNode(
    pick(e, () => live.rt.executor),
    st === "closed" ? c : pick(st, () => c),
    pick(o, () => ({})),
  );
  own({ close: () => node.isAlive && node.remove() });
  const conn = node.value;
  // One whole frame in every framing: a 4-byte length (3) then "hi\n", which is also a line.
  s.tryWrite(new Uint8Array([0, 0, 0, 3, 104, 105, 10]));
  live.pump(() => conn.frameCount > 0 || conn.isClosed);
  expectTyped("frameStart", () => conn.frameStart(i as number));
  expectTyped("frameLength", () => conn.frameLength(i as number));
  expectTyped("frame", () => conn.frame(i as number));
  expectTyped(
    "write",
    () =>
      conn.write(
        pick(buf, () => new Uint8Array(2)),
        pick(off, () => 0),
        pick(len, () => undefined),
      ),
  );
  expectTyped("writeFrame", () => conn.writeFrame(pick(buf, () => new Uint8Array(2))));
  conn.end();
  live.rt.runOneCycle(0);
  void Control;
}, 60);
