/**
 * Reconciliation of the provider against the registry (cron, every few minutes). For every
 * provider account it pages through ALL projects named as dblease's, and through the branches
 * of projects that hold dblease branches, then lets each account object judge the resources
 * named after it (`dblease-<account>-<db>`):
 * - a resource with no live record pointing at it, past the grace period, is an orphan: deleted;
 * - a `ready` record whose resource is gone (confirmed by id) is marked `deleted`, with events.
 * - the spend of every ready record is reconciled: the provider's consumption figures for its
 *   branch, fetched for all accounts together (100 branches a request), booked by its account.
 * The name decides the account, and only that account's object decides: a resource of an
 * account that does not exist here, a warm-pool project, or a protected branch is never touched.
 */
import type { InventoryRecord, NamedResource } from '../../../durable-objects/reconcile-store';
import { accountObject } from '../account-client';
import { parsePoolProjectName, parseResourceName, POOL_PROJECT_PREFIX, PROJECT_PREFIX } from '../../core/naming';
import { warmPool } from '../pool/claim';
import type { PoolClaim } from '../../../durable-objects/warm-pool-store';
import { DEFAULT_ACCOUNT_ID, neonClient, providerAccounts, ProviderRequestError, type NeonClient } from '../../neon/index';
import { unwrap } from '../../core/result';
import { backgroundProviderOptions } from '../../neon/budget-gate';
import type { LifecycleConfig } from '../../core/policy/lifecycle-config';
import { mapLimit } from '../../core/schedule';
import { fetchSpendFigures, type SpendFigure, type SpendSubject } from '../../neon/spend-figures';
import { reconcileBindings, type BindingReconcileReport } from './reconcile-bindings';

export interface ReconcileReport {
  projects_seen: number;
  branches_seen: number;
  accounts_checked: number;
  orphans_deleted: { account_id: string; db_id: string; kind: string; resource_id: string }[];
  gone_marked: string[];
  /** Records whose spent/reserved moved, and by how much in all (µ$). */
  spend_booked: number;
  spend_moved_micro_usd: number;
  /** Pools outside DBLEASE_WARM_POOL_REGIONS, with no operator target, emptied of their unclaimed projects. */
  stray_pools_retired: { pool: string; deleted: number }[];
  /** Databases whose pending claim the user accepted: now `claimed`. */
  claims_completed: string[];
  /** Bindings into Cloudflare Workers: leaks removed, stale secrets rewritten (reconcile-bindings.ts). */
  bindings?: BindingReconcileReport;
  errors: string[];
}

const isNotFound = (err: unknown) => err instanceof ProviderRequestError && err.notFound;

/** Accounts the deadline index says hold live records (pages through every shard). */
async function liveAccounts(env: Env, shards: number): Promise<string[]> {
  const out: string[] = [];
  for (let shard = 0; shard < shards; shard++) {
    const stub = env.DEADLINE_INDEX.get(env.DEADLINE_INDEX.idFromName(`shard-${shard}`));
    for (let after = ''; ;) {
      const page = await stub.liveAccounts(after, 1_000);
      out.push(...page);
      if (page.length < 1_000) break;
      after = page[page.length - 1]!;
    }
  }
  return out;
}

