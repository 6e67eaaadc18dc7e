import type { GateOptions } from './budget-gate';
import type { ProviderEnv } from './index';
import { placedClient } from './index';
import { poolProjectName } from '../core/naming';
import { buildProject, type BuildInput } from './provision';
import { withoutPassword } from './uri';

/**
 * One pre-provisioned fresh database in the warm pool: a project with the agent role and its
 * database, endpoint suspended. The fill-time password is not kept; connection strings are
 * stored without it and the claimer resets the role's password before use.
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
}

/**
 * Builds one pool entry of `pool`, named `dblease-pool-<id>-<pool>` (src/core/naming.ts). `onProject` is told the project id as soon
 * as the project exists, so a crash afterwards leaves a record, not an invisible project.
 */
export async function fillPoolEntry(
  env: ProviderEnv,
  input: {
    id: string;
    pool: string;
    regionId?: string;
    load?: Record<string, number>;
    onProject?: BuildInput['onProject'];
    gate?: GateOptions;
  },
): Promise<PoolEntry> {
  const { id } = input;
  const client = placedClient(env, input.load, {}, input.gate);
  const built = await buildProject(client, {
    projectName: poolProjectName(id, input.pool),
    regionId: input.regionId,
    onProject: input.onProject,
  });
  try {
    // Nothing runs on it until it is claimed; a suspended compute costs nothing and wakes on connect.
    await client.suspendEndpoint(built.projectId, built.endpointId);
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
  };
}
