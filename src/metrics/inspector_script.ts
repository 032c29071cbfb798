/**
 * The inspector's browser script, shipped as a string (plain ES2020, no modules, no
 * dependencies). It lays the graph out left to right by depth (nodes in a column ordered by
 * the mean position of their parents, then of their children, a few sweeps), draws Trigger
 * edges solid and Observe edges dashed, shades nodes by their run rate, and follows
 * `/events` for live counters; a selected node is read from `/api/node` on each update.
 *
 * @module
 */

/** The inspector's script. */
export const INSPECTOR_JS: string = String.raw`"use strict";
(function () {
  var SVGNS = "http://www.w3.org/2000/svg";
  var COLW = 190, ROWH = 46, BOXW = 150, BOXH = 32, PAD = 24;
  var graph = null, version = -1, byId = {}, prev = null, selected = null, rates = {};
  var bounds = [];

  function $(id) { return document.getElementById(id); }
  function el(name, attrs, parent) {
    var e = document.createElementNS(SVGNS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmtCount(n) {
    if (n >= 1e9) return (n / 1e9).toFixed(2) + "G";
    if (n >= 1e6) return (n / 1e6).toFixed(2) + "M";
    if (n >= 1e4) return (n / 1e3).toFixed(1) + "k";
    return String(Math.round(n));
  }
  function fmtNs(ns) {
    if (!(ns >= 0)) return "-";
    if (ns < 1e3) return ns.toFixed(0) + " ns";
    if (ns < 1e6) return (ns / 1e3).toFixed(ns < 1e4 ? 2 : 1) + " \u00b5s";
    if (ns < 1e9) return (ns / 1e6).toFixed(ns < 1e7 ? 2 : 1) + " ms";
    return (ns / 1e9).toFixed(2) + " s";
  }
  function fmtAxis(ns) {
    if (ns < 1e3) return ns + "ns";
    if (ns < 1e6) return ns / 1e3 + "\u00b5s";
    if (ns < 1e9) return ns / 1e6 + "ms";
    return ns / 1e9 + "s";
  }
  function label(n) { return n.name === null ? "node#" + n.id : n.name; }

  // ------------------------------------------------------------------ layout

  function layout(g) {
    var cols = [], i, n;
    byId = {};
    for (i = 0; i < g.nodes.length; i++) {
      n = g.nodes[i];
      n.children = [];
      byId[n.id] = n;
      (cols[n.depth] = cols[n.depth] || []).push(n);
    }
    for (i = 0; i < g.nodes.length; i++) {
      n = g.nodes[i];
      for (var p = 0; p < n.parents.length; p++) {
        var par = byId[n.parents[p][0]];
        if (par) par.children.push(n);
      }
    }
    for (var d = 0; d < cols.length; d++) cols[d] = cols[d] || [];
    function place(col) { for (var k = 0; k < col.length; k++) col[k].row = k; }
    cols.forEach(place);
    function mean(list, fallback) {
      if (list.length === 0) return fallback;
      var s = 0;
      for (var k = 0; k < list.length; k++) s += list[k].row;
      return s / list.length;
    }
    function parentsOf(n) {
      var out = [];
      for (var k = 0; k < n.parents.length; k++) if (byId[n.parents[k][0]]) out.push(byId[n.parents[k][0]]);
      return out;
    }
    // Barycenter sweeps: down by parents, up by children; ties keep the id order.
    for (var sweep = 0; sweep < 4; sweep++) {
      for (d = 1; d < cols.length; d++) {
        cols[d].forEach(function (m) { m.key = mean(parentsOf(m), m.row); });
        cols[d].sort(function (a, b) { return a.key - b.key || a.id - b.id; });
        place(cols[d]);
      }
      for (d = cols.length - 2; d >= 0; d--) {
        cols[d].forEach(function (m) { m.key = mean(m.children, m.row); });
        cols[d].sort(function (a, b) { return a.key - b.key || a.id - b.id; });
        place(cols[d]);
      }
    }
    var rows = 0;
    cols.forEach(function (c) { rows = Math.max(rows, c.length); });
    cols.forEach(function (c) {
      var offset = (rows - c.length) * ROWH / 2;
      c.forEach(function (m) {
        m.x = PAD + m.depth * COLW;
        m.y = PAD + offset + m.row * ROWH;
      });
    });
    return { width: PAD * 2 + Math.max(1, cols.length) * COLW - (COLW - BOXW), height: PAD * 2 + rows * ROWH };
  }

  function draw(g) {
    var size = layout(g), svg = $("graph");
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute("width", size.width);
    svg.setAttribute("height", size.height);
    var defs = el("defs", {}, svg);
    var m1 = el("marker", { id: "arrow-t", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", fill: "#3b5bdb" }, m1);
    var m2 = el("marker", { id: "arrow-o", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10", fill: "none", stroke: "#9aa3b5", "stroke-width": "1.5" }, m2);
    var edges = el("g", { "class": "edges" }, svg);
    g.nodes.forEach(function (n) {
      n.parents.forEach(function (pr) {
        var p = byId[pr[0]];
        if (!p) return;
        var x1 = p.x + BOXW, y1 = p.y + BOXH / 2, x2 = n.x - 2, y2 = n.y + BOXH / 2;
        var mx = (x1 + x2) / 2;
        var kind = pr[1] === 0 ? "trigger" : "observe";
        el("path", {
          "class": "edge " + kind,
          "data-from": p.id, "data-to": n.id,
          d: "M" + x1 + "," + y1 + " C" + mx + "," + y1 + " " + mx + "," + y2 + " " + x2 + "," + y2,
          "marker-end": kind === "trigger" ? "url(#arrow-t)" : "url(#arrow-o)"
        }, edges);
      });
    });
    var nodes = el("g", { "class": "nodes" }, svg);
    g.nodes.forEach(function (n) {
      var grp = el("g", { "class": "node", "data-id": n.id, "data-name": label(n), "data-runs": "0", transform: "translate(" + n.x + "," + n.y + ")" }, nodes);
      var title = el("title", {}, grp);
      title.textContent = label(n) + " (id " + n.id + ", depth " + n.depth + ")";
      n.rect = el("rect", { width: BOXW, height: BOXH }, grp);
      var t = el("text", { "class": "name", x: 8, y: 14 }, grp);
      var name = label(n);
      t.textContent = name.length > 21 ? name.slice(0, 20) + "\u2026" : name;
      n.rateText = el("text", { "class": "rate", x: 8, y: 27 }, grp);
      n.g = grp;
      grp.addEventListener("click", function () { select(n.id); });
    });
    $("graph-note").textContent = g.total > g.nodes.length
      ? "showing the first " + g.nodes.length + " of " + g.total + " nodes"
      : g.total + " nodes";
    if (selected !== null && !byId[selected]) select(null);
    else if (selected !== null) byId[selected].g.classList.add("selected");
  }

  // ------------------------------------------------------------------ live counters

  function shade(rate, max) {
    if (!(rate > 0)) return "#eef2f8";
    var f = Math.log(1 + rate) / Math.log(1 + Math.max(max, 1));
    // #eef2f8 -> #ffd8a8 -> #f76707
    var a = [238, 242, 248], b = [255, 216, 168], c = [247, 103, 7], lo, hi, t;
    if (f < 0.5) { lo = a; hi = b; t = f * 2; } else { lo = b; hi = c; t = (f - 0.5) * 2; }
    var rgb = [0, 1, 2].map(function (k) { return Math.round(lo[k] + (hi[k] - lo[k]) * t); });
    return "rgb(" + rgb.join(",") + ")";
  }

  function update(s) {
    bounds = s.bounds;
    if (s.version !== version) {
      version = s.version;
      fetch("/api/graph").then(function (r) { return r.json(); }).then(function (g) {
        graph = g;
        version = g.version;
        draw(g);
        applyRates(s, s);
      });
    }
    $("cycles").textContent = String(s.cycles);
    $("nodes").textContent = String(s.visible);
    if (prev !== null && s.t > prev.t) {
      var dt = (s.t - prev.t) / 1000;
      $("cps").textContent = fmtCount((s.cycles - prev.cycles) / dt);
      var before = {}, total = 0;
      prev.runs.forEach(function (r) { before[r[0]] = r[1]; });
      s.runs.forEach(function (r) {
        var d = r[1] - (before[r[0]] || 0);
        rates[r[0]] = d > 0 ? d / dt : 0;
        total += d > 0 ? d : 0;
      });
      $("rps").textContent = fmtCount(total / dt);
    }
    applyRates(s, prev);
    chart("chart-cycle", s.histograms.cycle);
    chart("chart-notify", s.histograms.notify);
    chart("chart-timer", s.histograms.timer);
    channels(s.channels);
    prev = s;
    if (selected !== null) loadDetail(selected);
  }

  function applyRates(s) {
    if (graph === null) return;
    var max = 0;
    for (var id in rates) max = Math.max(max, rates[id]);
    s.runs.forEach(function (r) {
      var n = byId[r[0]];
      if (!n || !n.g) return;
      n.g.setAttribute("data-runs", String(r[1]));
      n.rect.style.fill = shade(rates[r[0]] || 0, max);
      n.rateText.textContent = fmtCount(rates[r[0]] || 0) + "/s \u00b7 " + fmtCount(r[1]) + " runs";
    });
  }

  // ------------------------------------------------------------------ histograms

  function quantile(h, q) {
    if (!h || h.count === 0) return NaN;
    var rank = q * h.count, seen = 0;
    for (var i = 0; i < h.counts.length; i++) {
      var c = h.counts[i];
      if (c > 0 && seen + c >= rank) {
        var lo = i === 0 ? 0 : bounds[i - 1];
        if (i === h.counts.length - 1) return lo;
        return lo + (bounds[i] - lo) * Math.max(0, rank - seen) / c;
      }
      seen += c;
    }
    return bounds[bounds.length - 1];
  }

  function drawHistogram(svg, h) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var w = svg.clientWidth || 260, hgt = 110, base = hgt - 16, n = bounds.length + 1;
    var bw = w / n, max = 0, i;
    if (!h) return;
    for (i = 0; i < n; i++) max = Math.max(max, h.counts[i]);
    for (i = 0; i < n; i++) {
      var v = h.counts[i], bh = max > 0 ? Math.max(v > 0 ? 1.5 : 0, (base - 4) * v / max) : 0;
      var r = el("rect", { "class": "bar", x: i * bw + 1, y: base - bh, width: Math.max(1, bw - 2), height: bh }, svg);
      var t = el("title", {}, r);
      t.textContent = (i < bounds.length ? "\u2264 " + fmtNs(bounds[i]) : "> " + fmtNs(bounds[bounds.length - 1])) + ": " + v;
    }
    [2, 5, 8, 11, 14, 17, 20, 23].forEach(function (k) {
      var tx = el("text", { "class": "axis", x: k * bw + bw / 2, y: hgt - 3, "text-anchor": "middle" }, svg);
      tx.textContent = fmtAxis(bounds[k]);
    });
  }

  function summary(h) {
    if (!h) return "not measured";
    if (h.count === 0) return "no values yet";
    return "p50 " + fmtNs(quantile(h, 0.5)) + " \u00b7 p99 " + fmtNs(quantile(h, 0.99)) +
      " \u00b7 mean " + fmtNs(h.sumNs / h.count) + " \u00b7 n " + fmtCount(h.count);
  }

  function chart(id, h) {
    var fig = $(id);
    drawHistogram(fig.querySelector("svg"), h);
    fig.querySelector(".q").textContent = summary(h);
  }

  function channels(list) {
    var body = document.querySelector("#channels tbody");
    while (body.firstChild) body.removeChild(body.firstChild);
    if (list.length === 0) {
      var tr0 = document.createElement("tr"), td0 = document.createElement("td");
      td0.colSpan = 4;
      td0.textContent = "none registered";
      tr0.appendChild(td0);
      body.appendChild(tr0);
    }
    list.forEach(function (c) {
      var tr = document.createElement("tr");
      [c.name, c.depth, c.dropped, c.lost].forEach(function (v, k) {
        var td = document.createElement("td");
        td.textContent = v === null ? "-" : k === 0 ? v : fmtCount(v);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  // ------------------------------------------------------------------ the selected node

  function select(id) {
    if (selected !== null && byId[selected] && byId[selected].g) byId[selected].g.classList.remove("selected");
    selected = id;
    if (id === null) {
      $("detail-title").textContent = "Select a node";
      return;
    }
    if (byId[id] && byId[id].g) byId[id].g.classList.add("selected");
    loadDetail(id);
  }

  function loadDetail(id) {
    fetch("/api/node?id=" + id).then(function (r) {
      if (!r.ok) throw new Error("gone");
      return r.json();
    }).then(function (d) {
      if (selected === id) showDetail(d);
    }).catch(function () {
      if (selected === id) {
        $("detail-title").textContent = "node#" + id + " left the graph";
        $("detail-body").textContent = "";
      }
    });
  }

  function refList(title, list, box) {
    var h = document.createElement("h3");
    h.textContent = title;
    box.appendChild(h);
    var ul = document.createElement("ul");
    if (list.length === 0) {
      var li0 = document.createElement("li");
      li0.textContent = "none";
      ul.appendChild(li0);
    }
    list.forEach(function (r) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.textContent = r.name === null ? "node#" + r.id : r.name;
      a.addEventListener("click", function () { select(r.id); });
      li.appendChild(a);
      var k = document.createElement("span");
      k.className = "kind";
      k.textContent = " " + r.kind;
      li.appendChild(k);
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }

  function showDetail(d) {
    $("detail-title").textContent = (d.name === null ? "node#" + d.id : d.name);
    var box = $("detail-body");
    while (box.firstChild) box.removeChild(box.firstChild);
    var facts = document.createElement("dl");
    facts.className = "facts";
    var rate = rates[d.id] || 0;
    [["id", d.id], ["depth", d.depth], ["runs", fmtCount(d.runs)], ["runs/s", fmtCount(rate)],
      ["time", fmtNs(d.timeNs)], ["mean run", d.runs > 0 ? fmtNs(d.timeNs / d.runs) : "-"]]
      .forEach(function (f) {
        var dt = document.createElement("dt"), dd = document.createElement("dd");
        dt.textContent = f[0];
        dd.textContent = String(f[1]);
        if (f[0] === "runs") dd.id = "detail-runs";
        facts.appendChild(dt);
        facts.appendChild(dd);
      });
    box.appendChild(facts);
    // The node's histograms (its data age among them) right under its run and time facts.
    d.histograms.forEach(function (hist) {
      var fig = document.createElement("figure");
      fig.className = "node-hist";
      fig.setAttribute("data-metric", hist.name);
      var h3 = document.createElement("h3");
      // The built-in data age gets a plain title; the metric name stays in the tooltip.
      h3.textContent = hist.name === "wavelet_node_data_age_seconds"
        ? "data age (run start \u2212 ingest)"
        : hist.name;
      h3.title = hist.name + ": " + hist.help;
      fig.appendChild(h3);
      var svg = document.createElementNS(SVGNS, "svg");
      svg.setAttribute("width", "300");
      svg.setAttribute("height", "110");
      fig.appendChild(svg);
      drawHistogram(svg, hist.snapshot);
      var p = document.createElement("p");
      p.className = "hint q";
      p.textContent = summary(hist.snapshot);
      fig.appendChild(p);
      box.appendChild(fig);
    });
    refList("parents", d.parents, box);
    refList("children", d.children, box);
    var h = document.createElement("h3");
    h.textContent = "why it ran (latest last)";
    box.appendChild(h);
    var ul = document.createElement("ul");
    ul.className = "trace";
    if (d.trace.length === 0) {
      var li0 = document.createElement("li");
      li0.textContent = "tracing: waiting for its next runs";
      ul.appendChild(li0);
    }
    d.trace.slice(-10).forEach(function (e) {
      var li = document.createElement("li");
      li.textContent = "cycle " + e.epoch + ": " + e.reasons.join(", ");
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }

  // ------------------------------------------------------------------ the stream

  function connect() {
    var es = new EventSource("/events");
    es.addEventListener("stats", function (e) {
      $("status").textContent = "live";
      $("status").className = "status live";
      update(JSON.parse(e.data));
    });
    es.onerror = function () {
      $("status").textContent = "disconnected";
      $("status").className = "status down";
    };
  }
  connect();
})();
`;
