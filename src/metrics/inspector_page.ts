/**
 * The inspector's page and style sheet, shipped as strings in the package (no build step, no
 * file to find at run time, nothing fetched from the network). The script is in
 * `inspector_script.ts`.
 *
 * @module
 */

/** The inspector's HTML. */
export const INSPECTOR_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wavelet inspector</title>
<link rel="stylesheet" href="/inspector.css">
</head>
<body>
<header>
  <h1>wavelet <span>inspector</span></h1>
  <dl class="kpis">
    <div><dt>cycles</dt><dd id="cycles">-</dd></div>
    <div><dt>cycles/s</dt><dd id="cps">-</dd></div>
    <div><dt>node runs/s</dt><dd id="rps">-</dd></div>
    <div><dt>nodes</dt><dd id="nodes">-</dd></div>
  </dl>
  <span id="status" class="status">connecting</span>
</header>
<main>
  <div class="left">
  <section id="graph-pane" aria-label="graph">
    <svg id="graph" xmlns="http://www.w3.org/2000/svg"></svg>
    <p id="graph-note"></p>
    <p class="legend">
      <span class="swatch trigger"></span>trigger edge
      <span class="swatch observe"></span>observe edge
      <span class="swatch rate"></span>shade: runs/s (log scale)
    </p>
  </section>
  <section id="charts" aria-label="histograms">
    <figure id="chart-cycle"><figcaption>cycle duration</figcaption><svg></svg><p class="q"></p></figure>
    <figure id="chart-notify"><figcaption>notify &rarr; run</figcaption><svg></svg><p class="q"></p></figure>
    <figure id="chart-timer"><figcaption>timer lateness</figcaption><svg></svg><p class="q"></p></figure>
    <figure id="channels"><figcaption>channels</figcaption><table><thead><tr><th>channel</th>
      <th>depth</th><th>dropped</th><th>lost</th></tr></thead><tbody></tbody></table></figure>
  </section>
  </div>
  <aside id="detail" aria-label="node">
    <h2 id="detail-title">Select a node</h2>
    <div id="detail-body"><p class="hint">Click a node of the graph to see its runs, time,
    parents and children, and why it ran recently.</p></div>
  </aside>
</main>
<script src="/inspector.js"></script>
</body>
</html>
`;

/** The inspector's style sheet. */
export const INSPECTOR_CSS: string = `
:root { --bg: #f6f7f9; --panel: #fff; --ink: #1d2433; --muted: #6b7385; --line: #d9dde5;
  --trigger: #3b5bdb; --observe: #9aa3b5; --sel: #e8590c; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--ink); background: var(--bg); }
header { display: flex; align-items: center; gap: 24px; padding: 10px 18px;
  background: #1d2433; color: #fff; }
h1 { margin: 0; font-size: 17px; font-weight: 650; letter-spacing: .2px; }
h1 span { font-weight: 400; color: #aab4c8; }
.kpis { display: flex; gap: 22px; margin: 0; }
.kpis div { display: flex; flex-direction: column; }
.kpis dt { font-size: 10px; text-transform: uppercase; letter-spacing: .6px; color: #aab4c8; }
.kpis dd { margin: 0; font-size: 16px; font-variant-numeric: tabular-nums; }
.status { margin-left: auto; font-size: 12px; padding: 2px 8px; border-radius: 10px;
  background: #495267; }
.status.live { background: #2b8a3e; }
.status.down { background: #c92a2a; }
main { display: grid; grid-template-columns: minmax(0, 1fr) 360px; gap: 12px; padding: 12px 18px;
  align-items: start; }
.left { display: flex; flex-direction: column; gap: 12px; min-width: 0; }
#graph-pane, aside, figure { background: var(--panel); border: 1px solid var(--line);
  border-radius: 8px; }
#graph-pane { overflow: auto; min-height: 200px; max-height: 60vh; padding: 8px; }
#graph { display: block; }
#graph-note { margin: 4px 8px; color: var(--muted); }
.legend { margin: 4px 8px; color: var(--muted); font-size: 12px; }
.swatch { display: inline-block; width: 22px; height: 0; margin: 0 6px 3px 14px;
  vertical-align: middle; border-top: 2px solid var(--trigger); }
.swatch.observe { border-top: 2px dashed var(--observe); }
.swatch.rate { height: 10px; border: 0; border-radius: 2px;
  background: linear-gradient(90deg, #eef2f8, #ffd8a8, #f76707); }
.node rect { fill: #eef2f8; stroke: #8b95a9; stroke-width: 1; rx: 6; }
.node { cursor: pointer; }
.node text { font-size: 12px; fill: var(--ink); pointer-events: none; }
.node text.rate { font-size: 10px; fill: #2d3445; opacity: .8; }
.node.selected rect { stroke: var(--sel); stroke-width: 2.5; }
.node:hover rect { stroke: var(--ink); }
.edge { fill: none; stroke-width: 1.6; }
.edge.trigger { stroke: var(--trigger); }
.edge.observe { stroke: var(--observe); stroke-dasharray: 5 4; opacity: .8; }
aside { padding: 10px 14px; overflow: auto; max-height: calc(100vh - 90px); position: sticky;
  top: 12px; }
aside h2 { margin: 2px 0 8px; font-size: 15px; }
.hint { color: var(--muted); }
.facts { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin: 0 0 10px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; font-variant-numeric: tabular-nums; }
aside h3 { margin: 12px 0 4px; font-size: 12px; text-transform: uppercase;
  letter-spacing: .6px; color: var(--muted); }
aside ul { margin: 0; padding-left: 16px; }
aside li a { color: var(--trigger); cursor: pointer; text-decoration: underline; }
.kind { font-size: 11px; color: var(--muted); }
.trace li { font-family: ui-monospace, Menlo, monospace; font-size: 11px; }
#charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 12px; }
figure { margin: 0; padding: 8px 12px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
figure svg { width: 100%; height: 110px; display: block; }
figure.node-hist { border: none; padding: 0; background: none; }
figure .q { margin: 4px 0 0; color: var(--muted); font-variant-numeric: tabular-nums; }
.bar { fill: #4c6ef5; }
.axis { font-size: 9px; fill: var(--muted); }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: 2px 4px; border-bottom: 1px solid var(--line); }
th:first-child, td:first-child { text-align: left; }
`;
