import { Hono } from 'hono';
import { z } from 'zod';
import { callerOrg } from '../caller';
import type { Deps } from '../context';
import { badRequest, notFound } from '../errors';
import { decodeCursor, encodeCursor, findProject, visibleProjects } from '../lookup';
import { now, type BranchRec, type OperationRec, type ProjectRec } from '../model';
import { identProblem, projectId } from '../names';
import { body, computeUnit, limitParam, query, suspendTimeout } from '../validate';
import { branchView, connectionUris, databaseView, endpointView, operationView, projectListItem, projectView, roleView } from '../views';

const endpointSettings = z.object({
  suspend_timeout_seconds: suspendTimeout.optional(),
  autoscaling_limit_min_cu: computeUnit.optional(),
  autoscaling_limit_max_cu: computeUnit.optional(),
});

const createSchema = z.object({
  project: z
    .object({
      name: z.string().min(1).max(256).optional(),
      region_id: z.string().optional(),
      org_id: z.string().optional(),
      pg_version: z.number().int().optional(),
      history_retention_seconds: z.number().int().min(0).max(2592000).optional(),
      autoscaling_limit_min_cu: computeUnit.optional(),
      autoscaling_limit_max_cu: computeUnit.optional(),
      default_endpoint_settings: endpointSettings.optional(),
      branch: z
        .object({ name: z.string().min(1).max(256).optional(), role_name: z.string().optional(), database_name: z.string().optional() })
        .optional(),
    })
    .default({}),
});

const updateSchema = z.object({
  project: z.object({
    name: z.string().min(1).max(256).optional(),
    history_retention_seconds: z.number().int().min(0).max(2592000).optional(),
    default_endpoint_settings: endpointSettings.optional(),
  }),
});

const listSchema = z.object({
  cursor: z.string().optional(),
  limit: limitParam(400),
  search: z.string().optional(),
  org_id: z.string().optional(),
});

