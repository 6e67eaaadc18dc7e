import { createTwoFilesPatch } from 'diff';
import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../context';
import { badRequest, notFound } from '../errors';
import { findBranch } from '../lookup';
import type { BranchRec } from '../model';
import type { Queryable } from '../schema-catalog';
import { readCatalog } from '../schema-catalog';
import { renderDdl, renderJson } from '../schema-ddl';
import { id, query } from '../validate';

const dbName = z.string({ error: 'is required' }).min(1, 'is required');
const schemaQuery = z.object({
  db_name: dbName,
  lsn: z.string().optional(),
  timestamp: z.string().optional(),
  format: z.enum(['sql', 'json'], { error: 'must be sql or json' }).optional(),
});
const compareQuery = z.object({
  base_branch_id: id.optional(),
  db_name: dbName,
  lsn: z.string().optional(),
  timestamp: z.string().optional(),
  base_lsn: z.string().optional(),
  base_timestamp: z.string().optional(),
});

/**
 * The one way these routes reach a branch's database: a superuser session on the branch's
 * compute, started if it is not running (a compute kept running only for such work stops soon
 * after), under the branch's lock so it is not stopped or snapshotted halfway through the read.
 */
function withBranchDatabase<T>(deps: Deps, branch: BranchRec, database: string, read: (db: Queryable) => Promise<T>): Promise<T> {
  return deps.compute.lock(branch.id, () => deps.computes.withClient(branch, database, (client) => read(client as Queryable)));
}

/** Only the head exists locally: there is no history to read a past schema from. */
function headOnly(q: Record<string, string | undefined>, fields: string[]) {
  for (const field of fields) {
    if (q[field] !== undefined)
      throw badRequest(`${field}: a schema at a past point in time is not available on the local stack; omit it to read the head`);
  }
}

export function branchSchemaRoutes(deps: Deps) {
  const catalogOf = (branch: BranchRec, database: string) => {
    if (!deps.store.database(branch.id, database)) throw notFound(`db_name: database "${database}" not found on branch ${branch.id}`);
    return withBranchDatabase(deps, branch, database, readCatalog);
  };

  return new Hono()
    .get('/projects/:project_id/branches/:branch_id/schema', async (c) => {
      const { branch } = findBranch(deps, c.req.param('project_id'), c.req.param('branch_id'));
      const q = query(c, schemaQuery);
      if (q.lsn !== undefined && q.timestamp !== undefined) throw badRequest('lsn, timestamp: give at most one of them');
      headOnly(q, ['lsn', 'timestamp']);
      const catalog = await catalogOf(branch, q.db_name);
      return c.json(q.format === 'json' ? { json: renderJson(catalog) } : { sql: renderDdl(catalog) });
    })
    .get('/projects/:project_id/branches/:branch_id/compare_schema', async (c) => {
      const { project, branch } = findBranch(deps, c.req.param('project_id'), c.req.param('branch_id'));
      const q = query(c, compareQuery);
      headOnly(q, ['lsn', 'timestamp', 'base_lsn', 'base_timestamp']);
      const baseId = q.base_branch_id ?? branch.parent_id;
      if (!baseId) throw badRequest(`base_branch_id: required, as branch ${branch.id} has no parent to compare with`);
      const base = deps.store.branches.get(baseId);
      if (!base || base.project_id !== project.id) throw notFound(`base_branch_id: branch ${baseId} not found`);
      // One after the other: two computes may have to start, and the cap counts them.
      const before = renderDdl(await catalogOf(base, q.db_name));
      const after = renderDdl(await catalogOf(branch, q.db_name));
      const diff =
        before === after
          ? ''
          : createTwoFilesPatch(
              `${q.db_name} (branch ${base.id})`,
              `${q.db_name} (branch ${branch.id})`,
              before,
              after,
              undefined,
              undefined,
              {
                context: 3,
              },
            );
      return c.json({ diff });
    });
}
