/**
 * Schema as a resource, for HTTP, MCP and the service binding alike: a database's schema
 * (`GET /v1/databases/:id/schema`: the snapshot migrations take, its fingerprint, and the DDL
 * that would rebuild it) and the diff of one database against another (`…/schema/diff?against=`),
 * the same structured diff a migration reports (src/app/migrations/diff.ts). Scope
 * `databases:read`: names and definitions, never rows.
 */
import type { AccountPrincipal } from '../../core/auth/principal';
import { connectionFor } from '../databases/service';
import { diffSchemas, type SchemaDiff } from '../migrations/diff';
import { fingerprint, type SchemaSnapshot } from '../migrations/snapshot';
import { sqlLimits } from '../sql/endpoint';
import { ddlStatements } from './ddl';
import { readSchema } from './read';

export interface SchemaDescription extends SchemaSnapshot {
  object: 'schema';
  database_id: string;
  /** SHA-256 of the snapshot: equal schemas, equal fingerprints (what a migration's apply compares). */
  fingerprint: string;
  ddl: string[];
}

async function snapshotOf(env: Env, principal: AccountPrincipal, id: string): Promise<SchemaSnapshot> {
  const [{ uri }, limits] = await Promise.all([connectionFor(env, principal, id, { scope: 'databases:read' }), sqlLimits(env, principal)]);
  return readSchema(env, uri, limits);
}

export async function describeSchema(env: Env, principal: AccountPrincipal, id: string): Promise<SchemaDescription> {
  const snapshot = await snapshotOf(env, principal, id);
  return {
    object: 'schema',
    database_id: id,
    fingerprint: await fingerprint(snapshot),
    tables: snapshot.tables,
    enums: snapshot.enums,
    ddl: ddlStatements(snapshot),
  };
}

/** What `id` has that `against` has not, and back (`against` is the "before"). */
export async function diffSchema(
  env: Env,
  principal: AccountPrincipal,
  id: string,
  against: string,
): Promise<SchemaDiff & { object: 'schema_diff'; database_id: string; against: string }> {
  const [after, before] = await Promise.all([snapshotOf(env, principal, id), snapshotOf(env, principal, against)]);
  return { object: 'schema_diff', database_id: id, against, ...diffSchemas(before, after) };
}
