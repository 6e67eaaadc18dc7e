/**
 * The Postgres side of a migration: trying it on the branch (snapshot before, the SQL, snapshot
 * after, one transaction), verifying it (in a transaction that is always rolled back, so a
 * verification never changes what would be applied), and applying it to the parent after
 * checking, inside the same transaction, that the parent's schema is the one the branch copied.
 */
import { wireJson } from '../http/error-mapping';
import { Failure } from '../../core/errors';
import type { SqlEnv } from '../sql/driver';
import { sqlFailure, type SqlLimits } from '../sql/failures';
import { inTransaction, runScript, SCRIPT_ROWS_KEPT, transactionId, withSession, type SqlSession } from './session';
import { readRehearsal, type Rehearsal } from './rehearsal';
import { fingerprint, readSnapshot, type SchemaSnapshot } from './snapshot';

export interface Verification {
  passed: boolean;
  /** Why it failed: PostgreSQL's error, or `verification_false`. */
  error?: Record<string, unknown>;
  /** The last statement's result, so an agent sees what its check saw. */
  result?: { command: string; rows: unknown[] };
}

export type BranchOutcome =
  | {
      ok: true;
      before: SchemaSnapshot;
      after: SchemaSnapshot;
      fingerprint: string;
      verification: Verification | null;
      rehearsal: Rehearsal;
    }
  | { ok: false; error: Failure };

/**
 * The agent's SQL failing (or timing out, or sending far too much) is an outcome to record;
 * anything else (the database unreachable, a bug) is thrown to the caller as it is.
 */
const AGENT_FAILURES = new Set(['sql_error', 'statement_timeout', 'response_too_large', 'transaction_control']);

function agentFailure(err: unknown, limits: SqlLimits): Failure {
  const failure = sqlFailure(err, limits);
  if (!AGENT_FAILURES.has(failure.code)) throw failure;
  return failure;
}

/** The script ended the transaction it was given (COMMIT, ROLLBACK…): it cannot apply as one. */
export const transactionControl = (where: 'branch' | 'parent') =>
  new Failure(
    'transaction_control',
    where === 'branch'
      ? "the migration's SQL ends its transaction (COMMIT, ROLLBACK, BEGIN…); a migration applies as one transaction, so remove them"
      : "the migration's SQL ended its transaction on the parent part way: what ran before that may have been committed",
  );

/** Runs `sql` and checks it left the transaction it started in as it found it. */
async function scriptInOneTransaction(session: SqlSession, sql: string, where: 'branch' | 'parent') {
  const xid = await transactionId(session, true);
  const results = await runScript(session, sql);
  if ((await transactionId(session, false)) !== xid) throw transactionControl(where);
  return results;
}

async function verify(session: SqlSession, verifySql: string, limits: SqlLimits): Promise<Verification> {
  try {
    return await inTransaction(session, limits, async () => {
      const last = (await runScript(session, verifySql)).at(-1);
      const first = last?.rows[0] as Record<string, unknown> | undefined;
      // A check written as `select <condition>` fails by returning false; anything else passes.
      const passed = !first || Object.values(first)[0] !== false;
      const result = last ? { command: last.command, rows: last.rows.slice(0, SCRIPT_ROWS_KEPT) } : undefined;
      const error = passed ? undefined : { code: 'verification_false', message: 'the verification returned false' };
      return { commit: false, value: { passed, ...(error ? { error } : {}), ...(result ? { result } : {}) } };
    });
  } catch (err) {
    return { passed: false, error: wireJson(agentFailure(err, limits)) };
  }
}

/** Tries the migration on the branch; the branch keeps it only if the SQL itself succeeded. */
export function tryOnBranch(env: SqlEnv, uri: string, sql: string, verifySql: string | null, limits: SqlLimits): Promise<BranchOutcome> {
  return withSession(env, uri, limits, async (session) => {
    let snapshots: { before: SchemaSnapshot; after: SchemaSnapshot; rehearsal: Rehearsal };
    try {
      snapshots = await inTransaction(session, limits, async () => {
        // Read before the SQL: the branch is still exactly the parent as it was when branched.
        const before = await session.run(() => readSnapshot(session.client));
        const started = Date.now();
        await scriptInOneTransaction(session, sql, 'branch');
        // Still inside the transaction, so its locks are all still held (src/app/migrations/rehearsal.ts).
        const rehearsal = await readRehearsal(session, Date.now() - started, new Set(Object.keys(before.tables)));
        return { commit: true, value: { before, after: await session.run(() => readSnapshot(session.client)), rehearsal } };
      });
    } catch (err) {
      return { ok: false, error: agentFailure(err, limits) };
    }
    const verification = verifySql ? await verify(session, verifySql, limits) : null;
    return { ok: true, ...snapshots, fingerprint: await fingerprint(snapshots.before), verification };
  });
}

export const parentSchemaChanged = (expected: string, actual: string) =>
  new Failure(
    'parent_schema_changed',
    "the parent's schema changed after the migration's branch was taken; nothing was applied. Discard it and prepare it again",
    { expected_fingerprint: expected, actual_fingerprint: actual },
  );

/**
 * Applies the SQL to the parent in one transaction, refusing (409, nothing applied) if the
 * parent's schema fingerprint is not `expected`. SQL failures are thrown as 422s.
 */
export async function applyToParent(env: SqlEnv, uri: string, sql: string, expected: string, limits: SqlLimits): Promise<void> {
  await withSession(env, uri, limits, (session) =>
    inTransaction(session, limits, async () => {
      const actual = await fingerprint(await session.run(() => readSnapshot(session.client)));
      if (actual !== expected) throw parentSchemaChanged(expected, actual);
      await scriptInOneTransaction(session, sql, 'parent');
      return { commit: true, value: undefined };
    }),
  ).catch((err) => {
    throw sqlFailure(err, limits);
  });
}
