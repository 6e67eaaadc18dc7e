import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * Neon's `GeneralError` body. Every error the local API sends has this shape, so clients
 * parse our failures exactly as they parse Neon's.
 */
export function generalError(c: Context, status: ContentfulStatusCode, message: string, code = '') {
  return c.json({ request_id: c.get('requestId' as never) ?? c.req.header('x-request-id') ?? '', code, message }, status);
}
