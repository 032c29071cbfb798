/**
 * Hand-written SVG charts for `bench/RESULTS.md`: horizontal grouped bar charts on a log scale,
 * with reference lines. No plotting library; the output is plain SVG text.
 *
 * @module
 */

/** One bar series (a color and a legend entry). */
export interface Series {
  name: string;
  color: string;
}

/** One row of bars: one value per series (NaN or undefined leaves a gap). */
export interface Row {
  label: string;
  values: (number | undefined)[];
  /** Starts a new group: a header line above the row. */
  group?: string;
}

/** A vertical reference line. */
export interface RefLine {
  value: number;
  label: string;
  color?: string;
}

/** A horizontal bar chart. */
export interface BarChart {
  title: string;
  subtitle?: string;
  /** Axis label under the ticks. */
  axis: string;
  series: Series[];
  rows: Row[];
  /** Formats a value for the bar ends (and the ticks, unless `tickFormat` is given). */
  format: (v: number) => string;
  /** Formats a tick label. */
  tickFormat?: (v: number) => string;
  refLines?: RefLine[];
  /** Fixed domain; default: the data's, widened to the nearest 1-2-5 steps. */
  min?: number;
  max?: number;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** 1-2-5 steps on a log scale, covering [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  // Over more than two decades, powers of ten only (the labels would collide).
  const steps = hi / lo > 300 ? [1] : [1, 2, 5];
  for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)) + 1; e++) {
    for (const m of steps) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out;
}

function niceDown(v: number): number {
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [5, 2, 1]) if (m * e <= v) return m * e;
  return e;
}

function niceUp(v: number): number {
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}

/** Renders a chart as an SVG document. */
export function barChart(c: BarChart): string {
  const values = c.rows.flatMap((r) => r.values).filter((v): v is number =>
    v !== undefined && Number.isFinite(v) && v > 0
  );
  const refs = c.refLines ?? [];
  const all = [...values, ...refs.map((r) => r.value)];
  const lo = c.min ?? niceDown(Math.min(...all));
  const hi = c.max ?? niceUp(Math.max(...all));
  const labelW = 300, plotW = 520, rightW = 70, width = labelW + plotW + rightW;
  const barH = 9, barGap = 1, rowGap = 7, groupH = 20;
  const top = 58 + (c.subtitle ? 16 : 0);
  const x = (v: number) =>
    labelW + (Math.log10(Math.min(Math.max(v, lo), hi) / lo) / Math.log10(hi / lo)) * plotW;
  const parts: string[] = [];
  let y = top;
  for (const row of c.rows) {
    if (row.group !== undefined) {
      y += 4;
      parts.push(
        `<text x="8" y="${y + 12}" font-weight="bold" font-size="12">${esc(row.group)}</text>`,
      );
      y += groupH;
    }
    const rowH = c.series.length * (barH + barGap);
    parts.push(
      `<text x="${labelW - 8}" y="${y + rowH / 2 + 4}" text-anchor="end" font-size="11">${
        esc(row.label)
      }</text>`,
    );
    row.values.forEach((v, i) => {
      const by = y + i * (barH + barGap);
      if (v === undefined || !Number.isFinite(v) || v <= 0) {
        parts.push(
          `<text x="${labelW + 4}" y="${by + barH - 1}" font-size="9" fill="#888">n/a</text>`,
        );
        return;
      }
      const w = Math.max(1, x(v) - labelW);
      parts.push(
        `<rect x="${labelW}" y="${by}" width="${w.toFixed(1)}" height="${barH}" fill="${
          c.series[i].color
        }"><title>${esc(`${row.label} (${c.series[i].name}): ${c.format(v)}`)}</title></rect>`,
        `<text x="${(labelW + w + 3).toFixed(1)}" y="${by + barH - 1}" font-size="9">${
          esc(c.format(v))
        }</text>`,
      );
    });
    y += rowH + rowGap;
  }
  const bottom = y;
  const grid: string[] = [];
  for (const t of logTicks(lo, hi)) {
    const tx = x(t).toFixed(1);
    grid.push(
      `<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${bottom}" stroke="#ddd"/>`,
      `<text x="${tx}" y="${bottom + 14}" text-anchor="middle" font-size="10">${
        esc((c.tickFormat ?? c.format)(t))
      }</text>`,
    );
  }
  for (const r of refs) {
    const rx = x(r.value).toFixed(1);
    const color = r.color ?? "#c00";
    grid.push(
      `<line x1="${rx}" y1="${
        top - 6
      }" x2="${rx}" y2="${bottom}" stroke="${color}" stroke-dasharray="4 3"/>`,
      `<text x="${rx}" y="${top - 9}" text-anchor="middle" font-size="10" fill="${color}">${
        esc(r.label)
      }</text>`,
    );
  }
  const legend = c.series.map((s, i) => {
    const lx = labelW + i * Math.floor((plotW + rightW) / c.series.length);
    return `<rect x="${lx}" y="${bottom + 26}" width="10" height="10" fill="${s.color}"/>` +
      `<text x="${lx + 14}" y="${bottom + 35}" font-size="11">${esc(s.name)}</text>`;
  });
  const height = bottom + 48;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="20" font-size="15" font-weight="bold">${esc(c.title)}</text>`,
    c.subtitle ? `<text x="8" y="38" font-size="11" fill="#444">${esc(c.subtitle)}</text>` : "",
    ...grid,
    ...parts,
    `<text x="${labelW - 24}" y="${bottom + 14}" text-anchor="end" font-size="10" fill="#444">${
      esc(c.axis)
    }</text>`,
    ...legend,
    `</svg>`,
    "",
  ].filter((l) => l !== "").join("\n");
}
