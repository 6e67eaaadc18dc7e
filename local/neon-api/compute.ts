import { ConnectRefused, type ComputeAddress, type ComputeGate, type EndpointTarget } from '../hooks';
import type { LocalStackConfig } from '../config';
import type { Computes } from './computes';
import { now, type EndpointRec, type OperationRec } from './model';
import type { Operations } from './operations';
import type { Physical } from './physical';
import type { Store } from './store';
import type { Usage } from './usage';

/** A compute kept running for the control plane's own work stops after this long unused. */
const MAINTENANCE_IDLE_MS = 15_000;

/**
 * Endpoint state, made real: an active endpoint has a running compute (a postmaster on its
 * branch's data directory); suspending stops it, which ends its sessions and frees its memory.
 * Read replicas share their branch's compute (ARCHITECTURE.md, "Local stack").
 */
export class Compute {
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Open client connections per endpoint, as the proxies report them. */
  private readonly connections = new Map<string, number>();
  private readonly lastActivity = new Map<string, number>();
  readonly gate: ComputeGate;

  constructor(
    private readonly config: LocalStackConfig,
    private readonly store: Store,
    private readonly ops: Operations,
    private readonly computes: Computes,
    private readonly physical: Physical,
    private readonly usage: Usage,
  ) {
    this.gate = {
      resolve: (host) => this.resolve(host),
      ensureAwake: (id) => this.ensureAwake(id),
      roleSecret: (id, role) => this.roleSecret(id, role),
      connectionOpened: (id) => {
        this.connections.set(id, (this.connections.get(id) ?? 0) + 1);
        this.touch(id);
      },
      connectionClosed: (id) => {
        const n = (this.connections.get(id) ?? 1) - 1;
        if (n > 0) this.connections.set(id, n);
        else this.connections.delete(id);
        this.touch(id);
      },
    };
  }

  /** Serialises physical changes to one branch (start, suspend, copy, restore, delete). */
  lock<T>(branchId: string, work: () => Promise<T>): Promise<T> {
    const run = (this.locks.get(branchId) ?? Promise.resolve()).then(work, work);
    const tail = run.catch(() => {});
    this.locks.set(branchId, tail);
    tail.then(() => {
      if (this.locks.get(branchId) === tail) this.locks.delete(branchId);
    });
    return run;
  }

  openConnections(endpointId: string): number {
    return this.connections.get(endpointId) ?? 0;
  }

  /** A branch's compute may be stopped to make room: no client session, no work under way. */
  evictable(branchId: string): boolean {
    if (this.locks.has(branchId)) return false;
    return this.store.endpointsOfBranch(branchId).every((e) => this.openConnections(e.id) === 0);
  }

  private touch(endpointId: string) {
    this.lastActivity.set(endpointId, Date.now());
    const ep = this.store.endpoints.get(endpointId);
    if (!ep) return;
    ep.last_active = now();
    this.computes.touch(ep.branch_id);
  }

  lastActive(projectId: string): string | undefined {
    const times = this.store
      .endpointsOf(projectId)
      .map((e) => e.last_active)
      .filter((t): t is string => !!t);
    return times.sort().at(-1);
  }

  private resolve(hostOrId: string): EndpointTarget | undefined {
    let key = hostOrId.trim();
    const bracket = key.match(/^\[(.*)\](?::\d+)?$/);
    if (bracket) key = bracket[1];
    else if (/^[\d.]+:\d+$/.test(key)) key = key.slice(0, key.lastIndexOf(':'));
    key = key.replace(/-pooler$/, '');
    const ep = key.startsWith('ep-') ? this.store.endpoints.get(key) : this.store.endpointByIp(key);
    if (!ep) return undefined;
    return { endpointId: ep.id, branchId: ep.branch_id, projectId: ep.project_id, readOnly: ep.type === 'read_only' };
  }

  private branchOf(ep: EndpointRec) {
    const branch = this.store.branches.get(ep.branch_id);
    if (!branch) throw new Error(`endpoint ${ep.id} has no branch ${ep.branch_id}`);
    return branch;
  }

  async start(ep: EndpointRec) {
    await this.lock(ep.branch_id, async () => {
      if (!this.store.endpoints.has(ep.id)) throw new Error(`endpoint ${ep.id} was deleted`);
      const rc = await this.computes.ensureRunning(this.branchOf(ep));
      ep.state = 'active';
      ep.pending_state = undefined;
      ep.started_at = now();
      ep.updated_at = ep.started_at;
      ep.last_start_ms = rc.postmaster.startMs;
      this.lastActivity.set(ep.id, Date.now());
      this.usage.started(ep.id);
      await this.store.put('endpoint', ep);
    });
  }

