/**
 * Point in time: which instants of a database's history a branch or a reset may start from.
 *
 * The operator sets how far back history goes (`DBLEASE_HISTORY_WINDOW_SECONDS`, wrangler.toml);
 * dblease creates its provider projects with that `history_retention_seconds`, so the window it
 * checks here is the one the provider keeps. A point is valid from the later of when the parent
 * database became ready (its 201: before that its provider resource, its role or its seed may not
 * exist yet, so a branch of that moment could not be handed out) and `now - window`, up to `now`.
 * dblease checks it itself, before anything is admitted, so a refusal costs nothing and says the
 * bounds in `details.window`.
 *
 * Pure: `now` is passed in.
 */
import { Failure, invalidFields, type FieldIssue } from '../errors';

export const DEFAULT_HISTORY_WINDOW_SECONDS = 86_400;
/** Neon's own ceiling on `history_retention_seconds` (30 days). */
export const MAX_HISTORY_WINDOW_SECONDS = 2_592_000;

/**
 * The operator's window in seconds. An unreadable value is a deployment error and fails loudly:
 * falling back would create projects keeping a history the operator did not choose.
 */
export function historyWindowSeconds(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_HISTORY_WINDOW_SECONDS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > MAX_HISTORY_WINDOW_SECONDS) {
    throw new Failure(
      'misconfigured',
      `DBLEASE_HISTORY_WINDOW_SECONDS must be a whole number of seconds from 0 to ${MAX_HISTORY_WINDOW_SECONDS}`,
    );
  }
  return n;
}

export interface HistoryWindow {
  from: string;
  to: string;
  seconds: number;
}

/** The instants a database ready since `since` can be branched from or reset to, now. */
export function historyWindow(since: string, seconds: number, now: number): HistoryWindow {
  const from = Math.min(now, Math.max(Date.parse(since), now - seconds * 1000));
  return { from: new Date(from).toISOString(), to: new Date(now).toISOString(), seconds };
}

/** A 400 naming `field`, with the window's bounds in `details.window`. */
export function outsideWindow(field: string, message: string, window: HistoryWindow): Failure {
  const issue: FieldIssue = { path: field, message };
  return new Failure('invalid_field', `${field}: ${message}`, { fields: [issue], window: { ...window } });
}

/**
 * Checks that `at` (an RFC 3339 time, named `field` in the request) falls inside the window of a
 * database ready since `since`; answers it as an ISO string in UTC.
 */
export function checkAt(field: string, at: string, since: string, seconds: number, now: number): string {
  const window = historyWindow(since, seconds, now);
  const t = Date.parse(at);
  if (Number.isNaN(t)) throw invalidFields([{ path: field, message: 'must be an RFC 3339 time with an offset' }]);
  if (t > now) throw outsideWindow(field, `${at} is in the future; history runs from ${window.from} to ${window.to}`, window);
  if (t < Date.parse(window.from)) {
    const why = t < Date.parse(since) ? 'is before the database was ready' : `is older than the ${seconds} s history window`;
    throw outsideWindow(field, `${at} ${why}; history runs from ${window.from} to ${window.to}`, window);
  }
  return new Date(t).toISOString();
}

/** Where a branch starts in its parent's history: now, a time, or a WAL position. */
export type BranchPoint = { kind: 'now' } | { kind: 'at'; field: 'at' | 'point_in_time'; at: string } | { kind: 'lsn'; lsn: string };

/** The request fields that name a point, in the order a conflict is reported (the later one is named). */
const POINT_FIELDS = ['at', 'lsn', 'point_in_time'] as const;

/**
 * The one point a branch request names. `point_in_time` is the older name of `at`; giving more
 * than one of them is a 400 naming the later field.
 */
export function branchPoint(body: { at?: string; lsn?: string; point_in_time?: string }): BranchPoint {
  const given = POINT_FIELDS.filter((f) => body[f] !== undefined);
  if (given.length > 1) {
    const later = given[1]!;
    throw invalidFields([
      { path: later, message: `give one of at, lsn or point_in_time (the older name of at), not ${given.join(' and ')}` },
    ]);
  }
  if (body.lsn !== undefined) return { kind: 'lsn', lsn: body.lsn.toUpperCase() };
  if (body.at !== undefined) return { kind: 'at', field: 'at', at: body.at };
  if (body.point_in_time !== undefined) return { kind: 'at', field: 'point_in_time', at: body.point_in_time };
  return { kind: 'now' };
}
