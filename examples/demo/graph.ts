/**
 * The demo's graph, built on any executor (realtime, historical or test runtime):
 *
 *     book (ring channel) ─┬─> mid ───────┐
 *                          ├─> spread ────┼─> sink (joins the three; latency) ─> bars ─> publish
 *                          └─> imbalance ─┘                                (1 s timer)
 *
 * plus a `tcp-listener` node (a real TCP server, or a stand-in with the same name when there is
 * no socket, as in a replay), a `view` node on a 250 ms timer and a `stop` node (each only when
 * its callback is given; a replay gives no-op ones, so that its graph has the recorded one's
 * fingerprint).
 *
 * The book node drains up to {@linkcode MAX_BATCH} updates per cycle into a columnar batch; mid,
 * spread and imbalance are computed per update over that batch, and the sink joins the three
 * per update. Everything the bars depend on comes from the channel's records and the cycle
 * time, both of which a recording captures, so a replay reproduces the bars bit for bit.
 *
 * @module
 */

import { Control, type Executor, type Node, NodeBuilder } from "../../mod.ts";
import {
  Framing,
  type TcpConnection,
  tcpConnectionNode,
  type TcpListener,
  tcpListenerNode,
} from "../../net.ts";
import { channel, Overflow, RecvStatus, type RingSender } from "../../channel.ts";
import { type Bar, BarBook, formatBar } from "./bars.ts";
import type { Histogram } from "../../observe.ts";
import { BAR_NS, newUpdate, SYMBOLS, Update } from "./market.ts";

/** Most updates the book node takes from the ring per cycle. */
export const MAX_BATCH = 512;

/** A cycle's worth of updates, column by column. */
export class Batch {
  /** Bumped every time the book node fills a new batch. */
  seq = 0;
  /** Updates in the batch. */
  n = 0;
  readonly sym: Int32Array = new Int32Array(MAX_BATCH);
  readonly bid: Float64Array = new Float64Array(MAX_BATCH);
  readonly ask: Float64Array = new Float64Array(MAX_BATCH);
  readonly bidSize: Float64Array = new Float64Array(MAX_BATCH);
  readonly askSize: Float64Array = new Float64Array(MAX_BATCH);
  readonly stamp: Float64Array = new Float64Array(MAX_BATCH);
}

/** A per-update derived column, tagged with the batch it was computed from. */
export interface Column {
  seq: number;
  v: Float64Array;
}

/** Options of {@linkcode buildDemoGraph}. */
export interface DemoGraphOptions {
  /** Ring capacity in updates (default 8192). */
  capacity?: number;
  /** Ring overflow policy (default `Overflow.DropOldest`). */
  overflow?: Overflow;
  /**
   * The clock the sink reads to measure update-to-sink latency into `histogram` (the clock the
   * producers stamp with). Leave out to skip measuring (a replay: it is wall-clock time).
   */
  latencyClock?: () => number;
  /** Where latencies go (needed with `latencyClock`). */
  histogram?: Histogram;
  /** A listening socket to serve bars on; without one a stand-in node keeps the name. */
  listener?: TcpListener;
  /** Called from the `view` node every `viewEveryNs` (no view node without it). */
  onView?: (nowNs: number) => void;
  /** View period (default 250 ms). */
  viewEveryNs?: number;
  /** Called from the `stop` node `stopAfterNs` after the first cycle (no stop node without it). */
  onStop?: () => void;
  /** Run length for the stop node. */
  stopAfterNs?: number;
  /** Called with the bars each time some close. */
  onBars?: (bars: Bar[]) => void;
}

/** Counters and results the graph keeps. */
export interface DemoState {
  /** Updates taken from the ring. */
  updates: number;
  /** Updates the ring dropped (drop-oldest policy). */
  dropped: number;
  /** Updates left in the ring after the book node's last run. */
  depth: number;
  /** Times the sink saw parents from different batches (never, in a glitch-free graph). */
  glitches: number;
  /** The sink records latencies measured at or after this clock reading (a warm-up). */
  latencyFromNs: number;
  /** Whether every producer closed its sender. */
  closed: boolean;
  /** The bars. */
  book: BarBook;
  /** Connected TCP clients. */
  clients: Set<TcpConnection>;
  /** Nodes of the graph (not counting per-connection subgraphs). */
  nodeCount: number;
  /** Of those, how many left the graph (their `onDrop` ran): all of them after a shutdown. */
  released: number;
  /** Last mid/spread/imbalance per symbol, as joined by the sink. */
  last: { mid: Float64Array; spread: Float64Array; imbalance: Float64Array };
}

