import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../context';
import { badRequest, conflict, unprocessable } from '../errors';
import { findBranch, findRole } from '../lookup';
import { now, type BranchRec } from '../model';
import { identProblem, password } from '../names';
import { body } from '../validate';
import { operationView, roleView } from '../views';

const createSchema = z.object({ role: z.object({ name: z.string(), no_login: z.boolean().optional() }) });

export function roleRoutes(deps: Deps) {
  const { store, ops, physical, compute, computes, branching, proxy } = deps;
  /** Pooled sessions of a role on the branch's compute go when its password changes or it is dropped. */
  const releaseRole = async (branchId: string, role: string) => {
    const address = computes.address(branchId);
    if (address) await proxy.releaseIdle(address, role);
  };
  /** Neon applies role changes to the branch's computes; the operation names one if there is one. */
  const applyConfig = async (branch: BranchRec) => {
    const ep = store.endpointsOfBranch(branch.id)[0];
    const op = await ops.begin(branch.project_id, 'apply_config', { branch_id: branch.id, endpoint_id: ep?.id });
    return op;
  };
  const base = '/projects/:project_id/branches/:branch_id/roles';
  return new Hono()
    .post(base, async (c) => {
      const { project, branch } = findBranch(deps, c.req.param('project_id'), c.req.param('branch_id'));
      const { role: req } = await body(c, createSchema);
      const problem = identProblem(req.name, 'role');
      if (problem) throw badRequest(`role.name: ${problem}`);
      if (req.no_login) throw badRequest('role.no_login: roles without login are not supported on the local stack');
      return ops.exclusive(project.id, async () => {
        if (store.role(branch.id, req.name)) throw conflict(`role.name: role "${req.name}" already exists on branch ${branch.id}`);
        const op = await applyConfig(branch);
        let created!: Awaited<ReturnType<typeof branching.newRole>>;
        await ops.track(op, () =>
          compute.lock(branch.id, async () => {
            created = await branching.newRole(branch, req.name);
          }),
        );
        return c.json({ role: roleView(created, true), operations: [operationView(op)] }, 201);
      });
    })
    .get(base, (c) => {
      const { branch } = findBranch(deps, c.req.param('project_id'), c.req.param('branch_id'));
      return c.json({
        roles: store
          .rolesOf(branch.id)
          .sort((a, b) => a.created_at.localeCompare(b.created_at))
          .map((r) => roleView(r)),
      });
    })
    .get(`${base}/:role_name`, (c) =>
      c.json({ role: roleView(findRole(deps, c.req.param('project_id'), c.req.param('branch_id'), c.req.param('role_name')).role) }),
    )
    .get(`${base}/:role_name/reveal_password`, (c) =>
      c.json({ password: findRole(deps, c.req.param('project_id'), c.req.param('branch_id'), c.req.param('role_name')).role.password }),
    )
    .post(`${base}/:role_name/reset_password`, async (c) => {
      const { project, branch, role } = findRole(deps, c.req.param('project_id'), c.req.param('branch_id'), c.req.param('role_name'));
      return ops.exclusive(project.id, async () => {
        const op = await applyConfig(branch);
        await ops.track(op, () =>
          compute.lock(branch.id, async () => {
            const next = password();
            await physical.setPassword(branch, role.name, next);
            role.password = next;
            role.updated_at = now();
            await store.put('role', role);
            await releaseRole(branch.id, role.name);
          }),
        );
        return c.json({ role: roleView(role, true), operations: [operationView(op)] });
      });
    })
    .delete(`${base}/:role_name`, async (c) => {
      const { project, branch, role } = findRole(deps, c.req.param('project_id'), c.req.param('branch_id'), c.req.param('role_name'));
      return ops.exclusive(project.id, async () => {
        const owned = store.databasesOf(branch.id).filter((d) => d.owner_name === role.name);
        if (owned.length > 0) {
          throw unprocessable(
            `role "${role.name}" owns database${owned.length > 1 ? 's' : ''} ${owned.map((d) => `"${d.name}"`).join(', ')}; delete ${owned.length > 1 ? 'them' : 'it'} or change the owner first`,
          );
        }
        const op = await applyConfig(branch);
        await ops.track(op, () =>
          compute.lock(branch.id, async () => {
            await releaseRole(branch.id, role.name);
            await physical.dropRole(branch, role.name);
            await store.remove('role', role);
          }),
        );
        return c.json({ role: roleView(role), operations: [operationView(op)] });
      });
    });
}