export async function reconcileProvider(env: Env, cfg: LifecycleConfig): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    projects_seen: 0,
    branches_seen: 0,
    accounts_checked: 0,
    orphans_deleted: [],
    gone_marked: [],
    spend_booked: 0,
    spend_moved_micro_usd: 0,
    stray_pools_retired: [],
    claims_completed: [],
    errors: [],
  };
  const live = await liveAccounts(env, cfg.shards);
  for (const pa of providerAccounts(env)) {
    try {
      await reconcileProviderAccount(env, pa.id, live, cfg, report);
    } catch (err) {
      report.errors.push(`${pa.id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  report.bindings = await reconcileBindings(env, live);
  return report;
}

async function reconcileProviderAccount(env: Env, providerAccount: string, live: string[], cfg: LifecycleConfig, report: ReconcileReport) {
  const client = neonClient(env, providerAccount, backgroundProviderOptions(env, providerAccount));
  const listedAfter = Date.now();
  const projects = await client.listProjects({ search: PROJECT_PREFIX });
  report.projects_seen += projects.length;
  const projectIds = new Set(projects.map((p) => p.id));
  const named = new Map<string, NamedResource[]>();
  const claims = await poolClaims(env, cfg);
  await retireStrayPools(env, projects, claims, cfg, report);
  for (const p of projects) {
    // A claimed pool project keeps its pool name; the pool says whose it is (from the claim on).
    const claim = p.name.startsWith(POOL_PROJECT_PREFIX) ? claims.get(p.id) : undefined;
    const parsed =
      claim && claim.providerAccount === providerAccount ? { accountId: claim.accountId, dbId: claim.dbId } : parseResourceName(p.name);
    if (!parsed) continue;
    const list = named.get(parsed.accountId) ?? [];
    list.push({ db_id: parsed.dbId, kind: 'project', resource_id: p.id, created_at: claim?.claimedAt ?? Date.parse(p.created_at) });
    named.set(parsed.accountId, list);
  }
  const accounts = [...new Set([...named.keys(), ...live])];
  const spend = new Map<string, SpendSubject[]>();
  await mapLimit(accounts, 4, async (accountId) => {
    try {
      const subjects = await reconcileAccount(
        env,
        client,
        providerAccount,
        accountId,
        named.get(accountId) ?? [],
        projectIds,
        listedAfter,
        cfg,
        report,
      );
      if (subjects.length > 0) spend.set(accountId, subjects);
    } catch (err) {
      report.errors.push(`${accountId}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  await reconcileSpend(env, client, spend, report);
}

/**
 * Recent claims of the configured warm pools, by project id. A pool project nobody claimed is
 * the pool's own (it cleans up its stranded fills); a claimed one is judged by its claimant.
 */
async function poolClaims(env: Env, cfg: LifecycleConfig): Promise<Map<string, PoolClaim>> {
  const out = new Map<string, PoolClaim>();
  for (const pool of cfg.warmPoolRegions) for (const c of await warmPool(env, pool).claims()) out.set(c.projectId, c);
  return out;
}

/**
 * Pools that nobody configured (named by requests before regions were an allow-list) are
 * emptied: each such pool named in a project's name deletes its unclaimed projects itself.
 * Their claims join `claims`, so a claimed project is judged by its claimant like any other.
 */
async function retireStrayPools(
  env: Env,
  projects: { name: string }[],
  claims: Map<string, PoolClaim>,
  cfg: LifecycleConfig,
  report: ReconcileReport,
) {
  const stray = new Set<string>();
  for (const p of projects) {
    const pool = parsePoolProjectName(p.name)?.pool;
    if (pool !== undefined && !cfg.warmPoolRegions.includes(pool)) stray.add(pool);
  }
  for (const pool of stray) {
    try {
      const stub = warmPool(env, pool);
      for (const c of await stub.claims()) claims.set(c.projectId, c);
      const { retired, deleted } = await stub.retireIfStray(pool, cfg.warmPoolRegions);
      if (retired) report.stray_pools_retired.push({ pool, deleted });
    } catch (err) {
      report.errors.push(`pool ${pool}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** Fetches the figures of every account's subjects at once, then lets each account book its own. */
async function reconcileSpend(env: Env, client: NeonClient, spend: Map<string, SpendSubject[]>, report: ReconcileReport) {
  const owner = new Map<string, string>();
  for (const [accountId, subjects] of spend) for (const s of subjects) owner.set(s.id, accountId);
  const figures = await fetchSpendFigures(client, [...spend.values()].flat(), Date.now());
  const perAccount = new Map<string, SpendFigure[]>();
  for (const f of figures) perAccount.set(owner.get(f.id)!, [...(perAccount.get(owner.get(f.id)!) ?? []), f]);
  await mapLimit([...perAccount], 4, async ([accountId, list]) => {
    try {
      const booked = unwrap(await accountObject(env, accountId).bookSpend(list));
      report.spend_booked += booked.booked;
      report.spend_moved_micro_usd += booked.moved_micro_usd;
    } catch (err) {
      report.errors.push(`${accountId} spend: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}

async function reconcileAccount(
  env: Env,
  client: NeonClient,
  providerAccount: string,
  accountId: string,
  namedProjects: NamedResource[],
  projectIds: Set<string>,
  listedAfter: number,
  cfg: LifecycleConfig,
  report: ReconcileReport,
): Promise<SpendSubject[]> {
  const stub = accountObject(env, accountId);
  const inv = unwrap(await stub.reconcileInventory());
  if (!inv.exists) return []; // not an account of this deployment: never ours to delete
  report.accounts_checked += 1;
  const resources = [...namedProjects];
  const branchesOf = new Map<string, Set<string>>();
  for (const projectId of inv.branch_projects.filter((p) => projectIds.has(p))) {
    const branches = await client.listBranches(projectId).catch((err) => (isNotFound(err) ? [] : Promise.reject(err)));
    report.branches_seen += branches.length;
    branchesOf.set(projectId, new Set(branches.map((b) => b.id)));
    for (const b of branches) {
      const parsed = parseResourceName(b.name);
      if (!parsed || parsed.accountId !== accountId || b.protected) continue;
      resources.push({
        db_id: parsed.dbId,
        kind: 'branch',
        resource_id: b.id,
        created_at: Date.parse(b.created_at),
        project_id: projectId,
      });
    }
  }
  const verdicts = resources.length ? unwrap(await stub.judgeResources(resources, cfg.orphanGraceMs)) : [];
  for (const [i, res] of resources.entries()) {
    if (verdicts[i] !== 'orphan') continue;
    if (res.kind === 'project') await client.deleteProject(res.resource_id);
    else await client.deleteBranch(res.project_id!, res.resource_id);
    unwrap(await stub.noteOrphanDeleted(res));
    report.orphans_deleted.push({ account_id: accountId, db_id: res.db_id, kind: res.kind, resource_id: res.resource_id });
  }
  const gone: string[] = [];
  for (const r of inv.records) {
    if (r.state !== 'ready' || (r.provider_account ?? DEFAULT_ACCOUNT_ID) !== providerAccount || !r.project_id) continue;
    const missing =
      r.kind === 'fresh'
        ? !projectIds.has(r.project_id)
        : !projectIds.has(r.project_id) ||
          (r.branch_id !== null && branchesOf.has(r.project_id) && !branchesOf.get(r.project_id)!.has(r.branch_id));
    // Confirmed by id before a record is given up: a listing is a snapshot, and search is fuzzy.
    if (!missing || !(await confirmedGone(client, r.project_id, r.kind === 'branch' ? r.branch_id : null))) continue;
    // A project gone while its claim was pending went to the user: claimed, never marked gone.
    if (r.claim_pending && r.kind === 'fresh') {
      unwrap(await stub.completeClaim(r.id));
      report.claims_completed.push(r.id);
    } else gone.push(r.id);
  }
  if (gone.length > 0) report.gone_marked.push(...unwrap(await stub.markGone(gone, listedAfter)));
  return spendSubjects(inv.records, providerAccount, projectIds).filter((s) => !gone.includes(s.id));
}

/** Ready records of this provider account whose project the listing holds (the rest are gone). */
export function spendSubjects(records: InventoryRecord[], providerAccount: string, projectIds?: Set<string>): SpendSubject[] {
  return records
    .filter((r) => r.state === 'ready' && (r.provider_account ?? DEFAULT_ACCOUNT_ID) === providerAccount && r.project_id && r.branch_id)
    .filter((r) => !projectIds || projectIds.has(r.project_id!))
    .map((r) => ({ id: r.id, project_id: r.project_id!, branch_id: r.branch_id!, since: r.created_at }));
}

async function confirmedGone(client: NeonClient, projectId: string, branchId: string | null): Promise<boolean> {
  try {
    await client.getProject(projectId);
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
  if (branchId === null) return false;
  const branches = await client.listBranches(projectId);
  return !branches.some((b) => b.id === branchId);
}
