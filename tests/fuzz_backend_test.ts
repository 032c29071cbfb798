/**
 * Fuzzing the native boundary (fast-check, the real library via `loadBackend()`): random
 * argument values and random buffers for every method of `NativeBackend`. Buffers are every
 * typed-array kind and DataView, 0..64 elements, plain, shared, resizable or growable, fixed or
 * length-tracking, shrunk past the view or detached by `transfer()` after the view was made,
 * plus non-buffers (arrays, strings, null, objects, a bare ArrayBuffer). Every buffer sits in a
 * patterned guard buffer (`tests/_guard.ts`). Integers are valid values, out-of-range ones,
 * NaN, Infinity, fractions and other types.
 *
 * Each call must either succeed, having written only where it may (the events it returned, the
 * clock value, the bytes it received, the address), or throw a WaveletError with a code, never
 * a bare TypeError or RangeError, never a crash. An independent model of the documented rules
 * says which inputs are bad arguments: exactly those throw InvalidArgumentError
 * (INVALID_ARGUMENT), on Bun and on Deno alike. Valid fds are our own (eventfds, epoll fds, a
 * timerfd, loopback TCP and UDP sockets); other fd values are negative or above any fd table
 * (an fd of the test runner is never touched). Waits use an epoll fd that always has ready fds,
 * so no timeout can block.
 */

import fc from "fast-check";
import { assert, assertEquals, test } from "./_harness.ts";
import { ErrorCode, InvalidArgumentError, WaveletError } from "../src/core/errors.ts";
import { ADDR_LEN, EpollEvents, EpollOp, type NativeBackend } from "../ffi/backend.ts";
import { UnsupportedError } from "../src/core/system_errors.ts";
import { loadBackend } from "../ffi/load.ts";
import { JsBackend } from "../ffi/js_backend.ts";
import { Guarded, type GuardSpec, VIEW_KINDS } from "./_guard.ts";

const b = loadBackend();
const RUNS = { numRuns: 250 };

// ------------------------------------------------------------------ the model of the rules

const isInt = (v: unknown, lo: number, hi: number): boolean =>
  typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi;
const isI32 = (v: unknown): boolean => isInt(v, -(2 ** 31), 2 ** 31 - 1);
const isBits = (v: unknown): boolean => isInt(v, -(2 ** 31), 2 ** 32 - 1);
const detached = (v: ArrayBufferView): boolean =>
  (v.buffer as { detached?: boolean }).detached === true;
// deno-lint-ignore no-explicit-any
const isView = (v: unknown, Kind: abstract new (...a: any[]) => ArrayBufferView, min: number) =>
  v instanceof Kind && !detached(v) && v.byteLength >= min;
const isRange = (buf: unknown, off: unknown, len: unknown): boolean =>
  isView(buf, Uint8Array, 0) && isInt(off, 0, 2 ** 31 - 1) && isInt(len, 0, 2 ** 31 - 1) &&
  (off as number) + (len as number) <= (buf as Uint8Array).byteLength;

// ------------------------------------------------------------------ arguments

/** Values no integer or buffer argument accepts (none is ever coerced or called). */
const JUNK: unknown[] = [
  null,
  undefined,
  "3",
  "",
  true,
  3n,
  {},
  [3],
  [0, 0, 0, 0, 0, 0, 0, 0],
  { byteLength: 64, length: 64 },
  Symbol("x"),
  {
    valueOf: () => {
      throw new Error("valueOf was called");
    },
  },
  () => 3,
];
const BAD_NUMBERS = [
  NaN,
  Infinity,
  -Infinity,
  0.5,
  -1.5,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32,
  2 ** 53,
];

const junk = fc.constantFrom(...JUNK);

/** A valid value most of the time, else a bad number, a junk value or any double. */
function num(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: valid },
    { weight: 2, arbitrary: fc.constantFrom(...BAD_NUMBERS) },
    { weight: 1, arbitrary: junk },
    { weight: 1, arbitrary: fc.double() },
  );
}

/** One argument position: the values the rules accept, and every value (those included). */
interface Arg {
  valid: fc.Arbitrary<unknown>;
  any: fc.Arbitrary<unknown>;
}

