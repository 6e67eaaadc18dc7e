import { describe, expect, it } from 'vitest';
import { Failure } from '../../src/core/errors';
import { branchPoint, checkAt, historyWindow, historyWindowSeconds } from '../../src/core/policy/history-window';

const now = Date.parse('2026-03-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const failure = (fn: () => unknown): Failure => {
  try {
    fn();
  } catch (err) {
    if (err instanceof Failure) return err;
    throw err;
  }
  throw new Error('expected a Failure');
};

describe('point-in-time history window', () => {
  it('runs from the later of creation and now - window, to now', () => {
    const young = iso(now - 60_000);
    expect(historyWindow(young, 3600, now)).toEqual({ from: young, to: iso(now), seconds: 3600 });
    expect(historyWindow(iso(now - 7_200_000), 3600, now)).toEqual({ from: iso(now - 3_600_000), to: iso(now), seconds: 3600 });
  });

  it('accepts instants inside it, normalised to UTC, the bounds included', () => {
    const created = iso(now - 60_000);
    expect(checkAt('at', '2026-03-01T13:59:30+02:00', created, 86400, now)).toBe('2026-03-01T11:59:30.000Z');
    expect(checkAt('at', created, created, 86400, now)).toBe(created);
    expect(checkAt('at', iso(now), created, 86400, now)).toBe(iso(now));
  });

  it('refuses a time before the database was ready, older than the window, or in the future, naming the field and the window', () => {
    const created = iso(now - 60_000);
    const before = failure(() => checkAt('at', iso(now - 61_000), created, 86400, now));
    expect(before.code).toBe('invalid_field');
    expect(before.message).toMatch(/before the database was ready/);
    expect(before.details).toEqual({
      fields: [{ path: 'at', message: expect.any(String) }],
      window: { from: created, to: iso(now), seconds: 86400 },
    });
    const old = failure(() => checkAt('point_in_time', iso(now - 3_601_000), iso(now - 86_400_000), 3600, now));
    expect(old.message).toMatch(/older than the 3600 s history window/);
    expect(old.details).toMatchObject({ fields: [{ path: 'point_in_time' }], window: { from: iso(now - 3_600_000) } });
    const future = failure(() => checkAt('at', iso(now + 1), created, 86400, now));
    expect(future.message).toMatch(/in the future/);
    expect(future.details).toMatchObject({ window: { to: iso(now) } });
  });

  it('takes one of at, lsn and point_in_time; two name the later', () => {
    expect(branchPoint({})).toEqual({ kind: 'now' });
    expect(branchPoint({ at: 'x' })).toEqual({ kind: 'at', field: 'at', at: 'x' });
    expect(branchPoint({ point_in_time: 'x' })).toEqual({ kind: 'at', field: 'point_in_time', at: 'x' });
    expect(branchPoint({ lsn: '0/1a2b' })).toEqual({ kind: 'lsn', lsn: '0/1A2B' });
    const paths = (body: Record<string, string>) => (failure(() => branchPoint(body)).details as any).fields.map((f: any) => f.path);
    expect(paths({ at: 'x', lsn: '0/1' })).toEqual(['lsn']);
    expect(paths({ at: 'x', point_in_time: 'x' })).toEqual(['point_in_time']);
    expect(paths({ lsn: '0/1', point_in_time: 'x' })).toEqual(['point_in_time']);
  });

  it('reads the operator var: default one day, loud on nonsense', () => {
    expect(historyWindowSeconds(undefined)).toBe(86400);
    expect(historyWindowSeconds('')).toBe(86400);
    expect(historyWindowSeconds('3600')).toBe(3600);
    for (const bad of ['-1', '1.5', 'day', '2592001']) expect(failure(() => historyWindowSeconds(bad)).code).toBe('misconfigured');
  });
});
