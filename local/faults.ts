import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { z } from 'zod';
import { generalError } from './neon-error';

/**
 * Run-time fault injection for the Neon-compatible API, so tests and benchmarks can prove the
 * orchestrator survives a bad day at Neon. A rule matches a route as `METHOD /path/:param`
 * (the path as registered, without the `/api/v2` prefix; `*` for any method or any route).
 */
export const faultRuleSchema = z
  .object({
    route: z.string().min(1).default('*'),
    /** Added before the request is handled (or before the response, with `phase: "after"`). */
    latency_ms: z.number().int().min(0).max(600_000).optional(),
    /** Answer with this status instead of the real response. */
    status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(423), z.literal(429)]).optional(),
    /** Never answer; the client's own timeout is what ends the request. */
    hang: z.boolean().optional(),
    /** Fire only on the Nth matching call (1-based); every call when absent. */
    nth: z.number().int().min(1).optional(),
    /** Fire at most this many times, then stay matched but inert. */
    times: z.number().int().min(1).optional(),
    /**
     * `before`: the fault replaces the work (nothing happens at the provider). `after`: the
     * work is done, then the response is lost to the fault, as when a reply times out.
     */
    phase: z.enum(['before', 'after']).default('before'),
    /**
     * Fire only for requests whose URL (path and query) or body contains this text, e.g. an
     * account id that only one test's resources carry: rules stay global, but concurrent test
     * files no longer trip over each other's faults.
     */
    match: z.string().min(1).max(200).optional(),
  })
  .strict()
  .refine((r) => r.latency_ms !== undefined || r.status !== undefined || r.hang, {
    message: 'a rule needs latency_ms, status or hang',
  });

export type FaultRuleInput = z.input<typeof faultRuleSchema>;
type FaultRule = z.output<typeof faultRuleSchema> & { id: string; seen: number; fired: number };

const HANG_LIMIT_MS = 10 * 60_000;

function routeMatches(pattern: string, method: string, path: string): boolean {
  if (pattern === '*') return true;
  const [m, p] = pattern.includes(' ') ? pattern.split(/\s+/, 2) : ['*', pattern];
  return (m === '*' || m.toUpperCase() === method) && (p === '*' || p === path);
}

export class FaultInjector {
  private rules: FaultRule[] = [];
  private nextId = 1;

  /** Validates and adds rules; throws a ZodError naming the bad field. */
  add(input: unknown[]): FaultRule[] {
    const parsed = input.map((r) => faultRuleSchema.parse(r));
    const added = parsed.map((r) => ({ ...r, id: `fault-${this.nextId++}`, seen: 0, fired: 0 }));
    this.rules.push(...added);
    return added;
  }
  list(): readonly FaultRule[] {
    return this.rules;
  }
  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length < before;
  }
  clear(): void {
    this.rules = [];
  }

  /** The rule that fires for this call, counting the call against every matching rule. */
  private take(method: string, path: string, phase: 'before' | 'after', request: string): FaultRule | undefined {
    let firing: FaultRule | undefined;
    for (const rule of this.rules) {
      if (rule.phase !== phase || !routeMatches(rule.route, method, path)) continue;
      if (rule.match !== undefined && !request.includes(rule.match)) continue;
      rule.seen += 1;
      if (firing) continue;
      if (rule.nth !== undefined && rule.seen !== rule.nth) continue;
      if (rule.times !== undefined && rule.fired >= rule.times) continue;
      rule.fired += 1;
      firing = rule;
    }
    return firing;
  }

  middleware(prefix: string): MiddlewareHandler {
    return async (c, next) => {
      const path = routePath(c, -1).slice(prefix.length) || '/';
      const method = c.req.method;
      // Hono caches the body text, so reading it here leaves it for the route.
      const request = this.rules.some((r) => r.match !== undefined)
        ? `${c.req.url}\n${method === 'GET' || method === 'HEAD' ? '' : await c.req.text()}`
        : '';
      const before = this.take(method, path, 'before', request);
      if (before) {
        const answer = await apply(c, before);
        if (answer) return answer;
      }
      await next();
      const after = this.take(method, path, 'after', request);
      if (after) {
        const answer = await apply(c, after);
        if (answer) c.res = answer;
      }
    };
  }
}

async function apply(c: Context, rule: FaultRule): Promise<Response | undefined> {
  if (rule.hang) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, HANG_LIMIT_MS);
      c.req.raw.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return generalError(c, 504, 'injected fault: request hung until the client gave up');
  }
  if (rule.latency_ms) await new Promise((r) => setTimeout(r, rule.latency_ms));
  if (rule.status === undefined) return undefined;
  if (rule.status === 423) {
    return generalError(c, 423, 'project already has running conflicting operations, scheduling of new ones is prohibited');
  }
  if (rule.status === 429) {
    c.header('Retry-After', '1');
    return generalError(c, 429, 'Too many requests');
  }
  return generalError(c, rule.status, `injected fault: ${rule.status}`);
}