/**
 * The arguments of one call: all valid (the success paths), mostly valid (one or two bad
 * arguments, the usual mistake), or each anything.
 */
function args(...list: Arg[]): fc.Arbitrary<unknown[]> {
  return fc.oneof(
    fc.tuple(...list.map((a) => a.valid)),
    fc.tuple(...list.map((a) => fc.oneof({ weight: 4, arbitrary: a.valid }, a.any))),
    fc.tuple(...list.map((a) => a.any)),
  );
}

/** An integer argument whose valid values are `valid`. */
function int(valid: fc.Arbitrary<number>): Arg {
  return { valid, any: num(valid) };
}

/** Any int32 is valid (the C side answers the meaning), with the edges and -0. */
const anyI32 = int(fc.oneof(
  fc.integer({ min: -3, max: 12 }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.constantFrom(-(2 ** 31), 2 ** 31 - 1, -0),
));

/**
 * An fd: one of ours, a negative one, or one above any fd table; never a small fd that is
 * not ours (it could be the test runner's stdout or its event loop).
 */
function fd(pool: readonly number[]): Arg {
  const closed = [
    fc.integer({ min: -(2 ** 31), max: -1 }),
    fc.integer({ min: 2 ** 24, max: 2 ** 31 - 1 }),
  ];
  const valid = pool.length > 0 ? fc.constantFrom(...pool) : fc.oneof(...closed);
  const any = num(pool.length > 0 ? fc.oneof(valid, ...closed) : valid).filter((v) =>
    !(isI32(v) && (v as number) >= 0 && (v as number) < 2 ** 24) || pool.includes(v as number)
  );
  return { valid, any };
}

/** A buffer argument: built fresh for every run (see {@linkcode Guarded}). */
class Buf {
  constructor(
    readonly spec: GuardSpec | null,
    readonly other: unknown,
    readonly prefill?: (v: ArrayBufferView) => void,
  ) {}
}

const NO_BUFFER = new Buf(null, null);
const backings = fc.constantFrom(
  "plain",
  "plain",
  "shared",
  "resizable",
  "growable",
) as fc.Arbitrary<
  GuardSpec["backing"]
>;

/**
 * A buffer argument of `kind` needing `need` elements: valid ones hold `need` to `need + 8`
 * elements in any backing, fixed or length-tracking; any ones are any kind (mostly `kind`) of
 * 0..64 elements, shrunk or detached sometimes, or a non-buffer.
 */
function buf(kind: string, need: number, prefill?: (v: ArrayBufferView) => void): Arg {
  const valid = fc.record({
    kind: fc.constant(kind),
    length: fc.integer({ min: need, max: need + 8 }),
    backing: backings,
    tracking: fc.boolean(),
    fate: fc.constant("keep" as const),
    shrinkTo: fc.constant(0),
  }).map((s) => new Buf(s, undefined, prefill));
  const spec = (k: fc.Arbitrary<string>) =>
    fc.record({
      kind: k,
      length: fc.oneof(fc.integer({ min: 0, max: need + 3 }), fc.integer({ min: 0, max: 64 })),
      backing: backings,
      tracking: fc.boolean(),
      fate: fc.constantFrom("keep", "shrink", "shrink", "detach", "detach") as fc.Arbitrary<
        GuardSpec["fate"]
      >,
      shrinkTo: fc.double({ min: 0, max: 1, noNaN: true }),
    }).map((s) => new Buf(s, undefined, prefill));
  const any = fc.oneof(
    { weight: 2, arbitrary: valid },
    { weight: 5, arbitrary: spec(fc.constant(kind)) },
    { weight: 3, arbitrary: spec(fc.constantFrom(...VIEW_KINDS)) },
    { weight: 1, arbitrary: junk.map((v) => new Buf(null, v)) },
    { weight: 1, arbitrary: fc.nat(64).map((n) => new Buf(null, new ArrayBuffer(n))) },
  );
  return { valid, any };
}

/** {@linkcode buf}, or null (no buffer). */
function nullable(a: Arg): Arg {
  return {
    valid: fc.oneof(fc.constant(NO_BUFFER), a.valid),
    any: fc.oneof(fc.constant(NO_BUFFER), a.any),
  };
}

/** An argument that is not a number or a buffer. */
function other(valid: fc.Arbitrary<unknown>): Arg {
  return { valid, any: fc.oneof({ weight: 3, arbitrary: valid }, junk) };
}

/** Builds the values of one run: each Buf becomes a guarded view (or its non-buffer). */
function build(args: unknown[]): { values: unknown[]; guards: (Guarded | null)[] } {
  const guards = args.map((a) =>
    a instanceof Buf && a.spec ? new Guarded(a.spec, a.prefill) : null
  );
  const values = args.map((a, i) => guards[i]?.view ?? (a instanceof Buf ? a.other : a));
  return { values, guards };
}

// ------------------------------------------------------------------ checking one call

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Checks the outcome of one call: a bad argument (by the model) is InvalidArgumentError, any
 * other failure a WaveletError with a code, and no guard byte changed outside `allowed` (byte
 * ranges of each buffer argument, applying only when the call succeeded).
 */
function judge(
  name: string,
  valid: boolean,
  guards: (Guarded | null)[],
  outcome: { ok: true; value: unknown } | { ok: false; error: unknown },
  allowed: (value: unknown) => ([number, number] | undefined)[] = () => [],
): void {
  if (!outcome.ok) {
    const e = outcome.error;
    assert(
      e instanceof WaveletError && typeof e.code === "string" && e.code.length > 0,
      `${name} threw a bare ${describeError(e)}`,
    );
    if (valid) {
      assert(!(e instanceof InvalidArgumentError), `${name} refused valid arguments: ${e.message}`);
    } else {
      assert(
        e instanceof InvalidArgumentError,
        `${name}: expected InvalidArgumentError, got ${describeError(e)}`,
      );
      assertEquals(e.code, ErrorCode.InvalidArgument);
    }
  } else {
    assert(
      valid,
      `${name} accepted arguments the rules refuse (returned ${String(outcome.value)})`,
    );
  }
  const ranges = outcome.ok ? allowed(outcome.value) : [];
  guards.forEach((g, i) => {
    if (g === null) return;
    const [from, to] = ranges[i] ?? [0, 0];
    const changed = g.changedOutside(from, to);
    assertEquals(changed, "", `${name}, argument ${i}: ${changed}`);
  });
}

function call(fn: () => unknown): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

async function callAsync(
  fn: () => Promise<unknown>,
): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

// ------------------------------------------------------------------ the fds

/** Our own fds for one test, closed afterwards. */
interface World {
  /** An epoll fd with 6 level-triggered eventfds always readable: waits never block. */
  epW: number;
  /** An empty epoll fd for epollCtl. */
  epC: number;
  /** A scratch eventfd. */
  ev: number;
  /** A timerfd. */
  tfd: number;
  /** A TCP listener on loopback, its address, a connected client and the server side. */
  listener: number;
  listenerAddr: Uint8Array;
  client: number;
  server: number;
  /** Two UDP sockets on loopback; B's address. */
  udpA: number;
  udpB: number;
  udpBAddr: Uint8Array;
  all: number[];
}

function tcpSocketAt(addr: Uint8Array): number {
  const fd = b.socketCreate(4, 1);
  const rc = b.socketConnect(fd, addr);
  assert(rc === 0 || rc === -115, `connect: ${rc}`);
  return fd;
}

function makeWorld(): World {
  const all: number[] = [];
  const keep = (fd: number) => (all.push(fd), fd);
  const epW = keep(b.epollCreate());
  for (let i = 0; i < 6; i++) {
    const fd = keep(b.eventfdCreate(1, 0));
    b.epollCtl(epW, EpollOp.Add, fd, EpollEvents.In, 1000 + i);
  }
  const epC = keep(b.epollCreate()), ev = keep(b.eventfdCreate(0, 0));
  const tfd = keep(b.timerfdCreate());
  const loop = new Uint8Array(ADDR_LEN);
  assertEquals(b.addrParse("127.0.0.1", 0, loop), 4);
  const listener = keep(b.socketCreate(4, 1));
  assertEquals(b.socketBind(listener, loop), 0);
  assertEquals(b.socketListen(listener, 64), 0);
  const listenerAddr = new Uint8Array(ADDR_LEN);
  b.socketAddress(listener, false, listenerAddr);
  const client = keep(tcpSocketAt(listenerAddr));
  let server = -11;
  for (let i = 0; i < 1000 && server < 0; i++) server = b.socketAccept(listener, null);
  keep(server);
  const udpA = keep(b.socketCreate(4, 2)), udpB = keep(b.socketCreate(4, 2));
  b.socketBind(udpA, loop);
  b.socketBind(udpB, loop);
  const udpBAddr = new Uint8Array(ADDR_LEN);
  b.socketAddress(udpB, false, udpBAddr);
  return { epW, epC, ev, tfd, listener, listenerAddr, client, server, udpA, udpB, udpBAddr, all };
}

/** Runs `fn` with a fresh world, closes it, and checks the backend still works after. */
async function withWorld(fn: (w: World) => void | Promise<void>): Promise<void> {
  const w = makeWorld();
  try {
    await fn(w);
    const events = new Int32Array(16), clock = new Float64Array(1);
    assertEquals(b.epollWait(w.epW, events, 8, -1, clock), 6, "the backend still waits");
    b.eventfdWrite(w.ev, 2);
    assertEquals(b.eventfdRead(w.ev), 2, "and still reads and writes eventfds");
  } finally {
    for (const fd of w.all.reverse()) b.close(fd);
  }
}

function copyAddr(from: Uint8Array): (v: ArrayBufferView) => void {
  return (v) => {
    if (v instanceof Uint8Array && v.byteLength >= ADDR_LEN) v.set(from);
  };
}

const timeout = int(fc.oneof(
  fc.constantFrom(0, -1, Infinity, -Infinity, 1e3, 5e5),
  fc.double({ min: -1e12, max: 1e6, noNaN: true }),
));
// Everything but NaN is a valid timeout (the bad numbers included: they only mean "forever").
timeout.valid = fc.oneof(timeout.valid, fc.constantFrom(...BAD_NUMBERS.slice(1)));

const skipNoFfi = { skip: b.hasEpoll ? false as const : "no native backend here" };

/** The wait's model and the bytes it may write: events it returned, one clock value. */
function waitRule(values: unknown[]): boolean {
  const [epfd, events, max, t, clock] = values;
  return isI32(epfd) && isInt(max, 1, 2 ** 31 - 1) &&
    isView(events, Int32Array, (max as number) * 8) && typeof t === "number" &&
    !Number.isNaN(t) && (clock === null || isView(clock, Float64Array, 8));
}
const waitWrites = (n: unknown): ([number, number] | undefined)[] => [
  undefined,
  [0, (n as number) * 8],
  undefined,
  undefined,
  [0, 8],
];

function waitArgs(w: World): fc.Arbitrary<unknown[]> {
  // Only epW can make a wait succeed, and it always has 6 fds ready: no timeout blocks.
  const max = int(fc.integer({ min: 1, max: 12 }));
  max.any = fc.oneof(max.any, fc.constantFrom(0, 1024, 2 ** 31 - 1));
  const events = buf("Int32Array", 24);
  return args(fd([w.epW, w.ev, w.udpB]), events, max, timeout, nullable(buf("Float64Array", 1)));
}

test("fuzz: epollWait writes only the events it returns and the clock, or refuses", async () => {
  await withWorld((w) => {
    fc.assert(
      fc.property(waitArgs(w), (specs) => {
        const { values, guards } = build(specs);
        const [epfd, events, max, t, clock] = values;
        const out = call(() =>
          b.epollWait(
            epfd as number,
            events as Int32Array,
            max as number,
            t as number,
            clock as Float64Array | null,
          )
        );
        judge("epollWait", waitRule(values), guards, out, waitWrites);
        if (out.ok) {
          assert(isInt(out.value, 1, Math.min(max as number, 6)), `n = ${out.value}`);
          const ev = events as Int32Array;
          for (let i = 0; i < (out.value as number); i++) {
            assert(ev[2 * i] === EpollEvents.In && ev[2 * i + 1] >= 1000, `event ${i}`);
          }
        }
      }),
      RUNS,
    );
  });
}, skipNoFfi);

test(
  "fuzz: epollWaitAsync writes only the events it returns and the clock, or rejects",
  async () => {
    await withWorld(async (w) => {
      await fc.assert(
        fc.asyncProperty(waitArgs(w), async (specs) => {
          const { values, guards } = build(specs);
          const [epfd, events, max, t, clock] = values;
          let promise: Promise<number> | undefined;
          const started = call(() => {
            promise = b.epollWaitAsync(
              epfd as number,
              events as Int32Array,
              max as number,
              t as number,
              clock as Float64Array | null,
            );
          });
          assert(
            started.ok && promise instanceof Promise,
            "epollWaitAsync never throws: it rejects",
          );
          const out = await callAsync(() => promise!);
          judge("epollWaitAsync", waitRule(values), guards, out, waitWrites);
          if (out.ok) assert(isInt(out.value, 1, Math.min(max as number, 6)), `n = ${out.value}`);
        }),
        { numRuns: 150 },
      );
    });
  },
  skipNoFfi,
);

test("fuzz: realtime writes 16 bytes into a Float64Array, or refuses", () => {
  for (const backend of [b, new JsBackend()]) {
    fc.assert(
      fc.property(args(buf("Float64Array", 2)), (specs) => {
        const { values, guards } = build(specs);
        const out = call(() => backend.realtime(values[0] as Float64Array));
        judge(`${backend.kind} realtime`, isView(values[0], Float64Array, 16), guards, out, () => [
          [0, 16],
        ]);
        if (out.ok) {
          const wall = values[0] as Float64Array;
          assert(Math.abs(wall[0] * 1e3 + wall[1] / 1e6 - Date.now()) < 1000, "the wall time");
        }
      }),
      RUNS,
    );
  }
});

test("fuzz: sleep takes a finite number of nanoseconds, or rejects", async () => {
  for (const backend of [b, new JsBackend()]) {
    // Finite numbers are kept short (the bad numbers of `num` include 2^53 ns, 104 days).
    const t = int(fc.double({ min: -1e9, max: 2e6, noNaN: true }));
    const short = args(t).filter(([v]) =>
      !(typeof v === "number" && Number.isFinite(v) && v > 2e6)
    );
    await fc.assert(
      fc.asyncProperty(short, async ([v]) => {
        const out = await callAsync(() => backend.sleep(v as number));
        judge(`${backend.kind} sleep`, typeof v === "number" && Number.isFinite(v), [], out);
      }),
      { numRuns: 60 },
    );
  }
});

test("fuzz: epollCtl and the eventfd and timerfd calls check every integer", async () => {
  await withWorld((w) => {
    const bits = int(fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
      fc.constantFrom(EpollEvents.In | EpollEvents.EdgeTriggered, 2 ** 32 - 1),
    ));
    const targets = [w.ev, w.tfd, w.udpA, w.client, w.epW];
    fc.assert(
      fc.property(
        args(fd([w.epC, w.ev]), int(fc.integer({ min: 1, max: 3 })), fd(targets), bits, bits),
        ([epfd, op, target, events, data]) => {
          const valid = isI32(epfd) && isInt(op, 1, 3) && isI32(target) && isBits(events) &&
            isBits(data);
          const out = call(() =>
            b.epollCtl(
              epfd as number,
              op as number,
              target as number,
              events as number,
              data as number,
            )
          );
          judge("epollCtl", valid, [], out);
        },
      ),
      RUNS,
    );
    // Optional arguments: null stands for "not passed" (the default applies).
    const optional = (a: Arg): Arg => ({
      valid: fc.option(a.valid),
      any: fc.option(a.any),
    });
    fc.assert(
      fc.property(
        args(
          optional(int(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(2 ** 32 - 1)))),
          optional(int(fc.integer({ min: 0, max: 3 }))),
        ),
        ([init, flags]) => {
          const valid = (init == null || isInt(init, 0, 2 ** 32 - 1)) &&
            (flags == null || isInt(flags, 0, 3));
          const out = call(() =>
            b.eventfdCreate((init ?? undefined) as number, (flags ?? undefined) as number)
          );
          judge("eventfdCreate", valid, [], out);
          if (out.ok) b.close(out.value as number);
        },
      ),
      RUNS,
    );
    const value = optional(int(fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constant(2 ** 53))));
    fc.assert(
      fc.property(args(fd([w.ev, w.tfd, w.udpA, w.client]), value), ([target, v]) => {
        const valid = isI32(target) && (v == null || isInt(v, 1, 2 ** 53));
        const out = call(() => b.eventfdWrite(target as number, (v ?? undefined) as number));
        judge("eventfdWrite", valid, [], out);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(args(fd([w.ev, w.tfd, w.server, w.epC])), ([target]) => {
        const t = target as number;
        judge("eventfdRead", isI32(target), [], call(() => b.eventfdRead(t)));
        judge("timerfdRead", isI32(target), [], call(() => b.timerfdRead(t)));
        judge("socketError", isI32(target), [], call(() => b.socketError(t)));
      }),
      RUNS,
    );
    const deadline = int(fc.oneof(
      fc.double({ min: 0, max: 9.2e18, noNaN: true }),
      fc.constantFrom(0, 9.2e18),
    ));
    deadline.any = fc.oneof(deadline.any, fc.constantFrom(-1, -1e-9, 9.3e18, 1e19));
    fc.assert(
      fc.property(args(fd([w.tfd, w.ev]), deadline), ([target, t]) => {
        const valid = isI32(target) && typeof t === "number" && t >= 0 && t <= 9.2e18;
        const out = call(() => b.timerfdSettime(target as number, t as number));
        judge("timerfdSettime", valid, [], out);
      }),
      RUNS,
    );
    b.timerfdSettime(w.tfd, 0);
    // close: fds that are not open, or a fresh eventfd; never one of ours or the runner's.
    const closeable = fd([]);
    closeable.valid = fc.oneof(closeable.valid, fc.constant("fresh"));
    fc.assert(
      fc.property(args(closeable), ([v]) => {
        const target = v === "fresh" ? b.eventfdCreate() : v;
        judge("close", isI32(target), [], call(() => b.close(target as number)));
      }),
      RUNS,
    );
  });
}, skipNoFfi);

