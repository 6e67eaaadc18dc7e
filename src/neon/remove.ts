/**
 * Removing a database's provider resource: the ONE removal path, shared by a user's delete
 * (src/app/databases/delete.ts) and the sweeper (durable-objects/lifecycle.ts). A fresh record
 * deletes its project, which takes its branches with it; a branch record deletes its branch,
 * never the project it shares. When the record lacks its provider ids (a create crashed between
 * the provider call and noting them), the resource is found by the name admission gave it,
 * `dblease-<account>-<db>`. Deletes are idempotent, so a retry, or a sweep racing a user's
 * delete, is harmless.
 */
import type { DatabaseRecord } from '../core/contract';
import { providerNames } from '../core/naming';
import { DEFAULT_ACCOUNT_ID, neonClient, providerAccounts, type ClientOptions, type NeonClient } from './index';

/** The project (and, for a branch, branch) holding `record`, by id, else by its admission name; null when none exists. */
export async function locate(
  client: NeonClient,
  accountId: string,
  record: DatabaseRecord,
): Promise<{ projectId: string; branchId?: string } | null> {
  const name = providerNames(accountId, record.id, '').resource;
  if (record.kind === 'fresh') {
    if (record.provider.project_id) return { projectId: record.provider.project_id };
    const found = (await client.listProjects({ search: name })).find((p) => p.name === name);
    return found ? { projectId: found.id } : null;
  }
  // A branch lives in its parent's project, which admission copied onto the record.
  const projectId = record.provider.project_id;
  if (!projectId) return null;
  if (record.provider.branch_id) return { projectId, branchId: record.provider.branch_id };
  const branches = await client.listBranches(projectId).catch((err: unknown) => {
    if ((err as { notFound?: boolean }).notFound) return [];
    throw err;
  });
  const found = branches.find((b) => b.name === name);
  return found ? { projectId, branchId: found.id } : null;
}

/**
 * Deletes the record's project (fresh) or branch. Resolves when the resource is gone (or never
 * existed); throws what the provider client throws, and the caller records the failure for a
 * later retry. `options` names the tenant the calls are for, or passes the sweeper's
 * background budget gate (src/neon/budget-gate.ts).
 */
export async function remove(env: Env, accountId: string, record: DatabaseRecord, options: ClientOptions = {}): Promise<void> {
  // A fresh record that never learnt its provider account may have been placed on any of them.
  const accounts = record.provider.account
    ? [record.provider.account]
    : record.kind === 'fresh'
      ? providerAccounts(env).map((a) => a.id)
      : [DEFAULT_ACCOUNT_ID];
  for (const providerAccount of accounts) {
    const client = neonClient(env, providerAccount, options);
    const where = await locate(client, accountId, record);
    if (!where) continue;
    if (record.kind === 'fresh') await client.deleteProject(where.projectId);
    else if (where.branchId) await client.deleteBranch(where.projectId, where.branchId);
    return;
  }
}