  /** Suspends one endpoint; the compute stops once no endpoint of its branch is active. */
  async suspend(ep: EndpointRec) {
    await this.lock(ep.branch_id, async () => {
      this.usage.stopped(ep.id);
      ep.state = 'idle';
      ep.pending_state = undefined;
      ep.suspended_at = now();
      ep.updated_at = ep.suspended_at;
      await this.store.put('endpoint', ep);
      await this.stopIfUnused(ep.branch_id);
    });
  }

  /** Stops a branch's compute unless an enabled endpoint of it is still active. Call under the lock. */
  async stopIfUnused(branchId: string) {
    const open = this.store.endpointsOfBranch(branchId).some((e) => e.state === 'active' && !e.disabled);
    if (!open) await this.computes.stop(branchId);
  }

  /** Makes room under the cap: every active endpoint of the branch suspends, as an operation. */
  async evict(branchId: string) {
    for (const ep of this.store.endpointsOfBranch(branchId)) {
      if (ep.state !== 'active') continue;
      const op = await this.ops.begin(ep.project_id, 'suspend_compute', { branch_id: branchId, endpoint_id: ep.id });
      await this.ops.track(op, () => this.suspend(ep));
    }
    await this.lock(branchId, () => this.computes.stop(branchId));
  }

  /** Starts an endpoint after the response, finishing `op` once its compute accepts connections. */
  startLater(ep: EndpointRec, op: OperationRec) {
    setImmediate(() => {
      this.ops.track(op, () => this.start(ep)).catch((err) => this.config.log(`neon-api: starting ${ep.id} failed: ${err.message}`));
    });
  }

  private endpointOrRefuse(endpointId: string): EndpointRec {
    const ep = this.store.endpoints.get(endpointId);
    if (!ep)
      throw new ConnectRefused(
        "The requested endpoint could not be found, or you don't have access to it. Please check the provided endpoint ID and try again.",
        'XX000',
      );
    if (ep.disabled) throw new ConnectRefused('The endpoint has been disabled. Enable it using Neon API and retry.', '57P03');
    return ep;
  }

  async ensureAwake(endpointId: string): Promise<ComputeAddress> {
    const ep = this.endpointOrRefuse(endpointId);
    this.lastActivity.set(ep.id, Date.now());
    if (ep.state !== 'active') {
      const op = await this.ops.begin(ep.project_id, 'start_compute', { branch_id: ep.branch_id, endpoint_id: ep.id });
      await this.ops
        .track(op, () => this.start(ep))
        .catch((err) => {
          throw err instanceof ConnectRefused ? err : new ConnectRefused(`the compute could not start: ${(err as Error).message}`, '57P03');
        });
    }
    // An active endpoint whose compute was stopped under it (a restore, a crash) starts again.
    const rc = await this.lock(ep.branch_id, () => this.computes.ensureRunning(this.branchOf(ep))).catch((err) => {
      throw new ConnectRefused(`the compute could not start: ${(err as Error).message}`, '57P03');
    });
    if (ep.state === 'active') this.usage.started(ep.id);
    return rc.postmaster.address;
  }

  private async roleSecret(endpointId: string, role: string): Promise<string | undefined> {
    const ep = this.endpointOrRefuse(endpointId);
    return this.physical.loginSecret(this.branchOf(ep), role);
  }

  /**
   * Scale to zero: an active endpoint with no client connection for its timeout suspends, and
   * a compute kept running only for the control plane's work stops soon after.
   */
  async suspendIdle() {
    const at = Date.now();
    for (const ep of this.store.endpoints.values()) {
      if (ep.state !== 'active' || ep.disabled || this.openConnections(ep.id) > 0) continue;
      const timeout = ep.suspend_timeout_seconds === 0 ? this.config.defaultSuspendTimeoutSeconds : ep.suspend_timeout_seconds;
      if (timeout < 0) continue;
      const since = this.lastActivity.get(ep.id) ?? Date.parse(ep.started_at ?? ep.created_at);
      if (at - since < timeout * 1000 || this.ops.busy(ep.project_id)) continue;
      const op = await this.ops.begin(ep.project_id, 'suspend_compute', { branch_id: ep.branch_id, endpoint_id: ep.id });
      await this.ops
        .track(op, () => this.suspend(ep))
        .catch((err) => this.config.log(`neon-api: suspending ${ep.id} failed: ${err.message}`));
    }
    for (const rc of this.computes.runningBranches()) {
      const active = this.store.endpointsOfBranch(rc.branchId).some((e) => e.state === 'active' && !e.disabled);
      if (active || at - rc.lastUsed < MAINTENANCE_IDLE_MS || !this.evictable(rc.branchId)) continue;
      await this.lock(rc.branchId, () => this.stopIfUnused(rc.branchId));
    }
  }
}
