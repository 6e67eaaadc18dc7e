import type { MiddlewareHandler } from 'hono';
import { newId } from '../../core/ids';
import type { AppEnv } from './context';

/** Client-chosen ids are kept only if they are short and plain, so they are safe in logs and headers. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accepts a sane `X-Request-ID`, else makes one; echoes it on every response, errors included. */
export const requestId = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const given = c.req.header('x-request-id');
  const id = given && SANE_REQUEST_ID.test(given) ? given : newId('req');
  c.set('requestId', id);
  await next();
  c.res.headers.set('x-request-id', id);
};
