/** The account resource: created by the operator, read by any token, its policy set by the owner. */
import { createRoute } from '@hono/zod-openapi';
import { accountObject } from '../account-client';
import { accountAuth, operatorAuth, requireScope } from '../http/auth';
import { newId } from '../../core/ids';
import { jsonBody, newApp } from '../http/openapi';
import { unwrap } from '../../core/result';
import { accountSchema, createAccountSchema, createdAccountSchema, policyPatchSchema } from '../schemas/account';
import { bearerSecurity, commonErrors, conflictError } from '../schemas/common';

const json = <T>(schema: T) => ({ content: { 'application/json': { schema } } });

const createAccount = createRoute({
  method: 'post',
  path: '/accounts',
  tags: ['account'],
  summary: 'Create an account (operator token); its owner token is shown once',
  security: bearerSecurity,
  middleware: [operatorAuth(), jsonBody()] as const,
  request: { body: { ...json(createAccountSchema), required: true } },
  responses: { 201: { description: 'Created', ...json(createdAccountSchema) }, ...commonErrors, ...conflictError },
});

const getAccount = createRoute({
  method: 'get',
  path: '/account',
  tags: ['account'],
  summary: "The caller's account: policy, usage, spend to date and reserved, abuse state",
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  responses: { 200: { description: 'The account', ...json(accountSchema) }, ...commonErrors },
});

const patchPolicy = createRoute({
  method: 'patch',
  path: '/account/policy',
  tags: ['account'],
  summary: "Lower (or restore) policy knobs, never above the operator's maxima (owner)",
  security: bearerSecurity,
  middleware: [accountAuth(), jsonBody()] as const,
  request: { body: { ...json(policyPatchSchema), required: true } },
  responses: { 200: { description: 'The account with its new policy', ...json(accountSchema) }, ...commonErrors },
});

export const account = newApp()
  .openapi(createAccount, async (c) => {
    const { name } = c.req.valid('json');
    const id = newId('acc');
    const created = unwrap(await accountObject(c.env, id).createAccount({ id, name }));
    return c.json(created, 201);
  })
  .openapi(getAccount, async (c) => {
    const principal = c.get('principal');
    return c.json(unwrap(await accountObject(c.env, principal.account_id).getAccount()), 200);
  })
  .openapi(patchPolicy, async (c) => {
    requireScope(c, 'owner');
    const principal = c.get('principal');
    const patch = c.req.valid('json');
    return c.json(unwrap(await accountObject(c.env, principal.account_id).updatePolicy(patch, principal.token_id)), 200);
  });
