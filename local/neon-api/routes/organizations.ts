import { Hono } from 'hono';
import { callerOrg } from '../caller';
import type { Deps } from '../context';
import { notFound } from '../errors';

/** Each API key belongs to one organization: the caller sees that one and no other. */
export function organizationRoutes(deps: Deps) {
  const { orgs } = deps;
  return new Hono()
    .get('/users/me/organizations', (c) => c.json({ organizations: [orgs.view(callerOrg())!] }))
    .get('/organizations/:org_id', (c) => {
      const id = c.req.param('org_id');
      // Another organization's id is as unknown as one that does not exist.
      const org = id === callerOrg() ? orgs.view(id) : undefined;
      if (!org) throw notFound(`organization ${id} not found`);
      return c.json(org);
    });
}
