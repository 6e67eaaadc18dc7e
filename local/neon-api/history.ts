import type { HistoryPoint } from './branching';
import { badRequest } from './errors';
import type { BranchRec, ProjectRec } from './model';

/**
 * Which points of a branch's history can be branched from or restored to: from when the branch
 * began (or was last reset) or the project's `history_retention_seconds` ago, whichever is later,
 * up to now. Pure; `now` is passed in.
 */
export function historyWindow(branch: BranchRec, project: ProjectRec, now: number): { from: string; to: string } {
  const began = Date.parse(branch.last_reset_at ?? branch.created_at);
  const from = Math.max(began, now - project.history_retention_seconds * 1000);
  return { from: new Date(from).toISOString(), to: new Date(now).toISOString() };
}

const LSN = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i;
const lsnValue = (lsn: string) => {
  const m = LSN.exec(lsn)!;
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
};

/**
 * Checks a requested `timestamp` or `lsn` (the fields named as the request names them) and
 * answers the point, or undefined when neither is given. Outside the window: 400 naming the
 * field and the window.
 */
export function historyPoint(
  fields: { timestamp?: string; lsn?: string; timestampField: string; lsnField: string },
  branch: BranchRec,
  project: ProjectRec,
  now: number,
  currentLsn?: string,
): HistoryPoint | undefined {
  const { timestamp, lsn } = fields;
  if (timestamp !== undefined && lsn !== undefined)
    throw badRequest(`${fields.lsnField}: give ${fields.timestampField} or ${fields.lsnField}, not both`);
  const window = historyWindow(branch, project, now);
  if (timestamp !== undefined) {
    const at = Date.parse(timestamp);
    if (!/^\d{4}-\d\d-\d\dT/.test(timestamp) || Number.isNaN(at)) throw badRequest(`${fields.timestampField}: must be an RFC 3339 time`);
    if (at < Date.parse(window.from) || at > now)
      throw badRequest(
        `${fields.timestampField}: ${timestamp} is outside the branch's history, which runs from ${window.from} to ${window.to} (history_retention_seconds ${project.history_retention_seconds})`,
      );
    return { timestamp: new Date(at).toISOString() };
  }
  if (lsn !== undefined) {
    if (!LSN.test(lsn)) throw badRequest(`${fields.lsnField}: must be an LSN like 0/1A2B3C4`);
    const start = branch.start_lsn ?? '0/0';
    const end = currentLsn ?? start;
    if (lsnValue(lsn) < lsnValue(start) || lsnValue(lsn) > lsnValue(end))
      throw badRequest(`${fields.lsnField}: ${lsn} is outside the branch's history, which runs from ${start} to ${end}`);
    return { lsn: lsn.toUpperCase() };
  }
  return undefined;
}
