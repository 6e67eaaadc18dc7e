import crypto from 'node:crypto';
import { Hono, type MiddlewareHandler } from 'hono';
import type { Deps } from './context';
import { errorHandler } from './errors';
import { generalError } from '../neon-error';
import { branchRoutes } from './routes/branches';
import { consumptionRoutes } from './routes/consumption';
import { databaseRoutes } from './routes/databases';
import { endpointRoutes } from './routes/endpoints';
import { miscRoutes } from './routes/misc';
import { operationRoutes } from './routes/operations';
import { projectRoutes } from './routes/projects';
import { roleRoutes } from './routes/roles';

/** The Neon API v2 routes, relative to `/api/v2`. */
export function neonRoutes(deps: Deps): Hono {
  const app = new Hono()
    .route('/', projectRoutes(deps))
    .route('/', branchRoutes(deps))
    .route('/', endpointRoutes(deps))
    .route('/', roleRoutes(deps))
    .route('/', databaseRoutes(deps))
    .route('/', operationRoutes(deps))
    .route('/', consumptionRoutes(deps))
    .route('/', miscRoutes(deps));
  app.onError(errorHandler(deps.config.log));
  return app;
}

const digest = (s: string) => crypto.createHash('sha256').update(s).digest();

/**
 * Request id, then auth, then the caller's middleware (faults, rate limit), then the routes:
 * an unauthenticated request is refused before it can count against anything.
 */
export function buildApp(deps: Deps, middleware: MiddlewareHandler[] = []): Hono {
  const expected = digest(deps.config.apiKey);
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
    // Hashing first gives equal lengths, so the comparison time says nothing about the key.
    if (!match || !crypto.timingSafeEqual(digest(match[1].trim()), expected)) {
      return generalError(c, 401, 'authentication required: pass the API key as "Authorization: Bearer <key>"', 'UNAUTHORIZED');
    }
    await next();
  });
  for (const m of middleware) app.use('/api/v2/*', m);
  app.route('/api/v2', neonRoutes(deps));
  app.notFound((c) => generalError(c, 404, `no route for ${c.req.method} ${c.req.path}`, 'NOT_FOUND'));
  app.onError(errorHandler(deps.config.log));
  return app;
}
