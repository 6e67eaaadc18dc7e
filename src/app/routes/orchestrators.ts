/** Trusted orchestrators (operator token): `POST`, `GET /v1/orchestrators`, `DELETE /v1/orchestrators/:id` (docs/PROVISIONING.md). */
import { createRoute, z } from '@hono/zod-openapi';
import { operatorAuth } from '../http/auth';
import { jsonBody, newApp } from '../http/openapi';
import * as service from '../orchestrators/service';
import { bearerSecurity, commonErrors, json } from '../schemas/common';
import { createOrchestratorSchema, orchestratorIdSchema, orchestratorSchema } from '../schemas/orchestrators';

const register = createRoute({
  method: 'post',
  path: '/',
  tags: ['orchestrators'],
  summary: 'Register a trusted orchestrator and its public keys (operator token)',
  security: bearerSecurity,
  middleware: [operatorAuth(), jsonBody()] as const,
  request: { body: { ...json(createOrchestratorSchema), required: true } },
  responses: { 201: { description: 'Registered', ...json(orchestratorSchema) }, ...commonErrors },
});

const list = createRoute({
  method: 'get',
  path: '/',
  tags: ['orchestrators'],
  summary: 'The registered orchestrators, retired ones included (operator token)',
  security: bearerSecurity,
  middleware: [operatorAuth()] as const,
  responses: { 200: { description: 'The orchestrators', ...json(z.object({ data: z.array(orchestratorSchema) })) }, ...commonErrors },
});

const retire = createRoute({
  method: 'delete',
  path: '/{id}',
  tags: ['orchestrators'],
  summary: 'Retire an orchestrator: it can no longer provision, and the tokens it minted stop working (operator token)',
  security: bearerSecurity,
  middleware: [operatorAuth()] as const,
  request: { params: z.object({ id: orchestratorIdSchema }) },
  responses: { 200: { description: 'Retired', ...json(orchestratorSchema) }, ...commonErrors },
});

export const orchestrators = newApp()
  .openapi(register, async (c) => c.json(await service.registerOrchestrator(c.env, c.req.valid('json')), 201))
  .openapi(list, async (c) => c.json(await service.listOrchestrators(c.env), 200))
  .openapi(retire, async (c) => c.json(await service.retireOrchestrator(c.env, c.req.valid('param').id), 200));
