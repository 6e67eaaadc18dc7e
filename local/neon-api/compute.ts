import { ConnectRefused, type ComputeGate, type EndpointTarget } from '../hooks';
import type { LocalStackConfig } from '../config';
import { now, type EndpointRec, type OperationRec } from './model';
import type { Operations } from './operations';
import type { Physical } from './physical';
import type { Store } from './store';
import type { Usage } from './usage';

/**
 * Endpoint state, made real: a branch's databases accept connections only while one of its
 * endpoints is active. Suspending closes them and ends the sessions on them.
 */
export class Compute {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly lastActivity = new Map<string, number>();
  readonly gate: ComputeGate;

  constructor(
    private readonly config: LocalStackConfig,
    private readonly store: Store,
    private readonly ops: Operations,
    private readonly physical: Physical,
    private readonly usage: Usage,
  ) {
    this.gate = {
      resolve: (host) => this.resolve(host),
      ensureAwake: (id) => this.ensureAwake(id),
      connectionOpened: (id) => {
        this.usage.opened(id);
        this.touch(id);
      },
      connectionClosed: (id) => {
        this.usage.closed(id);
        this.touch(id);
      },
    };
  }

  /** Serialises physical changes to one branch (start, suspend, copy, delete). */
  lock<T>(branchId: string, work: () => Promise<T>): Promise<T> {
    const run = (this.locks.get(branchId) ?? Promise.resolve()).then(work, work);
    const tail = run.catch(() => {});
    this.locks.set(branchId, tail);
    tail.then(() => {
      if (this.locks.get(branchId) === tail) this.locks.delete(branchId);
    });
    return run;
  }

  private touch(endpointId: string) {
    this.lastActivity.set(endpointId, Date.now());
    const ep = this.store.endpoints.get(endpointId);
    if (ep) ep.last_active = now();
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
    const store = this.store;
    return {
      endpointId: ep.id,
      branchId: ep.branch_id,
      projectId: ep.project_id,
      database: (logical) => store.database(ep.branch_id, logical)?.physical,
      role: (logical) => store.role(ep.branch_id, logical)?.physical,
    };
  }

  /** Databases of a branch are open iff one of its endpoints is active and enabled. */
  async applyBranchState(branchId: string) {
    const open = this.store.endpointsOfBranch(branchId).some((e) => e.state === 'active' && !e.disabled);
    await this.physical.setAllowConnections(
      this.store.databasesOf(branchId).map((d) => d.physical),
      open,
    );
  }

  async start(ep: EndpointRec) {
    await this.lock(ep.branch_id, async () => {
      if (!this.store.endpoints.has(ep.id)) throw new Error(`endpoint ${ep.id} was deleted`);
      await this.physical.setAllowConnections(
        this.store.databasesOf(ep.branch_id).map((d) => d.physical),
        true,
      );
      ep.state = 'active';
      ep.pending_state = undefined;
      ep.started_at = now();
      ep.updated_at = ep.started_at;
      this.lastActivity.set(ep.id, Date.now());
      await this.store.put('endpoint', ep);
    });
  }

  async suspend(ep: EndpointRec) {
    await this.lock(ep.branch_id, async () => {
      this.usage.forget(ep.id);
      ep.state = 'idle';
      ep.pending_state = undefined;
      ep.suspended_at = now();
      ep.updated_at = ep.suspended_at;
      await this.store.put('endpoint', ep);
      // With several endpoints on a branch, sessions cannot be told apart: they all go only
      // when the last active endpoint suspends.
      await this.applyBranchState(ep.branch_id);
    });
  }

  /** Starts an endpoint after the response, finishing `op` once its databases are open. */
  startLater(ep: EndpointRec, op: OperationRec) {
    setImmediate(() => {
      this.ops.track(op, () => this.start(ep)).catch((err) => this.config.log(`neon-api: starting ${ep.id} failed: ${err.message}`));
    });
  }

  async ensureAwake(endpointId: string): Promise<void> {
    const ep = this.store.endpoints.get(endpointId);
    if (!ep)
      throw new ConnectRefused(
        "The requested endpoint could not be found, or you don't have access to it. Please check the provided endpoint ID and try again.",
        'XX000',
      );
    if (ep.disabled) throw new ConnectRefused('The endpoint has been disabled. Enable it using Neon API and retry.', '57P03');
    this.lastActivity.set(ep.id, Date.now());
    if (ep.state === 'active') return;
    const op = await this.ops.begin(ep.project_id, 'start_compute', { branch_id: ep.branch_id, endpoint_id: ep.id });
    await this.ops.track(op, () => this.start(ep));
  }

  /** Scale to zero: an active endpoint with no client connection for its timeout suspends. */
  async suspendIdle() {
    const at = Date.now();
    for (const ep of this.store.endpoints.values()) {
      if (ep.state !== 'active' || ep.disabled || this.usage.openCount(ep.id) > 0) continue;
      const timeout = ep.suspend_timeout_seconds === 0 ? this.config.defaultSuspendTimeoutSeconds : ep.suspend_timeout_seconds;
      if (timeout < 0) continue;
      const since = this.lastActivity.get(ep.id) ?? Date.parse(ep.started_at ?? ep.created_at);
      if (at - since < timeout * 1000 || this.ops.busy(ep.project_id)) continue;
      const op = await this.ops.begin(ep.project_id, 'suspend_compute', { branch_id: ep.branch_id, endpoint_id: ep.id });
      await this.ops
        .track(op, () => this.suspend(ep))
        .catch((err) => this.config.log(`neon-api: suspending ${ep.id} failed: ${err.message}`));
    }
  }
}
