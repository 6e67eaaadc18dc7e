import type { UsageBucket } from './model';
import type { Physical } from './physical';
import type { Store } from './store';

const HOUR = 3_600_000;
const hourOf = (ms: number) => Math.floor(ms / HOUR) * HOUR;

export interface Totals {
  active_seconds: number;
  compute_unit_seconds: number;
  /** Latest sampled size of the branch's (or project's) databases. */
  storage_bytes: number;
  storage_byte_hours: number;
}

/**
 * Consumption from what really happened: compute time is the time an endpoint's compute really
 * ran (its postmaster's life while the endpoint was active), storage is `pg_database_size`.
 * Hourly buckets per branch are persisted so figures survive a restart.
 */
export class Usage {
  /** Endpoint id → when its compute started running, not yet accounted. */
  private readonly running = new Map<string, number>();
  private readonly dirty = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly physical: Physical,
  ) {}

  /** The endpoint's compute is running (again); a second call changes nothing. */
  started(endpointId: string, at = Date.now()) {
    if (!this.running.has(endpointId)) this.running.set(endpointId, at);
  }

  /** Its compute stopped, or the endpoint suspended or went. */
  stopped(endpointId: string, at = Date.now()) {
    const since = this.running.get(endpointId);
    if (since === undefined) return;
    this.running.delete(endpointId);
    if (at > since) this.account(endpointId, since, at);
  }

  /** Moves running time accumulated so far into buckets (periodically, and before reads). */
  accountOpen(at = Date.now()) {
    for (const [endpointId, since] of this.running) {
      if (at > since) {
        this.account(endpointId, since, at);
        this.running.set(endpointId, at);
      }
    }
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

  /**
   * Running computes are asked; a stopped one's size cannot change, so the sample taken as it
   * stopped stands.
   */
  async sampleStorage() {
    for (const branch of this.store.branches.values()) await this.sampleBranch(branch.id);
  }

  async sampleBranch(branchId: string) {
    const branch = this.store.branches.get(branchId);
    if (!branch) return;
    const dbs = this.store.databasesOf(branch.id).map((d) => d.name);
    const bytes = await this.physical.sizes(branch, dbs).catch(() => null);
    if (bytes !== null) this.bucket(branch.project_id, branch.id, hourOf(Date.now())).storage_bytes = bytes;
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
