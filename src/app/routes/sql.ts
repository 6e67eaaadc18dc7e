/** `POST /v1/databases/:id/sql`: a query or a one-transaction batch, under the account's SQL caps. */
import { createRoute, z } from '@hono/zod-openapi';
import { accountAuth } from '../http/auth';
import { jsonBody, newApp } from '../http/openapi';
import { bearerSecurity, commonErrors, conflictError, errorSchema, json } from '../schemas/common';
import { databaseIdSchema } from '../schemas/databases';
import { sqlRequestSchema, sqlResponseSchema } from '../schemas/sql';
import { runSql } from '../sql/endpoint';

const runSqlRoute = createRoute({
  method: 'post',
  path: '/databases/{id}/sql',
  tags: ['sql'],
  summary: 'Run a query, or a batch as one transaction (scope `sql`)',
  description:
    "Results are Neon's SQL-over-HTTP JSON. The account's statement timeout, row cap and byte cap apply; " +
    'exceeding one is a 422 (`statement_timeout`, `row_limit_exceeded`, `response_too_large`) with the limit in `details`, ' +
    'never a cut-short answer. The statement timeout holds whatever the SQL does to the setting: at the cap the statement is ' +
    'cancelled in PostgreSQL (its backend terminated if it will not stop). `details.committed` says whether anything was ' +
    'committed. A PostgreSQL error is a 422 `sql_error` carrying its fields (code, position, detail, hint…).',
  security: bearerSecurity,
  middleware: [accountAuth(), jsonBody()] as const,
  request: { params: z.object({ id: databaseIdSchema }), body: { ...json(sqlRequestSchema), required: true } },
  responses: {
    200: { description: 'The result (`results[]` for a batch)', ...json(sqlResponseSchema) },
    ...commonErrors,
    ...conflictError,
    422: { description: 'PostgreSQL refused the SQL, or a SQL cap was exceeded', ...json(errorSchema) },
    503: { description: 'The database could not be reached; retry after `Retry-After`', ...json(errorSchema) },
  },
});

export const sql = newApp().openapi(runSqlRoute, async (c) => {
  const { body } = await runSql(c.env, c.get('principal'), c.req.valid('param').id, c.req.valid('json'));
  // Already serialized (the byte cap measured exactly this text): sent as is.
  return c.body(body, 200, { 'content-type': 'application/json' }) as never;
});