test("fuzz: the signal bridge calls check their arguments (never adding an open fd here)", () => {
  // Only eventfds that are not open (negative): a real install would take over SIGINT here.
  const eventfd = fd([]);
  eventfd.valid = fc.integer({ min: -(2 ** 31), max: -1 });
  eventfd.any = eventfd.any.filter((v) => !isI32(v) || (v as number) < 0);
  const signals = other(fc.oneof(
    fc.constant(undefined),
    fc.array(fc.integer({ min: 1, max: 31 }), { maxLength: 3 }),
  ));
  signals.any = fc.oneof(
    signals.any,
    fc.array(fc.oneof(fc.integer({ min: -1, max: 40 }), junk), { maxLength: 3 }),
  );
  fc.assert(
    fc.property(args(eventfd, signals), ([e, sigs]) => {
      const valid = isI32(e) &&
        (sigs === undefined || (Array.isArray(sigs) && sigs.every((x) => isInt(x, 1, 31))));
      const out = call(() => b.signalBridgeAdd(e as number, sigs as number[]));
      judge("signalBridgeAdd", valid, [], out);
      const out2 = call(() => b.signalBridgeRemove(e as number));
      judge("signalBridgeRemove", isI32(e), [], out2);
    }),
    RUNS,
  );
  assert(isI32(b.signalBridgeLast()) && isI32(b.signalBridgeCount()));
}, skipNoFfi);

