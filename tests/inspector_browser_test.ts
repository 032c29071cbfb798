// The inspector in a real browser: headless Chromium (Debian's `chromium`) opens the inspector
// of a running graph, and the test reads the page's DOM: every node name is drawn, edges are
// drawn by kind, counters advance between two reads, and selecting a node shows why it ran.
// Once for a graph under run() in this process, once for the demo (`--http`, under
// runForever() in a child process), whose /metrics must also pass promtool.
import { Control, ExecutionMode } from "../src/core/control.ts";
import { NodeBuilder } from "../src/core/builder.ts";
import { ms } from "../src/core/time.ts";
import { RealtimeRuntime } from "../src/runtime/realtime.ts";
import { serveMetrics } from "../src/metrics/server.ts";
import { assert, assertEquals, test } from "./_harness.ts";
import { Browser } from "./_chromium.ts";
import { runtimeArgs } from "./_child.ts";
import { promtoolCheck } from "./_promtool.ts";
import { start } from "./_spawn.ts";

const NAMES =
  `Array.from(document.querySelectorAll("#graph .node")).map((g) => g.getAttribute("data-name"))`;
const RUNS = `Object.fromEntries(Array.from(document.querySelectorAll("#graph .node"))
  .map((g) => [g.getAttribute("data-name"), Number(g.getAttribute("data-runs"))]))`;
const CYCLES = `Number(document.getElementById("cycles").textContent)`;

/** Reads the page twice, a second apart: names, cycles and per-node runs. */
async function twoReads(b: Browser) {
  const names = (await b.eval<string[]>(NAMES)).sort();
  const runs1 = await b.eval<Record<string, number>>(RUNS);
  const cycles1 = await b.eval<number>(CYCLES);
  await new Promise((r) => setTimeout(r, 1200));
  const runs2 = await b.eval<Record<string, number>>(RUNS);
  const cycles2 = await b.eval<number>(CYCLES);
  return { names, runs1, runs2, cycles1, cycles2 };
}

