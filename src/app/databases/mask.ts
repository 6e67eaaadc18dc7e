/**
 * Anonymised branches (`anonymize: {rules}` on POST /v1/databases/:id/branches): the branch's
 * columns are masked in place, by plain SQL with the branch's own credentials, before the saga
 * hands those credentials out. So a 201 means no unmasked value of a masked column can be read
 * through the branch:
 * - the UPDATE runs with the tables' user triggers disabled (a trigger could copy OLD values away);
 * - materialized views are refreshed (they held copies of the original rows);
 * - each masked table is then rewritten by VACUUM FULL, so old row versions (and the index and
 *   TOAST entries that pointed at them) are gone, and re-ANALYZEd, so pg_stats' most common values
 *   and histograms describe the masked data, not the original;
 * - the branch's role has no superuser, replication or file-reading rights, so the WAL and the
 *   data files are out of its reach, and it can connect to its own database only.
 * `hash` is an HMAC-like SHA-256 under a key drawn for this branch and never kept: deterministic
 * within the branch (joins on hashed keys still match), and not a dictionary lookup away from the
 * original. `fake_email` and `fake_name` are derived from the same hash, so they are consistent too.
 */
import { invalidFields, type FieldIssue } from '../../core/errors';
import type { SqlEnv } from '../sql/driver';
import { sqlFailure, type SqlLimits } from '../sql/failures';
import { inTransaction, withSession } from '../migrations/session';
import type { SchemaSnapshot } from '../migrations/snapshot';
import { ident, qualified } from '../schema/ddl';
import { readSchema, snapshotIn } from '../schema/read';

export type MaskMethod = 'null' | 'fixed' | 'hash' | 'fake_email' | 'fake_name' | 'partial';
export interface MaskRule {
  table: string;
  column: string;
  method: MaskMethod;
  /** `fixed`: the value, cast to the column's type. */
  value?: string;
  /** `partial`: characters kept at the start and at the end (default 1 each). */
  first?: number;
  last?: number;
}

const TEXT = /^(text|character varying(\(\d+\))?|character(\(\d+\))?|citext|"?[a-z_.]*citext"?)$/;
const HASHABLE = /^(text|character varying(\(\d+\))?|character(\(\d+\))?|integer|bigint|smallint|uuid)$/;
const FIRST = ['Ada', 'Alan', 'Barbara', 'Claude', 'Donald', 'Edsger', 'Frances', 'Grace', 'John', 'Katherine', 'Leslie', 'Margaret'];
const LAST = ['Allen', 'Dijkstra', 'Hamilton', 'Hopper', 'Johnson', 'Knuth', 'Lamport', 'Liskov', 'Lovelace', 'Shannon', 'Turing'];

/** The hex SHA-256 of the key and the value (null stays null). */
const hex = (col: string) => `encode(sha256(convert_to($1 || ${col}::text, 'UTF8')), 'hex')`;
const hashInt = (col: string, digits: number) => `('x' || left(${hex(col)}, ${digits}))::bit(${digits * 4})`;
const pick = (col: string, list: string[], offset: number) =>
  `(array[${list.map((n) => `'${n}'`).join(',')}])[1 + (((('x' || substr(${hex(col)}, ${offset}, 8))::bit(32)::int) & 2147483647) % ${list.length})]`;

function expression(rule: MaskRule, col: string, type: string): string {
  switch (rule.method) {
    case 'null':
      return 'NULL';
    case 'fixed':
      return `${literal(rule.value ?? '')}::${type}`;
    case 'hash':
      if (type === 'uuid') return `left(${hex(col)}, 32)::uuid`;
      if (type === 'integer') return `(${hashInt(col, 8)}::int)`;
      if (type === 'smallint') return `((${hashInt(col, 4)}::int) - 32768)::smallint`;
      if (type === 'bigint') return `(${hashInt(col, 16)}::bigint)`;
      return `(${hex(col)})::${type}`;
    case 'fake_email':
      return `('user_' || left(${hex(col)}, 12) || '@example.invalid')::${type}`;
    case 'fake_name':
      return `(${pick(col, FIRST, 1)} || ' ' || ${pick(col, LAST, 9)})::${type}`;
    case 'partial': {
      const first = rule.first ?? 1;
      const last = rule.last ?? 1;
      return (
        `(case when length(${col}) <= ${first + last} then repeat('*', length(${col})) ` +
        `else left(${col}, ${first}) || repeat('*', length(${col}) - ${first + last}) || right(${col}, ${last}) end)::${type}`
      );
    }
  }
}

