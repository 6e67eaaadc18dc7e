import { describe, expect, it } from 'vitest';
import { curveSvg, type CurveChart } from '../../bench/curve-chart';

const chart = (over: Partial<CurveChart> = {}): CurveChart => ({
  title: 'create + first query',
  levels: [1, 5, 10, 25, 50, 100],
  targetMs: 350,
  xLabel: 'concurrent creates',
  yLabel: 'ms (log scale)',
  series: [
    { name: 'warm pool p50', values: [60, 70, 90, 150, 300, 600], color: '#06c' },
    { name: 'warm pool p99', values: [150, 200, 260, 400, 900, 1800], color: '#06c', dashed: true },
  ],
  ...over,
});

/** The y of each point of the polyline(s) of series `name`, in order. */
function pointsOf(svg: string, name: string): { x: number; y: number }[] {
  const group = svg.split(`data-name="${name}"`)[1]!.split('</g>')[0]!;
  return [...group.matchAll(/<polyline points="([^"]+)"/g)].flatMap((m) =>
    m[1]!.split(' ').map((p) => {
      const [x, y] = p.split(',').map(Number);
      return { x: x!, y: y! };
    }),
  );
}

const targetY = (svg: string) => Number(/class="target"[^>]* y1="([\d.]+)"/.exec(svg)![1]);

describe('the provisioning curve chart', () => {
  it('draws a line per series with a point per level, higher latency higher up, and the axis labels', () => {
    const svg = curveSvg(chart());
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const p50 = pointsOf(svg, 'warm pool p50');
    expect(p50).toHaveLength(6);
    // Left to right by level, and (SVG's y grows downwards) rising with latency.
    for (let i = 1; i < p50.length; i++) {
      expect(p50[i]!.x).toBeGreaterThan(p50[i - 1]!.x);
      expect(p50[i]!.y).toBeLessThan(p50[i - 1]!.y);
    }
    const p99 = pointsOf(svg, 'warm pool p99');
    p99.forEach((p, i) => expect(p.y).toBeLessThan(p50[i]!.y));
    expect(svg).toContain('stroke-dasharray="4 3"');
    expect(svg).toContain('>concurrent creates</text>');
    expect(svg).toContain('>ms (log scale)</text>');
    for (const level of [1, 5, 10, 25, 50, 100]) expect(svg).toContain(`>${level}</text>`);
  });

  it('puts the target line where a point of that latency would be', () => {
    const svg = curveSvg(chart({ series: [{ name: 'at target', values: [350, 350, 350, 350, 350, 350], color: '#000' }] }));
    const [first] = pointsOf(svg, 'at target');
    expect(targetY(svg)).toBeCloseTo(first!.y, 0);
    expect(svg).toContain('>350 ms</text>');
    // Below the target is below the line, above it above.
    const mixed = curveSvg(chart({ series: [{ name: 'm', values: [100, 1000, NaN, NaN, NaN, NaN], color: '#000' }] }));
    const [low, high] = pointsOf(mixed, 'm');
    expect(low!.y).toBeGreaterThan(targetY(mixed));
    expect(high!.y).toBeLessThan(targetY(mixed));
  });

  it('breaks a line where a level was not measured, and escapes names', () => {
    const svg = curveSvg(chart({ series: [{ name: 'a <b> & "c"', values: [100, undefined, 200, NaN, 300, 400], color: '#000' }] }));
    expect(svg).toContain('data-name="a &lt;b&gt; &amp; &quot;c&quot;"');
    const group = svg.split('data-name="a &lt;b&gt; &amp; &quot;c&quot;"')[1]!.split('</g>')[0]!;
    expect([...group.matchAll(/<polyline /g)]).toHaveLength(3);
    expect(group.match(/<circle /g)).toHaveLength(4);
    expect(svg).not.toContain('NaN');
  });
});
