/** The provisioning benchmark's fixtures: a throw-away local stack, Workers on it, accounts, timers. */
import pg from 'pg';
import type { LocalStack } from '../local/stack';
import { startDevWorker, type DevWorker } from '../test/support/dev-worker';
import { startThrowawayStack } from '../test/support/throwaway-stack';

export const OPERATOR_TOKEN = 'bench-operator-token';

/**
 * The Worker vars of every benchmark Worker, under either harness. The benchmark's bursts are far
 * above an agent's policy (admission is measured separately), and the provider budget is lifted:
 * Neon's real rate is not what is measured here.
 */
export const BENCH_VARS = {
  DBLEASE_PROVIDER_RATE_PER_MINUTE: '1000000',
  DBLEASE_PROVIDER_BURST_PER_SECOND: '100000',
  DBLEASE_POLICY_MAX: JSON.stringify({
    max_active_databases: 100_000,
    creates_per_minute: 1_000_000,
    create_burst: 1_000_000,
    monthly_spend_cap_usd: 1_000_000,
  }),
  DBLEASE_PROVIDER_ACTIONS_PER_MINUTE: '1000000',
  DBLEASE_PROVIDER_ACTION_BURST: '1000000',
};

/**
 * The provider side, sized like a provider rather than a test: a spare clone ready for each create
 * of the widest on-demand wave, and room for every compute the run leaves running (the awake pool
 * and the databases created). The benchmark waits for the spares between waves
 * (`providerSettled`), so the provider's background copying is not measured as the Worker's time.
 */
export async function benchStack(): Promise<{ stack: LocalStack; dispose: () => Promise<void> }> {
  const stack = await startThrowawayStack({ templateSpares: 110, maxComputes: 400 }, 'dblease-bench-prov-');
  await providerSettled(stack);
  return { stack, dispose: () => stack.dispose() };
}

export const providerSettled = (stack: LocalStack) => stack.api.storage.sparesSettled();

export type BenchWorker = DevWorker;

/** The real Worker on the stack, with fresh DO state and limits lifted for bursts. */
export function benchWorker(stack: LocalStack, vars: { warmPoolSize: number }): Promise<BenchWorker> {
  return startDevWorker(stack, {
    name: 'bench',
    operatorToken: OPERATOR_TOKEN,
    vars: { DBLEASE_WARM_POOL_SIZE: String(vars.warmPoolSize), DBLEASE_WARM_POOL_AWAKE: String(vars.warmPoolSize), ...BENCH_VARS },
  });
}

export async function api(url: string, token: string, method: string, route: string, body?: unknown) {
  const res = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json().catch(() => null)) as any };
}

/** A new account (owner token), with its policy lowered as given. */
export async function benchAccount(url: string, policy: Record<string, number> = {}): Promise<string> {
  const created = await api(url, OPERATOR_TOKEN, 'POST', '/v1/accounts', { name: 'bench' });
  if (created.status !== 201) throw new Error(`POST /v1/accounts: ${created.status} ${JSON.stringify(created.json)}`);
  const token = created.json.owner_token.token as string;
  if (Object.keys(policy).length > 0) {
    const res = await api(url, token, 'PATCH', '/v1/account/policy', policy);
    if (res.status !== 200) throw new Error(`PATCH policy: ${res.status} ${JSON.stringify(res.json)}`);
  }
  return token;
}

/**
 * `select 1` over a new connection with the given string: what "ready for a query" means to an
 * agent. A connection that takes over 30 s (a compute that never starts) fails the sample.
 */
export async function selectOne(uri: string): Promise<void> {
  const client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 30_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('select 1');
  } finally {
    await client.end();
  }
}
