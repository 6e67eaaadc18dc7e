import { z } from '@hono/zod-openapi';
import { PARAM_LIMITS } from '../sql/params';

/**
 * The wire contract of `POST /v1/databases/:id/sql` (also the `run_sql` MCP tool and the
 * binding's `sql`): one query, or a batch that runs as one transaction. Results are Neon's SQL
 * over HTTP JSON, so existing Neon tooling and the CLI read them unchanged.
 */

/** Large enough for a generated seed script, small enough to bound one request. */
const MAX_QUERY_CHARS = 1_000_000;
const MAX_BATCH = 1_000;

export const sqlParamSchema = z
  .union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.unknown()), z.record(z.string(), z.unknown())])
  .openapi({
    description:
      'Bound to $1, $2…: strings, numbers, booleans, null; arrays become Postgres arrays, objects JSON. ' +
      `At most ${PARAM_LIMITS.maxDepth} levels deep and ${PARAM_LIMITS.maxStringChars} characters per string; a request's parameters hold at most ` +
      `${PARAM_LIMITS.maxValues} values and ${PARAM_LIMITS.maxTotalChars} characters in all (checked by the endpoint: a 400 naming the parameter).`,
  });

export const sqlStatementSchema = z
  .object({
    query: z.string().trim().min(1, 'query is empty').max(MAX_QUERY_CHARS).openapi({ example: 'select * from users where id = $1' }),
    // The count is checked with the other parameter bounds (src/app/sql/params.ts), so the error names the field.
    params: z
      .array(sqlParamSchema)
      .optional()
      .openapi({ example: [42], description: `At most ${PARAM_LIMITS.maxParams} per statement.` }),
  })
  .strict();

export const isolationLevelSchema = z.enum(['read_uncommitted', 'read_committed', 'repeatable_read', 'serializable']);

const arrayMode = z.boolean().optional().openapi({ description: 'Rows as arrays in field order instead of objects.' });

export const singleQuerySchema = sqlStatementSchema.extend({ array_mode: arrayMode }).strict().openapi('SqlQuery');

export const batchQuerySchema = z
  .object({
    queries: z.array(sqlStatementSchema).min(1).max(MAX_BATCH),
    isolation_level: isolationLevelSchema.optional(),
    read_only: z.boolean().optional(),
    array_mode: arrayMode,
  })
  .strict()
  .openapi('SqlBatch', {
    description:
      'Runs in ONE transaction, committed after the last statement: all statements apply, or none do (unless the SQL itself ends the transaction with COMMIT or ROLLBACK; what runs after that commits statement by statement).',
  });

/** Either shape; a body with both `query` and `queries` fails as unknown keys of the other. */
export const sqlRequestSchema = z.union([singleQuerySchema, batchQuerySchema]).openapi('SqlRequest');

export const sqlResultSchema = z
  .object({
    fields: z.array(
      z.object({
        name: z.string(),
        dataTypeID: z.number().int(),
        tableID: z.number().int(),
        columnID: z.number().int(),
        dataTypeSize: z.number().int(),
        dataTypeModifier: z.number().int(),
        format: z.string(),
      }),
    ),
    rows: z.array(z.unknown()),
    command: z.string().openapi({ example: 'SELECT' }),
    rowCount: z.number().int().nullable(),
    rowAsArray: z.boolean(),
  })
  .openapi('SqlResult');

export const sqlResponseSchema = z
  .union([sqlResultSchema, z.object({ results: z.array(sqlResultSchema) }).openapi('SqlBatchResult')])
  .openapi('SqlResponse');
