/** MCP tools for SQL and schema migrations: the same modules as `/v1/databases/:id/sql` and `/v1/migrations`. */
import { z } from 'zod';
import { invalidFields } from '../../core/errors';
import { fieldIssues } from '../http/errors';
import * as migrations from '../migrations/service';
import { databaseIdSchema } from '../schemas/databases';
import { migrationIdSchema, prepareMigrationSchema } from '../schemas/migrations';
import { batchQuerySchema, isolationLevelSchema, sqlParamSchema, sqlRequestSchema, sqlStatementSchema } from '../schemas/sql';
import { runSql } from '../sql/endpoint';
import { defineTool, type ToolDef } from './tool';

const databaseId = databaseIdSchema.describe('The database id (db_…).');
const migrationId = migrationIdSchema.describe('The migration id (mig_…) from prepare_migration.');

/**
 * One flat object (MCP tool inputs are objects, not unions): `query` (+ `params`) for one
 * statement, or `queries` for a batch; the wire schema then decides which it is.
 */
const runSqlInput = z
  .object({
    database_id: databaseId,
    query: z.string().optional().describe('One statement; $1, $2… are bound from params.'),
    params: z.array(sqlParamSchema).optional(),
    queries: z.array(sqlStatementSchema).optional().describe('Several statements run as ONE transaction: all apply or none.'),
    isolation_level: isolationLevelSchema.optional().describe('Batches only.'),
    read_only: z.boolean().optional().describe('Batches only: a READ ONLY transaction.'),
    array_mode: batchQuerySchema.shape.array_mode,
  })
  .strict();

const runSqlTool = defineTool({
  name: 'run_sql',
  title: 'Run SQL',
  description:
    "Runs one query (query + params) or a batch (queries, in one transaction) on a database and returns Neon's SQL-over-HTTP JSON " +
    '(fields, rows, command, rowCount; results[] for a batch). The account caps statement time, rows and bytes; exceeding one is an error ' +
    'naming the limit. PostgreSQL errors come back with their SQLSTATE code, position, detail and hint.',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  input: runSqlInput,
  async run({ env, principal }, { database_id, ...body }) {
    const parsed = sqlRequestSchema.safeParse(body);
    if (!parsed.success)
      throw invalidFields(fieldIssues(parsed.error, 'json'), 'give either query (with optional params) or queries, not both');
    return { ...(await runSql(env, principal, database_id, parsed.data)).response };
  },
});

const prepareMigration = defineTool({
  name: 'prepare_migration',
  title: 'Prepare a schema migration',
  description:
    'Tries a migration on a new branch of the database: runs sql there in one transaction, then verify_sql (rolled back; it fails by raising ' +
    'an error or returning false), and returns the migration with its state (ready, verify_failed or failed), the schema diff against the ' +
    'parent, and any error. The parent is not changed; apply_migration or discard_migration decides.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: prepareMigrationSchema.extend({
    database_id: databaseId,
    idempotency_key: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('Retry-safe key: the same key and arguments return the same migration.'),
  }),
  async run({ env, ctx, principal }, { database_id, idempotency_key, ...input }) {
    const { migration } = await migrations.prepareMigration(env, ctx, principal, database_id, input, { idempotencyKey: idempotency_key });
    return migration;
  },
});

const applyMigration = defineTool({
  name: 'apply_migration',
  title: 'Apply a migration to its parent',
  description:
    "Applies a ready migration's SQL to the parent database in one transaction and deletes its branch. Refused (conflict) if the parent's " +
    'schema changed since the branch was taken: discard and prepare again. Applying an applied migration returns it unchanged.',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  input: z.object({ migration_id: migrationId }).strict(),
  async run({ env, ctx, principal }, { migration_id }) {
    return migrations.applyMigration(env, ctx, principal, migration_id);
  },
});

const discardMigration = defineTool({
  name: 'discard_migration',
  title: 'Discard a migration',
  description:
    'Discards a migration that was not applied: its branch is deleted and the parent stays as it is. Discarding twice is harmless.',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  input: z.object({ migration_id: migrationId }).strict(),
  async run({ env, ctx, principal }, { migration_id }) {
    return migrations.discardMigration(env, ctx, principal, migration_id);
  },
});

export const sqlTools: ToolDef[] = [runSqlTool, prepareMigration, applyMigration, discardMigration];
