import type { GateOptions } from './budget-gate';
import type { ProviderEnv } from './index';
import { placedClient } from './index';
import { poolProjectName } from '../core/naming';
import { historyWindowSeconds } from '../core/policy/history-window';
import { buildProject, type BuildInput, type HistoryEnv } from './provision';
import { waitForSql, type SqlEnv } from './sql-ready';
import { withoutPassword } from './uri';

/**
 * One pre-provisioned fresh database in the warm pool, as the pool stores it: a project with
 * the agent role and its database, endpoint suspended, the role's password SEALED (never plain
 * text at rest; src/core/crypto/sealed.ts, context `poolPasswordContext`), and when a `select 1`
 * with exactly these credentials last answered (`provenAt`). Connection strings are kept
 * without the password.
 */
export interface PoolEntry {
  id: string;
  accountId: string;
  projectId: string;
  branchId: string;
  endpointId: string;
  roleName: string;
  databaseName: string;
  uriTemplate: string;
  pooledUriTemplate: string;
  passwordSealed: string;
  /** Epoch ms of the last `select 1` that answered with these credentials. */
  provenAt: number;
  /**
   * Whether the compute was left running (DBLEASE_WARM_POOL_AWAKE), so the first query after the
   * claim needs no wake. The pool keeps it awake by proving it again (src/core/policy/warm-pool-schedule.ts).
   */
  awake: boolean;
}

/** A filled entry before the pool seals it: the plain password exists only in memory. */
export type FilledEntry = Omit<PoolEntry, 'passwordSealed'> & { password: string };

/**
 * The sealing context of a pool entry's password: bound to its project and role, so a sealed
 * value copied into another row (or another entry) does not open there.
 */
export const poolPasswordContext = (entry: { projectId: string; roleName: string }) => `pool-pw:${entry.projectId}:${entry.roleName}`;

/**
 * Builds one pool entry of `pool`, named `dblease-pool-<id>-<pool>` (src/core/naming.ts), and
 * proves it: `select 1` with the credentials the claimer will hand out, so the claim itself needs
 * neither a provider call nor a query. Then the compute is suspended, unless `keepAwake`: nothing
 * runs on it until it is claimed, and the provider wakes it on the first connection. An awake
 * entry's first query needs no wake, at the price of a running compute. `onProject` is told the
 * project id as soon as the project exists, so a crash afterwards leaves a record, not an
 * invisible project.
 */
export async function fillPoolEntry(
  env: ProviderEnv & SqlEnv & HistoryEnv,
  input: {
    id: string;
    pool: string;
    regionId?: string;
    load?: Record<string, number>;
    onProject?: BuildInput['onProject'];
    gate?: GateOptions;
    keepAwake?: boolean;
  },
): Promise<FilledEntry> {
  const { id } = input;
  const client = placedClient(env, input.load, {}, input.gate);
  const built = await buildProject(client, {
    projectName: poolProjectName(id, input.pool),
    regionId: input.regionId,
    historyRetentionSeconds: historyWindowSeconds(env.DBLEASE_HISTORY_WINDOW_SECONDS),
    onProject: input.onProject,
  });
  let provenAt: number;
  try {
    await waitForSql(env, built.connectionUri);
    provenAt = Date.now();
    if (!input.keepAwake) await client.suspendEndpoint(built.projectId, built.endpointId);
  } catch (err) {
    await client.deleteProject(built.projectId).catch(() => {});
    throw err;
  }
  return {
    id,
    accountId: built.accountId,
    projectId: built.projectId,
    branchId: built.branchId,
    endpointId: built.endpointId,
    roleName: built.roleName,
    databaseName: built.databaseName,
    uriTemplate: withoutPassword(built.connectionUri),
    pooledUriTemplate: withoutPassword(built.pooledConnectionUri),
    password: decodeURIComponent(new URL(built.connectionUri).password),
    provenAt,
    awake: input.keepAwake === true,
  };
}
