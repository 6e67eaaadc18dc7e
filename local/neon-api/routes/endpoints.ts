import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../context';
import { badRequest, notFound, unprocessable } from '../errors';
import { findBranch, findEndpoint, findProject } from '../lookup';
import { now } from '../model';
import { body, computeUnit, id, suspendTimeout } from '../validate';
import { endpointView, operationView } from '../views';

const settings = {
  autoscaling_limit_min_cu: computeUnit.optional(),
  autoscaling_limit_max_cu: computeUnit.optional(),
  suspend_timeout_seconds: suspendTimeout.optional(),
  disabled: z.boolean().optional(),
  name: z.string().min(1).max(64).optional(),
  provisioner: z.string().optional(),
  pooler_enabled: z.boolean().optional(),
  pooler_mode: z.literal('transaction').optional(),
  passwordless_access: z.boolean().optional(),
  settings: z.object({}).passthrough().optional(),
};
const createSchema = z.object({
  endpoint: z.object({ branch_id: id, type: z.enum(['read_write', 'read_only']), region_id: z.string().optional(), ...settings }),
});
const updateSchema = z.object({ endpoint: z.object({ branch_id: id.optional(), ...settings }) });

export function endpointRoutes(deps: Deps) {
  const { store, ops, compute, provision } = deps;
  const sorted = (list: ReturnType<typeof store.endpointsOf>) => list.sort((a, b) => a.seq - b.seq).map((e) => endpointView(deps, e));
  return new Hono()
    .post('/projects/:project_id/endpoints', async (c) => {
      const project = findProject(deps, c.req.param('project_id'));
      const { endpoint: req } = await body(c, createSchema);
      if (req.region_id !== undefined && req.region_id !== project.region_id)
        throw badRequest(`endpoint.region_id: only the project's region "${project.region_id}" is permitted`);
      const branch = store.branches.get(req.branch_id);
      if (!branch || branch.project_id !== project.id) throw notFound(`endpoint.branch_id: branch ${req.branch_id} not found`);
      if ((req.autoscaling_limit_max_cu ?? Infinity) < (req.autoscaling_limit_min_cu ?? 0))
        throw badRequest('endpoint.autoscaling_limit_max_cu: must not be below autoscaling_limit_min_cu');
      return ops.exclusive(project.id, async () => {
        if (req.type === 'read_write' && provision.hasReadWrite(branch.id))
          throw unprocessable(`branch ${branch.id} already has a read_write endpoint; a branch can have only one`);
        const { endpoint, operations } = await provision.createEndpoint(project, branch, req);
        return c.json({ endpoint: endpointView(deps, endpoint), operations: operations.map(operationView) }, 201);
      });
    })
    .get('/projects/:project_id/endpoints', (c) =>
      c.json({ endpoints: sorted(store.endpointsOf(findProject(deps, c.req.param('project_id')).id)) }),
    )
    .get('/projects/:project_id/branches/:branch_id/endpoints', (c) => {
      const { branch } = findBranch(deps, c.req.param('project_id'), c.req.param('branch_id'));
      return c.json({ endpoints: sorted(store.endpointsOfBranch(branch.id)) });
    })
    .get('/projects/:project_id/endpoints/:endpoint_id', (c) =>
      c.json({ endpoint: endpointView(deps, findEndpoint(deps, c.req.param('project_id'), c.req.param('endpoint_id')).endpoint) }),
    )
    .patch('/projects/:project_id/endpoints/:endpoint_id', async (c) => {
      const { project, endpoint: ep } = findEndpoint(deps, c.req.param('project_id'), c.req.param('endpoint_id'));
      const { endpoint: req } = await body(c, updateSchema);
      if (req.branch_id !== undefined && req.branch_id !== ep.branch_id)
        throw badRequest('endpoint.branch_id: moving an endpoint to another branch is not supported on the local stack');
      const min = req.autoscaling_limit_min_cu ?? ep.autoscaling_limit_min_cu;
      const max = req.autoscaling_limit_max_cu ?? Math.max(ep.autoscaling_limit_max_cu, min);
      if (max < min) throw badRequest('endpoint.autoscaling_limit_max_cu: must not be below autoscaling_limit_min_cu');
      return ops.exclusive(project.id, async () => {
        // Compute units change the rate of time already open from here on.
        deps.usage.accountOpen();
        ep.autoscaling_limit_min_cu = min;
        ep.autoscaling_limit_max_cu = max;
        if (req.suspend_timeout_seconds !== undefined) ep.suspend_timeout_seconds = req.suspend_timeout_seconds;
        if (req.name !== undefined) ep.name = req.name;
        const disabling = req.disabled === true && !ep.disabled;
        if (req.disabled !== undefined) ep.disabled = req.disabled;
        ep.updated_at = now();
        await store.put('endpoint', ep);
        const operations = [];
        const config = await ops.begin(project.id, 'apply_config', { branch_id: ep.branch_id, endpoint_id: ep.id });
        await ops.finish(config);
        operations.push(config);
        // Neon: disabling schedules a suspend; a disabled endpoint cannot be woken by a connection.
        if (disabling && ep.state !== 'idle') {
          const op = await ops.begin(project.id, 'suspend_compute', { branch_id: ep.branch_id, endpoint_id: ep.id });
          await ops.track(op, () => compute.suspend(ep));
          operations.push(op);
        }
        return c.json({ endpoint: endpointView(deps, ep), operations: operations.map(operationView) });
      });
    })
    .post('/projects/:project_id/endpoints/:endpoint_id/start', async (c) => {
      const { project, endpoint: ep } = findEndpoint(deps, c.req.param('project_id'), c.req.param('endpoint_id'));
      return ops.exclusive(project.id, async () => {
        if (ep.disabled) throw unprocessable(`endpoint ${ep.id} is disabled; enable it before starting it`);
        const op = await ops.begin(project.id, 'start_compute', { branch_id: ep.branch_id, endpoint_id: ep.id });
        ep.pending_state = 'active';
        compute.startLater(ep, op);
        return c.json({ endpoint: endpointView(deps, ep), operations: [operationView(op)] });
      });
    })
    .post('/projects/:project_id/endpoints/:endpoint_id/suspend', async (c) => {
      const { project, endpoint: ep } = findEndpoint(deps, c.req.param('project_id'), c.req.param('endpoint_id'));
      return ops.exclusive(project.id, async () => {
        const op = await ops.begin(project.id, 'suspend_compute', { branch_id: ep.branch_id, endpoint_id: ep.id });
        // Synchronous: when the client sees this response, sessions are already gone.
        await ops.track(op, () => compute.suspend(ep));
        return c.json({ endpoint: endpointView(deps, ep), operations: [operationView(op)] });
      });
    })
    .post('/projects/:project_id/endpoints/:endpoint_id/restart', async (c) => {
      const { project, endpoint: ep } = findEndpoint(deps, c.req.param('project_id'), c.req.param('endpoint_id'));
      return ops.exclusive(project.id, async () => {
        if (ep.disabled) throw unprocessable(`endpoint ${ep.id} is disabled; enable it before restarting it`);
        const suspend = await ops.begin(project.id, 'suspend_compute', { branch_id: ep.branch_id, endpoint_id: ep.id });
        await ops.track(suspend, () => compute.suspend(ep));
        const start = await ops.begin(project.id, 'start_compute', { branch_id: ep.branch_id, endpoint_id: ep.id });
        compute.startLater(ep, start);
        return c.json({ endpoint: endpointView(deps, ep), operations: [suspend, start].map(operationView) });
      });
    })
    .delete('/projects/:project_id/endpoints/:endpoint_id', async (c) => {
      const { project, endpoint: ep } = findEndpoint(deps, c.req.param('project_id'), c.req.param('endpoint_id'));
      return ops.exclusive(project.id, async () => {
        const view = endpointView(deps, ep);
        const op = await ops.begin(project.id, 'suspend_compute', { branch_id: ep.branch_id, endpoint_id: ep.id });
        await ops.track(op, () => provision.deleteEndpoint(ep));
        return c.json({ endpoint: view, operations: [operationView(op)] });
      });
    });
}