const literal = (v: string) => `'${v.replace(/'/g, "''")}'`;

/** Pure: the masking UPDATEs for `rules` on this schema, or the issues naming each bad rule. */
export function maskPlan(snapshot: SchemaSnapshot, rules: MaskRule[]): { tables: Map<string, string[]>; issues: FieldIssue[] } {
  const tables = new Map<string, string[]>();
  const issues: FieldIssue[] = [];
  rules.forEach((rule, i) => {
    const key = rule.table.includes('.') ? rule.table : `public.${rule.table}`;
    const table = Object.hasOwn(snapshot.tables, key) ? snapshot.tables[key] : undefined;
    if (!table || (table.kind !== 'table' && table.kind !== 'partitioned_table')) {
      issues.push({ path: `anonymize.rules.${i}.table`, message: `no table ${key} on the parent` });
      return;
    }
    const column = Object.hasOwn(table.columns, rule.column) ? table.columns[rule.column] : undefined;
    if (!column) {
      issues.push({ path: `anonymize.rules.${i}.column`, message: `${key} has no column ${rule.column}` });
      return;
    }
    const textual = TEXT.test(column.type);
    const fits =
      rule.method === 'null'
        ? column.nullable
        : rule.method === 'hash'
          ? HASHABLE.test(column.type)
          : rule.method === 'fixed'
            ? true
            : textual;
    if (!fits) {
      const why = rule.method === 'null' ? 'the column is NOT NULL' : `the column is ${column.type}`;
      issues.push({ path: `anonymize.rules.${i}.method`, message: `${rule.method} cannot mask ${key}.${rule.column}: ${why}` });
      return;
    }
    const col = ident(rule.column);
    const sets = tables.get(key) ?? [];
    sets.push(`${col} = ${expression(rule, col, column.type)}`);
    tables.set(key, sets);
  });
  return { tables, issues };
}

/** Checks the rules against the parent's schema before anything is admitted: a bad rule costs nothing. */
export async function checkMask(env: SqlEnv, parentUri: string, rules: MaskRule[], limits: SqlLimits): Promise<void> {
  const snapshot = await readSchema(env, parentUri, limits);
  const { issues } = maskPlan(snapshot, rules);
  if (issues.length > 0) throw invalidFields(issues);
}

/** Masks the branch at `uri` (its own credentials); throws a 400 naming the rule, or the SQL's failure. */
export async function applyMask(env: SqlEnv, uri: string, rules: MaskRule[], limits: SqlLimits): Promise<void> {
  const key = [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, '0')).join('');
  await withSession(env, uri, limits, async (session) => {
    const exec = (text: string, values?: unknown[]) => session.run(() => session.client.query(text, values));
    const snapshot = await snapshotIn(session, limits);
    const { tables, issues } = maskPlan(snapshot, rules);
    if (issues.length > 0) throw invalidFields(issues);
    await inTransaction(session, limits, async () => {
      for (const [table, sets] of tables) {
        await exec(`ALTER TABLE ${qualified(table)} DISABLE TRIGGER USER`);
        const update = `UPDATE ${qualified(table)} SET ${sets.join(', ')}`;
        await exec(update, update.includes('$1') ? [key] : undefined);
        await exec(`ALTER TABLE ${qualified(table)} ENABLE TRIGGER USER`);
      }
      for (const [name, t] of Object.entries(snapshot.tables)) {
        if (t.kind === 'materialized_view') await exec(`REFRESH MATERIALIZED VIEW ${qualified(name)}`);
      }
      return { commit: true, value: undefined };
    });
    // Outside any transaction, as VACUUM must be: no old row versions, statistics of the masked data.
    for (const table of tables.keys()) await exec(`VACUUM (FULL, ANALYZE) ${qualified(table)}`);
    for (const [name, t] of Object.entries(snapshot.tables)) {
      if (t.kind === 'materialized_view') await exec(`VACUUM (FULL, ANALYZE) ${qualified(name)}`);
    }
  }).catch((err) => {
    throw sqlFailure(err, limits);
  });
}
