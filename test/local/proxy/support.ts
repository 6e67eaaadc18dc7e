import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { configFromEnv, type LocalStackConfig } from '../../../local/config.js';
import { ConnectRefused, type ComputeAddress, type ComputeGate, type EndpointTarget } from '../../../local/hooks.js';
import { startSqlProxy, type SqlProxy, type SqlProxyOptions } from '../../../local/proxy/index.js';
import { ComputeFarm, type TestCompute } from './computes.js';

export interface TestEndpoint {
  id: string;
  host: string;
  compute: TestCompute;
  readOnly: boolean;
  /** neondb_owner's password on this endpoint's compute. */
  password: string;
}

/**
 * A small but real ComputeGate over a fixed set of endpoints, standing in for the control plane
 * at the seam in local/hooks.ts. It is a fixture of that seam, not a mock of PostgreSQL: every
 * secret it hands out is read from a real compute, and every query runs on one.
 */
export class TestGate implements ComputeGate {
  readonly awakeCalls: string[] = [];
  readonly open = new Map<string, number>();
  opened = 0;
  closed = 0;
  /** Endpoint id → the refusal ensureAwake answers with. */
  readonly refuse = new Map<string, ConnectRefused>();
  /** Hands out superusers' secrets too, as a broken gate would: the proxy must still refuse them. */
  leakSuperusers = false;

  constructor(readonly endpoints: TestEndpoint[]) {}

  private find(hostOrId: string): TestEndpoint | undefined {
    const bare = hostOrId.replace(/:\d+$/, '');
    return this.endpoints.find((e) => e.host === bare || e.id === bare);
  }

  resolve(hostOrEndpointId: string): EndpointTarget | undefined {
    const ep = this.find(hostOrEndpointId);
    if (!ep) return undefined;
    return { endpointId: ep.id, branchId: `br-${ep.id}`, projectId: 'test-project', readOnly: ep.readOnly };
  }

  async ensureAwake(endpointId: string): Promise<ComputeAddress> {
    this.awakeCalls.push(endpointId);
    const refusal = this.refuse.get(endpointId);
    if (refusal) throw refusal;
    return this.find(endpointId)!.compute.address;
  }

  /** As the control plane's: a role that may log in, not a superuser, not expired. */
  async roleSecret(endpointId: string, role: string): Promise<string | undefined> {
    const { rows } = await this.find(endpointId)!.compute.admin.query<{ rolpassword: string | null }>(
      `SELECT rolpassword FROM pg_authid
        WHERE rolname = $1 AND rolcanlogin AND (NOT rolsuper OR $2) AND (rolvaliduntil IS NULL OR rolvaliduntil > now())`,
      [role, this.leakSuperusers],
    );
    return rows[0]?.rolpassword ?? undefined;
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
  computes: { a: TestCompute; b: TestCompute };
  proxy: SqlProxy;
  gate: TestGate;
  /** Endpoints on computes A and B, and a read-only endpoint on compute A. */
  a: TestEndpoint;
  b: TestEndpoint;
  ro: TestEndpoint;
  logs: string[];
  /** The stack's data folder (its tls/ lives there). */
  dataDir: string;
  /** The password of the computes' superuser `postgres`, which must never log in through the proxy. */
  superuserPassword: string;
  /** postgresql://… URL for a role/database on an endpoint host. */
  url(ep: TestEndpoint, opts?: { password?: string; role?: string; database?: string; query?: string }): string;
  stop(): Promise<void>;
}

/**
 * Two real computes, each with a `neondb_owner` (a different password on each) owning
 * `neondb`, behind endpoints on loopback addresses `127.1.<octet>.1` (A), `.2` (B) and `.3`
 * (read-only, A), and the proxies in front of them.
 */
export async function startHarness(
  octet: number,
  proxyOptions: Partial<SqlProxyOptions> = {},
  configOverrides: Partial<LocalStackConfig> = {},
): Promise<Harness> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-proxy-test-'));
  const farm = await ComputeFarm.create(path.join(dataDir, 'computes'));
  const [ca, cb] = await Promise.all([farm.start('a'), farm.start('b')]);
  const superuserPassword = `su-${octet}-secret`;
  const mk = (tag: string, n: number, compute: TestCompute, readOnly = false): TestEndpoint => ({
    id: `ep-test-${tag}-${octet}`,
    host: `127.1.${octet}.${n}`,
    compute,
    readOnly,
    password: `pw-${compute.name}-secret`,
  });
  const a = mk('a', 1, ca);
  const b = mk('b', 2, cb);
  const ro = mk('ro', 3, ca, true);
  for (const ep of [a, b]) {
    // The template's neondb_owner owns neondb; the API would give it LOGIN and a password.
    await ep.compute.admin.query(`ALTER ROLE neondb_owner LOGIN PASSWORD '${ep.password}'`);
    // The stack's superuser has no password; this one does, to show that even then it cannot log in.
    await ep.compute.admin.query(`ALTER ROLE postgres PASSWORD '${superuserPassword}'`);
  }
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const gate = new TestGate([a, b, ro]);
  const config = configFromEnv({}, { dataDir, pgPort: 0, proxyPort: 0, log, ...configOverrides });
  const proxy = await startSqlProxy({ config, gate, log, ...proxyOptions });
  for (const ep of [a, b, ro]) await proxy.listenEndpoint(ep.host);
  return {
    computes: { a: ca, b: cb },
    proxy,
    gate,
    a,
    b,
    ro,
    logs,
    dataDir,
    superuserPassword,
    url(ep, opts = {}) {
      const role = opts.role ?? 'neondb_owner';
      const password = encodeURIComponent(opts.password ?? ep.password);
      return `postgresql://${role}:${password}@${ep.host}:${proxy.pgPort}/${opts.database ?? 'neondb'}${opts.query ?? ''}`;
    },
    async stop() {
      await proxy.close();
      await farm.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` holds; connection accounting settles after sockets close. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
