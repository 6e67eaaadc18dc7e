import { z } from '@hono/zod-openapi';
import { REGION_PATTERN } from '../../core/policy/regions';

/**
 * The wire contract of databases and sessions: the routes validate with these, the OpenAPI
 * document is generated from them, and the CLI, MCP tools and service binding speak them.
 */

const LABEL_KEY = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;
export const MAX_LABELS = 16;

export const labelsSchema = z
  .record(
    z.string().regex(LABEL_KEY, 'label keys are 1-63 chars of a-z, 0-9, ".", "_", "-"'),
    z.string().max(256, 'label values are at most 256 characters'),
  )
  .refine((labels) => Object.keys(labels).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`)
  .openapi({ example: { task: 'fix-1234', agent: 'claude' } });

export const ttlSecondsSchema = z
  .number()
  .int('ttl_seconds must be a whole number of seconds')
  .positive('ttl_seconds must be positive')
  .openapi({ description: 'Lease length from now, within the policy maximum.', example: 3600 });

const idSchema = (prefix: string) => z.string().regex(new RegExp(`^${prefix}_[A-Za-z0-9]{8,40}$`), `not a ${prefix}_ id`);
export const databaseIdSchema = idSchema('db').openapi({ example: 'db_4f9c2a1b7e3d5c6a' });
export const sessionIdSchema = idSchema('ses').openapi({ example: 'ses_8a7b6c5d4e3f2a1b' });

/** The cap on `seed.sql`: 8 Mi characters, inside the 12 MiB request body. */
export const MAX_SEED_SQL = 8 * 1024 * 1024;
export const seedSchema = z
  .union([
    z.object({ sql: z.string().trim().min(1, 'seed.sql is empty').max(MAX_SEED_SQL, 'seed.sql is at most 8,388,608 characters') }).strict(),
    z.object({ from: databaseIdSchema, schema_only: z.boolean().optional() }).strict(),
  ])
  .openapi('Seed', {
    description:
      "Applied before the 201, in one transaction within the account's statement timeout: `sql` (any number of statements, " +
      'at most 8,388,608 characters), or `from` another ready database of yours: its tables, columns, constraints, indexes, enums, sequences and views, and unless ' +
      "`schema_only` its rows (at most 8 MiB as JSON; scope `sql`). A failing seed is a 422 with PostgreSQL's error fields and leaves nothing.",
  });

export const createDatabaseSchema = z
  .object({
    ttl_seconds: ttlSecondsSchema.optional(),
    labels: labelsSchema.optional(),
    session_id: sessionIdSchema.optional().openapi({ description: 'Bind the lease to an agent session.' }),
    region: z.string().regex(REGION_PATTERN, 'a region id: lower-case letters, digits and dashes').optional(),
    seed: seedSchema.optional(),
  })
  .strict()
  .openapi('CreateDatabase');

export const maskRuleSchema = z
  .object({
    table: z.string().min(1).max(200).openapi({ description: '`table` (in public) or `schema.table`.' }),
    column: z.string().min(1).max(200),
    method: z.enum(['null', 'fixed', 'hash', 'fake_email', 'fake_name', 'partial']).openapi({
      description:
        'null (nullable columns); fixed (`value`, cast to the column type); hash (deterministic within the branch: text, integer, bigint, ' +
        'smallint, uuid; joins on it still match); fake_email, fake_name (derived from the hash: consistent too); partial (keeps `first` ' +
        'and `last` characters, default 1, stars between). Text-like columns for the last three.',
    }),
    value: z.string().max(10_000).optional(),
    first: z.number().int().min(0).max(100).optional(),
    last: z.number().int().min(0).max(100).optional(),
  })
  .strict();

export const anonymizeSchema = z
  .object({ rules: z.array(maskRuleSchema).min(1).max(200) })
  .strict()
  .openapi('Anonymize', {
    description:
      'Masks these columns on the branch before the 201: no unmasked value of a masked column can be read through it (old row ' +
      'versions are vacuumed away, statistics recomputed, materialized views refreshed). A rule naming an unknown table or column, ' +
      'or a method the column type does not fit, is a 400 naming the rule (`anonymize.rules.2.column`).',
  });

const atSchema = z.iso.datetime({ offset: true, error: 'must be an RFC 3339 time with an offset, e.g. 2026-03-01T12:00:00Z' });
const LSN = /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/;

export const createBranchSchema = z
  .object({
    ttl_seconds: ttlSecondsSchema.optional(),
    labels: labelsSchema.optional(),
    session_id: sessionIdSchema.optional(),
    at: atSchema.optional().openapi({
      description:
        "Branch from the parent as of this instant (RFC 3339 with an offset), within the parent's history: from when it was created, " +
        "or the operator's history window ago (DBLEASE_HISTORY_WINDOW_SECONDS, default 86400), whichever is later, to now. Outside it: " +
        '400 naming `at`, with the bounds in `details.window` ({from, to, seconds}). At most one of at, lsn and point_in_time.',
      example: '2026-03-01T12:00:00Z',
    }),
    lsn: z.string().regex(LSN, 'a WAL position like 0/1A2B3C4 (two hex numbers, at most 8 digits each)').optional().openapi({
      description: "Branch from the parent at this WAL position (`X/Y`, hex), within the parent's history.",
      example: '0/1A2B3C4',
    }),
    point_in_time: atSchema
      .optional()
      .openapi({ description: 'The older name of `at`, still accepted; giving both is a 400 naming point_in_time.' }),
    anonymize: anonymizeSchema.optional(),
  })
  .strict()
  .openapi('CreateBranch');

export const resetDatabaseSchema = z
  .object({
    at: atSchema.optional().openapi({
      description:
        "Reset to the parent as of this instant instead of its current state, within the parent's history (the same window as a branch's `at`).",
    }),
  })
  .strict()
  .openapi('ResetDatabase');

export const updateDatabaseSchema = z
  .object({
    ttl_seconds: ttlSecondsSchema.optional().openapi({ description: 'New lease length, counted from now.' }),
    labels: labelsSchema.optional().openapi({ description: 'Replaces all labels.' }),
  })
  .strict()
  .refine((b) => b.ttl_seconds !== undefined || b.labels !== undefined, 'give ttl_seconds or labels')
  .openapi('UpdateDatabase');

export const databaseStateSchema = z.enum(['provisioning', 'ready', 'deleting', 'deleted', 'failed', 'claimed']);

export const connectionSchema = z
  .object({
    direct: z.string().openapi({ description: 'postgresql:// URI for long sessions and migrations.' }),
    pooled: z.string().openapi({ description: 'postgresql:// URI through the connection pooler.' }),
    host: z.string(),
    database: z.string(),
    role: z.string(),
  })
  .openapi('Connection');

export const timingsSchema = z.record(z.string(), z.union([z.number(), z.enum(['pool', 'on_demand', 'branch'])])).openapi({
  description:
    'Milliseconds spent per step (admit, provider, ready, total), and `source`: where the database came from (the warm pool; ' +
    'on_demand when there is no pool or it was empty; or a branch).',
  example: { admit: 2, provider: 61, ready: 9, total: 74, source: 'pool' },
});

export const databaseSchema = z
  .object({
    id: databaseIdSchema,
    object: z.literal('database'),
    state: databaseStateSchema,
    kind: z.enum(['fresh', 'branch']),
    parent_id: databaseIdSchema.nullable(),
    depth: z.number().int(),
    region: z.string(),
    labels: z.record(z.string(), z.string()),
    session_id: sessionIdSchema.nullable(),
    kept: z.boolean(),
    anonymized: z.boolean().openapi({ description: 'Branched with masking rules (`anonymize`); such a branch cannot be reset.' }),
    created_at: z.string(),
    ready_at: z.string().nullable(),
    expires_at: z.string().nullable(),
    deleted_at: z.string().nullable(),
    reserved_usd: z.number(),
    spent_usd: z.number().openapi({
      description: "Booked from the provider's consumption figures so far (the rest of the reservation is held against the cap).",
    }),
    /** Present on create, rotate, and GET with the `databases:credentials` scope. */
    connection: connectionSchema.optional(),
    /** Present on create. */
    timings: timingsSchema.optional(),
    claim: z
      .object({ id: z.string(), state: z.literal('pending'), url: z.string(), expires_at: z.string() })
      .optional()
      .openapi({ description: "A pending claim into the user's own Neon account (POST /v1/databases/:id/claim)." }),
    last_error: z.string().nullable().optional(),
  })
  .openapi('Database');

export const databaseListSchema = z.object({ data: z.array(databaseSchema), next_cursor: z.string().nullable() }).openapi('DatabaseList');

export const listDatabasesQuerySchema = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  label: z
    .string()
    .regex(/^[^:]+:.*$/, 'label filter is key:value')
    .optional()
    .openapi({ description: 'key:value' }),
  state: databaseStateSchema.optional(),
  session_id: sessionIdSchema.optional(),
});

export const deleteDatabaseQuerySchema = z.object({
  cascade: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export const createSessionSchema = z
  .object({
    ttl_seconds: ttlSecondsSchema.optional(),
    labels: labelsSchema.optional(),
    spend_limit_usd: z
      .number()
      .positive()
      .max(1_000_000)
      .optional()
      .openapi({ description: 'A budget for the databases bound to this session (402 session_spend_limit past it).' }),
  })
  .strict()
  .openapi('CreateSession');

export const sessionSchema = z
  .object({
    id: sessionIdSchema,
    object: z.literal('session'),
    state: z.enum(['active', 'ended', 'lapsed']),
    ttl_seconds: z.number().int(),
    created_at: z.string(),
    expires_at: z.string(),
    ended_at: z.string().nullable(),
    labels: z.record(z.string(), z.string()),
    spend_limit_usd: z.number().nullable(),
  })
  .openapi('Session');

export type CreateDatabase = z.infer<typeof createDatabaseSchema>;
export type CreateBranch = z.infer<typeof createBranchSchema>;
export type ResetDatabase = z.infer<typeof resetDatabaseSchema>;
export type Database = z.infer<typeof databaseSchema>;
export type Session = z.infer<typeof sessionSchema>;
export type CreateSession = z.infer<typeof createSessionSchema>;
