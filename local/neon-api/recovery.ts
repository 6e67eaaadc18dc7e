import type { Deps } from './context';

const INTERRUPTED = 'interrupted by a restart of the local stack';

/**
 * Start-up: finish or fail what a crash left running, so every operation agrees with the
 * physical state. No compute runs yet: every endpoint reads idle and starts on its first
 * connection. Then the listeners open again.
 */
export async function recover(deps: Deps) {
  const { store, ops, branching, proxy } = deps;
  await branching.recover();
  for (const op of [...store.operations.values()]) {
    if (op.status !== 'running' && op.status !== 'scheduling') continue;
    const ep = op.endpoint_id ? store.endpoints.get(op.endpoint_id) : undefined;
    const branch = op.branch_id ? store.branches.get(op.branch_id) : undefined;
    switch (op.action) {
      case 'start_compute':
        // The endpoint starts on its first connection, as any idle one does.
        if (ep && !ep.disabled) await ops.finish(op);
        else await ops.fail(op, INTERRUPTED);
        break;
      case 'suspend_compute':
        await ops.finish(op);
        break;
      case 'delete_timeline':
        if (branch) await branching.deleteBranch(branch);
        await ops.finish(op);
        break;
      case 'create_compute':
        if (ep) await ops.finish(op);
        else await ops.fail(op, INTERRUPTED);
        break;
      default:
        if ((op.action === 'create_branch' || op.action === 'create_timeline') && branch?.current_state === 'ready' && op.branch_id)
          await ops.finish(op);
        else await ops.fail(op, INTERRUPTED);
    }
  }
  for (const ep of store.endpoints.values()) {
    if (ep.state !== 'idle' || ep.pending_state) {
      ep.state = 'idle';
      ep.pending_state = undefined;
      ep.suspended_at = new Date().toISOString();
      await store.put('endpoint', ep);
    }
  }
  for (const ep of store.endpoints.values()) await proxy.listenEndpoint(ep.ip);
}
