import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { invalidFields } from '../../core/errors';
import type { AppEnv } from './context';
import { validationHook } from './errors';

/** Every sub-app is made here, so every one of them reports validation failures the same way. */
export const newApp = () => new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

/**
 * A request whose body is not declared JSON is refused by name. (Hono's JSON validator would
 * otherwise skip it and validate `{}`, which for a patch of optional fields silently succeeds.)
 * An empty body declared JSON fails to parse and is reported as malformed `body`.
 */
export const jsonBody = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) {
    throw invalidFields([{ path: 'body', message: 'must be JSON (Content-Type: application/json)' }]);
  }
  await next();
};
