/**
 * The rehearsal report of a migration tried on its branch: how long the SQL took there, the
 * locks it took, the row counts of the tables it touched, and a warning for each ACCESS
 * EXCLUSIVE lock on a large table (on the parent that lock blocks every read and write of the
 * table for as long as the migration runs).
 *
 * The locks are read from pg_locks for the migration's own backend after its SQL ran and before
 * its transaction ends: PostgreSQL holds relation locks to the end of the transaction, so this is
 * every lock the SQL took, not a sample. Rows: exact counts, or the planner's estimate for
 * tables it estimates at a million rows or more (counting those could take longer than the
 * statement timeout allows).
 */
import type { SqlSession } from './session';

/** A table this big (rows) under ACCESS EXCLUSIVE gets a warning. */
export const LARGE_TABLE_ROWS = 100_000;
const EXACT_COUNT_BELOW = 1_000_000;

export interface LockTaken {
  /** `schema.name` */
  relation: string;
  /** `table`, `index`, `sequence`, `view`… */
  kind: string;
  /** PostgreSQL's name for the mode, e.g. `AccessExclusiveLock`. */
  mode: string;
  /** The migration created it: nobody else could have been waiting on it. */
  created: boolean;
}

export interface Rehearsal {
  duration_ms: number;
  locks: LockTaken[];
  tables: { name: string; rows: number; exact: boolean }[];
  warnings: string[];
}

const KINDS: Record<string, string> = {
  r: 'table',
  p: 'partitioned_table',
  i: 'index',
  I: 'index',
  S: 'sequence',
  v: 'view',
  m: 'materialized_view',
  t: 'toast',
  f: 'foreign_table',
};

/** The relation locks the open transaction holds, user schemas only, strongest first per relation. */
const LOCKS_QUERY = `
select n.nspname || '.' || c.relname as relation, c.relkind::text as kind, l.mode,
       c.reltuples::float8 as estimate
from pg_locks l
join pg_class c on c.oid = l.relation
join pg_namespace n on n.oid = c.relnamespace
where l.pid = pg_backend_pid() and l.locktype = 'relation' and l.granted
  and n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%'
order by 1, 3`;

interface LockRow {
  relation: string;
  kind: string;
  mode: string;
  estimate: number;
}

const quoted = (relation: string) => {
  const dot = relation.indexOf('.');
  const id = (s: string) => `"${s.replace(/"/g, '""')}"`;
  return `${id(relation.slice(0, dot))}.${id(relation.slice(dot + 1))}`;
};

/** Reads the report inside the migration's transaction, after its SQL. `existed`: the tables before it. */
export async function readRehearsal(session: SqlSession, durationMs: number, existed: Set<string>): Promise<Rehearsal> {
  const rows = (await session.run(() => session.client.query<LockRow>(LOCKS_QUERY))).rows;
  const locks: LockTaken[] = rows.map((r) => ({
    relation: r.relation,
    kind: KINDS[r.kind] ?? r.kind,
    mode: r.mode,
    created: !existed.has(r.relation) && (r.kind === 'r' || r.kind === 'p'),
  }));
  const tables: Rehearsal['tables'] = [];
  for (const r of rows) {
    if ((r.kind !== 'r' && r.kind !== 'p') || tables.some((t) => t.name === r.relation)) continue;
    if (r.estimate >= EXACT_COUNT_BELOW) {
      tables.push({ name: r.relation, rows: Math.round(r.estimate), exact: false });
      continue;
    }
    const count = await session.run(() => session.client.query<{ n: string }>(`select count(*)::text as n from ${quoted(r.relation)}`));
    tables.push({ name: r.relation, rows: Number(count.rows[0]!.n), exact: true });
  }
  return { duration_ms: durationMs, locks, tables, warnings: warningsFor(locks, tables) };
}

/** Pure: a warning per ACCESS EXCLUSIVE lock on a pre-existing table of LARGE_TABLE_ROWS rows or more. */
export function warningsFor(locks: LockTaken[], tables: Rehearsal['tables']): string[] {
  const warnings: string[] = [];
  for (const lock of locks) {
    if (lock.mode !== 'AccessExclusiveLock' || lock.created) continue;
    const table = tables.find((t) => t.name === lock.relation);
    if (!table || table.rows < LARGE_TABLE_ROWS) continue;
    warnings.push(
      `ACCESS EXCLUSIVE lock on ${lock.relation} (${table.exact ? '' : 'about '}${table.rows} rows): on the parent it blocks every read ` +
        'and write of the table until the migration commits; consider a non-blocking form (CREATE INDEX CONCURRENTLY, ' +
        'ADD COLUMN without a volatile default, NOT VALID constraints validated later)',
    );
  }
  return warnings;
}
