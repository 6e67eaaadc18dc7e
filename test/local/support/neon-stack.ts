import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { createApiClient, type Api } from '@neondatabase/api-client';
import pg from 'pg';
import { configFromEnv, type LocalStackConfig } from '../../../local/config';
import type { ProxyConnections } from '../../../local/hooks';
import { createNeonApi, type NeonApi } from '../../../local/neon-api/index';
import { startCluster, type Cluster } from '../../../local/postgres/cluster';
import { freePort } from '../../support/free-port';

/**
 * Records what the control plane asks of the proxies. The control plane's tests run without
 * the real proxies (they reach PostgreSQL directly with the physical names); the lead's
 * stack composition wires the real ones.
 */
export class RecordingProxy implements ProxyConnections {
  readonly listening = new Set<string>();
  readonly calls: string[] = [];
  async listenEndpoint(host: string) {
    this.listening.add(host);
    this.calls.push(`listen ${host}`);
  }
  async stopEndpoint(host: string) {
    this.listening.delete(host);
    this.calls.push(`stop ${host}`);
  }
  async releaseIdle(db: string) {
    this.calls.push(`releaseIdle ${db}`);
  }
  async releaseRole(role: string) {
    this.calls.push(`releaseRole ${role}`);
  }
}

/** Error bodies and list pages are read loosely in tests; the shapes are asserted there. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonResponse = Omit<Response, 'json'> & { json(): Promise<any> };

export interface TestStack {
  config: LocalStackConfig;
  cluster: Cluster;
  api: NeonApi;
  proxy: RecordingProxy;
  baseURL: string;
  client: Api<unknown>;
  /** Fetch against the API with the right key unless told otherwise. */
  fetch(pathname: string, init?: RequestInit & { key?: string | null }): Promise<JsonResponse>;
  /** A real login to the real PostgreSQL, with physical names. */
  connect(role: string, password: string, database: string): Promise<pg.Client>;
  /** Stops API, server and cluster; the data folder stays unless `remove`. */
  stop(remove?: boolean): Promise<void>;
}

export async function startTestStack(opts: { dataDir?: string; overrides?: Partial<LocalStackConfig> } = {}): Promise<TestStack> {
  const dataDir = opts.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'neon-api-test-')));
  const config = configFromEnv({}, {
    dataDir, pgInternalPort: await freePort(), pgPort: await freePort(), apiPort: 0, log: () => {}, ...opts.overrides,
  });
  const cluster = await startCluster({ dataDir, host: config.host, port: config.pgInternalPort, superuserPassword: config.superuserPassword, log: () => {} });
  const proxy = new RecordingProxy();
  const api = await createNeonApi({ config, cluster, proxy });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2`;
  return {
    config, cluster, api, proxy, baseURL,
    client: createApiClient({ apiKey: config.apiKey, baseURL }),
    fetch(pathname, init = {}) {
      const headers = new Headers(init.headers);
      if (init.key !== null) headers.set('authorization', `Bearer ${init.key ?? config.apiKey}`);
      if (init.body) headers.set('content-type', 'application/json');
      return fetch(`${baseURL}${pathname}`, { ...init, headers });
    },
    async connect(role, password, database) {
      const client = new pg.Client({ host: '127.0.0.1', port: config.pgInternalPort, user: role, password, database });
      client.on('error', () => {});
      await client.connect();
      return client;
    },
    async stop(remove = false) {
      await api.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await cluster.stop();
      if (remove) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls a project's operations until none is scheduling or running. */
export async function settle(stack: TestStack, projectId: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { data } = await stack.client.listProjectOperations({ projectId, limit: 1000 });
    if (!data.operations.some((o) => o.status === 'running' || o.status === 'scheduling')) return data.operations;
    if (Date.now() > deadline) throw new Error(`operations still running on ${projectId}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Physical names as the proxies get them: through the gate, from an endpoint's host or id. */
export function physicalOf(stack: TestStack, hostOrEndpointId: string, role: string, database: string) {
  const target = stack.api.gate.resolve(hostOrEndpointId);
  if (!target) throw new Error(`no endpoint behind ${hostOrEndpointId}`);
  const r = target.role(role);
  const d = target.database(database);
  if (!r || !d) throw new Error(`no ${role}/${database} behind ${hostOrEndpointId}`);
  return { role: r, database: d };
}
