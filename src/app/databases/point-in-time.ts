/**
 * Point in time for branches and resets: which instant of the parent's history a request names,
 * checked against the operator's window (src/core/policy/history-window.ts) before anything is
 * admitted, and what a provider refusal of that point tells the caller.
 */
import type { DatabaseRecord } from '../../core/contract';
import { invalidFields, type Failure } from '../../core/errors';
import {
  branchPoint,
  checkAt,
  historyWindow,
  historyWindowSeconds,
  outsideWindow,
  type BranchPoint,
} from '../../core/policy/history-window';
import { ProviderRequestError } from '../../neon/index';
import type { CreateBranch } from '../schemas/databases';

type WindowEnv = { DBLEASE_HISTORY_WINDOW_SECONDS?: string };

/** A checked point: `at` normalised to UTC; with the parent it was checked against. */
export interface CheckedPoint {
  point: BranchPoint;
  /** Since when the parent's history can be read (the window's lower bound, with the operator's window). */
  parentSince?: string;
}

/** A database's history starts when it was handed out (src/core/policy/history-window.ts says why). */
export const since = (db: DatabaseRecord) => db.ready_at ?? db.created_at;

/**
 * The one point a branch request names, `at` checked against the parent's window now. The
 * parent is read only when there is a time to check; its not being found is the admission's to say.
 */
export async function checkBranchPoint(
  env: WindowEnv,
  body: CreateBranch,
  readParent: () => Promise<DatabaseRecord>,
  now = Date.now,
): Promise<CheckedPoint> {
  const point = branchPoint(body);
  if (point.kind !== 'at') return { point };
  const parent = await readParent();
  const at = checkAt(point.field, point.at, since(parent), historyWindowSeconds(env.DBLEASE_HISTORY_WINDOW_SECONDS), now());
  return { point: { ...point, at }, parentSince: since(parent) };
}

/** A reset's `at`, checked against its PARENT's window (the reset copies the parent as of then). */
export function checkResetAt(env: WindowEnv, at: string, parent: DatabaseRecord, now: number): string {
  return checkAt('at', at, since(parent), historyWindowSeconds(env.DBLEASE_HISTORY_WINDOW_SECONDS), now);
}

/**
 * A provider 400 about the point is the caller's to fix: the point is the one input passed on
 * as given. It names the field the request used (with the window as dblease knows it, for a
 * time); anything else is undefined and mapped as usual.
 */
export function pointRefusal(env: WindowEnv, err: unknown, checked: CheckedPoint | undefined, now: number): Failure | undefined {
  if (!checked || !(err instanceof ProviderRequestError) || err.status !== 400) return undefined;
  const { point } = checked;
  if (point.kind === 'lsn') return invalidFields([{ path: 'lsn', message: err.providerMessage }]);
  if (point.kind === 'at' && checked.parentSince) {
    const window = historyWindow(checked.parentSince, historyWindowSeconds(env.DBLEASE_HISTORY_WINDOW_SECONDS), now);
    return outsideWindow(point.field, err.providerMessage, window);
  }
  return undefined;
}
