import { Hono } from 'hono';
import { z } from 'zod';
import { annotationValue, annotationsMap, annotationView, newAnnotation } from '../annotations';
import type { Deps } from '../context';
import { badRequest, conflict, notFound, unprocessable } from '../errors';
import { historyPoint } from '../history';
import { decodeCursor, encodeCursor, findBranch, findProject } from '../lookup';
import { now, type BranchRec, type EndpointRec, type OperationRec, type ProjectRec } from '../model';
import { body, computeUnit, id, limitParam, query, suspendTimeout, timestamp } from '../validate';
import { branchView, connectionUris, databaseView, endpointView, operationView, roleView } from '../views';

const endpointOptions = z.object({
  type: z.enum(['read_write', 'read_only']),
  autoscaling_limit_min_cu: computeUnit.optional(),
  autoscaling_limit_max_cu: computeUnit.optional(),
  suspend_timeout_seconds: suspendTimeout.optional(),
  provisioner: z.string().optional(),
});

const createSchema = z.object({
  branch: z
    .object({
      parent_id: id.optional(),
      name: z.string().min(1).max(256).optional(),
      parent_lsn: z.string().optional(),
      parent_timestamp: z.string().optional(),
      protected: z.boolean().optional(),
      archived: z.boolean().optional(),
      init_source: z.enum(['parent-data', 'schema-only']).optional(),
      expires_at: timestamp.optional(),
    })
    .default({}),
  endpoints: z.array(endpointOptions).max(10).default([]),
  annotation_value: annotationValue.optional(),
});

const updateSchema = z.object({
  branch: z.object({
    name: z.string().min(1).max(256).optional(),
    protected: z.boolean().optional(),
    expires_at: timestamp.nullable().optional(),
  }),
});

const restoreSchema = z.object({
  source_branch_id: id,
  source_lsn: z.string().optional(),
  source_timestamp: z.string().optional(),
  preserve_under_name: z.string().max(256).optional(),
});

const SORT_KEYS = ['name', 'created_at', 'updated_at'] as const;
const listSchema = z.object({
  search: z.string().optional(),
  sort_by: z.enum(SORT_KEYS).optional(),
  sort_order: z.enum(['asc', 'desc']).optional(),
  cursor: z.string().optional(),
  limit: limitParam(10000),
  include_deleted: z.string().optional(),
});

type Cursor = { by: (typeof SORT_KEYS)[number]; order: 'asc' | 'desc'; v: string; id: string };
const isCursor = (v: unknown): v is Cursor =>
  typeof v === 'object' &&
  v !== null &&
  SORT_KEYS.includes((v as Cursor).by) &&
  ['asc', 'desc'].includes((v as Cursor).order) &&
  typeof (v as Cursor).v === 'string' &&
  typeof (v as Cursor).id === 'string';

const EXPIRY_PARENT =
  'cannot create a child branch of a branch that has an expiration time (expires_at); remove expires_at from the parent first';

function futureExpiry(value: string | undefined | null, field: string) {
  if (value && Date.parse(value) <= Date.now()) throw badRequest(`${field}: must be in the future`);
}

