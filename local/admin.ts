import { Hono } from 'hono';
import { z } from 'zod';
import type { FaultInjector } from './faults';
import type { Organizations } from './neon-api/organizations';
import { generalError } from './neon-error';
import type { RateLimiter } from './rate-limit';
import type { RequestStats } from './request-stats';

const rateLimitSchema = z
  .object({
    per_minute: z.number().int().min(1).max(1_000_000),
    per_second_per_route: z.number().int().min(1).max(1_000_000),
  })
  .strict();

const organizationSchema = z.object({ name: z.string().trim().min(1, 'is required').max(256) }).strict();

function fieldMessage(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue.path.join('.') || 'body'}: ${issue.message}`;
}

async function jsonBody(req: Request): Promise<{ ok: true; value: unknown } | { ok: false }> {
  try {
    return { ok: true, value: await req.json() };
  } catch {
    return { ok: false };
  }
}

/**
 * Operator controls of the local stack, under `/_admin` on the API port, behind the same API
 * key: fault rules, the rate limit, the request counters, and new organizations. Not part of
 * Neon's API.
 */
export function adminRoutes(deps: { faults: FaultInjector; limiter: RateLimiter; stats: RequestStats; orgs: Organizations }) {
  const { faults, limiter, stats, orgs } = deps;
  return new Hono()
    .post('/organizations', async (c) => {
      const body = await jsonBody(c.req.raw);
      if (!body.ok) return generalError(c, 400, 'body: malformed JSON');
      const parsed = organizationSchema.safeParse(body.value);
      if (!parsed.success) return generalError(c, 400, fieldMessage(parsed.error));
      const { org, apiKey } = await orgs.create(parsed.data.name);
      // The key is shown this once; the stack keeps only its hash.
      return c.json({ org_id: org.id, name: org.name, api_key: apiKey }, 201);
    })
    .get('/faults', (c) => c.json({ faults: faults.list() }))
    .post('/faults', async (c) => {
      const body = await jsonBody(c.req.raw);
      if (!body.ok) return generalError(c, 400, 'body: malformed JSON');
      const list = Array.isArray(body.value) ? body.value : [body.value];
      try {
        return c.json({ faults: faults.add(list) }, 201);
      } catch (err) {
        if (err instanceof z.ZodError) return generalError(c, 400, fieldMessage(err));
        throw err;
      }
    })
    .delete('/faults', (c) => {
      faults.clear();
      return c.body(null, 204);
    })
    .delete('/faults/:id', (c) =>
      faults.remove(c.req.param('id')) ? c.body(null, 204) : generalError(c, 404, `fault ${c.req.param('id')} not found`),
    )
    .get('/rate-limit', (c) => c.json({ per_minute: limiter.limits.perMinute, per_second_per_route: limiter.limits.perSecondPerRoute }))
    .put('/rate-limit', async (c) => {
      const body = await jsonBody(c.req.raw);
      if (!body.ok) return generalError(c, 400, 'body: malformed JSON');
      const parsed = rateLimitSchema.safeParse(body.value);
      if (!parsed.success) return generalError(c, 400, fieldMessage(parsed.error));
      limiter.set({ perMinute: parsed.data.per_minute, perSecondPerRoute: parsed.data.per_second_per_route });
      return c.json(parsed.data);
    })
    .get('/stats', (c) => c.json(stats.snapshot()))
    .delete('/stats', (c) => {
      stats.reset();
      return c.body(null, 204);
    });
}
