import { env } from 'cloudflare:workers';
import { inject } from 'vitest';
import { NeonClient } from '../../../src/neon/client';
import { DEFAULT_OPTIONS, type ProviderOptions } from '../../../src/neon/http';
import { providerAccount } from '../../../src/neon/accounts';

/** The local stack's admin API: the Neon API origin without `/api/v2`. */
export const adminOrigin = () => inject('neonApiUrl').replace(/\/api\/v2\/?$/, '');

const adminHeaders = () => ({ authorization: `Bearer ${inject('neonApiKey')}`, 'content-type': 'application/json' });

export interface FaultRule {
  route: string;
  status?: 500 | 502 | 503 | 423 | 429;
  latency_ms?: number;
  hang?: boolean;
  nth?: number;
  times?: number;
  phase?: 'before' | 'after';
  /** Only requests whose URL or body contains this (e.g. an account id). */
  match?: string;
}

/**
 * Adds fault rules and returns their ids. Rules are global to the stack, so tests remove their
 * own by id (never clear them all: other test files may have rules of their own in force).
 */
export async function addFaults(...rules: FaultRule[]): Promise<string[]> {
  const res = await fetch(`${adminOrigin()}/_admin/faults`, { method: 'POST', headers: adminHeaders(), body: JSON.stringify(rules) });
  if (res.status !== 201) throw new Error(`adding faults failed: ${res.status} ${await res.text()}`);
  const body = await res.json<{ faults: { id: string }[] }>();
  return body.faults.map((f) => f.id);
}

export async function removeFaults(ids: string[]): Promise<void> {
  for (const id of ids)
    await fetch(`${adminOrigin()}/_admin/faults/${id}`, { method: 'DELETE', headers: adminHeaders() }).then((r) => r.arrayBuffer());
}

/**
 * Counts the provider requests to `route` whose URL or body contains `match`, changing nothing
 * (a fault rule of zero latency): proof that a field reached the provider as sent.
 */
export async function watchProvider(route: string, match: string) {
  const [id] = await addFaults({ route, match, latency_ms: 0 });
  return {
    async seen(): Promise<number> {
      const res = await fetch(`${adminOrigin()}/_admin/faults`, { headers: adminHeaders() });
      const { faults } = await res.json<{ faults: { id: string; seen: number }[] }>();
      return faults.find((f) => f.id === id)?.seen ?? 0;
    },
    stop: () => removeFaults([id!]),
  };
}

/**
 * Requests the stack's provider API has received so far (local/request-stats.ts), counted on
 * arrival: take it before and after an action to prove how many provider calls the action made.
 */
export async function providerRequestCount(): Promise<number> {
  const res = await fetch(`${adminOrigin()}/_admin/stats`, { headers: adminHeaders() });
  if (res.status !== 200) throw new Error(`reading the stack's request stats failed: ${res.status}`);
  return (await res.json<{ total: number }>()).total;
}

/** A client on the default account, with test-sized bounds and hooks. */
export function testClient(options: Partial<ProviderOptions> = {}): NeonClient {
  return new NeonClient(providerAccount(env, 'default'), { ...DEFAULT_OPTIONS, ...options });
}

/** A project name reconciliation would recognise, unique to this run. */
export const testName = (what: string) => `dblease-test-${what}-${crypto.randomUUID().slice(0, 8)}`;

// Mirrors test/worker/global-setup.ts, which the Worker tsconfig does not include.
declare module 'vitest' {
  interface ProvidedContext {
    neonApiUrl: string;
    neonApiKey: string;
    localProxy: string;
    jwksHost: string;
  }
}