/** What {@linkcode buildDemoGraph} returns. */
export interface DemoGraph {
  /** The ring channel's sender: hand `tx.toTransferable()` to producer Workers. */
  tx: RingSender<typeof Update.fields>;
  /** Counters and results. */
  state: DemoState;
  /** The nodes, by name. */
  nodes: Record<string, Node<unknown>>;
}

const enc = new TextEncoder();

/** Builds the demo graph on `ex` (between cycles). */
export function buildDemoGraph(ex: Executor, options: DemoGraphOptions = {}): DemoGraph {
  const st: DemoState = {
    updates: 0,
    dropped: 0,
    depth: 0,
    glitches: 0,
    latencyFromNs: 0,
    closed: false,
    book: new BarBook(),
    clients: new Set(),
    nodeCount: 0,
    released: 0,
    last: {
      mid: new Float64Array(SYMBOLS.length),
      spread: new Float64Array(SYMBOLS.length),
      imbalance: new Float64Array(SYMBOLS.length),
    },
  };
  const rec = newUpdate();

  // The source: drains the ring into a columnar batch.
  const [book, tx] = new NodeBuilder(new Batch()).named("book").buildWith(
    ex,
    channel({
      kind: "ring",
      record: Update,
      capacity: options.capacity ?? 8192,
      overflow: options.overflow ?? Overflow.DropOldest,
    }),
    (self, _ctx, rx) => {
      const b = self.value;
      let n = 0;
      while (n < MAX_BATCH) {
        const s = rx.tryRecv(rec);
        if (s !== RecvStatus.Item) {
          if (s === RecvStatus.Closed) st.closed = true;
          break;
        }
        b.sym[n] = rec.sym;
        b.bid[n] = rec.bid;
        b.ask[n] = rec.ask;
        b.bidSize[n] = rec.bidSize;
        b.askSize[n] = rec.askSize;
        b.stamp[n] = rec.stamp;
        n++;
      }
      st.dropped = rx.dropped;
      st.depth = rx.length;
      if (n === 0) return Control.Unchanged;
      b.n = n;
      b.seq++;
      st.updates += n;
      return Control.Broadcast; // updates left in the ring: the channel runs this again next cycle
    },
  );
  const batch = book.value;

  // Three per-update computations over the batch: the arms of the diamond. (Each loop is
  // written out rather than passed as a callback: a callback returning a double that V8 does
  // not inline boxes every result, which would allocate per update.)
  const column = (name: string, fill: (b: Batch, out: Float64Array) => void): Node<Column> =>
    new NodeBuilder<Column>({ seq: 0, v: new Float64Array(MAX_BATCH) })
      .named(name)
      .triggeredBy(book)
      .build(ex, (self) => {
        const c = self.value;
        fill(batch, c.v);
        c.seq = batch.seq;
        return Control.Broadcast;
      });
  const mid = column("mid", (b, out) => {
    for (let i = 0; i < b.n; i++) out[i] = (b.bid[i] + b.ask[i]) / 2;
  });
  const spread = column("spread", (b, out) => {
    for (let i = 0; i < b.n; i++) out[i] = b.ask[i] - b.bid[i];
  });
  const imbalance = column("imbalance", (b, out) => {
    for (let i = 0; i < b.n; i++) {
      out[i] = (b.bidSize[i] - b.askSize[i]) / (b.bidSize[i] + b.askSize[i]);
    }
  });

  // The join: runs once per batch, after all three arms (never with half of them updated).
  const hist = options.histogram;
  const clock = options.latencyClock;
  const sink = new NodeBuilder(0)
    .named("sink")
    .triggeredBy(mid, spread, imbalance)
    .observerOf(book) // reads the batch's symbols and stamps
    .build(ex, (self) => {
      const seq = batch.seq;
      if (mid.value.seq !== seq || spread.value.seq !== seq || imbalance.value.seq !== seq) {
        st.glitches++;
      }
      const m = mid.value.v, s = spread.value.v, im = imbalance.value.v, last = st.last;
      for (let i = 0; i < batch.n; i++) {
        const sym = batch.sym[i];
        last.mid[sym] = m[i];
        last.spread[sym] = s[i];
        last.imbalance[sym] = im[i];
      }
      if (clock !== undefined && hist !== undefined) {
        const now = clock();
        if (now >= st.latencyFromNs) {
          for (let i = 0; i < batch.n; i++) hist.record(now - batch.stamp[i]);
        }
      }
      self.value = seq;
      return Control.Broadcast;
    });

  // One-second bars, closed by a timer; the first run (a yield) starts the clock.
  let nextClose = -1;
  let closed: Bar[] = [];
  const bars = new NodeBuilder(0)
    .named("bars")
    .triggeredBy(sink)
    .observerOf(book, mid, spread, imbalance) // reads the batch and the columns
    .onInit((e, self) => e.yieldNow(self))
    .build(ex, (self, ctx) => {
      const now = ctx.time.monotonicNs;
      let didClose = false, arm = false;
      if (nextClose < 0) {
        nextClose = now + BAR_NS;
        arm = true;
      } else if (now >= nextClose) {
        closed = [];
        while (now >= nextClose) {
          for (const b of st.book.closeBars()) closed.push(b);
          nextClose += BAR_NS;
        }
        didClose = arm = true;
      }
      if (ctx.hasMutated(sink)) {
        const m = mid.value.v, s = spread.value.v, im = imbalance.value.v;
        for (let i = 0; i < batch.n; i++) {
          st.book.add(batch.sym[i], m[i], s[i], im[i], batch.bidSize[i] + batch.askSize[i]);
        }
      }
      if (arm) ctx.registerTimer(self, nextClose);
      if (!didClose) return Control.Unchanged;
      self.value = st.book.closes;
      return Control.Broadcast;
    });

  // Streams each closed bar as a line to every connected client.
  const publish = new NodeBuilder(0)
    .named("publish")
    .triggeredBy(bars)
    .build(ex, (self) => {
      for (const b of closed) {
        const line = enc.encode(formatBar(b) + "\n");
        for (const c of st.clients) c.write(line);
      }
      self.value += closed.length;
      options.onBars?.(closed);
      return Control.Broadcast;
    });

  // The TCP server (or a stand-in with its name, so that a replay has the same graph).
  let listenerNode: Node<unknown>;
  if (options.listener !== undefined) {
    listenerNode = tcpListenerNode(ex, options.listener, (e, stream) => {
      const conn = tcpConnectionNode(e, stream, {
        name: "tcp-client",
        framing: Framing.Lines,
        onClose: (c) => st.clients.delete(c),
      });
      conn.value.write(enc.encode(`# wavelet demo: one line per closed 1 s bar\n`));
      st.clients.add(conn.value);
    }, { name: "tcp-listener" });
  } else {
    listenerNode = new NodeBuilder(0).named("tcp-listener").build(ex, () => Control.Unchanged);
  }
  const nodes: Record<string, Node<unknown>> = {
    book,
    mid,
    spread,
    imbalance,
    sink,
    bars,
    publish,
    "tcp-listener": listenerNode,
  };

  if (options.onView !== undefined) {
    const every = options.viewEveryNs ?? 250e6;
    const onView = options.onView;
    nodes.view = new NodeBuilder(0)
      .named("view")
      .onInit((e, self) => e.yieldNow(self))
      .build(ex, (self, ctx) => {
        const now = ctx.time.monotonicNs;
        onView(now);
        self.value++;
        ctx.registerTimer(self, now + every);
        return Control.Unchanged;
      });
  }
  if (options.onStop !== undefined) {
    const after = options.stopAfterNs ?? 10e9;
    const onStop = options.onStop;
    nodes.stop = new NodeBuilder(-1)
      .named("stop")
      .onInit((e, self) => e.yieldNow(self))
      .build(ex, (self, ctx) => {
        if (self.value < 0) {
          self.value = ctx.time.monotonicNs + after;
          ctx.registerTimer(self, self.value);
        } else onStop();
        return Control.Unchanged;
      });
  }
  for (const n of Object.values(nodes)) {
    st.nodeCount++;
    ex.own(n, () => st.released++); // runs as the node leaves the graph, next to its onDrop
  }
  return { tx, state: st, nodes };
}
