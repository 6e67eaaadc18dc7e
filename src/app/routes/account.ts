/** The account resource: created by the operator, read by any token, its policy set by the owner. */
import { createRoute } from '@hono/zod-openapi';
import * as service from '../accounts/service';
import { stopEverything } from '../accounts/stop';
import { accountAuth, operatorAuth } from '../http/auth';
import { jsonBody, newApp } from '../http/openapi';
import { accountSchema, createAccountSchema, createdAccountSchema, policyPatchSchema, stopReportSchema } from '../schemas/account';
import { bearerSecurity, commonErrors, conflictError, json } from '../schemas/common';

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

const stop = createRoute({
  method: 'post',
  path: '/account/stop',
  tags: ['account'],
  summary: 'Stop everything (owner): revoke every other token, end every session, delete every database that is not kept. Idempotent.',
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  responses: { 200: { description: 'What it did', ...json(stopReportSchema) }, ...commonErrors },
});

export const account = newApp()
  .openapi(createAccount, async (c) => c.json(await service.createAccount(c.env, c.req.valid('json').name), 201))
  .openapi(getAccount, async (c) => c.json(await service.getAccount(c.env, c.get('principal')), 200))
  .openapi(patchPolicy, async (c) => c.json(await service.updatePolicy(c.env, c.get('principal'), c.req.valid('json')), 200))
  .openapi(stop, async (c) => c.json(await stopEverything(c.env, c.get('principal')), 200));
