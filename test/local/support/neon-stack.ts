import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { createApiClient, type Api } from '@neondatabase/api-client';
import pg from 'pg';
import { configFromEnv, type LocalStackConfig } from '../../../local/config';
import type { NeonApi } from '../../../local/neon-api/index';
import type { Cluster } from '../../../local/postgres/cluster';
import { startThrowawayStack } from '../../support/throwaway-stack';

/** Whether something accepts TCP connections at host:port (an endpoint's listener). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Error bodies and list pages are read loosely in tests; the shapes are asserted there. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonResponse = Omit<Response, 'json'> & { json(): Promise<any> };

export interface TestStack {
  config: LocalStackConfig;
  cluster: Cluster;
  api: NeonApi;
  baseURL: string;
  /** Whether the endpoint proxy listens on an endpoint's address. */
  listening(ip: string): Promise<boolean>;
  /** One query through SQL over HTTP (the proxy's pooled upstream path), as `neon()` sends it. */
  sqlOverHttp(connectionString: string, query: string): Promise<{ status: number; body: any }>;
  client: Api<unknown>;
  /** Fetch against the API with the right key unless told otherwise. */
  fetch(pathname: string, init?: RequestInit & { key?: string | null }): Promise<JsonResponse>;
  /** A real login through the endpoint proxy, to the compute behind an endpoint's host (`ip[:port]`). */
  connect(host: string, role: string, password: string, database: string): Promise<pg.Client>;
  /** A superuser session on a branch's own compute (started if need be), to look behind the API. */
  superuser(branchId: string, database?: string): Promise<pg.Client>;
  /** Stops API, server and cluster; the data folder stays unless `remove`. */
  stop(remove?: boolean): Promise<void>;
}

export async function startTestStack(opts: { dataDir?: string; overrides?: Partial<LocalStackConfig> } = {}): Promise<TestStack> {
  const dataDir = opts.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'neon-api-test-')));
  // The real composition: the control plane with the real proxies in front of PostgreSQL.
  // Neon's own rate limit stays as configured (Neon's defaults unless overridden).
  const stack = await startThrowawayStack({ dataDir, rateLimit: configFromEnv({}).rateLimit, ...opts.overrides });
  const { config, cluster, api } = stack;
  const baseURL = stack.urls.api;
  return {
    config,
    cluster,
    api,
    baseURL,
    listening: (ip) => accepts(ip, config.pgPort),
    async sqlOverHttp(connectionString, query) {
      const res = await fetch(`${stack.urls.proxy}/sql`, {
        method: 'POST',
        headers: { 'Neon-Connection-String': connectionString, 'content-type': 'application/json' },
        body: JSON.stringify({ query, params: [] }),
      });
      return { status: res.status, body: await res.json() };
    },
    client: createApiClient({ apiKey: config.apiKey, baseURL }),
    fetch(pathname, init = {}) {
      const headers = new Headers(init.headers);
      if (init.key !== null) headers.set('authorization', `Bearer ${init.key ?? config.apiKey}`);
      if (init.body) headers.set('content-type', 'application/json');
      return fetch(`${baseURL}${pathname}`, { ...init, headers });
    },
    async connect(host, role, password, database) {
      const [address, port] = host.split(':');
      const client = new pg.Client({ host: address, port: Number(port ?? config.pgPort), user: role, password, database });
      client.on('error', () => {});
      await client.connect();
      return client;
    },
    async superuser(branchId, database = 'postgres') {
      const branch = api.store.branches.get(branchId);
      if (!branch) throw new Error(`no branch ${branchId}`);
      const rc = await api.computes.ensureRunning(branch);
      const client = new pg.Client({ host: rc.postmaster.address.socketDir, port: rc.postmaster.address.port, user: 'postgres', database });
      client.on('error', () => {});
      await client.connect();
      return client;
    },
    async stop(remove = false) {
      await stack.stop();
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

/** Where a session for a role and database behind an endpoint (its host or id) connects. */
export function physicalOf(stack: TestStack, hostOrEndpointId: string, role: string, database: string) {
  const target = stack.api.gate.resolve(hostOrEndpointId);
  if (!target) throw new Error(`no endpoint behind ${hostOrEndpointId}`);
  const ep = stack.api.store.endpoints.get(target.endpointId)!;
  return { host: ep.ip, role, database };
}
