/**
 * The database resource over HTTP. Thin by design: every route validates with the wire schemas
 * (src/app/schemas/databases.ts, which also generate /openapi.json) and calls the service layer
 * (src/app/databases/service.ts), which checks scopes and runs the saga for every interface alike.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { accountAuth } from '../http/auth';
import { hasScope } from '../../core/auth/tokens';
import * as service from '../databases/service';
import type { AppEnv } from '../http/context';
import { jsonBody, newApp } from '../http/openapi';
import { bearerSecurity, commonErrors, conflictError, errorSchema, json } from '../schemas/common';
import {
  createBranchSchema,
  createDatabaseSchema,
  databaseIdSchema,
  databaseListSchema,
  databaseSchema,
  deleteDatabaseQuerySchema,
  listDatabasesQuerySchema,
  resetDatabaseSchema,
  updateDatabaseSchema,
} from '../schemas/databases';

const error = (description: string) => ({ description, ...json(errorSchema) });
const idParams = z.object({ id: databaseIdSchema });
const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .openapi({ description: 'Same key and body within 24 h: the original response (200). Another body: 409.' }),
});
const createErrors = {
  ...commonErrors,
  ...conflictError,
  402: error('The lease could take the month past the spend cap.'),
  429: error('Create rate or active-database quota exceeded; see Retry-After.'),
  503: error('The database provider is unavailable; nothing was created; see Retry-After.'),
};
const created = (description: string) => ({
  201: { description, ...json(databaseSchema) },
  200: { description: 'A replay of the original response (same Idempotency-Key and body).', ...json(databaseSchema) },
});

const createDatabase = createRoute({
  method: 'post',
  path: '/',
  tags: ['databases'],
  summary: 'Create a fresh database; answers once it accepts queries (with `connection` for tokens with databases:credentials)',
  security: bearerSecurity,
  middleware: [accountAuth(), jsonBody()] as const,
  request: { headers: idempotencyHeaders, body: { ...json(createDatabaseSchema), required: true } },
  responses: { ...created('Created: the connection strings work now'), ...createErrors },
});

const branchDatabase = createRoute({
  method: 'post',
  path: '/{id}/branches',
  tags: ['databases'],
  summary: 'Branch a database (copy-on-write), optionally as of a point in time',
  security: bearerSecurity,
  middleware: [accountAuth(), jsonBody()] as const,
  request: { params: idParams, headers: idempotencyHeaders, body: { ...json(createBranchSchema), required: true } },
  responses: { ...created('Created: the branch has its own credentials, which do not open the parent'), ...createErrors },
});

const listDatabases = createRoute({
  method: 'get',
  path: '/',
  tags: ['databases'],
  summary: "The account's databases, newest first (all but deleted unless `state` says)",
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  request: { query: listDatabasesQuerySchema },
  responses: { 200: { description: 'A page', ...json(databaseListSchema) }, ...commonErrors },
});

const getDatabase = createRoute({
  method: 'get',
  path: '/{id}',
  tags: ['databases'],
  summary: 'One database; with `connection` when the token has databases:credentials',
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  request: { params: idParams },
  responses: { 200: { description: 'The database', ...json(databaseSchema) }, ...commonErrors },
});

const patchDatabase = createRoute({
  method: 'patch',
  path: '/{id}',
  tags: ['databases'],
  summary: 'A new TTL (from now, within policy) and/or labels',
  security: bearerSecurity,
  middleware: [accountAuth(), jsonBody()] as const,
  request: { params: idParams, body: { ...json(updateDatabaseSchema), required: true } },
  responses: { 200: { description: 'The database', ...json(databaseSchema) }, ...commonErrors, ...conflictError, 402: createErrors[402] },
});

const deleteDatabase = createRoute({
  method: 'delete',
  path: '/{id}',
  tags: ['databases'],
  summary: 'Delete a database; branches too with cascade=true (else 409 naming them)',
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  request: { params: idParams, query: deleteDatabaseQuerySchema },
  responses: {
    200: { description: 'Deleted', ...json(databaseSchema) },
    202: {
      description: 'Accepted: the provider failed; the record stays `deleting` and cron retries (see Retry-After)',
      ...json(databaseSchema),
    },
    ...commonErrors,
    ...conflictError,
  },
});

const action = (path: string, summary: string, description: string) =>
  createRoute({
    method: 'post',
    path,
    tags: ['databases'],
    summary,
    security: bearerSecurity,
    middleware: [accountAuth()] as const,
    request: { params: idParams },
    responses: {
      200: { description, ...json(databaseSchema) },
      ...commonErrors,
      ...conflictError,
      402: createErrors[402],
      503: createErrors[503],
    },
  });
const keepDatabase = action('/{id}/keep', 'Keep a database: it no longer expires', 'The kept database');
const rotateCredentials = action(
  '/{id}/credentials/rotate',
  'A new password; the old one stops working (databases:write and databases:credentials)',
  'The database with its new connection',
);

const resetAction = action(
  '/{id}/reset',
  "Reset a branch to its parent's current state, or to the parent as of `at`: same id, host, role, password and connection string; its own writes are gone and open sessions end (409 for a fresh database or a branch with branches)",
  'The reset branch',
);
// The body is optional: without one (or `{}`), the parent's current state.
const resetDatabase = createRoute({
  ...resetAction,
  request: { ...resetAction.request, body: { ...json(resetDatabaseSchema), required: false } },
});

const claimDatabase = createRoute({
  method: 'post',
  path: '/{id}/claim',
  tags: ['databases'],
  summary: "Claim a fresh database into the user's own Neon account (a project transfer request)",
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  request: { params: idParams },
  responses: {
    202: {
      description: 'Pending: the recipient accepts at the claim link; then the database is `claimed`',
      ...json(z.object({ claim: z.object({ id: z.string(), state: z.literal('pending'), url: z.string(), expires_at: z.string() }) })),
    },
    ...commonErrors,
    ...conflictError,
    503: createErrors[503],
  },
});

/** Create and branch answers: the status the service chose, `Server-Timing`, and a replay marker. */
function createdResponse(c: Context<AppEnv>, result: service.Created) {
  c.header('server-timing', result.serverTiming);
  if (result.status === 200) c.header('idempotent-replayed', 'true');
  return c.json(result.database, result.status);
}

