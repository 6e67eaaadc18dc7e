/** MCP tools for database leases and usage: each one is a call into the databases service layer. */
import { z } from 'zod';
import { getAccount } from '../accounts/service';
import * as service from '../databases/service';
import { invalidFields } from '../../core/errors';
import {
  createBranchSchema,
  createDatabaseSchema,
  databaseIdSchema,
  listDatabasesQuerySchema,
  ttlSecondsSchema,
} from '../schemas/databases';
import { defineTool, READ_ONLY, type ToolDef } from './tool';

const idempotencyKey = z
  .string()
  .min(1)
  .max(200)
  .optional()
  .describe('Retry-safe key: the same key and arguments within 24 h return the original database instead of creating another.');

const databaseId = databaseIdSchema.describe('The database id (db_…).');

const createDatabase = defineTool({
  name: 'create_database',
  title: 'Create a database',
  description:
    'Creates a fresh, empty Postgres database as a lease and returns it with its connection strings (connection.direct, connection.pooled) ' +
    'when the token has the databases:credentials scope (otherwise fetch them later with get_database, if granted). ' +
    'It expires after ttl_seconds (default from the account policy) unless extended or kept. ' +
    'seed fills it before it is returned: {sql} (statements, in one transaction) or {from: <database id>, schema_only?} (copy ' +
    "another database's schema and rows); a failing seed is an sql_error and leaves no database.",
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: createDatabaseSchema.extend({ idempotency_key: idempotencyKey }),
  async run({ env, ctx, principal }, { idempotency_key, ...input }) {
    const created = await service.createDatabase(env, ctx, principal, input, { idempotencyKey: idempotency_key });
    return created.database;
  },
});

const branchDatabase = defineTool({
  name: 'branch_database',
  title: 'Branch a database',
  description:
    'Creates a copy-on-write branch of a database: same schema and data, its own credentials (returned with the databases:credentials scope), its own lease. ' +
    'Use it to test against real data, then delete it; the parent is never changed by work on the branch. ' +
    "at (RFC 3339) branches the parent as of that instant, lsn (X/Y) at that WAL position: within the parent's history window " +
    '(outside it, invalid_field naming at with details.window). ' +
    'anonymize {rules: [{table, column, method}]} masks columns (null, fixed, hash, fake_email, fake_name, partial) before the branch is returned.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: createBranchSchema.extend({ database_id: databaseId, idempotency_key: idempotencyKey }),
  async run({ env, ctx, principal }, { database_id, idempotency_key, ...input }) {
    const created = await service.branchDatabase(env, ctx, principal, database_id, input, { idempotencyKey: idempotency_key });
    return created.database;
  },
});

const listDatabases = defineTool({
  name: 'list_databases',
  title: 'List databases',
  description:
    "The account's databases, newest first, with their state and expiry. Filter by label (key:value), state or session; page with next_cursor.",
  annotations: READ_ONLY,
  input: listDatabasesQuerySchema,
  async run({ env, principal }, query) {
    return { ...(await service.listDatabases(env, principal, query)) };
  },
});

const getDatabase = defineTool({
  name: 'get_database',
  title: 'Get a database',
  description:
    'One database: state, lease expiry, lineage, labels; with include_credentials, its connection strings (needs the databases:credentials scope).',
  annotations: READ_ONLY,
  input: z.object({ database_id: databaseId, include_credentials: z.boolean().optional() }).strict(),
  async run({ env, principal }, { database_id, include_credentials }) {
    return service.getDatabase(env, principal, database_id, { credentials: include_credentials === true });
  },
});

const deleteDatabase = defineTool({
  name: 'delete_database',
  title: 'Delete a database',
  description:
    'Deletes a database and its data for good and releases its spend reservation. A database with branches needs cascade: true. ' +
    'Deleting an already deleted database succeeds again.',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  input: z.object({ database_id: databaseId, cascade: z.boolean().optional().describe('Also delete its branches.') }).strict(),
  async run({ env, ctx, principal }, { database_id, cascade }) {
    const deleted = await service.deleteDatabase(env, ctx, principal, database_id, { cascade: cascade === true });
    return { ...deleted.database, ...(deleted.status === 202 ? { delete_pending: true, retry_after: deleted.retryAfter ?? null } : {}) };
  },
});

const extendDatabase = defineTool({
  name: 'extend_database',
  title: 'Extend or keep a database',
  description:
    'Changes a lease: ttl_seconds sets a new expiry counted from now (within the policy maximum); keep: true removes the expiry ' +
    '(the database then lives until deleted). A longer lease reserves more spend.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({ database_id: databaseId, ttl_seconds: ttlSecondsSchema.optional(), keep: z.literal(true).optional() }).strict(),
  async run({ env, principal }, { database_id, ttl_seconds, keep }) {
    if ((ttl_seconds === undefined) === (keep === undefined)) {
      throw invalidFields([{ path: 'ttl_seconds', message: 'give exactly one of ttl_seconds or keep' }]);
    }
    return keep ? service.keepDatabase(env, principal, database_id) : service.updateDatabase(env, principal, database_id, { ttl_seconds });
  },
});

const claimDatabase = defineTool({
  name: 'claim_database',
  title: "Claim a database into the user's Neon account",
  description:
    "Starts moving a fresh database into the user's own Neon account and returns the claim link. Once the user accepts there, " +
    'the database is theirs: claimed, no expiry, no more spend here, the same connection string. Branches cannot be claimed.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({ database_id: databaseId }).strict(),
  async run({ env, principal }, { database_id }) {
    return service.claimDatabase(env, principal, database_id);
  },
});

const getUsage = defineTool({
  name: 'get_usage',
  title: 'Account usage and limits',
  description:
    "The account's active databases, spend this month (spent, reserved, cap), its policy limits (TTL, quota, SQL caps) and abuse state.",
  annotations: READ_ONLY,
  input: z.object({}).strict(),
  async run({ env, principal }) {
    return { ...(await getAccount(env, principal)) };
  },
});

export const databaseTools: ToolDef[] = [
  createDatabase,
  branchDatabase,
  listDatabases,
  getDatabase,
  deleteDatabase,
  extendDatabase,
  getUsage,
  claimDatabase,
];
