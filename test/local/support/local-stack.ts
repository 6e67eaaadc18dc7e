import { createApiClient, type Api, type Operation } from '@neondatabase/api-client';
import pg from 'pg';
import type { LocalStackConfig } from '../../../local/config';
import { startThrowawayStack, type ThrowawayStack } from '../../support/throwaway-stack';

export interface RunningStack extends ThrowawayStack {
  client: Api<unknown>;
  /** The API origin, for `/_admin` and `/healthz`. */
  origin: string;
  admin(pathname: string, init?: RequestInit): Promise<Response>;
  /** Waits until every operation has finished. */
  settle(projectId: string, operations: Operation[]): Promise<void>;
}

/** The whole local stack, as `npm run local` composes it, on free ports and a fresh folder. */
export async function startStack(overrides: Partial<LocalStackConfig> = {}): Promise<RunningStack> {
  const stack = await startThrowawayStack(
    { rateLimit: { perMinute: 100_000, perSecondPerRoute: 10_000 }, ...overrides },
    'dblease-stack-test-',
  );
  const client = createApiClient({ apiKey: stack.config.apiKey, baseURL: stack.urls.api });
  const origin = stack.urls.api.replace(/\/api\/v2$/, '');
  return {
    ...stack,
    client,
    origin,
    admin(pathname, init = {}) {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${stack.config.apiKey}`);
      if (init.body) headers.set('content-type', 'application/json');
      return fetch(`${origin}/_admin${pathname}`, { ...init, headers });
    },
    async settle(projectId, operations) {
      for (const op of operations) {
        const deadline = Date.now() + 10_000;
        for (let status = op.status; status !== 'finished';) {
          if (status === 'failed' || status === 'error') throw new Error(`operation ${op.id} ${status}`);
          if (Date.now() > deadline) throw new Error(`operation ${op.id} still ${status}`);
          await new Promise((r) => setTimeout(r, 5));
          status = (await client.getProjectOperation(projectId, op.id)).data.operation.status;
        }
      }
    },
    dispose: () => stack.dispose(),
  };
}

/**
 * A connected `pg` client for `uri`, given up after `timeoutMs`. Errors the server sends after a
 * test is done with the session (a compute stopping, say) are ignored rather than thrown.
 */
export async function connect(uri: string, timeoutMs = 10_000): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  await client.connect();
  return client;
}
