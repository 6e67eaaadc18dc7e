/**
 * `GET /.well-known/dblease.json`: the public catalog (src/core/catalog.ts). Cacheable: an
 * ETag over its content, `Cache-Control: public, max-age=300`, and 304 for a matching
 * `If-None-Match`.
 */
import { Hono } from 'hono';
import { catalog } from '../../core/catalog';
import { sha256Hex } from '../../core/ids';
import { operatorConfig } from '../../core/policy/operator-config';
import { regionConfig } from '../../core/policy/regions';
import type { AppEnv } from '../http/context';

/** The public base URL: `DBLEASE_PUBLIC_URL` when the operator set it, else the request's origin. */
export const publicBase = (env: Env, requestUrl: string) => (env.DBLEASE_PUBLIC_URL || new URL(requestUrl).origin).replace(/\/+$/, '');

export const catalogRoute = new Hono<AppEnv>().get('/', async (c) => {
  const body = JSON.stringify(catalog(publicBase(c.env, c.req.url), operatorConfig(c.env), regionConfig(c.env)));
  const etag = `"${(await sha256Hex(body)).slice(0, 32)}"`;
  c.header('etag', etag);
  c.header('cache-control', 'public, max-age=300');
  if (c.req.header('if-none-match') === etag) return c.body(null, 304);
  return c.body(body, 200, { 'content-type': 'application/json' });
});
