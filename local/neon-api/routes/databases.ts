import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../context';
import { badRequest, conflict } from '../errors';
import { findBranch, findDatabase } from '../lookup';
import { now, type BranchRec } from '../model';
import { identProblem } from '../names';
import { body } from '../validate';
import { databaseView, operationView } from '../views';

const createSchema = z.object({ database: z.object({ name: z.string(), owner_name: z.string() }) });
const updateSchema = z.object({ database: z.object({ name: z.string().optional(), owner_name: z.string().optional() }) });

export function databaseRoutes(deps: Deps) {
  const { store, ops, physical, compute, branching } = deps;
  const applyConfig = (branch: BranchRec) =>
    ops.begin(branch.project_id, 'apply_config', { branch_id: branch.id, endpoint_id: store.endpointsOfBranch(branch.id)[0]?.id });
  const owner = (branchId: string, name: string) => {
    const role = store.role(branchId, name);
    if (!role) throw badRequest(`database.owner_name: role "${name}" does not exist on this branch`);
    return role;
  };
  const checkName = (name: string) => {
    const problem = identProblem(name, 'database');
    if (problem) throw badRequest(`database.name: ${problem}`);
  };
  const base = '/projects/:project_id/branches/:branch_id/databases';
  return new Hono()
    .post(base, async (c) => {
      const { project, branch } = findBranch(deps, c.req.param('project_id'), c.req.param('branch_id'));
      const { database: req } = await body(c, createSchema);
      checkName(req.name);
      const role = owner(branch.id, req.owner_name);
      return ops.exclusive(project.id, async () => {
        if (store.database(branch.id, req.name))
          throw conflict(`database.name: database "${req.name}" already exists on branch ${branch.id}`);
        const op = await applyConfig(branch);
        let created!: Awaited<ReturnType<typeof branching.newDatabase>>;
        await ops.track(op, () =>
          compute.lock(branch.id, async () => {
            created = await branching.newDatabase(branch, req.name, role);
          }),
        );
        return c.json({ database: databaseView(created), operations: [operationView(op)] }, 201);
      });
    })
    .get(base, (c) => {
      const { branch } = findBranch(deps, c.req.param('project_id'), c.req.param('branch_id'));
      return c.json({ databases: store.databasesOf(branch.id).map(databaseView) });
    })
    .get(`${base}/:database_name`, (c) =>
      c.json({
        database: databaseView(
          findDatabase(deps, c.req.param('project_id'), c.req.param('branch_id'), c.req.param('database_name')).database,
        ),
      }),
    )
    .patch(`${base}/:database_name`, async (c) => {
      const { project, branch, database } = findDatabase(
        deps,
        c.req.param('project_id'),
        c.req.param('branch_id'),
        c.req.param('database_name'),
      );
      const { database: req } = await body(c, updateSchema);
      if (req.name !== undefined && req.name !== database.name) checkName(req.name);
      const role = req.owner_name !== undefined ? owner(branch.id, req.owner_name) : undefined;
      return ops.exclusive(project.id, async () => {
        if (req.name !== undefined && req.name !== database.name && store.database(branch.id, req.name))
          throw conflict(`database.name: database "${req.name}" already exists on branch ${branch.id}`);
        const op = await applyConfig(branch);
        await ops.track(op, () =>
          compute.lock(branch.id, async () => {
            if (role && role.name !== database.owner_name) await physical.setOwner(branch, database.name, role.name);
            // A real rename: PostgreSQL ends the database's sessions first (physical.ts).
            if (req.name !== undefined && req.name !== database.name) await physical.renameDatabase(branch, database.name, req.name);
            if (req.name !== undefined) database.name = req.name;
            if (role) database.owner_name = role.name;
            database.updated_at = now();
            await store.put('database', database);
          }),
        );
        return c.json({ database: databaseView(database), operations: [operationView(op)] });
      });
    })
    .delete(`${base}/:database_name`, async (c) => {
      const { project, branch, database } = findDatabase(
        deps,
        c.req.param('project_id'),
        c.req.param('branch_id'),
        c.req.param('database_name'),
      );
      return ops.exclusive(project.id, async () => {
        const op = await applyConfig(branch);
        await ops.track(op, () =>
          compute.lock(branch.id, async () => {
            await physical.dropDatabase(branch, database.name);
            await store.remove('database', database);
          }),
        );
        return c.json({ database: databaseView(database), operations: [operationView(op)] });
      });
    });
}
