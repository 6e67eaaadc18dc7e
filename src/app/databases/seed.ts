/**
 * The seed of a fresh database (`seed` on POST /v1/databases), run by the create saga after the
 * database answers and before the 201, so a 201 means the seed is in. Either:
 * - `{sql}`: the agent's script (any number of statements, at most MAX_SEED_SQL characters: src/app/schemas/databases.ts) in one
 *   transaction within the account's statement timeout; or
 * - `{from, schema_only?}`: another ready database of the same account: its schema as DDL
 *   (src/app/schema/ddl.ts: what that module renders, no more) and, unless `schema_only`, its
 *   tables' rows, at most MAX_SEED_COPY_BYTES of them as JSON.
 * A failure throws (PostgreSQL's refusal is a 422 `sql_error` with its fields), and the saga's
 * undo then removes the database and releases its reservation.
 */
import { accountObject } from '../account-client';
import type { AccountPrincipal } from '../../core/auth/principal';
import { invalidFields } from '../../core/errors';
import { unwrap } from '../../core/result';
import type { CreateDatabase } from '../schemas/databases';
import type { SqlEnv } from '../sql/driver';
import { sqlFailure, type SqlLimits } from '../sql/failures';
import { inTransaction, runScript, withSession } from '../migrations/session';
import type { SchemaSnapshot } from '../migrations/snapshot';
import { ident, qualified, renderDdl, sequencesOf } from '../schema/ddl';
import { snapshotIn } from '../schema/read';
import { connectionFor } from './existing';

/** The most row data `seed.from` copies (as JSON text); past it, use `schema_only`. */
export const MAX_SEED_COPY_BYTES = 8 * 1024 * 1024;

/** The account's SQL caps (read here, not from the SQL endpoint, which depends on this layer). */
export async function seedLimits(env: Env, principal: AccountPrincipal): Promise<SqlLimits> {
  const { policy } = unwrap(await accountObject(env, principal.account_id).getAccount());
  return { statementTimeoutMs: policy.sql_statement_timeout_ms, maxRows: policy.sql_max_rows, maxBytes: policy.sql_max_bytes };
}

export type Seed = NonNullable<CreateDatabase['seed']>;

/** The source's schema and rows, read before anything is provisioned: a refusal then costs nothing. */
export interface SeedPlan {
  sql?: string;
  snapshot?: SchemaSnapshot;
  rows?: { table: string; json: string }[];
}

const tablesOf = (s: SchemaSnapshot) =>
  Object.entries(s.tables)
    .filter(([, t]) => t.kind === 'table' || t.kind === 'partitioned_table')
    .map(([k]) => k);

/** Checks the seed and reads what `from` names (scope `sql` on the source: it reads its rows). */
export async function planSeed(env: Env, principal: AccountPrincipal, seed: Seed, limits: SqlLimits): Promise<SeedPlan> {
  if ('sql' in seed) return { sql: seed.sql };
  const { uri } = await connectionFor(env, principal, seed.from, { scope: seed.schema_only ? 'databases:read' : 'sql' });
  return withSession(env, uri, limits, async (session) => {
    const snapshot = await snapshotIn(session, limits);
    if (seed.schema_only) return { snapshot };
    const rows: { table: string; json: string }[] = [];
    let bytes = 0;
    for (const table of tablesOf(snapshot)) {
      const r = await session.run(() =>
        session.client.query<{ json: string }>(`select coalesce(json_agg(t), '[]')::text as json from only ${qualified(table)} t`),
      );
      const json = r.rows[0]!.json;
      bytes += json.length;
      if (bytes > MAX_SEED_COPY_BYTES) {
        throw invalidFields([
          { path: 'seed.from', message: `the source's rows are more than ${MAX_SEED_COPY_BYTES} bytes as JSON; use schema_only: true` },
        ]);
      }
      if (json !== '[]') rows.push({ table, json });
    }
    return { snapshot, rows };
  }).catch((err) => {
    throw sqlFailure(err, limits);
  });
}

/** Runs the plan on the new database, in one transaction. */
export async function applySeed(env: SqlEnv, uri: string, plan: SeedPlan, limits: SqlLimits): Promise<void> {
  await withSession(env, uri, limits, (session) =>
    inTransaction(session, limits, async () => {
      const exec = (text: string, values?: unknown[]) => session.run(() => session.client.query(text, values));
      if (plan.sql !== undefined) await runScript(session, plan.sql);
      if (plan.snapshot) {
        const { objects, constraints } = renderDdl(plan.snapshot);
        for (const statement of objects) await exec(statement);
        for (const { table, json } of plan.rows ?? []) {
          await exec(`insert into ${qualified(table)} select * from json_populate_recordset(null::${qualified(table)}, $1::json)`, [json]);
        }
        // Rows came with their ids: each sequence moves past the largest value its columns hold.
        for (const seq of sequencesOf(plan.snapshot)) await bumpSequence(exec, plan.snapshot, seq);
        for (const statement of constraints) await exec(statement);
      }
      return { commit: true, value: undefined };
    }),
  ).catch((err) => {
    throw sqlFailure(err, limits);
  });
}

async function bumpSequence(exec: (t: string, v?: unknown[]) => Promise<unknown>, s: SchemaSnapshot, seq: string) {
  const needle = `nextval('${seq.replace(/'/g, "''")}'::regclass)`;
  for (const [key, table] of Object.entries(s.tables)) {
    for (const [column, shape] of Object.entries(table.columns)) {
      if (!shape.default?.includes(needle)) continue;
      await exec(
        `select setval($1::regclass, greatest((select max(${ident(column)})::bigint from ${qualified(key)}), ` +
          `(select last_value from ${seq}), 1), true)`,
        [seq],
      );
    }
  }
}
