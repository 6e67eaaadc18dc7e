/**
 * Reading a database's schema snapshot over a stoppable session, in a transaction (the snapshot
 * sets its search path for the transaction only) that is always rolled back: reading changes nothing.
 */
import type { SqlEnv } from '../sql/driver';
import { sqlFailure, type SqlLimits } from '../sql/failures';
import { inTransaction, withSession, type SqlSession } from '../migrations/session';
import { readSnapshot, type SchemaSnapshot } from '../migrations/snapshot';

export const snapshotIn = (session: SqlSession, limits: SqlLimits): Promise<SchemaSnapshot> =>
  inTransaction(session, limits, async () => ({ commit: false, value: await session.run(() => readSnapshot(session.client)) }));

export function readSchema(env: SqlEnv, uri: string, limits: SqlLimits): Promise<SchemaSnapshot> {
  return withSession(env, uri, limits, (session) => snapshotIn(session, limits)).catch((err) => {
    throw sqlFailure(err, limits);
  });
}
