/** The account's audit log, oldest first, cursor-paginated (pass `next_cursor` back as `cursor`). */
import { createRoute } from '@hono/zod-openapi';
import { accountObject } from '../account-client';
import { accountAuth, requireScope } from '../http/auth';
import { newApp } from '../http/openapi';
import { unwrap } from '../../core/result';
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

export const events = newApp().openapi(listEvents, async (c) => {
  requireScope(c, 'databases:read');
  const { cursor, limit } = c.req.valid('query');
  const page = unwrap(await accountObject(c.env, c.get('principal').account_id).listEvents(cursor, limit));
  return c.json({ data: page.events, next_cursor: page.next_cursor }, 200);
});