export const databases = newApp()
  .openapi(createDatabase, async (c) => {
    const key = c.req.valid('header')['idempotency-key'];
    const result = await service.createDatabase(c.env, c.executionCtx, c.get('principal'), c.req.valid('json'), { idempotencyKey: key });
    return createdResponse(c, result);
  })
  .openapi(branchDatabase, async (c) => {
    const key = c.req.valid('header')['idempotency-key'];
    const { id } = c.req.valid('param');
    const result = await service.branchDatabase(c.env, c.executionCtx, c.get('principal'), id, c.req.valid('json'), {
      idempotencyKey: key,
    });
    return createdResponse(c, result);
  })
  .openapi(listDatabases, async (c) => c.json(await service.listDatabases(c.env, c.get('principal'), c.req.valid('query')), 200))
  .openapi(getDatabase, async (c) => {
    const principal = c.get('principal');
    const credentials = hasScope(principal.scopes, 'databases:credentials');
    return c.json(await service.getDatabase(c.env, principal, c.req.valid('param').id, { credentials }), 200);
  })
  .openapi(patchDatabase, async (c) =>
    c.json(await service.updateDatabase(c.env, c.get('principal'), c.req.valid('param').id, c.req.valid('json')), 200),
  )
  .openapi(deleteDatabase, async (c) => {
    const { cascade } = c.req.valid('query');
    const result = await service.deleteDatabase(c.env, c.executionCtx, c.get('principal'), c.req.valid('param').id, { cascade });
    if (result.retryAfter !== undefined) c.header('retry-after', String(result.retryAfter));
    return c.json(result.database, result.status);
  })
  .openapi(resetDatabase, async (c) =>
    c.json(await service.resetDatabase(c.env, c.get('principal'), c.req.valid('param').id, c.req.valid('json')), 200),
  )
  .openapi(keepDatabase, async (c) => c.json(await service.keepDatabase(c.env, c.get('principal'), c.req.valid('param').id), 200))
  .openapi(claimDatabase, async (c) => c.json(await service.claimDatabase(c.env, c.get('principal'), c.req.valid('param').id), 202))
  .openapi(rotateCredentials, async (c) =>
    c.json(await service.rotateCredentials(c.env, c.get('principal'), c.req.valid('param').id), 200),
  );