test("fuzz: addrParse writes 24 bytes into a Uint8Array, or refuses", () => {
  const host = other(fc.oneof(
    fc.constantFrom("127.0.0.1", "::1", "1.2.3.4.5", "", "fe80::1%eth0", "x".repeat(100), "\u0000"),
    fc.ipV4(),
    fc.ipV6(),
    fc.string(),
  ));
  fc.assert(
    fc.property(
      args(host, int(fc.integer({ min: 0, max: 65535 })), buf("Uint8Array", ADDR_LEN)),
      (specs) => {
        const { values, guards } = build(specs);
        const [h, port, out] = values;
        const valid = typeof h === "string" && isInt(port, 0, 65535) &&
          isView(out, Uint8Array, ADDR_LEN);
        const res = call(() => b.addrParse(h as string, port as number, out as Uint8Array));
        judge("addrParse", valid, guards, res, () => [undefined, undefined, [0, ADDR_LEN]]);
        if (res.ok) assert(res.value === 4 || res.value === 6 || res.value === -22, `${res.value}`);
      },
    ),
    RUNS,
  );
}, skipNoFfi);

test("fuzz: socket setup calls check fds, numbers and address buffers", async () => {
  await withWorld((w) => {
    fc.assert(
      fc.property(args(anyI32, anyI32), ([family, type]) => {
        const out = call(() => b.socketCreate(family as number, type as number));
        judge("socketCreate", isI32(family) && isI32(type), [], out);
        if (out.ok && (out.value as number) >= 0) b.close(out.value as number);
      }),
      RUNS,
    );
    const addr = buf("Uint8Array", ADDR_LEN, copyAddr(w.udpBAddr));
    for (const name of ["socketBind", "socketConnect"] as const) {
      fc.assert(
        fc.property(args(fd([w.udpA, w.client, w.ev]), addr), (specs) => {
          const { values, guards } = build(specs);
          const valid = isI32(values[0]) && isView(values[1], Uint8Array, ADDR_LEN);
          const out = call(() => b[name](values[0] as number, values[1] as Uint8Array));
          judge(name, valid, guards, out);
        }),
        RUNS,
      );
    }
    fc.assert(
      fc.property(
        args(fd([w.listener, w.udpA]), nullable(buf("Uint8Array", ADDR_LEN))),
        (specs) => {
          const pending = tcpSocketAt(w.listenerAddr); // something to accept
          const { values, guards } = build(specs);
          const [target, a] = values;
          const out = call(() => b.socketAccept(target as number, a as Uint8Array | null));
          const valid = isI32(target) && (a === null || isView(a, Uint8Array, ADDR_LEN));
          judge("socketAccept", valid, guards, out, () => [undefined, [0, ADDR_LEN]]);
          if (out.ok && (out.value as number) >= 0) b.close(out.value as number);
          b.close(pending);
        },
      ),
      RUNS,
    );
    fc.assert(
      fc.property(args(fd([w.listener, w.udpA, w.ev]), anyI32), ([target, backlog]) => {
        const out = call(() => b.socketListen(target as number, backlog as number));
        judge("socketListen", isI32(target) && isI32(backlog), [], out);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(
        args(
          fd([w.client, w.udpA, w.ev]),
          anyI32,
          anyI32,
          other(fc.boolean()),
          buf("Uint8Array", ADDR_LEN),
          anyI32,
        ),
        (specs) => {
          const { values, guards } = build(specs);
          const [target, opt, value, peer, out, how] = values;
          const t = target as number;
          const setValid = isI32(target) && isI32(opt) && isI32(value);
          const set = call(() => b.socketSetOption(t, opt as number, value as number));
          judge("socketSetOption", setValid, [], set);
          const get = call(() => b.socketGetOption(t, opt as number));
          judge("socketGetOption", isI32(target) && isI32(opt), [], get);
          const valid = isI32(target) && typeof peer === "boolean" &&
            isView(out, Uint8Array, ADDR_LEN);
          const res = call(() => b.socketAddress(t, peer as boolean, out as Uint8Array));
          judge(
            "socketAddress",
            valid,
            guards,
            res,
            () => [undefined, undefined, undefined, undefined, [0, ADDR_LEN]],
          );
          // Last: a shutdown changes the sockets for the calls above.
          const shut = call(() => b.socketShutdown(t, how as number));
          judge("socketShutdown", isI32(target) && isI32(how), [], shut);
        },
      ),
      RUNS,
    );
  });
}, skipNoFfi);

/** Offsets and lengths: valid ones fit the valid buffers (at least 64 bytes). */
const span = int(fc.integer({ min: 0, max: 32 }));
span.any = fc.oneof(span.any, fc.integer({ min: -2, max: 100 }));

test("fuzz: socketRecv and socketSend stay inside buf[offset, offset + len)", async () => {
  await withWorld((w) => {
    const payload = new Uint8Array(24).fill(0x5a);
    fc.assert(
      fc.property(
        fc.boolean(),
        args(fd([w.client, w.server, w.udpB, w.ev]), buf("Uint8Array", 64), span, span),
        (send, specs) => {
          b.socketSend(w.client, payload, 0, payload.length); // something to receive
          const { values, guards } = build(specs);
          const [target, data, off, len] = values;
          const valid = isI32(target) && isRange(data, off, len);
          const fn = send ? b.socketSend : b.socketRecv;
          const out = call(() =>
            fn.call(b, target as number, data as Uint8Array, off as number, len as number)
          );
          judge(send ? "socketSend" : "socketRecv", valid, guards, out, (n) => [
            undefined,
            send ? [0, 0] : [off as number, (off as number) + Math.max(0, n as number)],
          ]);
          if (out.ok) assert(isInt(out.value, -200, len as number), `${out.value}`);
        },
      ),
      RUNS,
    );
  });
}, skipNoFfi);

test("fuzz: socketRecvFrom and socketSendTo stay inside their buffers", async () => {
  await withWorld((w) => {
    const payload = new Uint8Array(24).fill(0xa5);
    const to = buf("Uint8Array", ADDR_LEN, copyAddr(w.udpBAddr));
    fc.assert(
      fc.property(
        fc.boolean(),
        args(
          fd([w.udpA, w.udpB, w.client, w.server]),
          buf("Uint8Array", 64),
          span,
          span,
          nullable(to),
        ),
        (send, specs) => {
          b.socketSendTo(w.udpA, payload, 0, payload.length, w.udpBAddr); // something to receive
          const { values, guards } = build(specs);
          const [target, data, off, len, a] = values;
          const addrOk = isView(a, Uint8Array, ADDR_LEN) || (!send && a === null);
          const valid = isI32(target) && isRange(data, off, len) && addrOk;
          const t = target as number, d = data as Uint8Array, o = off as number, l = len as number;
          const out = call(() =>
            send
              ? b.socketSendTo(t, d, o, l, a as Uint8Array)
              : b.socketRecvFrom(t, d, o, l, a as Uint8Array | null)
          );
          judge(send ? "socketSendTo" : "socketRecvFrom", valid, guards, out, (n) => [
            undefined,
            send ? [0, 0] : [o, o + Math.max(0, n as number)],
            undefined,
            undefined,
            send ? [0, 0] : [0, ADDR_LEN],
          ]);
          if (out.ok) assert(isInt(out.value, -200, l), `${out.value}`);
        },
      ),
      RUNS,
    );
  });
}, skipNoFfi);

// ------------------------------------------------------------------ the pure-JS backend

test("fuzz: the JS backend answers every call with its typed errors, whatever the arguments", async () => {
  const js: NativeBackend = new JsBackend();
  const methods = [
    "epollCreate",
    "epollCtl",
    "epollWait",
    "eventfdCreate",
    "eventfdWrite",
    "eventfdRead",
    "timerfdCreate",
    "timerfdSettime",
    "timerfdRead",
    "close",
    "signalBridgeAdd",
    "signalBridgeRemove",
    "addrParse",
    "socketCreate",
    "socketBind",
    "socketListen",
    "socketAccept",
    "socketConnect",
    "socketError",
    "socketRecv",
    "socketSend",
    "socketRecvFrom",
    "socketSendTo",
    "socketShutdown",
    "socketSetOption",
    "socketGetOption",
    "socketAddress",
  ] as const;
  const anyArg = fc.oneof(anyI32.any, buf("Uint8Array", 24).any, junk);
  fc.assert(
    fc.property(fc.constantFrom(...methods), fc.array(anyArg, { maxLength: 5 }), (m, specs) => {
      const { values } = build(specs);
      const out = call(() => (js[m] as (...a: unknown[]) => unknown).apply(js, values));
      assert(
        !out.ok && out.error instanceof UnsupportedError,
        `${m}: ${out.ok ? "returned" : describeError(out.error)}`,
      );
      assertEquals(out.error.code, "UNSUPPORTED");
    }),
    RUNS,
  );
  const rejected = await callAsync(() => js.epollWaitAsync(NaN, new Int32Array(2), 1, 0, null));
  assert(!rejected.ok && rejected.error instanceof UnsupportedError);
  assertEquals(js.signalBridgeLast(), 0);
  assertEquals(js.signalBridgeCount(), 0);
});
