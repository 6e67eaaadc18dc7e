/**
 * Liveness, and whether the Worker reaches its provider. Anyone may ask; only the operator token
 * gets the detail. The provider probe is a shared, cached result: at most one provider call per
 * provider account per 30 s per isolate, made on the background share of the provider budget,
 * so no rate of anonymous hits can spend what tenants need.
 */
import { Hono } from 'hono';
import { isOperator } from '../http/auth';
import { providerAccounts, neonClient } from '../../neon/index';
import { budgetGate } from '../../neon/budget-gate';
import { DEFAULT_SCHEDULE } from '../../neon/backoff';
import { lifecycleConfig } from '../../core/policy/lifecycle-config';
import { warmPool } from '../pool/claim';

export const PROBE_TTL_MS = 30_000;
const PROBE_TIMEOUT_MS = 2_000;

interface ProviderHealth {
  account: string;
  reachable: boolean;
  latency_ms?: number;
  error?: string;
}
interface Probe {
  at: number;
  result: Promise<ProviderHealth[]>;
}

let cached: Probe | undefined;

async function probeAll(env: Env): Promise<ProviderHealth[]> {
  return Promise.all(
    providerAccounts(env).map(async ({ id }) => {
      const started = Date.now();
      const client = neonClient(env, id, {
        beforeRequest: budgetGate(env, id, { priority: 'background', maxWaitMs: 1_000 }),
        requestTimeoutMs: PROBE_TIMEOUT_MS,
        budgetMs: PROBE_TIMEOUT_MS,
        retryUnanswered: false,
        schedule: { ...DEFAULT_SCHEDULE, maxServerAttempts: 1 },
      });
      try {
        await client.probe();
        return { account: id, reachable: true, latency_ms: Date.now() - started };
      } catch (err) {
        const status = (err as { status?: unknown }).status;
        return { account: id, reachable: false, error: typeof status === 'number' ? `provider answered ${status}` : 'unreachable' };
      }
    }),
  );
}

/** The probe's result, from this isolate's cache when it is younger than `PROBE_TTL_MS`. */
function providerHealth(env: Env, now: number): { checked_at: number; result: Promise<ProviderHealth[]> } {
  if (!cached || now - cached.at >= PROBE_TTL_MS) cached = { at: now, result: probeAll(env) };
  return { checked_at: cached.at, result: cached.result };
}

/**
 * The warm pool of each configured region, for the operator: how many entries wait (`size`)
 * against the `target`, how many of them keep a running compute (`awake`), the refill (fills in
 * flight, fills finished in the last minute) and the share of claims it served since its object
 * started. A pool that does not answer is reported, not fatal: the Worker still serves creates
 * on demand.
 */
async function poolHealth(env: Env) {
  return Promise.all(
    lifecycleConfig(env).warmPoolRegions.map(async (region) => {
      try {
        const s = await warmPool(env, region).status(region);
        return {
          region,
          size: s.available,
          target: s.target,
          awake: { entries: s.awake, target: s.awakeTarget },
          refill: { in_flight: s.filling, per_minute: s.fillsLastMinute, failures: s.failures },
          hits: s.hits,
          misses: s.misses,
          hit_ratio: s.hitRatio,
          since: s.since,
        };
      } catch {
        return { region, error: 'the warm pool did not answer' };
      }
    }),
  );
}

/** Tests: forget the cached probe. */
export const forgetProviderProbe = () => (cached = undefined);

export const health = new Hono<{ Bindings: Env }>().get('/', async (c) => {
  const probe = providerHealth(c.env, Date.now());
  const providers = await probe.result;
  const ok = providers.every((p) => p.reachable);
  const status = ok ? 200 : 503;
  c.header('cache-control', 'no-store');
  if (!(await isOperator(c.env, c.req.header('authorization')))) return c.json({ ok }, status);
  return c.json({ ok, checked_at: new Date(probe.checked_at).toISOString(), providers, pools: await poolHealth(c.env) }, status);
});
