import { describe, expect, it } from 'vitest';
import { dailySpend, hourlyActivity, monthStart, type LeaseSpan } from '../../src/core/dashboard-stats';
import { niceCeiling, timeChart } from '../../src/app/dashboard/charts/time-chart';

const H = 3_600_000;
// 2026-12-03 10:30 UTC
const now = Date.UTC(2026, 11, 3, 10, 30);
const hour = (h: number) => Date.UTC(2026, 11, 3, h);

describe('hourlyActivity', () => {
  it('gives 24 hourly buckets ending with the current hour', () => {
    const buckets = hourlyActivity([], [], now);
    expect(buckets).toHaveLength(24);
    expect(buckets.at(-1)!.start).toBe(hour(10));
    expect(buckets[0]!.start).toBe(hour(10) - 23 * H);
  });

  it('counts creates in their hour and a database alive in every hour it overlaps', () => {
    const spans: LeaseSpan[] = [
      // alive 08:10–09:05: the 08:00 and 09:00 buckets
      { created_at: hour(8) + 600_000, ended_at: hour(9) + 300_000, spent_micro_usd: 0 },
      // still alive since 09:59: 09:00 and 10:00
      { created_at: hour(10) - 60_000, ended_at: null, spent_micro_usd: 0 },
      // ended two days ago: nowhere
      { created_at: now - 50 * H, ended_at: now - 49 * H, spent_micro_usd: 0 },
      // alive since before the window: every bucket
      { created_at: now - 30 * H, ended_at: null, spent_micro_usd: 0 },
    ];
    const creates = [hour(8) + 600_000, hour(10) - 60_000, now - 50 * H, now + H];
    const b = hourlyActivity(spans, creates, now);
    const at = (h: number) => b.find((x) => x.start === hour(h))!;
    expect(at(8)).toMatchObject({ alive: 2, creates: 1 });
    expect(at(9)).toMatchObject({ alive: 3, creates: 1 });
    expect(at(10)).toMatchObject({ alive: 2, creates: 0 });
    expect(at(7)).toMatchObject({ alive: 1, creates: 0 });
    expect(b.reduce((s, x) => s + x.creates, 0)).toBe(2);
  });
});

describe('dailySpend', () => {
  it('has one bucket per day of the month so far', () => {
    const days = dailySpend([], now);
    expect(days.map((d) => d.day)).toEqual(['2026-12-01', '2026-12-02', '2026-12-03']);
    expect(monthStart(now)).toBe(Date.UTC(2026, 11, 1));
  });

  it("spreads a database's booked spend over its life, counting only this month's part", () => {
    const spans: LeaseSpan[] = [
      // 48 h from 2 Dec 00:00: half each on the 2nd and 3rd (it ended at the 3rd's end... capped at now)
      { created_at: Date.UTC(2026, 11, 2), ended_at: Date.UTC(2026, 11, 3), spent_micro_usd: 1000 },
      // half of its life in November: only half counts
      { created_at: Date.UTC(2026, 10, 30), ended_at: Date.UTC(2026, 11, 2), spent_micro_usd: 2000 },
      // nothing booked: nothing drawn
      { created_at: Date.UTC(2026, 11, 1), ended_at: null, spent_micro_usd: 0 },
    ];
    expect(dailySpend(spans, now).map((d) => d.spent_micro_usd)).toEqual([1000, 1000, 0]);
  });

  it('counts what live databases hold on the day each was created, this month only', () => {
    const spans: LeaseSpan[] = [
      { created_at: Date.UTC(2026, 11, 1, 9), ended_at: null, spent_micro_usd: 0, reserved_micro_usd: 300 },
      { created_at: Date.UTC(2026, 11, 3, 9), ended_at: null, spent_micro_usd: 0, reserved_micro_usd: 50 },
      { created_at: Date.UTC(2026, 11, 3, 10), ended_at: null, spent_micro_usd: 0, reserved_micro_usd: 25 },
      // Held since November: not this month's.
      { created_at: Date.UTC(2026, 10, 20), ended_at: null, spent_micro_usd: 0, reserved_micro_usd: 999 },
    ];
    expect(dailySpend(spans, now).map((d) => d.reserved_micro_usd)).toEqual([300, 0, 75]);
  });
});

describe('timeChart', () => {
  const svg = timeChart({
    id: 'activity',
    title: 'Databases, last 24 h',
    buckets: ['08:00', '09:00', '10:00'],
    series: [
      { name: 'alive', values: [2, 3, 2], as: 'line' },
      { name: 'creates', values: [1, 1, 0], as: 'bar' },
    ],
    xLabel: 'Hour (UTC)',
    yLabel: 'Databases',
  });

  it('draws every value as a data point, with axis labels and a title', () => {
    expect(svg.startsWith('<svg')).toBe(true);
    expect([...svg.matchAll(/class="point dot[^"]*" data-value="(\d+)"/g)].map((m) => m[1])).toEqual(['2', '3', '2']);
    expect([...svg.matchAll(/class="point bar[^"]*" data-value="(\d+)"/g)].map((m) => m[1])).toEqual(['1', '1', '0']);
    expect(svg).toContain('>Hour (UTC)</text>');
    expect(svg).toContain('>Databases</text>');
    expect(svg).toContain('<title id="activity-title">Databases, last 24 h</title>');
    // The y axis runs to a round maximum above the data.
    expect(svg).toContain('>5</text>');
    // Counts get no half-database tick.
    expect(svg).not.toContain('>2.5</text>');
  });

  it('uses no inline style and escapes what it is given', () => {
    expect(svg).not.toMatch(/style=/);
    const hostile = timeChart({ id: 'x', title: '<script>', buckets: ['"a"'], series: [], xLabel: 'x', yLabel: 'y' });
    expect(hostile).not.toContain('<script>');
    expect(hostile).toContain('&quot;a&quot;');
  });

  it('rounds the axis up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.3, 3, 7, 12, 51, 1000].map(niceCeiling)).toEqual([1, 0.5, 5, 10, 20, 100, 1000]);
  });
});