export function projectRoutes(deps: Deps) {
  const { store, ops, branching, provision, transfers } = deps;
  return new Hono()
    .post('/projects', async (c) => {
      const { project: req } = await body(c, createSchema, { optional: true });
      if (req.region_id !== undefined && req.region_id !== deps.config.regionId) {
        throw badRequest(`project.region_id: unknown region "${req.region_id}"; this local stack serves "${deps.config.regionId}"`);
      }
      // A key belongs to one organization, and its projects are made there.
      const org = callerOrg();
      if (req.org_id !== undefined && req.org_id !== org) throw badRequest(`project.org_id: unknown organization "${req.org_id}"`);
      if (req.pg_version !== undefined && req.pg_version !== 18)
        throw badRequest(`project.pg_version: this local stack runs PostgreSQL 18, not ${req.pg_version}`);
      const database = req.branch?.database_name ?? 'neondb';
      const role = req.branch?.role_name ?? `${database}_owner`;
      const roleProblem = identProblem(role, 'role');
      if (roleProblem) throw badRequest(`project.branch.role_name: ${roleProblem}`);
      const dbProblem = identProblem(database, 'database');
      if (dbProblem) throw badRequest(`project.branch.database_name: ${dbProblem}`);
      const settings = req.default_endpoint_settings ?? {};
      const min = settings.autoscaling_limit_min_cu ?? req.autoscaling_limit_min_cu ?? 0.25;
      const max = settings.autoscaling_limit_max_cu ?? req.autoscaling_limit_max_cu ?? Math.max(min, 0.25);
      if (max < min)
        throw badRequest('project.default_endpoint_settings.autoscaling_limit_max_cu: must not be below autoscaling_limit_min_cu');
      const at = now();
      const id = projectId();
      const project: ProjectRec = {
        id,
        name: req.name ?? id,
        org_id: org,
        region_id: deps.config.regionId,
        created_at: at,
        updated_at: at,
        seq: await store.next('project'),
        history_retention_seconds: req.history_retention_seconds ?? 86400,
        default_endpoint_settings: {
          suspend_timeout_seconds: settings.suspend_timeout_seconds ?? 0,
          autoscaling_limit_min_cu: min,
          autoscaling_limit_max_cu: max,
        },
      };
      await store.put('project', project);
      let timeline: OperationRec | undefined;
      try {
        const branch = await ops.exclusive(id, async () => {
          timeline = await ops.begin(id, 'create_timeline');
          const op = timeline;
          let b: BranchRec | undefined;
          await ops.track(op, async () => {
            b = await branching.createRoot(project, { name: req.branch?.name ?? 'main', role, database });
            op.branch_id = b.id;
          });
          return b!;
        });
        const { endpoint, operations } = await provision.createEndpoint(project, branch, { type: 'read_write' });
        return c.json(
          {
            project: projectView(deps, project),
            branch: branchView(deps, branch),
            endpoints: [endpointView(deps, endpoint)],
            roles: store.rolesOf(branch.id).map((r) => roleView(r, true)),
            databases: store.databasesOf(branch.id).map(databaseView),
            connection_uris: connectionUris(deps, branch.id),
            operations: [timeline!, ...operations].map(operationView),
          },
          201,
        );
      } catch (err) {
        await store.remove('project', project);
        throw err;
      }
    })
    .get('/projects', (c) => {
      const q = query(c, listSchema);
      const limit = q.limit ?? 10;
      if (q.org_id !== undefined && q.org_id !== callerOrg()) throw notFound(`org_id: organization ${q.org_id} not found`);
      let list = visibleProjects(deps).sort((a, b) => b.seq - a.seq);
      if (q.search) {
        const s = q.search.toLowerCase();
        list = list.filter((p) => p.name.toLowerCase().includes(s) || p.id.includes(s));
      }
      // Newest first, keyed on the creation sequence: projects created while a client pages
      // land before its first page and never shift the pages it has not read yet.
      if (q.cursor) {
        const after = decodeCursor(q.cursor, (v): v is { seq: number } => typeof (v as { seq?: unknown })?.seq === 'number');
        list = list.filter((p) => p.seq < after.seq);
      }
      const page = list.slice(0, limit);
      const last = page.at(-1);
      return c.json({
        projects: page.map((p) => projectListItem(deps, p)),
        pagination: { cursor: last ? encodeCursor({ seq: last.seq }) : (q.cursor ?? '') },
        applications: {},
        integrations: {},
      });
    })
    .get('/projects/shared', (c) => c.json({ projects: [], pagination: { cursor: '' }, applications: {}, integrations: {} }))
    .get('/projects/:project_id', (c) => c.json({ project: projectView(deps, findProject(deps, c.req.param('project_id'))) }))
    .patch('/projects/:project_id', async (c) => {
      const project = findProject(deps, c.req.param('project_id'));
      const { project: req } = await body(c, updateSchema);
      return ops.exclusive(project.id, async () => {
        if (req.name !== undefined) project.name = req.name;
        if (req.history_retention_seconds !== undefined) project.history_retention_seconds = req.history_retention_seconds;
        if (req.default_endpoint_settings) Object.assign(project.default_endpoint_settings, req.default_endpoint_settings);
        project.updated_at = now();
        await store.put('project', project);
        return c.json({ project: projectView(deps, project), operations: [] });
      });
    })
    .delete('/projects/:project_id', async (c) => {
      const project = findProject(deps, c.req.param('project_id'));
      return ops.exclusive(project.id, async () => {
        const branches = store.branchesOf(project.id).sort((a, b) => b.seq - a.seq);
        for (const b of branches) await branching.deleteBranch(b);
        await deps.storage.removeArchive(project.id);
        for (const op of ops.ofProject(project.id)) await store.remove('operation', op);
        const view = projectView(deps, project);
        await store.remove('project', project);
        await transfers.forget(project.id);
        return c.json({ project: view });
      });
    });
}
