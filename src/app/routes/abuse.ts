/** Abuse detection, the operator's routes: clear (optionally pinned at ok) and pin a state. */
import { createRoute } from '@hono/zod-openapi';
import * as service from '../accounts/abuse';
import { operatorAuth } from '../http/auth';
import { jsonBody, newApp } from '../http/openapi';
import { accountSchema } from '../schemas/account';
import { abuseClearSchema, abusePinSchema, accountIdParamSchema } from '../schemas/abuse';
import { bearerSecurity, commonErrors, json } from '../schemas/common';

const clearRoute = createRoute({
  method: 'post',
  path: '/accounts/{id}/abuse/clear',
  tags: ['account'],
  summary: 'Clear an account back to ok, forgiving its history so far; pin: true holds it there (operator token)',
  security: bearerSecurity,
  middleware: [operatorAuth(), jsonBody()] as const,
  request: { params: accountIdParamSchema, body: { ...json(abuseClearSchema), required: true } },
  responses: { 200: { description: 'The account', ...json(accountSchema) }, ...commonErrors },
});

const pinRoute = createRoute({
  method: 'post',
  path: '/accounts/{id}/abuse/pin',
  tags: ['account'],
  summary: 'Set and pin an abuse state: no detector moves, no decay, until a clear (operator token)',
  security: bearerSecurity,
  middleware: [operatorAuth(), jsonBody()] as const,
  request: { params: accountIdParamSchema, body: { ...json(abusePinSchema), required: true } },
  responses: { 200: { description: 'The account', ...json(accountSchema) }, ...commonErrors },
});

export const abuse = newApp()
  .openapi(clearRoute, async (c) => c.json(await service.clearAbuse(c.env, c.req.valid('param').id, c.req.valid('json')), 200))
  .openapi(pinRoute, async (c) => c.json(await service.pinAbuse(c.env, c.req.valid('param').id, c.req.valid('json')), 200));
