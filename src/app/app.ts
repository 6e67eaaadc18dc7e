/**
 * The Worker's HTTP app: one OpenAPIHono root, request ids, ONE error handler, a JSON 404, and
 * one sub-app per resource. `GET /openapi.json` is generated from the routes' own zod schemas.
 */
import { ERRORS } from '../core/errors';
import { notFoundRoute, onError } from './http/errors';
import { newApp } from './http/openapi';
import { requestBodyLimit } from './http/body-limit';
import { requestId } from './http/request-id';
import { account } from './routes/account';
import { bindingRoutes, cloudflareAccount } from './routes/bindings';
import { abuse } from './routes/abuse';
import { catalogRoute } from './routes/catalog';
import { dashboard } from './dashboard/app';
import { databases } from './routes/databases';
import { schemaRoutes } from './routes/schema';
import { events } from './routes/events';
import { health } from './routes/health';
import { mcp } from './routes/mcp';
import { migrationRoutes } from './routes/migrations';
import { operator } from './routes/operator';
import { orchestrators } from './routes/orchestrators';
import { provisionRoute } from './routes/provision';
import { sessions } from './routes/sessions';
import { sql } from './routes/sql';
import { tokens } from './routes/tokens';

export const app = newApp();

app.use('*', requestId());
app.use('*', requestBodyLimit());
app.onError(onError);
app.notFound(notFoundRoute);

app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
  type: 'http',
  scheme: 'bearer',
  description:
    'An account token (`dbl_<account>_<tag>_<secret>`; the tag proves dblease issued the account id), or the operator token for the operator routes.',
});

// The one catalogue of error codes (src/core/errors.ts), as the README lists it too.
app.openAPIRegistry.registerComponent('schemas', 'ErrorCode', {
  type: 'string',
  description: 'Every code dblease answers with. Each has one HTTP status; `x-dblease-codes` says what it means and what to do.',
  enum: Object.keys(ERRORS),
  'x-dblease-codes': Object.fromEntries(
    Object.entries(ERRORS).map(([code, e]) => [code, { status: e.status, meaning: e.meaning, action: e.action }]),
  ),
} as never);

app.route('/healthz', health);
app.route('/.well-known/dblease.json', catalogRoute);
app.route('/v1', account);
app.route('/v1', abuse);
app.route('/v1/tokens', tokens);
app.route('/v1/databases', databases);
app.route('/v1/databases', bindingRoutes);
app.route('/v1/databases', schemaRoutes);
app.route('/v1/account/cloudflare', cloudflareAccount);
app.route('/v1', sql);
app.route('/v1', migrationRoutes);
app.route('/mcp', mcp);
app.route('/v1/sessions', sessions);
app.route('/v1/events', events);
app.route('/v1/operator', operator);
app.route('/v1/orchestrators', orchestrators);
app.route('/v1/provision', provisionRoute);
// The owner dashboard: HTML pages at `/`, `/signin`, `/databases`… (src/app/dashboard/).
app.route('/', dashboard);

/** Built once per isolate, on first request: the routes never change at run time. */
let openApiDocument: ReturnType<typeof app.getOpenAPI31Document> | undefined;
app.get('/openapi.json', (c) => {
  if (!openApiDocument) {
    openApiDocument = app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: { title: 'dblease', version: '0.2.0', description: 'Real Postgres databases as leases, for AI agents.' },
    });
  }
  return c.json(openApiDocument);
});

export type App = typeof app;