test("Chromium shows every node of a graph running under run(), and its counters advance", async () => {
  const rt = new RealtimeRuntime({ mode: ExecutionMode.Park });
  const ex = rt.executor;
  const feed = new NodeBuilder(0).named("feed").onInit((e, s) => e.yieldNow(s))
    .build(ex, (self, ctx) => {
      self.value++;
      ctx.registerTimerAfter(self, ms(2));
      return Control.Broadcast;
    });
  const a = new NodeBuilder(0).named("left <arm>").triggeredBy(feed).build(ex, () => true);
  const b = new NodeBuilder(0).named('right "arm"').triggeredBy(feed).build(ex, () => true);
  const join = new NodeBuilder(0).named("join").triggeredBy(a, b).observerOf(feed)
    .build(ex, () => true);
  new NodeBuilder(0).named("report").triggeredBy(join).build(ex, () => false);
  new NodeBuilder(0).named("idle").observerOf(join).build(ex, () => false);
  const expected = ["feed", "left <arm>", 'right "arm"', "join", "report", "idle"].sort();
  const server = serveMetrics(rt, { pushEveryMs: 200 });
  const running = rt.run();
  const browser = await Browser.launch();
  try {
    await browser.open(server.url);
    await browser.waitFor(`document.querySelectorAll("#graph .node").length === 6`);
    await browser.waitFor(`${CYCLES} > 0`);
    const r = await twoReads(browser);
    assertEquals(r.names, expected, "every node name, and only the graph's nodes");
    assert(r.cycles2 > r.cycles1, `cycles ${r.cycles1} -> ${r.cycles2}`);
    for (const name of ["feed", "left <arm>", 'right "arm"', "join", "report"]) {
      assert(r.runs2[name] > r.runs1[name], `${name}: runs ${r.runs1[name]} -> ${r.runs2[name]}`);
    }
    assertEquals(r.runs2.idle, 0, "an observer alone never runs");
    // Edges by kind: 5 trigger edges, 2 observe edges (join observes feed, idle observes join).
    assertEquals(
      await browser.eval<number>(`document.querySelectorAll(".edge.trigger").length`),
      5,
    );
    assertEquals(
      await browser.eval<number>(`document.querySelectorAll(".edge.observe").length`),
      2,
    );
    // Left to right by depth: feed, then the arms, then join, then report and idle.
    const x = await browser.eval<Record<string, number>>(`Object.fromEntries(Array.from(
      document.querySelectorAll("#graph .node")).map((g) => [g.getAttribute("data-name"),
      g.transform.baseVal.consolidate().matrix.e]))`);
    assert(x.feed < x["left <arm>"] && x["left <arm>"] === x['right "arm"'], JSON.stringify(x));
    assert(x['right "arm"'] < x.join && x.join < x.report && x.report === x.idle);
    // Selecting a node shows its details and, soon, why it ran.
    await browser.eval(
      `document.querySelector('#graph .node[data-name="join"]').dispatchEvent(new MouseEvent("click"))`,
    );
    await browser.waitFor(`document.getElementById("detail-title").textContent === "join"`);
    await browser.waitFor(`document.querySelectorAll("#detail .trace li").length >= 2`);
    const reasons = await browser.eval<string>(
      `document.querySelector("#detail .trace").textContent`,
    );
    assert(/trigger left <arm>#\d+, trigger right "arm"#\d+/.test(reasons), reasons);
    const parents = await browser.eval<string>(
      `document.querySelector("#detail-body").textContent`,
    );
    assert(parents.includes("feed observe") && parents.includes("report trigger"), parents);
    // The histograms have values.
    const cycleSummary = await browser.eval<string>(
      `document.querySelector("#chart-cycle .q").textContent`,
    );
    assert(/^p50 .* p99 .* n \d/.test(cycleSummary), cycleSummary);
  } finally {
    await browser.close();
    rt.shutdown();
    await running;
  }
});

test("the demo with --http: its inspector shows the demo graph live and /metrics passes promtool", async () => {
  const demo = new URL("../examples/demo.ts", import.meta.url).pathname;
  const child = start(runtimeArgs(demo, [
    "--seconds",
    "60",
    "--host-seconds",
    "0",
    "--rate",
    "20000",
    "--http",
    "0",
  ]));
  let browser: Browser | null = null;
  try {
    const [, url] = await child.waitFor(/inspector on (http:\/\/\S+)/);
    const text = await (await fetch(new URL("/metrics", url))).text();
    const check = await promtoolCheck(text);
    assertEquals(check.code, 0, check.out);
    assert(text.includes('wavelet_channel_depth{channel="book"}'), "the ring is probed");
    browser = await Browser.launch();
    await browser.open(url);
    await browser.waitFor(`document.querySelectorAll("#graph .node").length >= 10`);
    await browser.waitFor(`${CYCLES} > 0`);
    const r = await twoReads(browser);
    for (
      const name of [
        "book",
        "mid",
        "spread",
        "imbalance",
        "sink",
        "bars",
        "publish",
        "tcp-listener",
        "view",
        "stop",
      ]
    ) assert(r.names.includes(name), `${name} is drawn: ${r.names}`);
    assert(r.cycles2 > r.cycles1, `cycles ${r.cycles1} -> ${r.cycles2}`);
    assert(r.runs2.sink > r.runs1.sink, `sink runs ${r.runs1.sink} -> ${r.runs2.sink}`);
    // Data age is on in the endpoint's registry: the sink's panel shows its histogram, with
    // values (the ring stamps what the producers publish), and /metrics has its series.
    assert(text.includes("# TYPE wavelet_node_data_age_seconds histogram"), "the family");
    await browser.eval(
      `document.querySelector('#graph .node[data-name="sink"]').dispatchEvent(new MouseEvent("click"))`,
    );
    const AGE = `document.querySelector(
      '#detail-body figure[data-metric="wavelet_node_data_age_seconds"]')`;
    await browser.waitFor(`${AGE} !== null && ${AGE}.querySelector("svg rect") !== null &&
      ${AGE}.querySelector(".q").textContent.includes("p50")`);
    assert(
      (await browser.eval<string>(`${AGE}.querySelector("h3").textContent`)).includes("data age"),
    );
    const again = await (await fetch(new URL("/metrics", url))).text();
    assert(/wavelet_node_data_age_seconds_count\{node="sink"\} [1-9]/.test(again), "sink ages");
    assert(/wavelet_node_data_age_seconds_count\{node="book"\} [1-9]/.test(again), "book ages");
  } finally {
    await browser?.close();
    child.kill("SIGINT");
  }
  assertEquals(await child.exited, 0, child.output());
  assert(child.output().includes("== summary"), child.output());
});
