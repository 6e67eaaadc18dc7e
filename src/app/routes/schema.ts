/** Schema as a resource over HTTP: a database's schema, and its diff against another. Thin: src/app/schema/service.ts. */
import { createRoute, z } from '@hono/zod-openapi';
import { accountAuth } from '../http/auth';
import { newApp } from '../http/openapi';
import * as schema from '../schema/service';
import { bearerSecurity, commonErrors, conflictError, json } from '../schemas/common';
import { databaseIdSchema } from '../schemas/databases';
import { schemaDescriptionSchema, schemaDiffQuerySchema, schemaDiffResponseSchema } from '../schemas/schema';

const idParams = z.object({ id: databaseIdSchema });

const describeRoute = createRoute({
  method: 'get',
  path: '/{id}/schema',
  tags: ['databases'],
  summary: "A database's schema: tables, columns, indexes, constraints, enums, views, and the DDL (scope databases:read)",
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  request: { params: idParams },
  responses: { 200: { description: 'The schema, ordered by name', ...json(schemaDescriptionSchema) }, ...commonErrors, ...conflictError },
});

const diffRoute = createRoute({
  method: 'get',
  path: '/{id}/schema/diff',
  tags: ['databases'],
  summary: "The structured diff of this database's schema against another's, as migrations report it (scope databases:read)",
  security: bearerSecurity,
  middleware: [accountAuth()] as const,
  request: { params: idParams, query: schemaDiffQuerySchema },
  responses: { 200: { description: 'The diff, ordered by name', ...json(schemaDiffResponseSchema) }, ...commonErrors, ...conflictError },
});

export const schemaRoutes = newApp()
  .openapi(describeRoute, async (c) => c.json(await schema.describeSchema(c.env, c.get('principal'), c.req.valid('param').id), 200))
  .openapi(diffRoute, async (c) =>
    c.json(await schema.diffSchema(c.env, c.get('principal'), c.req.valid('param').id, c.req.valid('query').against), 200),
  );
