/**
 * Bindings of a database into Cloudflare Workers, and the owner's Cloudflare API token, over
 * HTTP; the service (src/app/bindings/service.ts) checks scopes for every interface alike.
 */
import { createRoute, z } from '@hono/zod-openapi';
import * as service from '../bindings/service';
import { accountAuth } from '../http/auth';
import { jsonBody, newApp } from '../http/openapi';
import {
  bindingListSchema,
  bindingParams,
  bindingSchema,
  cloudflareTokenSchema,
  cloudflareTokenStatusSchema,
  createBindingSchema,
} from '../schemas/bindings';
import { bearerSecurity, commonErrors, conflictError, errorSchema, json } from '../schemas/common';
import { databaseIdSchema } from '../schemas/databases';

const error = (description: string) => ({ description, ...json(errorSchema) });
const idParams = z.object({ id: databaseIdSchema });

const createBinding = createRoute({
  method: 'post',
  path: '/{id}/bindings',
  tags: ['bindings'],
  summary:
    'Write the database into a Cloudflare Worker: a secret, or a Hyperdrive config (databases:write and databases:credentials); removed with the lease',
  security: bearerSecurity,
  middleware: [accountAuth(), jsonBody()] as const,
  request: { params: idParams, body: { ...json(createBindingSchema), required: true } },
  responses: {
    201: { description: 'Written at Cloudflare', ...json(bindingSchema) },
    ...commonErrors,
    409: error('Not ready, a binding of that name exists, no Cloudflare token, or a limit (binding_limit, with details.limit).'),
    422: error('Cloudflare refused: the token, the account or the Worker (details.status, details.cloudflare_message).'),
    503: error('Cloudflare is unavailable; whatever half happened is removed by dblease; see Retry-After.'),
  },
});

const listBindings = createRoute({
  method: 'get',
  path: '/{id}/bindings',
  tags: ['bindings'],
  summary: "The database's bindings, removed ones too",
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  request: { params: idParams },
  responses: { 200: { description: 'The bindings', ...json(bindingListSchema) }, ...commonErrors },
});

const deleteBinding = createRoute({
  method: 'delete',
  path: '/{id}/bindings/{bid}',
  tags: ['bindings'],
  summary: 'Take a binding out of Cloudflare (the account sweeper does it within seconds, retrying until done)',
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  request: { params: bindingParams },
  responses: { 202: { description: 'Removing (or already removed)', ...json(bindingSchema) }, ...commonErrors, ...conflictError },
});

const putToken = createRoute({
  method: 'put',
  path: '/',
  tags: ['bindings'],
  summary: 'Give dblease a scoped Cloudflare API token for bindings (owner); stored sealed, never returned',
  security: bearerSecurity,
  middleware: [accountAuth(), jsonBody()] as const,
  request: { body: { ...json(cloudflareTokenSchema), required: true } },
  responses: { 200: { description: 'Stored', ...json(cloudflareTokenStatusSchema) }, ...commonErrors },
});

export const bindingRoutes = newApp()
  .openapi(createBinding, async (c) =>
    c.json(await service.createBinding(c.env, c.get('principal'), c.req.valid('param').id, c.req.valid('json')), 201),
  )
  .openapi(listBindings, async (c) => c.json(await service.listBindings(c.env, c.get('principal'), c.req.valid('param').id), 200))
  .openapi(deleteBinding, async (c) => {
    const { id, bid } = c.req.valid('param');
    return c.json(await service.removeBinding(c.env, c.get('principal'), id, bid), 202);
  });

export const cloudflareAccount = newApp().openapi(putToken, async (c) =>
  c.json(await service.setCloudflareToken(c.env, c.get('principal'), c.req.valid('json').api_token), 200),
);
