/**
 * The sweeper's way to remove a record's provider resource. The delete itself is the databases
 * service's `deleteAtProvider` (src/databases/delete.ts); what this adds is finding the
 * resource when the record lacks its ids, which happens when a create crashed between the
 * provider call and noting them: it is then looked up by the name admission gave it
 * (`dblease-<account>-<db>`). Deletes are idempotent, so a retry or a sweep racing a user's
 * delete is harmless.
 */
import { providerNames } from '../../durable-objects/admission';
import type { DatabaseRecord } from '../../durable-objects/views';
import { deleteAtProvider } from '../databases/delete';
import { DEFAULT_ACCOUNT_ID, neonClient, type NeonClient, type ProviderOptions } from '../provider/index';

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
 * existed); throws what the provider client throws (503, ProviderRequestError,
 * ProviderOperationError), and the caller records the failure for a later retry.
 */
export async function removeAtProvider(
  env: Env,
  accountId: string,
  record: DatabaseRecord,
  options: Partial<ProviderOptions> = {},
): Promise<void> {
  const providerAccount = record.provider.account ?? DEFAULT_ACCOUNT_ID;
  const where = await locate(neonClient(env, providerAccount, options), accountId, record);
  if (!where) return;
  const located = {
    ...record,
    provider: { ...record.provider, account: providerAccount, project_id: where.projectId, branch_id: where.branchId ?? null },
  };
  // A fresh record deletes its project, a branch record its branch (never the project it shares).
  await deleteAtProvider(env, located, options);
}
