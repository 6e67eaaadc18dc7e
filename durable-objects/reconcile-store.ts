/**
 * The account object's side of reconciliation (src/app/lifecycle/reconcile.ts walks the provider):
 * the object alone decides whether a provider resource named as one of its databases may go,
 * and marks records whose resource has vanished. Nothing here calls the provider.
 */
import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import { pastGrace } from '../src/core/schedule';
import type { PriceTable } from '../src/core/policy/cost';
import * as registry from './registry';
import { account, databases } from './schema';
import type { Store } from './store';
import { transition } from './transitions';

export interface InventoryRecord {
  id: string;
  kind: 'fresh' | 'branch';
  state: 'provisioning' | 'ready' | 'deleting';
  provider_account: string | null;
  project_id: string | null;
  branch_id: string | null;
  ready_at: number | null;
  created_at: number;
  /** A claim is pending: a project gone from dblease's account may have been transferred. */
  claim_pending: boolean;
}

export interface Inventory {
  /** False when no account of this id exists here: its names are not ours to judge. */
  exists: boolean;
  records: InventoryRecord[];
  /** Projects in which a branch of this account was ever created (to list their branches). */
  branch_projects: string[];
}

export function inventory(store: Store): Inventory {
  return store.read('reconcile inventory', (db) => {
    if (!db.select({ id: account.id }).from(account).get()) return { exists: false, records: [], branch_projects: [] };
    const rows = db
      .select()
      .from(databases)
      .where(inArray(databases.state, ['provisioning', 'ready', 'deleting']))
      .all();
    const branchProjects = db
      .selectDistinct({ p: databases.providerProjectId })
      .from(databases)
      .where(and(eq(databases.kind, 'branch'), isNotNull(databases.providerProjectId)))
      .all();
    return {
      exists: true,
      records: rows.map((r) => ({
        id: r.id,
        kind: r.kind,
        claim_pending: r.claimRequestId !== null,
        state: r.state as InventoryRecord['state'],
        provider_account: r.providerAccount,
        project_id: r.providerProjectId,
        branch_id: r.providerBranchId,
        ready_at: r.readyAt,
        created_at: r.createdAt,
      })),
      branch_projects: branchProjects.map((b) => b.p!).filter(Boolean),
    };
  });
}

export interface NamedResource {
  /** The database id in the resource's name. */
  db_id: string;
  kind: 'project' | 'branch';
  resource_id: string;
  created_at: number;
  /** For a branch: the project it is in. */
  project_id?: string;
}

export type Verdict = 'keep' | 'orphan';

/**
 * Keep a resource while its record is live and points at it (or has no id yet: a create in
 * flight); otherwise, past the grace period, it is an orphan: a failed or deleted record's
 * leftover, a duplicate from a retried create, or a name with no record at all.
 */
export function judge(store: Store, resources: NamedResource[], now: number, graceMs: number): Verdict[] {
  return store.read('reconcile judge', (db) =>
    resources.map((res) => {
      if (!pastGrace(res.created_at, now, graceMs)) return 'keep';
      const row = db.select().from(databases).where(eq(databases.id, res.db_id)).get();
      if (!row || row.state === 'failed' || row.state === 'deleted') return 'orphan';
      const held = res.kind === 'project' ? row.kind === 'fresh' && row.providerProjectId : row.kind === 'branch' && row.providerBranchId;
      if (!held || held === res.resource_id) return 'keep';
      return 'orphan';
    }),
  );
}

/**
 * Ready records whose provider resource is gone: `deleting` then `deleted`, each with its
 * event, the reservation released. Only records still ready, and ready since before the
 * provider listing began (`listedAfter`), so a database created during the walk is never judged.
 */
export function markGone(store: Store, ids: string[], listedAfter: number, prices: PriceTable, now: number): string[] {
  const marked: string[] = [];
  for (const id of ids) {
    const moved = store.write('reconcile gone', (db) => {
      const row = db.select().from(databases).where(eq(databases.id, id)).get();
      if (!row || row.state !== 'ready' || row.readyAt === null || row.readyAt >= listedAfter) return false;
      transition(store, db, row, 'deleting', { nextAttemptAt: null }, now, { data: { from: 'ready', reason: 'provider_resource_gone' } });
      return true;
    });
    if (moved) {
      registry.completeDelete(store, id, prices, now);
      marked.push(id);
    }
  }
  return marked;
}

export function noteOrphanDeleted(store: Store, res: NamedResource, now: number): void {
  store.write('note orphan', (db) =>
    store.appendEvent(db, now, 'provider.orphan_deleted', {
      databaseId: res.db_id,
      data: { kind: res.kind, resource_id: res.resource_id },
    }),
  );
}
