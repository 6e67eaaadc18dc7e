import type { UsageBucket } from './model';
import type { Physical } from './physical';
import type { Store } from './store';

const HOUR = 3_600_000;
const hourOf = (ms: number) => Math.floor(ms / HOUR) * HOUR;

interface Open {
  count: number;
  /** Start of the not-yet-accounted busy time, while count > 0. */
  since: number;
}

export interface Totals {
  active_seconds: number;
  compute_unit_seconds: number;
  /** Latest sampled size of the branch's (or project's) databases. */
  storage_bytes: number;
  storage_byte_hours: number;
}

/**
 * Consumption from what really happened: compute time is the time an endpoint had at least
 * one client connection open (as the proxies report), storage is `pg_database_size`. Hourly
 * buckets per branch are persisted so figures survive a restart.
 */
export class Usage {
  private readonly open = new Map<string, Open>();
  private readonly dirty = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly physical: Physical,
  ) {}

  openCount(endpointId: string) {
    return this.open.get(endpointId)?.count ?? 0;
  }

  opened(endpointId: string, at = Date.now()) {
    const o = this.open.get(endpointId) ?? { count: 0, since: at };
    if (o.count === 0) o.since = at;
    o.count += 1;
    this.open.set(endpointId, o);
  }

  closed(endpointId: string, at = Date.now()) {
    const o = this.open.get(endpointId);
    if (!o || o.count === 0) return;
    o.count -= 1;
    if (o.count === 0) {
      this.account(endpointId, o.since, at);
      this.open.delete(endpointId);
    }
  }

  /** Moves busy time accumulated so far into buckets (periodically, and before reads). */
  accountOpen(at = Date.now()) {
    for (const [endpointId, o] of this.open) {
      if (o.count > 0 && at > o.since) {
        this.account(endpointId, o.since, at);
        o.since = at;
      }
    }
  }

  /** Endpoint gone or suspended: its sessions are gone too. */
  forget(endpointId: string, at = Date.now()) {
    const o = this.open.get(endpointId);
    if (o && o.count > 0) this.account(endpointId, o.since, at);
    this.open.delete(endpointId);
  }

  private bucket(projectId: string, branchId: string, hourMs: number): UsageBucket {
    const hour = new Date(hourMs).toISOString();
    const key = `${branchId}/${hour}`;
    let b = this.store.usage.get(key);
    if (!b) {
      b = {
        project_id: projectId,
        branch_id: branchId,
        hour,
        active_seconds: 0,
        compute_unit_seconds: 0,
        storage_bytes: this.latestStorage(branchId),
      };
      this.store.usage.set(key, b);
    }
    this.dirty.add(key);
    return b;
  }

  private account(endpointId: string, from: number, to: number) {
    const ep = this.store.endpoints.get(endpointId);
    if (!ep) return;
    for (let start = from; start < to;) {
      const end = Math.min(to, hourOf(start) + HOUR);
      const seconds = (end - start) / 1000;
      const b = this.bucket(ep.project_id, ep.branch_id, hourOf(start));
      b.active_seconds += seconds;
      b.compute_unit_seconds += seconds * ep.autoscaling_limit_min_cu;
      start = end;
    }
  }

  private latestStorage(branchId: string): number {
    let latest: UsageBucket | undefined;
    for (const b of this.store.usage.values()) if (b.branch_id === branchId && (!latest || b.hour > latest.hour)) latest = b;
    return latest?.storage_bytes ?? 0;
  }

  async sampleStorage() {
    const dbs = [...this.store.databases.values()];
    if (dbs.length === 0) return;
    const sizes = await this.physical.sizes(dbs.map((d) => d.physical));
    const perBranch = new Map<string, number>();
    for (const d of dbs) perBranch.set(d.branch_id, (perBranch.get(d.branch_id) ?? 0) + (sizes.get(d.physical) ?? 0));
    const hour = hourOf(Date.now());
    for (const [branchId, bytes] of perBranch) {
      const branch = this.store.branches.get(branchId);
      if (branch) this.bucket(branch.project_id, branchId, hour).storage_bytes = bytes;
    }
  }

  async flush() {
    const buckets = [...this.dirty].map((k) => this.store.usage.get(k)).filter((b): b is UsageBucket => !!b);
    this.dirty.clear();
    await this.store.putUsage(buckets);
  }

  totals(filter: { projectId?: string; branchId?: string }): Totals {
    this.accountOpen();
    const t: Totals = { active_seconds: 0, compute_unit_seconds: 0, storage_bytes: 0, storage_byte_hours: 0 };
    const latest = new Map<string, UsageBucket>();
    for (const b of this.store.usage.values()) {
      if (filter.projectId && b.project_id !== filter.projectId) continue;
      if (filter.branchId && b.branch_id !== filter.branchId) continue;
      t.active_seconds += b.active_seconds;
      t.compute_unit_seconds += b.compute_unit_seconds;
      t.storage_byte_hours += b.storage_bytes;
      const prev = latest.get(b.branch_id);
      if (!prev || b.hour > prev.hour) latest.set(b.branch_id, b);
    }
    for (const b of latest.values()) t.storage_bytes += b.storage_bytes;
    return t;
  }

  buckets(branchIds: Set<string>, from: number, to: number): UsageBucket[] {
    this.accountOpen();
    return [...this.store.usage.values()].filter(
      (b) => branchIds.has(b.branch_id) && Date.parse(b.hour) >= from && Date.parse(b.hour) < to,
    );
  }
}
