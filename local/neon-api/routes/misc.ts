import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../context';
import { LOCAL_USER_ID } from '../context';
import { notFound } from '../errors';
import { findProject } from '../lookup';
import { boolParam, id, query } from '../validate';
import { connectionUri } from '../views';

const uriSchema = z.object({
  branch_id: id.optional(),
  endpoint_id: id.optional(),
  database_name: z.string().min(1, 'is required'),
  role_name: z.string().min(1, 'is required'),
  pooled: boolParam,
});

/** connection_uri, and the account lookups the Neon CLI makes: one local user (organizations: organizations.ts). */
export function miscRoutes(deps: Deps) {
  const { store } = deps;
  return new Hono()
    .get('/projects/:project_id/connection_uri', (c) => {
      const project = findProject(deps, c.req.param('project_id'));
      const q = query(c, uriSchema);
      const branch = q.branch_id ? store.branches.get(q.branch_id) : store.branchesOf(project.id).find((b) => b.default);
      if (!branch || branch.project_id !== project.id) throw notFound(`branch_id: branch ${q.branch_id} not found`);
      const endpoints = store.endpointsOfBranch(branch.id);
      const ep = q.endpoint_id
        ? endpoints.find((e) => e.id === q.endpoint_id)
        : (endpoints.find((e) => e.type === 'read_write') ?? endpoints[0]);
      if (!ep)
        throw q.endpoint_id
          ? notFound(`endpoint_id: endpoint ${q.endpoint_id} not found on branch ${branch.id}`)
          : notFound(`branch ${branch.id} has no endpoint`);
      const role = store.role(branch.id, q.role_name);
      if (!role) throw notFound(`role_name: role "${q.role_name}" not found on branch ${branch.id}`);
      if (!store.database(branch.id, q.database_name))
        throw notFound(`database_name: database "${q.database_name}" not found on branch ${branch.id}`);
      // pooled=true gives the same URI: there is no PgBouncer in the local stack.
      return c.json({ uri: connectionUri(deps, ep, role, q.database_name) });
    })
    .get('/regions', (c) =>
      c.json({ regions: [{ region_id: deps.config.regionId, name: 'Local (this machine)', default: true, geo_lat: '', geo_long: '' }] }),
    )
    .get('/auth', (c) => c.json({ account_id: LOCAL_USER_ID, auth_method: 'api_key_user' }))
    .get('/users/me', (c) =>
      c.json({
        active_seconds_limit: 0,
        id: LOCAL_USER_ID,
        email: 'local@localhost',
        login: 'local',
        name: 'Local',
        last_name: 'User',
        image: '',
        projects_limit: 0,
        branches_limit: 0,
        max_autoscaling_limit: 56,
        compute_seconds_limit: 0,
        plan: 'local',
        auth_accounts: [{ provider: 'local', email: 'local@localhost', name: 'Local User', login: 'local', image: '' }],
        billing_account: { email: 'local@localhost' },
      }),
    )
    .get('/api_keys', (c) => c.json([]));
}
