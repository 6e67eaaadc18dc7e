import crypto from 'node:crypto';
import { Hono, type MiddlewareHandler } from 'hono';
import { runAs } from './caller';
import { claimPage } from './claim-page';
import type { Deps } from './context';
import { errorHandler } from './errors';
import { generalError } from '../neon-error';
import { branchRoutes } from './routes/branches';
import { branchSchemaRoutes } from './routes/branch-schema';
import { consumptionRoutes } from './routes/consumption';
import { databaseRoutes } from './routes/databases';
import { endpointRoutes } from './routes/endpoints';
import { miscRoutes } from './routes/misc';
import { operationRoutes } from './routes/operations';
import { organizationRoutes } from './routes/organizations';
import { projectRoutes } from './routes/projects';
import { roleRoutes } from './routes/roles';
import { transferRoutes } from './routes/transfers';

/** The Neon API v2 routes, relative to `/api/v2`. */
export function neonRoutes(deps: Deps): Hono {
  const app = new Hono()
    .route('/', projectRoutes(deps))
    .route('/', branchRoutes(deps))
    .route('/', branchSchemaRoutes(deps))
    .route('/', endpointRoutes(deps))
    .route('/', roleRoutes(deps))
    .route('/', databaseRoutes(deps))
    .route('/', operationRoutes(deps))
    .route('/', consumptionRoutes(deps))
    .route('/', organizationRoutes(deps))
    .route('/', transferRoutes(deps))
    .route('/', miscRoutes(deps));
  app.onError(errorHandler(deps.config.log));
  return app;
}

/**
 * Request id, then auth, then the caller's middleware (faults, rate limit), then the routes:
 * an unauthenticated request is refused before it can count against anything.
 */
export function buildApp(deps: Deps, middleware: MiddlewareHandler[] = []): Hono {
  const app = new Hono();
  app.use('*', async (c, next) => {
    const given = c.req.header('x-request-id');
    const id = given && given.length <= 200 ? given : crypto.randomUUID();
    c.set('requestId' as never, id as never);
    c.header('X-Request-ID', id);
    await next();
    c.header('X-Request-ID', id);
  });
  app.use('/api/v2/*', async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    const orgId = match ? deps.orgs.authenticate(match[1].trim()) : undefined;
    if (!orgId) {
      return generalError(c, 401, 'authentication required: pass the API key as "Authorization: Bearer <key>"', 'UNAUTHORIZED');
    }
    // The rest of the request runs as that organization; the project lookup checks against it.
    await runAs({ orgId }, next);
  });
  for (const m of middleware) app.use('/api/v2/*', m);
  app.route('/api/v2', neonRoutes(deps));
  // Outside /api/v2: a person pastes a key into the page, no bearer header.
  app.route('/claim', claimPage(deps));
  app.notFound((c) => generalError(c, 404, `no route for ${c.req.method} ${c.req.path}`, 'NOT_FOUND'));
  app.onError(errorHandler(deps.config.log));
  return app;
}
