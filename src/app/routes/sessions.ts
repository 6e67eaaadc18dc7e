/**
 * Agent sessions: `POST /v1/sessions` starts a lease, `POST /v1/sessions/:id/heartbeat` renews
 * it (410 once it has lapsed or ended: nothing is revived), `DELETE /v1/sessions/:id` ends it.
 * Databases created with the session's id go when it ends or lapses, unless kept. The state
 * lives in the account object (durable-objects/sessions.ts); its alarm does the deleting.
 */
import { createRoute, z } from '@hono/zod-openapi';
import * as service from '../sessions/service';
import { accountAuth } from '../http/auth';
import { jsonBody, newApp } from '../http/openapi';
import { bearerSecurity, commonErrors, errorSchema, json } from '../schemas/common';
import { createSessionSchema, sessionIdSchema, sessionSchema } from '../schemas/databases';

const params = z.object({ id: sessionIdSchema });
const goneError = { 410: { description: 'The session has lapsed or ended; start a new one.', ...json(errorSchema) } } as const;

const createSession = createRoute({
  method: 'post',
  path: '/',
  tags: ['sessions'],
  summary: 'Start an agent session: a lease renewed by heartbeat; its databases go when it ends or lapses',
  security: bearerSecurity,
  middleware: [accountAuth(), jsonBody()] as const,
  request: { body: { ...json(createSessionSchema), required: true } },
  responses: { 201: { description: 'Started', ...json(sessionSchema) }, ...commonErrors },
});

const heartbeat = createRoute({
  method: 'post',
  path: '/{id}/heartbeat',
  tags: ['sessions'],
  summary: 'Renew the session for its TTL from now; 410 once it has lapsed or ended',
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  request: { params },
  responses: { 200: { description: 'Renewed', ...json(sessionSchema) }, ...commonErrors, ...goneError },
});

const getSession = createRoute({
  method: 'get',
  path: '/{id}',
  tags: ['sessions'],
  summary: 'A session and its state',
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  request: { params },
  responses: { 200: { description: 'The session', ...json(sessionSchema) }, ...commonErrors },
});

const endSession = createRoute({
  method: 'delete',
  path: '/{id}',
  tags: ['sessions'],
  summary: 'End the session (idempotent); its databases that are not kept are deleted',
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  request: { params },
  responses: { 200: { description: 'Ended (or already over)', ...json(sessionSchema) }, ...commonErrors },
});

export const sessions = newApp()
  .openapi(createSession, async (c) => c.json(await service.createSession(c.env, c.get('principal'), c.req.valid('json')), 201))
  .openapi(heartbeat, async (c) => c.json(await service.heartbeatSession(c.env, c.get('principal'), c.req.valid('param').id), 200))
  .openapi(getSession, async (c) => c.json(await service.getSession(c.env, c.get('principal'), c.req.valid('param').id), 200))
  .openapi(endSession, async (c) => c.json(await service.endSession(c.env, c.get('principal'), c.req.valid('param').id), 200));
