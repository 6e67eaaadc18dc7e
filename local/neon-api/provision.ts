import type { LocalStackConfig } from '../config';
import type { ProxyConnections } from '../hooks';
import type { Compute } from './compute';
import { now, type BranchRec, type EndpointRec, type OperationRec, type ProjectRec } from './model';
import { endpointId, endpointIp } from './names';
import type { Operations } from './operations';
import type { Store } from './store';
import type { Usage } from './usage';

export interface EndpointOptions {
  type: 'read_write' | 'read_only';
  suspend_timeout_seconds?: number;
  autoscaling_limit_min_cu?: number;
  autoscaling_limit_max_cu?: number;
  disabled?: boolean;
  name?: string;
}

/** Creating and removing endpoints: their address, their listener, their first start. */
export class Provision {
  constructor(
    private readonly config: LocalStackConfig,
    private readonly store: Store,
    private readonly ops: Operations,
    private readonly compute: Compute,
    private readonly usage: Usage,
    private readonly proxy: ProxyConnections,
  ) {}

  /**
   * The endpoint exists and listens before the response; its start_compute operation stays
   * running until its branch's databases really accept connections.
   */
  async createEndpoint(
    project: ProjectRec,
    branch: BranchRec,
    opts: EndpointOptions,
  ): Promise<{ endpoint: EndpointRec; operations: OperationRec[] }> {
    const defaults = project.default_endpoint_settings;
    const min = opts.autoscaling_limit_min_cu ?? defaults.autoscaling_limit_min_cu;
    const at = now();
    const ep: EndpointRec = {
      id: endpointId(),
      project_id: project.id,
      branch_id: branch.id,
      ip: endpointIp(await this.store.next('endpoint_ip')),
      type: opts.type,
      state: 'init',
      disabled: opts.disabled ?? false,
      suspend_timeout_seconds: opts.suspend_timeout_seconds ?? defaults.suspend_timeout_seconds,
      autoscaling_limit_min_cu: min,
      autoscaling_limit_max_cu: Math.max(min, opts.autoscaling_limit_max_cu ?? defaults.autoscaling_limit_max_cu),
      name: opts.name,
      created_at: at,
      updated_at: at,
      seq: await this.store.next('endpoint'),
    };
    const created = await this.ops.begin(project.id, 'create_compute', { branch_id: branch.id, endpoint_id: ep.id });
    await this.ops.track(created, async () => {
      await this.store.put('endpoint', ep);
      await this.proxy.listenEndpoint(ep.ip);
    });
    if (ep.disabled) {
      ep.state = 'idle';
      await this.store.put('endpoint', ep);
      return { endpoint: ep, operations: [created] };
    }
    ep.pending_state = 'active';
    await this.store.put('endpoint', ep);
    const start = await this.ops.begin(project.id, 'start_compute', { branch_id: branch.id, endpoint_id: ep.id });
    this.compute.startLater(ep, start);
    return { endpoint: ep, operations: [created, start] };
  }

  async deleteEndpoint(ep: EndpointRec) {
    await this.compute.lock(ep.branch_id, async () => {
      this.usage.stopped(ep.id);
      await this.store.remove('endpoint', ep);
      await this.compute.stopIfUnused(ep.branch_id);
    });
    await this.proxy.stopEndpoint(ep.ip);
  }

  /** Neon allows one read-write endpoint per branch. */
  hasReadWrite(branchId: string) {
    return this.store.endpointsOfBranch(branchId).some((e) => e.type === 'read_write');
  }
}
