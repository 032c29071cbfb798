/**
 * The wavelet demo: a market-data pipeline on the realtime runtime.
 *
 * Producer Workers publish order-book updates (a random walk of bid/ask prices and sizes for a
 * few symbols), each stamped with the shared monotonic clock, through a ring channel into the
 * graph: mid price, spread and imbalance per update (a diamond joined by the sink, which
 * measures update-to-sink latency into a histogram), one-second VWAP bars closed by a timer,
 * and a TCP server that streams every closed bar as a line to each connected client. A live
 * view refreshes every 250 ms from a timer node. After the run (10 s by default) it runs the
 * same computation on plain host-event-loop code (postMessage and setInterval: a 1 s warm-up
 * and 3 s of measurement) and prints both latency distributions side by side, so a default run
 * takes about 15 s. Ctrl-C or SIGTERM stops the graph gracefully (every node's onDrop runs),
 * skips the baseline and prints the summary, in which every update the producers made is
 * accounted for: processed, dropped by the ring, in flight at stop, refused after the stop.
 *
 *     npm run demo                 (Deno; or: deno task demo, bun run demo)
 *     deno run -A examples/demo.ts [--seconds 10] [--port 0] [--producers 2] [--rate 100000]
 *                                  [--host-seconds 3] [--warmup 1] [--overflow drop|block]
 *                                  [--capacity 8192] [--http PORT]
 *                                  [--record FILE | --replay FILE]
 *
 * `--http PORT` serves the metrics endpoint on 127.0.0.1:PORT (0: a free port) while the graph
 * runs: the live inspector at `/`, Prometheus text at `/metrics` (a run with it is not recorded:
 * its sockets would be part of the graph a replay needs).
 *
 * `--record FILE` records the run's stimuli; `--replay FILE` rebuilds the same graph on a
 * historical runtime and replays them, without Workers or sockets, and prints the same bars and
 * the same digest of their values. The replay builds every node the live run had (the view and
 * stop nodes with no-op callbacks, a stand-in for the TCP server), since a log only replays into
 * a graph with its fingerprint. Sockets are not recorded, so a run during which a client
 * connected cannot be replayed: the replay stops with a ReplayError naming `tcp-client`.
 *
 * @module
 */

import process from "node:process";
import { readFileSync, statSync } from "node:fs";
import { ExecutionMode, HistoricalRuntime, RealtimeRuntime } from "../mod.ts";
import { fileSink } from "../replay.ts";
import { Overflow } from "../channel.ts";
import { TcpListener } from "../net.ts";
import { serveMetrics } from "../metrics.ts";
import type { ProducerReport, ProducerStart } from "./demo_producer.ts";
import { type Bar, type BarBook, formatBar } from "./demo/bars.ts";
import { buildDemoGraph, type DemoGraph } from "./demo/graph.ts";
import { Histogram } from "../observe.ts";
import { formatNs } from "./demo/format.ts";
import { type HostLoopResult, runHostLoop } from "./demo/host_loop.ts";
import { sharedClock, SYMBOLS } from "./demo/market.ts";

// ------------------------------------------------------------------ options

interface Options {
  seconds: number;
  port: number;
  producers: number;
  rate: number;
  hostSeconds: number;
  warmup: number;
  overflow: Overflow;
  capacity: number;
  http?: number;
  record?: string;
  replay?: string;
}

