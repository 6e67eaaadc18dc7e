/**
 * MCP tools for working on branches: reset a branch to its parent, and read a database's schema
 * or its diff against another. Each is a call into the same service the HTTP route uses
 * (src/app/databases/reset.ts, src/app/schema/service.ts); seeds and anonymised branches go
 * through create_database and branch_database (src/app/mcp/database-tools.ts).
 */
import { z } from 'zod';
import * as service from '../databases/service';
import * as schema from '../schema/service';
import { databaseIdSchema, resetDatabaseSchema } from '../schemas/databases';
import { defineTool, READ_ONLY, type ToolDef } from './tool';

const databaseId = databaseIdSchema.describe('The database id (db_…).');

const resetDatabase = defineTool({
  name: 'reset_database',
  title: "Reset a branch to its parent's current state, or as of a time",
  description:
    "Throws away everything written on a branch and brings it back to its parent's current data, or with `at` (RFC 3339) to the parent's " +
    "data as of then (within the parent's history window; outside it, invalid_field on at with details.window). Its id, host, role, password and " +
    'connection strings stay the same, so your configuration keeps working; sessions open on it are ended. ' +
    'Refused for a fresh database (invalid_state) and for a branch that has branches of its own (has_children).',
  // Destructive (the branch's own writes are gone); idempotent (a second reset gives the same state).
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  input: resetDatabaseSchema.extend({ database_id: databaseId }).strict(),
  async run({ env, principal }, { database_id, ...input }) {
    return service.resetDatabase(env, principal, database_id, input);
  },
});

const describeSchema = defineTool({
  name: 'describe_schema',
  title: "Describe a database's schema",
  description:
    "A database's schema, ordered by name: tables and views with their columns, indexes and constraints, enums, a fingerprint " +
    '(equal schemas, equal fingerprints) and the DDL that rebuilds it in an empty database. Names and definitions only, never rows.',
  annotations: READ_ONLY,
  input: z.object({ database_id: databaseId }).strict(),
  async run({ env, principal }, { database_id }) {
    return { ...(await schema.describeSchema(env, principal, database_id)) };
  },
});

const diffSchema = defineTool({
  name: 'diff_schema',
  title: 'Diff two schemas',
  description:
    'The structured schema diff of database_id against another database (against is the "before"): tables, columns, indexes, ' +
    'constraints and enums added, removed or changed, as prepare_migration reports it. Use it to see what a branch changed.',
  annotations: READ_ONLY,
  input: z.object({ database_id: databaseId, against: databaseIdSchema.describe('The database to compare with (db_…).') }).strict(),
  async run({ env, principal }, { database_id, against }) {
    return { ...(await schema.diffSchema(env, principal, database_id, against)) };
  },
});

export const branchingTools: ToolDef[] = [resetDatabase, describeSchema, diffSchema];
