/**
 * `npm run bench -- sweep`: 1,000 expired databases across 20 accounts. How long until the
 * provider holds none of them, and the highest request rate the provider saw meanwhile.
 *
 * How the 1,000 are made quickly: a first Worker (budget and the stack's rate limit raised) creates
 * them in parallel; it is then stopped, the stack is put on Neon's documented limits (700/min,
 * 40/s per route), and a second Worker on the same Durable Object state, with the production
 * budget vars, takes over. There every lease is shortened to 1 s (PATCH, no provider call) and
 * the accounts' own alarms sweep at expiry. The
 * provider is watched through the local stack's metadata database, so the watching adds no
 * API requests to the rate being measured.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startDevWorker, type DevWorker } from '../test/support/dev-worker';
import { startThrowawayStack, type ThrowawayStack } from '../test/support/throwaway-stack';
import { machine, writeResult } from './report';
import { measure, summarize } from './stats';

const ACCOUNTS = Number(process.env.BENCH_SWEEP_ACCOUNTS || 20);
const PER_ACCOUNT = Number(process.env.BENCH_SWEEP_PER_ACCOUNT || 50);
/** Long enough that nothing expires while the first Worker is still creating. */
const CREATE_TTL_SECONDS = 3_600;
const CREATE_CONCURRENCY = 20;
const OPERATOR = 'bench-sweep-operator-token';
const NEON_LIMITS = { per_minute: 700, per_second_per_route: 40 };

type Stack = ThrowawayStack;

function startWorker(stack: Stack, persist: string, vars: Record<string, string>): Promise<DevWorker> {
  return startDevWorker(stack, {
    name: 'bench-sweep',
    operatorToken: OPERATOR,
    persist,
    vars: {
      DBLEASE_POLICY_MAX: JSON.stringify({ creates_per_minute: 1_000_000, create_burst: 1_000_000 }),
      // 50 creates per account at once: past the provider-action bucket's burst of 30.
      DBLEASE_PROVIDER_ACTIONS_PER_MINUTE: '1000000',
      DBLEASE_PROVIDER_ACTION_BURST: '1000000',
      ...vars,
    },
  });
}

async function post(url: string, token: string, body: unknown): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status !== 201) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Projects of dblease databases the provider holds, read from the stack's metadata (no API calls). */
async function heldProjects(stack: Stack): Promise<number> {
  const db = await stack.cluster.connect('neon_local_meta');
  try {
    const { rows } = await db.query(
      `select count(*)::int as n from records where kind = 'project' and data->>'name' like 'dblease-acc\\_%'`,
    );
    return rows[0].n as number;
  } finally {
    await db.end();
  }
}

