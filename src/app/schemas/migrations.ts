import { z } from '@hono/zod-openapi';
import { databaseIdSchema, ttlSecondsSchema } from './databases';

/** The wire contract of migrations (HTTP routes and the MCP migration tools). */

export const migrationIdSchema = z
  .string()
  .regex(/^mig_[0-9a-z]{20}$/, 'not a mig_ id')
  .openapi({ example: 'mig_0123456789abcdefghij' });

export const prepareMigrationSchema = z
  .object({
    sql: z.string().trim().min(1, 'sql is empty').max(1_000_000).openapi({
      description:
        "Any number of statements; applied in one transaction, so they may not end it (COMMIT, ROLLBACK: state `failed`, code `transaction_control`). The whole script must finish within the account's statement timeout, whatever it does to that setting.",
      example: 'alter table users add column email text',
    }),
    verify_sql: z.string().trim().min(1).max(100_000).optional().openapi({
      description:
        "Run on the branch after the SQL, then rolled back, within the account's statement timeout. It fails if it raises an error, or if its last statement returns false in its first column.",
      example: 'select count(*) = 0 from users where email is null',
    }),
    ttl_seconds: ttlSecondsSchema.optional().openapi({ description: "The branch's lease: an unapplied migration expires with it." }),
  })
  .strict()
  .openapi('PrepareMigration');

const keyed = <T extends z.ZodTypeAny>(value: T) => z.array(z.object({ name: z.string(), value }));
const changes = <T extends z.ZodTypeAny>(value: T) => z.array(z.object({ name: z.string(), before: value, after: value }));
const keyedDiff = <T extends z.ZodTypeAny>(value: T) => z.object({ added: keyed(value), removed: keyed(value), changed: changes(value) });

const columnSchema = z.object({ type: z.string(), nullable: z.boolean(), default: z.string().nullable() });
const constraintSchema = z.object({ type: z.string(), definition: z.string() });
const tableSchema = z.object({
  name: z.string(),
  kind: z.string(),
  definition: z.string().nullable(),
  columns: z.record(z.string(), columnSchema),
  indexes: z.record(z.string(), z.string()),
  constraints: z.record(z.string(), constraintSchema),
});

export const schemaDiffSchema = z
  .object({
    changed: z.boolean(),
    tables: z.object({
      added: z.array(tableSchema),
      removed: z.array(tableSchema),
      changed: z.array(
        z.object({
          name: z.string(),
          kind: z.object({ before: z.string(), after: z.string() }).optional(),
          definition: z.object({ before: z.string().nullable(), after: z.string().nullable() }).optional(),
          columns: keyedDiff(columnSchema),
          indexes: keyedDiff(z.string()),
          constraints: keyedDiff(constraintSchema),
        }),
      ),
    }),
    enums: keyedDiff(z.array(z.string())),
  })
  .openapi('SchemaDiff', { description: "The branch's schema after the SQL, against the parent's." });

export const rehearsalSchema = z
  .object({
    duration_ms: z.number().openapi({ description: "The migration's wall time on the branch, round trips included." }),
    locks: z.array(z.object({ relation: z.string(), kind: z.string(), mode: z.string(), created: z.boolean() })).openapi({
      description: 'Every relation lock the SQL took (read from pg_locks before its transaction ended); `created`: made by the migration.',
    }),
    tables: z.array(z.object({ name: z.string(), rows: z.number(), exact: z.boolean() })).openapi({
      description: "The touched tables' row counts after the SQL (the planner's estimate, `exact: false`, from a million rows).",
    }),
    warnings: z.array(z.string()).openapi({ description: 'ACCESS EXCLUSIVE on a table of 100,000 rows or more that existed before.' }),
  })
  .openapi('Rehearsal', { description: 'How the migration went on the branch: what applying it would cost the parent.' });

export const migrationStateSchema = z.enum([
  'preparing',
  'ready',
  'verify_failed',
  'failed',
  'applying',
  'applied',
  'discarded',
  'expired',
]);

export const migrationSchema = z
  .object({
    id: migrationIdSchema,
    object: z.literal('migration'),
    state: migrationStateSchema,
    database_id: databaseIdSchema,
    branch_id: databaseIdSchema.nullable(),
    sql: z.string(),
    verify_sql: z.string().nullable(),
    schema_diff: schemaDiffSchema.nullable(),
    rehearsal: rehearsalSchema.nullable(),
    verification: z
      .object({
        passed: z.boolean(),
        error: z.record(z.string(), z.unknown()).optional(),
        result: z.object({ command: z.string(), rows: z.array(z.unknown()) }).optional(),
      })
      .nullable()
      .openapi({
        description:
          "The verification's outcome; its `result` (the rows it read) and PostgreSQL's error detail only for tokens with the `sql` scope.",
      }),
    error: z.record(z.string(), z.unknown()).nullable().openapi({
      description:
        "The last failure: the SQL on the branch, or a refused apply. PostgreSQL's message and fields only for tokens with the `sql` scope.",
    }),
    expires_at: z.string().nullable().openapi({ description: "The branch's expiry: unapplied, the migration expires then." }),
    created_at: z.string(),
    updated_at: z.string(),
    applied_at: z.string().nullable(),
    discarded_at: z.string().nullable(),
  })
  .openapi('Migration');

export type Migration = z.infer<typeof migrationSchema>;
export type PrepareMigration = z.infer<typeof prepareMigrationSchema>;
