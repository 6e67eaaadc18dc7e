/**
 * The provisioning curve as an SVG line chart: latency (log scale, ms) against concurrency (one
 * evenly spaced column per level measured), one line per series, and a dashed horizontal line at
 * the target. Pure: data in, SVG text out, so the chart is tested without a benchmark run.
 */

export interface CurveSeries {
  name: string;
  /** One value per level of `CurveChart.levels` (ms); NaN or undefined where it was not measured. */
  values: (number | undefined)[];
  color: string;
  /** Dashed lines for the p99 of a series whose p50 is solid, say. */
  dashed?: boolean;
}

export interface CurveChart {
  title: string;
  levels: number[];
  series: CurveSeries[];
  /** The target line, ms (350 for create plus first query). */
  targetMs: number;
  xLabel: string;
  yLabel: string;
}

const WIDTH = 880;
const HEIGHT = 460;
const MARGIN = { top: 40, right: 290, bottom: 56, left: 72 };

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Ticks of a log axis: 1, 2, 5 per decade between the bounds. */
function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let decade = 10 ** Math.floor(Math.log10(min)); decade <= max; decade *= 10) {
    for (const m of [1, 2, 5]) {
      const t = decade * m;
      if (t >= min && t <= max) ticks.push(t);
    }
  }
  return ticks;
}

const measured = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && v > 0;

export function curveSvg(chart: CurveChart): string {
  const values = chart.series.flatMap((s) => s.values.filter(measured));
  const lo = Math.min(chart.targetMs, ...values);
  const hi = Math.max(chart.targetMs, ...values);
  // Whole decades around what was measured, so the target line is never at an edge.
  const yMin = 10 ** Math.floor(Math.log10(lo));
  const yMax = 10 ** Math.ceil(Math.log10(hi * 1.05));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (i: number) => MARGIN.left + (chart.levels.length === 1 ? plotW / 2 : (i / (chart.levels.length - 1)) * plotW);
  const y = (ms: number) => MARGIN.top + plotH - ((Math.log10(ms) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;
  const f = (n: number) => n.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(chart.title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(chart.title)}</text>`,
  );
  // Axes, grid and tick labels.
  out.push(`<g class="y-axis" stroke="#ddd">`);
  for (const t of logTicks(yMin, yMax)) {
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${f(y(t))}" y2="${f(y(t))}"/>`);
  }
  out.push(`</g><g class="y-ticks" text-anchor="end" fill="#333">`);
  for (const t of logTicks(yMin, yMax)) out.push(`<text x="${MARGIN.left - 6}" y="${f(y(t) + 4)}">${t}</text>`);
  out.push(`</g><g class="x-ticks" text-anchor="middle" fill="#333">`);
  chart.levels.forEach((level, i) => out.push(`<text x="${f(x(i))}" y="${MARGIN.top + plotH + 18}">${level}</text>`));
  out.push(
    `</g>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<text class="x-label" x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 14}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    `<text class="y-label" transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`,
  );
  // The target.
  const ty = f(y(chart.targetMs));
  out.push(
    `<line class="target" x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${ty}" y2="${ty}" stroke="#c00" stroke-dasharray="6 4" stroke-width="1.5"/>`,
    `<text x="${MARGIN.left + plotW - 4}" y="${f(y(chart.targetMs) - 6)}" text-anchor="end" fill="#c00">${chart.targetMs} ms</text>`,
  );
  // One polyline per series, broken where a level was not measured; a legend on the right.
  chart.series.forEach((s, n) => {
    const runs: string[][] = [[]];
    s.values.forEach((v, i) => {
      if (measured(v)) runs.at(-1)!.push(`${f(x(i))},${f(y(v))}`);
      else if (runs.at(-1)!.length > 0) runs.push([]);
    });
    const dash = s.dashed ? ' stroke-dasharray="4 3"' : '';
    out.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
    for (const run of runs.filter((r) => r.length > 0)) {
      out.push(`<polyline points="${run.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
      for (const p of run) {
        const [cx, cy] = p.split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${s.color}"/>`);
      }
    }
    const ly = MARGIN.top + 10 + n * 20;
    const lx = MARGIN.left + plotW + 16;
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 30}" y="${ly + 4}">${escapeXml(s.name)}</text>`,
      `</g>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