function usage(message: string): never {
  console.error(`demo: ${message}`);
  console.error(
    "usage: demo [--seconds N] [--port P] [--producers 1-4] [--rate UPDATES_PER_S] " +
      "[--host-seconds N] [--warmup S] [--overflow drop|block] [--capacity N] [--http PORT] " +
      "[--record FILE | --replay FILE]",
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    seconds: 10,
    port: 0,
    producers: 2,
    rate: 100_000,
    hostSeconds: NaN,
    warmup: NaN,
    overflow: Overflow.DropOldest,
    capacity: 8192,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    const num = (min: number, max: number): number => {
      const v = Number(value());
      if (!(v >= min && v <= max)) usage(`${a} must be a number in [${min}, ${max}]`);
      return v;
    };
    if (a === "--seconds") o.seconds = num(0.1, 86_400);
    else if (a === "--port") o.port = Math.round(num(0, 65535));
    else if (a === "--producers") o.producers = Math.round(num(1, 4));
    else if (a === "--rate") o.rate = num(1, 10_000_000);
    else if (a === "--host-seconds") o.hostSeconds = num(0, 3600);
    else if (a === "--warmup") o.warmup = num(0, 3600);
    else if (a === "--capacity") o.capacity = Math.round(num(16, 1 << 22));
    else if (a === "--http") o.http = Math.round(num(0, 65535));
    else if (a === "--overflow") {
      const v = value();
      if (v === "drop") o.overflow = Overflow.DropOldest;
      else if (v === "block") o.overflow = Overflow.Block;
      else usage("--overflow is drop or block");
    } else if (a === "--record") o.record = value();
    else if (a === "--replay") o.replay = value();
    else if (a === "--help" || a === "-h") usage("help");
    else usage(`unknown argument ${a}`);
  }
  if (o.record !== undefined && o.replay !== undefined) usage("--record or --replay, not both");
  if (o.http !== undefined && (o.record ?? o.replay) !== undefined) {
    usage("--http cannot be combined with --record or --replay");
  }
  if (Number.isNaN(o.hostSeconds)) o.hostSeconds = Math.min(3, o.seconds);
  if (Number.isNaN(o.warmup)) o.warmup = Math.min(1, o.seconds / 4);
  return o;
}

// ------------------------------------------------------------------ output helpers

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtimeName = typeof g.Bun !== "undefined"
  ? `Bun ${g.Bun.version}`
  : `Deno ${g.Deno?.version?.deno ?? "?"}`;
const isTTY = process.stdout.isTTY === true;
const int = (n: number) => Math.round(n).toLocaleString("en-US");

function latencyLine(h: Histogram): string {
  return `p50 ${formatNs(h.percentile(50))}  p99 ${formatNs(h.percentile(99))}  p99.9 ${
    formatNs(h.percentile(99.9))
  }  max ${formatNs(h.snapshot().max)}  (n=${int(h.count)})`;
}

function printBars(book: BarBook, last = Infinity): void {
  const bars = book.all;
  const from = Math.max(0, bars.length - last);
  if (from > 0) console.log(`  ... ${from} earlier bars`);
  for (let i = from; i < bars.length; i++) console.log(`  ${formatBar(bars[i])}`);
}

/**
 * A command that prints what a TCP port sends: netcat when it is on the PATH, else bash's
 * /dev/tcp (netcat is not installed everywhere; Debian: apt-get install netcat-openbsd).
 */
function tcpClientHint(port: number): string {
  const dirs = (process.env.PATH ?? "").split(":").filter((d) => d !== "");
  for (const name of ["nc", "ncat", "netcat"]) {
    for (const d of dirs) {
      try {
        if (statSync(`${d}/${name}`).isFile()) return `try: ${name} 127.0.0.1 ${port}`;
      } catch {
        // not in this directory
      }
    }
  }
  return `try: bash -c 'cat < /dev/tcp/127.0.0.1/${port}'; nc is not on the PATH`;
}

// ------------------------------------------------------------------ replay

function replay(file: string): void {
  const log = readFileSync(file);
  console.log(`wavelet demo: replaying ${file} (${int(log.length)} bytes) on ${runtimeName}`);
  console.log("  a HistoricalRuntime rebuilds the graph; no Workers, no sockets, no wall clock\n");
  const h = new HistoricalRuntime({ startUnixNanos: 0n, endUnixNanos: 0n });
  // The same nodes as the live run: its view and stop nodes (inert here) and a stand-in server.
  const graph = buildDemoGraph(h.executor, { onView: () => {}, onStop: () => {} });
  const t0 = performance.now();
  const cycles = h.replayLog(new Uint8Array(log.buffer, log.byteOffset, log.byteLength));
  const ms = performance.now() - t0;
  const st = graph.state;
  console.log(
    `replayed ${int(cycles)} cycles in ${ms.toFixed(0)} ms: ${int(st.updates)} updates, ` +
      `${int(st.dropped)} dropped, glitches ${st.glitches}`,
  );
  console.log(`bars (${st.book.all.length}, 1 s each):`);
  printBars(st.book);
  console.log(`bars digest ${st.book.digest}  (${st.book.all.length} bars)`);
}

