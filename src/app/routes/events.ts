/** The account's audit log, oldest first, cursor-paginated (pass `next_cursor` back as `cursor`). */
import { createRoute } from '@hono/zod-openapi';
import * as service from '../accounts/service';
import { accountAuth } from '../http/auth';
import { newApp } from '../http/openapi';
import { eventListSchema } from '../schemas/account';
import { bearerSecurity, commonErrors, cursorQuerySchema } from '../schemas/common';

const listEvents = createRoute({
  method: 'get',
  path: '/',
  tags: ['events'],
  summary: 'Audit events (databases:read)',
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  request: { query: cursorQuerySchema.strict() },
  responses: { 200: { description: 'A page of events', content: { 'application/json': { schema: eventListSchema } } }, ...commonErrors },
});

export const events = newApp().openapi(listEvents, async (c) =>
  c.json(await service.listEvents(c.env, c.get('principal'), c.req.valid('query')), 200),
);
