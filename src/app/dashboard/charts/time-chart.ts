/**
 * The dashboard's charts: a pure function of buckets to an SVG string, drawn on the server so
 * the page needs no script. Bars and lines share one frame: a y axis from 0 to a round maximum
 * with its label and ticks, an x axis with a label every few buckets. Every data point is an
 * element with `data-value` (and a `<title>` for a pointer), so people and tests can read them.
 * Colours come from the stylesheet's classes (the CSP allows no inline style).
 */

export interface Series {
  name: string;
  values: readonly number[];
  /** Bars for counts per bucket, a line with points for a level. */
  as: 'bar' | 'line';
}

export interface TimeChart {
  /** Unique in the page: the ids of the title and description derive from it. */
  id: string;
  title: string;
  /** One label per bucket (e.g. `14:00`, `2026-12-01`). */
  buckets: readonly string[];
  series: readonly Series[];
  xLabel: string;
  yLabel: string;
  /** How a value reads in a tooltip and on the axis (default: as is). */
  format?: (value: number) => string;
}

const W = 640;
const H = 220;
const PAD = { left: 64, right: 12, top: 12, bottom: 44 };

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
const n = (v: number) => String(Math.round(v * 10) / 10);

/** The smallest "round" number (1, 2 or 5 times a power of ten) at or above `v`; 1 for nothing. */
export function niceCeiling(v: number): number {
  if (!(v > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 5, 10]) if (step * power >= v - 1e-9) return step * power;
  return 10 * power;
}

export function timeChart(chart: TimeChart): string {
  const fmt = chart.format ?? ((v: number) => String(v));
  const count = chart.buckets.length;
  const max = niceCeiling(Math.max(0, ...chart.series.flatMap((s) => s.values)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, count);
  const x = (i: number) => PAD.left + slot * i + slot / 2;
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const bars = chart.series.filter((s) => s.as === 'bar');
  const barW = (slot * 0.8) / Math.max(1, bars.length);

  const parts: string[] = [];
  // The y axis: 0, half and the maximum (no half of a count).
  const counts = chart.series.every((s) => s.values.every(Number.isInteger));
  for (const tick of counts && !Number.isInteger(max / 2) ? [0, max] : [0, max / 2, max]) {
    parts.push(
      `<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${n(y(tick))}" y2="${n(y(tick))}"/>`,
      `<text class="tick" x="${PAD.left - 6}" y="${n(y(tick) + 4)}" text-anchor="end">${escape(fmt(tick))}</text>`,
    );
  }
  // The x axis: at most eight labels, evenly spaced, always the last one.
  const every = Math.max(1, Math.ceil(count / 8));
  chart.buckets.forEach((label, i) => {
    if (i % every === 0 || i === count - 1) {
      parts.push(`<text class="tick" x="${n(x(i))}" y="${H - PAD.bottom + 16}" text-anchor="middle">${escape(label)}</text>`);
    }
  });
  parts.push(
    `<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${n(y(0))}" y2="${n(y(0))}"/>`,
    `<line class="axis" x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${n(y(0))}"/>`,
    `<text class="axis-label" x="${PAD.left + plotW / 2}" y="${H - 6}" text-anchor="middle">${escape(chart.xLabel)}</text>`,
    `<text class="axis-label" x="14" y="${PAD.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 14 ${PAD.top + plotH / 2})">${escape(chart.yLabel)}</text>`,
  );
  chart.series.forEach((s, si) => {
    const cls = `series-${si}`;
    const tip = (i: number) => `<title>${escape(`${s.name}, ${chart.buckets[i]}: ${fmt(s.values[i] ?? 0)}`)}</title>`;
    if (s.as === 'bar') {
      const offset = -slot * 0.4 + barW * bars.indexOf(s);
      s.values.forEach((v, i) => {
        parts.push(
          `<rect class="point bar ${cls}" data-value="${v}" x="${n(x(i) + offset)}" y="${n(y(v))}" width="${n(barW)}" height="${n(y(0) - y(v))}">${tip(i)}</rect>`,
        );
      });
    } else {
      const path = s.values.map((v, i) => `${i === 0 ? 'M' : 'L'}${n(x(i))},${n(y(v))}`).join(' ');
      parts.push(`<path class="line ${cls}" d="${path}"/>`);
      s.values.forEach((v, i) => {
        parts.push(`<circle class="point dot ${cls}" data-value="${v}" cx="${n(x(i))}" cy="${n(y(v))}" r="3">${tip(i)}</circle>`);
      });
    }
  });
  const legend = chart.series.map((s, si) => `<tspan class="legend series-${si}">■ ${escape(s.name)}</tspan>`).join(' ');
  // Counts per bucket add up; a level (a line) reads as its peak.
  const total = chart.series
    .map((s) =>
      s.as === 'bar'
        ? `${s.name}: ${fmt(s.values.reduce((a, b) => a + b, 0))} in total`
        : `${s.name}: at most ${fmt(Math.max(0, ...s.values))}`,
    )
    .join('; ');
  return (
    `<svg class="chart" id="${escape(chart.id)}" viewBox="0 0 ${W} ${H + 16}" role="img" aria-labelledby="${escape(chart.id)}-title ${escape(chart.id)}-desc" xmlns="http://www.w3.org/2000/svg">` +
    `<title id="${escape(chart.id)}-title">${escape(chart.title)}</title>` +
    `<desc id="${escape(chart.id)}-desc">${escape(`${chart.buckets.length} buckets. ${total}.`)}</desc>` +
    parts.join('') +
    `<text class="legend-row" x="${PAD.left}" y="${H + 12}">${legend}</text>` +
    `</svg>`
  );
}
