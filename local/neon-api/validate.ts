import type { Context } from 'hono';
import { z } from 'zod';
import { badRequest, describeZodError } from './errors';

/** Parses the JSON body against a schema; an empty body counts as `{}` where that is allowed. */
export async function body<S extends z.ZodType>(c: Context, schema: S, { optional = false } = {}): Promise<z.infer<S>> {
  const text = await c.req.text();
  let raw: unknown = {};
  if (text.trim() !== '') {
    try {
      raw = JSON.parse(text);
    } catch {
      throw badRequest('request body is not valid JSON');
    }
  } else if (!optional) {
    throw badRequest('request body is required');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw badRequest(describeZodError(parsed.error));
  return parsed.data;
}

/** Query parameters, with repeated keys kept as arrays for the fields that allow them. */
export function query<S extends z.ZodType>(c: Context, schema: S, arrays: string[] = []): z.infer<S> {
  const raw: Record<string, unknown> = { ...c.req.query() };
  for (const key of arrays) {
    const values = c.req.queries(key);
    if (values) raw[key] = values.flatMap((v) => v.split(',')).filter((v) => v !== '');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw badRequest(describeZodError(parsed.error));
  return parsed.data;
}

export const id = z.string().regex(/^[a-z0-9-]{1,60}$/, 'must match ^[a-z0-9-]{1,60}$');
export const limitParam = (max: number) => z.coerce.number().int('must be an integer').min(1).max(max).optional();
export const boolParam = z
  .enum(['true', 'false'])
  .transform((v) => v === 'true')
  .optional();
export const computeUnit = z.number().min(0.25).max(56);
/**
 * Neon's range is -1, 0 or 60–604800. Below 60 is accepted locally so tests and demos can
 * watch scale-to-zero without waiting a minute; everything else follows Neon.
 */
export const suspendTimeout = z.number().int('must be an integer').min(-1).max(604800);
/** RFC 3339 with a zone, as Neon requires for `expires_at`. */
export const timestamp = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 timestamp such as 2025-06-09T18:02:16Z' });