export function branchRoutes(deps: Deps) {
  const { store, ops, branching, provision } = deps;
  const nameTaken = (projectId: string, name: string, except?: string) =>
    store.branchesOf(projectId).some((b) => b.name === name && b.id !== except);
  const createdResponse = (branch: BranchRec, endpoints: EndpointRec[], operations: OperationRec[]) => ({
    branch: branchView(deps, branch),
    endpoints: endpoints.map((e) => endpointView(deps, e)),
    operations: operations.map(operationView),
    roles: store.rolesOf(branch.id).map((r) => roleView(r)),
    databases: store.databasesOf(branch.id).map(databaseView),
    connection_uris: connectionUris(deps, branch.id),
  });

  /** A requested point of a branch's history, checked (history.ts); its current LSN is read only for an LSN. */
  const pointIn = async (source: BranchRec, project: ProjectRec, fields: Parameters<typeof historyPoint>[0]) =>
    historyPoint(fields, source, project, Date.now(), fields.lsn !== undefined ? await branching.lsnNow(source) : undefined);

  return new Hono()
    .post('/projects/:project_id/branches', async (c) => {
      const project = findProject(deps, c.req.param('project_id'));
      const req = await body(c, createSchema, { optional: true });
      const b = req.branch;
      if (b.init_source === 'schema-only')
        throw badRequest('branch.init_source: schema-only branches are not available on the local stack');
      futureExpiry(b.expires_at, 'branch.expires_at');
      if (req.endpoints.filter((e) => e.type === 'read_write').length > 1)
        throw badRequest('endpoints: a branch can have only one read_write endpoint');
      return ops.exclusive(project.id, async () => {
        const parent = b.parent_id ? store.branches.get(b.parent_id) : store.branchesOf(project.id).find((x) => x.default);
        if (!parent || parent.project_id !== project.id) throw notFound(`branch.parent_id: branch ${b.parent_id} not found`);
        if (parent.expires_at) throw unprocessable(EXPIRY_PARENT);
        if (b.name && nameTaken(project.id, b.name))
          throw conflict(`branch.name: a branch named "${b.name}" already exists in this project`);
        const at = await pointIn(parent, project, {
          timestamp: b.parent_timestamp,
          lsn: b.parent_lsn,
          timestampField: 'branch.parent_timestamp',
          lsnField: 'branch.parent_lsn',
        });
        const op = await ops.begin(project.id, 'create_branch', {});
        let branch!: BranchRec;
        await ops.track(op, async () => {
          branch = await branching.createChild(
            project,
            parent,
            { name: b.name, protected: b.protected ?? false, expires_at: b.expires_at },
            at,
          );
          const annotation = newAnnotation(req.annotation_value);
          if (annotation) {
            branch.annotation = annotation;
            await store.put('branch', branch);
          }
          op.branch_id = branch.id;
        });
        const endpoints: EndpointRec[] = [];
        const operations: OperationRec[] = [op];
        for (const e of req.endpoints) {
          const made = await provision.createEndpoint(project, branch, e);
          endpoints.push(made.endpoint);
          operations.push(...made.operations);
        }
        return c.json(createdResponse(branch, endpoints, operations), 201);
      });
    })
    .get('/projects/:project_id/branches', (c) => {
      const project = findProject(deps, c.req.param('project_id'));
      const q = query(c, listSchema);
      const cursor = q.cursor ? decodeCursor(q.cursor, isCursor) : undefined;
      const by = cursor?.by ?? q.sort_by ?? 'updated_at';
      const order = cursor?.order ?? q.sort_order ?? 'desc';
      const sign = order === 'asc' ? 1 : -1;
      const cmp = (av: string, aid: string, bv: string, bid: string) =>
        sign * (av < bv ? -1 : av > bv ? 1 : aid < bid ? -1 : aid > bid ? 1 : 0);
      let list = store.branchesOf(project.id).sort((x, y) => cmp(x[by], x.id, y[by], y.id));
      if (q.search) {
        const s = q.search.toLowerCase();
        list = list.filter((x) => x.name.toLowerCase().includes(s) || x.id.includes(s));
      }
      // Keyset paging on (sort key, id): rows created between pages never shift the rest.
      if (cursor) list = list.filter((x) => cmp(x[by], x.id, cursor.v, cursor.id) > 0);
      const page = q.limit ? list.slice(0, q.limit) : list;
      const last = page.at(-1);
      const more = page.length < list.length && last;
      return c.json({
        branches: page.map((x) => branchView(deps, x)),
        annotations: annotationsMap(page),
        pagination: { ...(more ? { next: encodeCursor({ by, order, v: last[by], id: last.id }) } : {}), sort_by: by, sort_order: order },
      });
    })
    .get('/projects/:project_id/branches/count', (c) =>
      c.json({ count: store.branchesOf(findProject(deps, c.req.param('project_id')).id).length }),
    )
    .get('/projects/:project_id/branches/:branch_id', (c) => {
      const { branch } = findBranch(deps, c.req.param('project_id'), c.req.param('branch_id'));
      return c.json({ branch: branchView(deps, branch), annotation: annotationView(branch) });
    })
    .patch('/projects/:project_id/branches/:branch_id', async (c) => {
      const { project, branch } = findBranch(deps, c.req.param('project_id'), c.req.param('branch_id'));
      const { branch: req } = await body(c, updateSchema);
      futureExpiry(req.expires_at, 'branch.expires_at');
      return ops.exclusive(project.id, async () => {
        if (req.name !== undefined && nameTaken(project.id, req.name, branch.id))
          throw conflict(`branch.name: a branch named "${req.name}" already exists in this project`);
        if (req.expires_at) {
          if (branch.default) throw unprocessable('branch.expires_at: the default branch cannot expire');
          if (store.branchesOf(project.id).some((x) => x.parent_id === branch.id))
            throw unprocessable('branch.expires_at: a branch with child branches cannot have an expiration time');
        }
        if (req.name !== undefined) branch.name = req.name;
        if (req.protected !== undefined) branch.protected = req.protected;
        if (req.expires_at !== undefined) branch.expires_at = req.expires_at ?? undefined;
        branch.updated_at = now();
        await store.put('branch', branch);
        return c.json({ branch: branchView(deps, branch), operations: [] });
      });
    })
    .post('/projects/:project_id/branches/:branch_id/set_as_default', async (c) => {
      const { project, branch } = findBranch(deps, c.req.param('project_id'), c.req.param('branch_id'));
      return ops.exclusive(project.id, async () => {
        // Protection does not matter here: it guards against deletion and reset, not this.
        if (!branch.default) {
          if (branch.expires_at)
            throw unprocessable(
              `branch ${branch.id} has an expiration time (expires_at) and the default branch cannot expire; remove it first`,
            );
          const at = now();
          for (const old of store.branchesOf(project.id).filter((x) => x.default)) {
            old.default = false;
            old.updated_at = at;
            await store.put('branch', old);
          }
          branch.default = true;
          branch.updated_at = at;
          await store.put('branch', branch);
        }
        return c.json({ branch: branchView(deps, branch), operations: [] });
      });
    })
    .delete('/projects/:project_id/branches/:branch_id', async (c) => {
      const { project, branch } = findBranch(deps, c.req.param('project_id'), c.req.param('branch_id'));
      return ops.exclusive(project.id, async () => {
        if (branch.default) throw unprocessable('cannot delete the default branch of a project; set another branch as default first');
        if (branch.protected) throw unprocessable(`branch ${branch.id} is protected; unprotect it before deleting it`);
        if (store.branchesOf(project.id).some((x) => x.parent_id === branch.id))
          throw unprocessable(`branch ${branch.id} has child branches; delete them first`);
        const view = branchView(deps, branch);
        const op = await ops.begin(project.id, 'delete_timeline', { branch_id: branch.id });
        await ops.track(op, () => branching.deleteBranch(branch));
        return c.json({ branch: view, operations: [operationView(op)] });
      });
    })
    .post('/projects/:project_id/branches/:branch_id/restore', async (c) => {
      const { project, branch } = findBranch(deps, c.req.param('project_id'), c.req.param('branch_id'));
      const req = await body(c, restoreSchema);
      if (req.source_branch_id === branch.id && req.source_lsn === undefined && req.source_timestamp === undefined)
        throw badRequest('source_branch_id: restoring a branch from itself needs source_lsn or source_timestamp');
      const source = store.branches.get(req.source_branch_id);
      if (!source || source.project_id !== project.id) throw notFound(`source_branch_id: branch ${req.source_branch_id} not found`);
      return ops.exclusive(project.id, async () => {
        const hasChildren = store.branchesOf(project.id).some((x) => x.parent_id === branch.id);
        if (hasChildren && !req.preserve_under_name)
          throw badRequest('preserve_under_name: required because the branch has child branches');
        if (req.preserve_under_name && nameTaken(project.id, req.preserve_under_name))
          throw conflict(`preserve_under_name: a branch named "${req.preserve_under_name}" already exists in this project`);
        const at = await pointIn(source, project, {
          timestamp: req.source_timestamp,
          lsn: req.source_lsn,
          timestampField: 'source_timestamp',
          lsnField: 'source_lsn',
        });
        const op = await ops.begin(project.id, 'create_timeline', { branch_id: branch.id });
        await ops.track(op, async () => void (await branching.restore(project, branch, source, req.preserve_under_name, at)));
        return c.json({ branch: branchView(deps, branch), operations: [operationView(op)] });
      });
    });
}
