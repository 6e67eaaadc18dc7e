import { ProviderUnavailable } from './errors';
import type { NeonClient } from './client';
import { placedClient, type ClientOptions, type ProviderEnv } from './index';
import { AGENT_DATABASE, AGENT_ROLE, OWNER_ROLE, SUSPEND_TIMEOUT_SECONDS } from '../core/naming';
import { historyWindowSeconds } from '../core/policy/history-window';
import { composeUri } from './uri';

/** The operator's point-in-time window (wrangler.toml), which every project dblease creates keeps. */
export type HistoryEnv = { DBLEASE_HISTORY_WINDOW_SECONDS?: string };

/** A database ready to hand to an agent: where it lives and how to connect. */
export interface ProvisionedDatabase {
  /** The provider account holding the project; store it with the database. */
  accountId: string;
  projectId: string;
  branchId: string;
  endpointId: string;
  roleName: string;
  databaseName: string;
  /** Direct connection string, with a password nobody else has seen. Never log it. */
  connectionUri: string;
  /** The same through the provider's connection pooler. */
  pooledConnectionUri: string;
  source: 'pool' | 'on_demand';
  /** Milliseconds per step, for `Server-Timing` and the bench. */
  timings: Record<string, number>;
}

export interface BuildInput {
  projectName: string;
  regionId?: string;
  roleName?: string;
  databaseName?: string;
  suspendTimeoutSeconds?: number;
  /** The project's `history_retention_seconds`: the operator's point-in-time window. */
  historyRetentionSeconds?: number;
  /** Told the project id the moment the project exists, so a crash later leaves a trace. */
  onProject?: (projectId: string, accountId: string) => void | Promise<void>;
}

/** What `buildProject` made, before anything is handed out. */
export interface BuiltProject extends Omit<ProvisionedDatabase, 'source'> {}

async function timed<T>(timings: Record<string, number>, step: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    timings[step] = Date.now() - started;
  }
}

/**
 * The provider steps of a fresh database, shared by on-demand creation and the warm pool: the
 * project (with the agent's database, owned at first by the project owner role, which is never
 * handed out), then a role of its own, then the database handed to that role. Three provider
 * requests, and the polls of any operation still running; the connection strings are composed
 * from their answers (src/neon/uri.ts), not fetched. Handing over the project's database (an
 * ALTER DATABASE … OWNER) instead of creating a second one saves a whole CREATE DATABASE, the
 * slowest step there is (see bench/provisioning.ts). Each step waits for its operations. If a
 * step after the project fails, the project is deleted (best effort; its `dblease-` name lets
 * reconciliation finish the job) and the failure is rethrown as it was.
 */
export async function buildProject(client: NeonClient, input: BuildInput): Promise<BuiltProject> {
  const timings: Record<string, number> = {};
  const created = await timed(timings, 'create_project', () =>
    client.createProject({
      name: input.projectName,
      regionId: input.regionId,
      branchName: 'main',
      ownerRoleName: OWNER_ROLE,
      databaseName: input.databaseName ?? AGENT_DATABASE,
      suspendTimeoutSeconds: input.suspendTimeoutSeconds ?? SUSPEND_TIMEOUT_SECONDS,
      historyRetentionSeconds: input.historyRetentionSeconds,
    }),
  );
  const projectId = created.project.id;
  try {
    await input.onProject?.(projectId, client.account.id);
    const branchId = created.branch.id;
    const endpoint = created.endpoints.find((e) => String(e.type) === 'read_write') ?? created.endpoints[0];
    if (!endpoint) throw new ProviderUnavailable(`the database provider created project ${projectId} without an endpoint`);
    const roleName = input.roleName ?? AGENT_ROLE;
    const databaseName = input.databaseName ?? AGENT_DATABASE;
    const role = await timed(timings, 'create_role', () => client.createRole(projectId, branchId, roleName));
    if (!role.password) throw new ProviderUnavailable(`the database provider created role ${roleName} without its password`, 5);
    await timed(timings, 'transfer_database', () => client.updateDatabase(projectId, branchId, databaseName, { ownerName: roleName }));
    // Composed from the answers above rather than asked for: two provider requests fewer per create.
    const parts = { host: endpoint.host, role: roleName, password: role.password, database: databaseName };
    const connectionUri = composeUri(parts);
    const pooledConnectionUri = composeUri({ ...parts, pooled: true });
    return {
      accountId: client.account.id,
      projectId,
      branchId,
      endpointId: endpoint.id,
      roleName,
      databaseName,
      connectionUri,
      pooledConnectionUri,
      timings,
    };
  } catch (err) {
    await client.deleteProject(projectId).catch(() => {});
    throw err;
  }
}

export interface FreshOptions {
  regionId?: string;
  roleName?: string;
  databaseName?: string;
  /** Projects per provider account, for least-loaded placement; round-robin without it. */
  load?: Record<string, number>;
  /** Provider options, and the dblease account the calls are for (its share of the budget). */
  provider?: ClientOptions;
  /** See `BuildInput.onProject`. */
  onProject?: BuildInput['onProject'];
}

/**
 * A fresh database created on demand (no warm pool, or the pool is empty): a new project named
 * `name` on the account placement picks. `name` should start with `dblease-`.
 */
export async function createFreshDatabase(
  env: ProviderEnv & HistoryEnv,
  name: string,
  options: FreshOptions = {},
): Promise<ProvisionedDatabase> {
  const client = placedClient(env, options.load, options.provider);
  const built = await buildProject(client, {
    projectName: name,
    regionId: options.regionId,
    roleName: options.roleName,
    databaseName: options.databaseName,
    historyRetentionSeconds: historyWindowSeconds(env.DBLEASE_HISTORY_WINDOW_SECONDS),
    onProject: options.onProject,
  });
  return { ...built, source: 'on_demand' };
}
