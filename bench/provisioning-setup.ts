/** The provisioning benchmark's fixtures: a throw-away local stack, Workers on it, accounts, timers. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { unstable_startWorker } from 'wrangler';
import { configFromEnv } from '../local/config';
import { startLocalStack, type LocalStack } from '../local/stack';
import { freePort } from '../test/support/free-port';

const OPERATOR_TOKEN = 'bench-operator-token';

export async function benchStack(): Promise<{ stack: LocalStack; dispose: () => Promise<void> }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-bench-prov-'));
  const stack = await startLocalStack(
    configFromEnv(
      {},
      {
        dataDir,
        pgPort: 0,
        pgInternalPort: await freePort(),
        apiPort: 0,
        proxyPort: 0,
        rateLimit: { perMinute: 1_000_000, perSecondPerRoute: 1_000_000 },
        log: () => {},
      },
    ),
  );
  return {
    stack,
    dispose: async () => {
      await stack.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface BenchWorker {
  url: string;
  dispose: () => Promise<void>;
}

/** The real Worker (Wrangler's programmatic dev server, workerd) on the stack, with fresh DO state. */
export async function benchWorker(stack: LocalStack, vars: { warmPoolSize: number }): Promise<BenchWorker> {
  const persist = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-bench-worker-'));
  const plain = (value: string) => ({ type: 'plain_text' as const, value });
  const secret = (value: string) => ({ type: 'secret_text' as const, value });
  const worker = await unstable_startWorker({
    config: path.resolve('wrangler.toml'),
    bindings: {
      NEON_API_URL: plain(stack.urls.api),
      NEON_LOCAL_PROXY: plain(`${stack.config.host}:${stack.config.proxyPort}`),
      DBLEASE_ENV: plain('development'),
      DBLEASE_WARM_POOL_SIZE: plain(String(vars.warmPoolSize)),
      // The benchmark's bursts are far above an agent's policy; admission is measured separately.
      // The local stack's own rate limit is lifted too; Neon's real budget is not what is measured here.
      DBLEASE_PROVIDER_RATE_PER_MINUTE: plain('1000000'),
      DBLEASE_PROVIDER_BURST_PER_SECOND: plain('100000'),
      DBLEASE_POLICY_MAX: plain(JSON.stringify({ max_active_databases: 100_000, creates_per_minute: 1_000_000, create_burst: 1_000_000, monthly_spend_cap_usd: 1_000_000 })),
      NEON_API_KEY: secret(stack.config.apiKey),
      DBLEASE_OPERATOR_TOKEN: secret(OPERATOR_TOKEN),
      DBLEASE_ENCRYPTION_KEY: secret('bench-encryption-key-0123456789abcdef'),
    },
    dev: { server: { hostname: '127.0.0.1', port: await freePort() }, inspector: false, watch: false, persist, logLevel: 'none' },
  });
  await worker.ready;
  return {
    url: (await worker.url).origin,
    dispose: async () => {
      await worker.dispose();
      await fs.rm(persist, { recursive: true, force: true });
    },
  };
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

/** `select 1` over a new connection with the given string: what "ready for a query" means to an agent. */
export async function selectOne(uri: string): Promise<void> {
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    await client.query('select 1');
  } finally {
    await client.end();
  }
}
