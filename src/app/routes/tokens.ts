/** Account tokens (owner): minted with scopes and optional limits, shown once, revocable. */
import { createRoute, z } from '@hono/zod-openapi';
import * as service from '../tokens/service';
import { accountAuth } from '../http/auth';
import { jsonBody, newApp } from '../http/openapi';
import { createTokenSchema, newTokenSchema, tokenIdParamSchema, tokenSchema } from '../schemas/account';
import { bearerSecurity, commonErrors, conflictError, json } from '../schemas/common';

const createToken = createRoute({
  method: 'post',
  path: '/',
  tags: ['tokens'],
  summary: 'Mint a token (owner); the secret is in this response only',
  security: bearerSecurity,
  middleware: [accountAuth(), jsonBody()] as const,
  request: { body: { ...json(createTokenSchema), required: true } },
  responses: { 201: { description: 'Created', ...json(newTokenSchema) }, ...commonErrors, ...conflictError },
});

const listTokens = createRoute({
  method: 'get',
  path: '/',
  tags: ['tokens'],
  summary: "The account's tokens, revoked ones included (owner); never their secrets",
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  responses: { 200: { description: 'Tokens', ...json(z.object({ data: z.array(tokenSchema) }).openapi('TokenList')) }, ...commonErrors },
});

const revokeToken = createRoute({
  method: 'delete',
  path: '/{id}',
  tags: ['tokens'],
  summary: 'Revoke a token (owner, or the token itself); idempotent',
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  request: { params: tokenIdParamSchema },
  responses: { 200: { description: 'The revoked token', ...json(tokenSchema) }, ...commonErrors, ...conflictError },
});

export const tokens = newApp()
  .openapi(createToken, async (c) => c.json(await service.createToken(c.env, c.get('principal'), c.req.valid('json')), 201))
  .openapi(listTokens, async (c) => c.json(await service.listTokens(c.env, c.get('principal')), 200))
  .openapi(revokeToken, async (c) => c.json(await service.revokeToken(c.env, c.get('principal'), c.req.valid('param').id), 200));
