import { Hono } from 'hono';
import { z } from 'zod';
import { callerOrg } from '../caller';
import type { Deps } from '../context';
import { notFound } from '../errors';
import { findProject } from '../lookup';
import { DEFAULT_TRANSFER_TTL_SECONDS } from '../transfers';
import { body, id } from '../validate';

const createSchema = z.object({
  ttl_seconds: z.number().int('must be an integer').min(1).max(31_536_000).optional(),
});
const acceptSchema = z.object({ org_id: id.optional() });

/**
 * Project transfer: the owner makes a request, the recipient accepts it with its own key.
 * Only the project changes hands; its branches, endpoints, roles and data stay as they are.
 */
export function transferRoutes(deps: Deps) {
  const { transfers } = deps;
  return new Hono()
    .post('/projects/:project_id/transfer_requests', async (c) => {
      const project = findProject(deps, c.req.param('project_id'));
      const req = await body(c, createSchema, { optional: true });
      const request = await transfers.create(project, req.ttl_seconds ?? DEFAULT_TRANSFER_TTL_SECONDS, Date.now());
      return c.json(transfers.view(request), 201);
    })
    .put('/projects/:project_id/transfer_requests/:request_id', async (c) => {
      const req = await body(c, acceptSchema, { optional: true });
      const recipient = callerOrg();
      // A key belongs to one organization, so it can receive into that one only.
      if (req.org_id !== undefined && req.org_id !== recipient) throw notFound(`org_id: organization ${req.org_id} not found`);
      await transfers.accept(c.req.param('project_id'), c.req.param('request_id'), recipient, Date.now());
      return c.body(null, 204);
    });
}