// ------------------------------------------------------------------ live

async function live(o: Options): Promise<void> {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const backend = rt.backend;
  const clock = sharedClock(backend);
  const hist = new Histogram();
  const listener = TcpListener.bind(rt, "127.0.0.1", o.port);
  const port = listener.localAddress.port;
  const recentBars: Bar[] = [];
  let t0 = clock(); // reset when the graph starts running

  // The live view, drawn by the graph's view node (the host event loop is blocked meanwhile).
  let lastView = t0, lastCycles = 0, lastUpdates = 0, lastPrint = t0, drawn = 0;
  const built: { graph?: DemoGraph } = {}; // the view runs only once the graph is built
  const view = (now: number) => {
    const st = built.graph!.state;
    const cycles = rt.executor.epoch;
    const dt = (now - lastView) / 1e9;
    if (dt <= 0) return;
    const cps = (cycles - lastCycles) / dt, ups = (st.updates - lastUpdates) / dt;
    lastView = now;
    lastCycles = cycles;
    lastUpdates = st.updates;
    const elapsed = (now - t0) / 1e9;
    if (!isTTY) {
      if (now - lastPrint < 0.95e9) return;
      lastPrint = now;
      console.log(
        `[${elapsed.toFixed(1)}s] cycles/s ${int(cps)}  updates/s ${int(ups)}  latency p50 ${
          formatNs(hist.percentile(50))
        } p99 ${formatNs(hist.percentile(99))} p99.9 ${formatNs(hist.percentile(99.9))}  drops ${
          int(st.dropped)
        }  clients ${st.clients.size}  bars ${st.book.all.length}`,
      );
      return;
    }
    const width = 30;
    const filled = Math.round(Math.min(1, elapsed / o.seconds) * width);
    const lines = [
      `wavelet demo [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${
        elapsed.toFixed(1)
      } / ${o.seconds} s   (Ctrl-C stops)`,
      `  cycles/s ${int(cps).padStart(9)}   updates/s ${int(ups).padStart(9)}   updates/cycle ${
        cps > 0 ? (ups / cps).toFixed(1) : "-"
      }`,
      `  latency  ${hist.count > 0 ? latencyLine(hist) : `(warming up for ${o.warmup} s)`}`,
      `  drops ${
        int(st.dropped)
      }   clients ${st.clients.size}   bars ${st.book.all.length}   glitches ${st.glitches}`,
      `  last bars:`,
    ];
    for (let i = 0; i < SYMBOLS.length; i++) {
      const b = recentBars[recentBars.length - SYMBOLS.length + i];
      lines.push(b === undefined ? "" : `    ${formatBar(b)}`);
    }
    // Move the cursor up over the previous frame and redraw it line by line.
    const up = drawn > 0 ? `\x1b[${drawn}A` : "";
    console.log(up + lines.map((l) => `\x1b[2K${l}`).join("\n"));
    drawn = lines.length;
  };

  const graph = built.graph = buildDemoGraph(rt.executor, {
    capacity: o.capacity,
    overflow: o.overflow,
    latencyClock: clock,
    histogram: hist,
    listener,
    onView: view,
    onStop: () => rt.shutdown(), // ends runForever() after this cycle
    stopAfterNs: o.seconds * 1e9,
    onBars: (bars) => {
      for (const b of bars) recentBars.push(b);
      if (recentBars.length > 64) recentBars.splice(0, recentBars.length - 64);
    },
  });
  if (o.record !== undefined) rt.startRecording(fileSink(o.record));
  rt.enableGracefulShutdown();
  // The metrics endpoint: nodes of this graph, served on the runtime's sockets while it runs.
  const server = o.http === undefined ? null : serveMetrics(rt, { port: o.http });
  if (server !== null) {
    const st = graph.state;
    server.metrics.channel("book", { depth: () => st.depth, dropped: () => st.dropped });
    server.metrics.gauge("demo_clients", "TCP clients reading bars.", () => st.clients.size);
    // Every node's data age (wavelet_node_data_age_seconds, per node in /metrics and in the
    // inspector's node panel) comes from the endpoint's registry: the ring stamps each record
    // the producers send (one trySend each), and the ages follow the graph from "book" down.
  }

  console.log(
    `wavelet demo on ${runtimeName} (${
      backend.hasEpoll ? "native epoll backend" : "pure-JS backend"
    }): ${o.producers} producer Workers, ${int(o.rate)} updates/s, ${SYMBOLS.join(" ")}, ${
      o.overflow === Overflow.Block ? "blocking" : "drop-oldest"
    } ring of ${int(o.capacity)}`,
  );
  const baseline = o.hostSeconds > 0 ? o.warmup + o.hostSeconds : 0;
  console.log(
    `runs ${o.seconds} s${
      baseline > 0 ? `, then the same computation on the host event loop for ${baseline} s` : ""
    }; Ctrl-C or SIGTERM stops it early and still prints the summary`,
  );
  console.log(`bars stream on tcp://127.0.0.1:${port}  (${tcpClientHint(port)})`);
  if (server !== null) {
    console.log(`inspector on ${server.url}  (Prometheus: ${server.url}metrics)`);
  }
  if (o.record !== undefined) console.log(`recording to ${o.record}`);
  console.log("");

  // The producers.
  const stop = new SharedArrayBuffer(4);
  const workers: Worker[] = [];
  const started: Promise<void>[] = [];
  const reports: Promise<ProducerReport>[] = [];
  for (let p = 0; p < o.producers; p++) {
    const w = new Worker(new URL("./demo_producer.ts", import.meta.url).href, { type: "module" });
    workers.push(w);
    let onStarted!: () => void;
    started.push(new Promise((r) => (onStarted = r)));
    reports.push(
      new Promise((resolve, reject) => {
        w.onmessage = (e: MessageEvent) => {
          if (e.data === "started") onStarted();
          else if (e.data?.done) resolve(e.data);
        };
        w.onerror = (e) => {
          e.preventDefault();
          onStarted();
          reject(new Error(`producer ${p} failed: ${e.message}`));
        };
      }),
    );
    const start: ProducerStart = {
      mode: "ring",
      sender: graph.tx.toTransferable(),
      producer: p,
      symbols: [...SYMBOLS.keys()].filter((s) => s % o.producers === p),
      ratePerSec: o.rate / o.producers,
      stop,
      native: backend.hasEpoll,
      mainOriginMs: performance.timeOrigin,
    };
    w.postMessage(start);
  }
  graph.tx.close(); // the Workers hold the senders now
  await Promise.all(started);

  // The graph owns this thread until the stop node, Ctrl-C or SIGTERM ends it.
  const wallStart = t0 = lastView = lastPrint = clock();
  graph.state.latencyFromNs = wallStart + o.warmup * 1e9;
  rt.runForever();
  const ranS = (clock() - wallStart) / 1e9;
  Atomics.store(new Int32Array(stop), 0, 1);
  const settled = await Promise.race([
    Promise.allSettled(reports),
    new Promise<null>((r) => setTimeout(() => r(null), 2000)),
  ]);
  for (const w of workers) w.terminate();
  const signal = rt.stoppedBySignal;
  const st = graph.state;
  const stats = rt.executor.stats();
  // Every update a producer made is accounted for: processed by the graph, dropped by the
  // ring (drop-oldest), still in the ring when the graph stopped, refused after the stop (the
  // ring closed with the graph), or timed out on a full ring (--overflow block).
  let made = 0, sent = 0, full = 0, refused = 0, reported = 0;
  for (const r of settled ?? []) {
    if (r.status === "fulfilled") {
      reported++;
      made += r.value.made;
      sent += r.value.sent;
      full += r.value.full;
      refused += r.value.refused;
    } else console.error(`demo: ${r.reason}`);
  }
  const dropped = graph.tx.dropped; // final: the producers have stopped
  const inFlight = sent - st.updates - dropped;

  // The host-loop baseline (skipped after Ctrl-C).
  let host: HostLoopResult | undefined;
  if (signal === 0 && o.hostSeconds > 0) {
    console.log(
      `\nhost-loop baseline: the same computation on postMessage + setInterval for ${o.hostSeconds} s after a ${o.warmup} s warm-up ...`,
    );
    let abort!: () => void;
    const aborted = new Promise<void>((r) => (abort = r));
    process.on("SIGINT", abort);
    process.on("SIGTERM", abort);
    host = await runHostLoop({
      seconds: o.hostSeconds,
      warmupSeconds: o.warmup,
      producers: o.producers,
      ratePerSec: o.rate,
      native: backend.hasEpoll,
      clock,
      abort: aborted,
    });
    process.off("SIGINT", abort);
    process.off("SIGTERM", abort);
  }

  // The summary.
  const signalName = signal === 2 ? "SIGINT" : signal === 15 ? "SIGTERM" : `signal ${signal}`;
  console.log(
    `\n== summary (${runtimeName}, ${backend.hasEpoll ? "native" : "pure-JS"} backend) ==`,
  );
  console.log(`ran ${ranS.toFixed(2)} s${signal !== 0 ? ` (stopped by ${signalName})` : ""}`);
  console.log(
    `updates ${int(st.updates)} (${int(st.updates / ranS)}/s), dropped ${int(dropped)}, ` +
      `glitches ${st.glitches}`,
  );
  if (reported === o.producers) {
    console.log(
      `producers made ${int(made)} updates = ${int(st.updates)} processed + ${
        int(dropped)
      } dropped by the ring + ${int(inFlight)} in flight at stop (left in the ring) + ${
        int(refused)
      } refused after the stop + ${int(full)} timed out on a full ring`,
    );
  } else {
    console.log(`producers: ${o.producers - reported} of ${o.producers} did not report`);
  }
  console.log(
    `shut down: ${st.released} of ${st.nodeCount} graph nodes left the graph (onDrop ran)`,
  );
  console.log(
    `cycles ${int(stats.cycles)} (${int(stats.cycles / ranS)}/s), node runs ${
      int(stats.nodeRuns)
    }, ${(st.updates / Math.max(1, stats.cycles)).toFixed(1)} updates/cycle`,
  );
  console.log(`latency update->sink (after a ${o.warmup} s warm-up): ${latencyLine(hist)}`);
  console.log(`bars (${st.book.all.length}, 1 s each):`);
  printBars(st.book, 2 * SYMBOLS.length);
  console.log(`bars digest ${st.book.digest}  (${st.book.all.length} bars)`);
  if (o.record !== undefined) {
    console.log(
      `recorded ${o.record} (${int(statSync(o.record).size)} bytes); ` +
        `replay: deno run -A examples/demo.ts --replay ${o.record}`,
    );
  }
  if (host !== undefined) {
    const hh = host.histogram;
    console.log(`\nupdate-to-handler latency on ${runtimeName}: wavelet graph vs host event loop`);
    const rows: [string, string, string][] = [
      ["", "wavelet (ring, Park)", "host loop (postMessage)"],
      ["updates", int(hist.count), int(hh.count)],
      ["p50", formatNs(hist.percentile(50)), formatNs(hh.percentile(50))],
      ["p99", formatNs(hist.percentile(99)), formatNs(hh.percentile(99))],
      ["p99.9", formatNs(hist.percentile(99.9)), formatNs(hh.percentile(99.9))],
      ["max", formatNs(hist.snapshot().max), formatNs(hh.snapshot().max)],
    ];
    for (const [a, b, c] of rows) {
      console.log(`  ${a.padEnd(8)} ${b.padStart(21)} ${c.padStart(24)}`);
    }
    console.log(
      `  (host loop: ${host.seconds.toFixed(1)} s, ${
        int(host.messages)
      } messages, ${host.book.all.length} bars)`,
    );
  }
}

// ------------------------------------------------------------------ main

const opts = parseArgs(process.argv.slice(2));
if (opts.replay !== undefined) replay(opts.replay);
else await live(opts);
process.exit(0);
