import { locked } from './errors';
import { now, type OperationRec } from './model';
import { operationId } from './names';
import type { Store } from './store';

/** Neon's asynchronous operations, and its rule that a project runs one mutation at a time. */
export class Operations {
  /** Projects whose mutation is between its 423 check and the end of its synchronous part. */
  private readonly held = new Set<string>();

  constructor(private readonly store: Store) {}

  async begin(
    projectId: string,
    action: string,
    ids: { branch_id?: string; endpoint_id?: string } = {},
    status: 'scheduling' | 'running' = 'running',
  ) {
    const at = now();
    const op: OperationRec = {
      id: operationId(),
      project_id: projectId,
      ...ids,
      action,
      status,
      failures_count: 0,
      created_at: at,
      updated_at: at,
      total_duration_ms: 0,
      seq: await this.store.next('operation'),
    };
    await this.store.put('operation', op);
    return op;
  }

  async finish(op: OperationRec) {
    op.status = 'finished';
    op.updated_at = now();
    op.total_duration_ms = Date.parse(op.updated_at) - Date.parse(op.created_at);
    await this.store.put('operation', op);
  }

  async fail(op: OperationRec, err: unknown) {
    op.status = 'failed';
    op.error = err instanceof Error ? err.message : String(err);
    op.failures_count += 1;
    op.updated_at = now();
    op.total_duration_ms = Date.parse(op.updated_at) - Date.parse(op.created_at);
    await this.store.put('operation', op);
  }

  /** Runs `work` and records its outcome on `op`; failures are kept on the operation. */
  async track(op: OperationRec, work: () => Promise<void>) {
    try {
      await work();
      await this.finish(op);
    } catch (err) {
      await this.fail(op, err);
      throw err;
    }
  }

  busy(projectId: string): boolean {
    if (this.held.has(projectId)) return true;
    for (const op of this.store.operations.values()) {
      if (op.project_id === projectId && (op.status === 'running' || op.status === 'scheduling')) return true;
    }
    return false;
  }

  /**
   * The 423 gate for mutations. The check and the hold happen in the same tick, so two
   * concurrent requests cannot both pass; the hold lasts for the synchronous part, and
   * operations left running afterwards keep the project busy until they end.
   */
  async exclusive<T>(projectId: string, work: () => Promise<T>): Promise<T> {
    if (this.busy(projectId)) throw locked();
    this.held.add(projectId);
    try {
      return await work();
    } finally {
      this.held.delete(projectId);
    }
  }

  ofProject(projectId: string): OperationRec[] {
    return [...this.store.operations.values()].filter((o) => o.project_id === projectId).sort((a, b) => b.seq - a.seq);
  }
}