export async function benchSweep(): Promise<object> {
  const persist = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-bench-sweep-do-'));
  const stack = await startThrowawayStack({}, 'dblease-bench-sweep-');
  const admin = (p: string, method: string, body?: unknown) =>
    fetch(`${stack.urls.api.replace(/\/api\/v2$/, '')}/_admin${p}`, {
      method,
      headers: { authorization: `Bearer ${stack.config.apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  try {
    // Phase 1: make 1,000 short leases, fast.
    const first = await startWorker(stack, persist, {
      DBLEASE_PROVIDER_RATE_PER_MINUTE: '1000000',
      DBLEASE_PROVIDER_BURST_PER_SECOND: '1000000',
    });
    const tokens: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++)
      tokens.push((await post(`${first.url}/v1/accounts`, OPERATOR, { name: `sweep-${i}` })).owner_token.token);
    const createStarted = Date.now();
    const created: { id: string; token: string }[] = [];
    let createRetries = 0;
    const createMs = await measure(ACCOUNTS * PER_ACCOUNT, CREATE_CONCURRENCY, async (i) => {
      const token = tokens[i % ACCOUNTS]!;
      // As an agent would: a 503 (the saga rolled back cleanly) is retried.
      let db: { id: string } | undefined;
      for (let attempt = 1; !db; attempt++) {
        try {
          db = await post(`${first.url}/v1/databases`, token, { ttl_seconds: CREATE_TTL_SECONDS });
        } catch (err) {
          if (attempt >= 5 || !String(err).includes('answered 503')) throw err;
          createRetries += 1;
        }
      }
      created.push({ id: db.id, token });
    });
    const createWallMs = Date.now() - createStarted;
    const held = await heldProjects(stack);
    console.log(
      `created ${held} databases in ${(createWallMs / 1000).toFixed(1)} s (${CREATE_CONCURRENCY} at a time, ${createRetries} retried 503s)`,
    );
    await first.dispose();

    // Phase 2: Neon's limits at the stack, production budget vars in the Worker; the alarms sweep.
    await admin('/rate-limit', 'PUT', NEON_LIMITS);
    const second = await startWorker(stack, persist, {});
    await admin('/stats', 'DELETE');
    let expiredAt = 0;
    for (let i = 0; i < created.length; i += 40) {
      await Promise.all(
        created.slice(i, i + 40).map(async ({ id, token }) => {
          const res = await fetch(`${second.url}/v1/databases/${id}`, {
            method: 'PATCH',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ ttl_seconds: 1 }),
          });
          const db = (await res.json()) as { expires_at: string };
          if (res.status !== 200) throw new Error(`PATCH answered ${res.status}: ${JSON.stringify(db)}`);
          expiredAt = Math.max(expiredAt, Date.parse(db.expires_at));
        }),
      );
    }
    console.log(`every lease now ends within 1 s (last at ${new Date(expiredAt).toISOString()}); waiting for the sweep…`);
    let remaining = held;
    const samples: { t_s: number; held: number }[] = [];
    while (remaining > 0 && Date.now() - expiredAt < 15 * 60_000) {
      await new Promise((r) => setTimeout(r, 1_000));
      remaining = await heldProjects(stack);
      if (Date.now() >= expiredAt) samples.push({ t_s: Math.round((Date.now() - expiredAt) / 100) / 10, held: remaining });
    }
    const goneAfterMs = Date.now() - expiredAt;
    const stats = (await (await admin('/stats', 'GET')).json()) as {
      total: number;
      peak_per_second: number;
      peak_per_minute: number;
      by_route: Record<string, number>;
    };
    await second.dispose();

    const pg = await stack.cluster.connect('postgres');
    const pgVersion = (await pg.query('show server_version')).rows[0].server_version as string;
    await pg.end();
    const result = {
      benchmark: 'sweep',
      machine: machine(pgVersion),
      databases: held,
      accounts: ACCOUNTS,
      how_created: `in parallel (${CREATE_CONCURRENCY} at a time, 503s retried) through POST /v1/databases with the budget raised; then a second Worker on the same state with the default budget, where PATCH ttl_seconds=1 ends every lease`,
      create_retries: createRetries,
      create_ms: summarize(createMs),
      create_wall_ms: createWallMs,
      left_at_provider: remaining,
      gone_after_last_expiry_ms: goneAfterMs,
      provider_limits: NEON_LIMITS,
      budget: { per_minute: 700, per_second: 40, background_share: 0.8 },
      provider_requests: stats.total,
      peak_per_second: stats.peak_per_second,
      peak_per_minute: stats.peak_per_minute,
      by_route: stats.by_route,
      held_over_time: samples.filter((_, i) => i % 5 === 0),
    };
    console.log(`\nsweep of ${held} expired databases (${ACCOUNTS} accounts)`);
    console.log(`  provider holds none of them ${(goneAfterMs / 1000).toFixed(1)} s after the last expiry (left: ${remaining})`);
    console.log(
      `  provider requests ${stats.total}; peak ${stats.peak_per_second}/s, ${stats.peak_per_minute}/min (limit 40/s per route, 700/min)`,
    );
    console.log(`\nwritten to ${await writeResult('sweep', result)}`);
    return result;
  } finally {
    await stack.dispose();
    await fs.rm(persist, { recursive: true, force: true });
  }
}
