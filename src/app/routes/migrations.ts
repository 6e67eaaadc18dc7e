/**
 * Schema migrations over HTTP: prepare on a branch (with a schema diff and an optional
 * verification), then apply to the parent or discard. Thin: src/app/migrations/service.ts does it all.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { MIGRATION_LIMITS } from '../../core/policy/storage-limits';
import { accountAuth } from '../http/auth';
import { jsonBody, newApp } from '../http/openapi';
import * as migrations from '../migrations/service';
import { bearerSecurity, commonErrors, conflictError, errorSchema, json } from '../schemas/common';
import { databaseIdSchema } from '../schemas/databases';
import { migrationIdSchema, migrationSchema, prepareMigrationSchema } from '../schemas/migrations';

const error = (description: string) => ({ description, ...json(errorSchema) });
const migrationParams = z.object({ id: migrationIdSchema });

const prepare = createRoute({
  method: 'post',
  path: '/databases/{id}/migrations',
  tags: ['migrations'],
  summary: 'Try a migration on a fresh branch of the database: its schema diff and verification (scopes databases:write + sql)',
  description:
    'The branch is a dblease database (quota, spend and TTL apply) labelled `dblease.migration`. The SQL runs there in one ' +
    'transaction; `verify_sql` runs after it and is rolled back, each within the statement timeout. State `ready` can be applied; ' +
    '`verify_failed` and `failed` say why. A branch that is refused records nothing; ' +
    `at most ${MIGRATION_LIMITS.maxLive} undecided migrations at a time (409 \`migration_limit_exceeded\`).`,
  security: bearerSecurity,
  middleware: [accountAuth(), jsonBody()] as const,
  request: {
    params: z.object({ id: databaseIdSchema }),
    headers: z.object({ 'idempotency-key': z.string().max(200).optional() }),
    body: { ...json(prepareMigrationSchema), required: true },
  },
  responses: {
    201: { description: 'Prepared (see `state`)', ...json(migrationSchema) },
    200: { description: 'A replay: the migration this Idempotency-Key made', ...json(migrationSchema) },
    ...commonErrors,
    ...conflictError,
    402: error('The branch could take the month past the spend cap.'),
    429: error('Create rate or active-database quota exceeded; see Retry-After.'),
    503: error('The provider or the database is unavailable; see Retry-After.'),
  },
});

const getOne = createRoute({
  method: 'get',
  path: '/migrations/{id}',
  tags: ['migrations'],
  summary: 'A migration: state, schema diff, verification, last error (scope databases:read)',
  description:
    "The verification's rows and PostgreSQL's error detail can quote the data: only a token with the `sql` scope sees them. " +
    `Decided migrations are kept ${MIGRATION_LIMITS.retentionMs / 86_400_000} days (the newest ${MIGRATION_LIMITS.maxFinished} of them).`,
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  request: { params: migrationParams },
  responses: { 200: { description: 'The migration', ...json(migrationSchema) }, ...commonErrors },
});

const decide = (verb: 'apply' | 'discard', summary: string) =>
  createRoute({
    method: 'post',
    path: `/migrations/{id}/${verb}`,
    tags: ['migrations'],
    summary,
    security: bearerSecurity,
    middleware: [accountAuth()] as const,
    request: { params: migrationParams },
    responses: {
      200: { description: 'The migration; its branch is gone', ...json(migrationSchema) },
      ...commonErrors,
      ...conflictError,
      410: error('The migration expired with its branch.'),
      422: error('The SQL failed on the parent; nothing was applied.'),
    },
  });

const apply = decide('apply', "Apply to the parent in one transaction; 409 if the parent's schema changed since the branch was taken");
const discard = decide('discard', 'Discard: the branch is deleted and nothing is applied');

export const migrationRoutes = newApp()
  .openapi(prepare, async (c) => {
    const key = c.req.valid('header')['idempotency-key'];
    const { migration, status } = await migrations.prepareMigration(
      c.env,
      c.executionCtx,
      c.get('principal'),
      c.req.valid('param').id,
      c.req.valid('json'),
      {
        idempotencyKey: key,
      },
    );
    return c.json(migration, status);
  })
  .openapi(getOne, async (c) => c.json(await migrations.getMigration(c.env, c.get('principal'), c.req.valid('param').id), 200))
  .openapi(apply, async (c) =>
    c.json(await migrations.applyMigration(c.env, c.executionCtx, c.get('principal'), c.req.valid('param').id), 200),
  )
  .openapi(discard, async (c) =>
    c.json(await migrations.discardMigration(c.env, c.executionCtx, c.get('principal'), c.req.valid('param').id), 200),
  );
