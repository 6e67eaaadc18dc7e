/** Account tokens (owner): minted with scopes and optional limits, shown once, revocable. */
import { createRoute, z } from '@hono/zod-openapi';
import { accountObject } from '../account-client';
import { accountAuth, requireScope } from '../http/auth';
import { hasScope } from '../../core/auth/tokens';
import { invalidFields } from '../../core/errors';
import { jsonBody, newApp } from '../http/openapi';
import { unwrap } from '../../core/result';
import { createTokenSchema, newTokenSchema, tokenIdParamSchema, tokenSchema } from '../schemas/account';
import { bearerSecurity, commonErrors, conflictError } from '../schemas/common';

const json = <T>(schema: T) => ({ content: { 'application/json': { schema } } });

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
  .openapi(createToken, async (c) => {
    requireScope(c, 'owner');
    const body = c.req.valid('json');
    let expiresAt: number | null = null;
    if (body.expires_at !== undefined) {
      expiresAt = Date.parse(body.expires_at);
      if (expiresAt <= Date.now()) throw invalidFields([{ path: 'expires_at', message: 'must be in the future' }]);
    }
    const principal = c.get('principal');
    const input = { ...body, expires_at: expiresAt };
    return c.json(unwrap(await accountObject(c.env, principal.account_id).createToken(input, principal.token_id)), 201);
  })
  .openapi(listTokens, async (c) => {
    requireScope(c, 'owner');
    const principal = c.get('principal');
    return c.json({ data: unwrap(await accountObject(c.env, principal.account_id).listTokens()) }, 200);
  })
  .openapi(revokeToken, async (c) => {
    const principal = c.get('principal');
    const { id } = c.req.valid('param');
    // A token may always revoke itself (an agent dropping its own credentials); others need owner.
    if (id !== principal.token_id && !hasScope(principal.scopes, 'owner')) requireScope(c, 'owner');
    return c.json(unwrap(await accountObject(c.env, principal.account_id).revokeToken(id, principal.token_id)), 200);
  });
