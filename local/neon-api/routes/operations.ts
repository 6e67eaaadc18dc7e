import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../context';
import { notFound } from '../errors';
import { decodeCursor, encodeCursor, findProject } from '../lookup';
import { limitParam, query } from '../validate';
import { operationView } from '../views';

const listSchema = z.object({ cursor: z.string().optional(), limit: limitParam(1000) });

export function operationRoutes(deps: Deps) {
  return new Hono()
    .get('/projects/:project_id/operations', (c) => {
      const project = findProject(deps, c.req.param('project_id'));
      const q = query(c, listSchema);
      let list = deps.ops.ofProject(project.id);
      // Newest first, keyed on the creation sequence, so new operations never shift pages.
      if (q.cursor) {
        const after = decodeCursor(q.cursor, (v): v is { seq: number } => typeof (v as { seq?: unknown })?.seq === 'number');
        list = list.filter((o) => o.seq < after.seq);
      }
      const page = list.slice(0, q.limit ?? 10);
      const last = page.at(-1);
      return c.json({
        operations: page.map(operationView),
        pagination: { cursor: last ? encodeCursor({ seq: last.seq }) : (q.cursor ?? '') },
      });
    })
    .get('/projects/:project_id/operations/:operation_id', (c) => {
      const project = findProject(deps, c.req.param('project_id'));
      const op = deps.store.operations.get(c.req.param('operation_id'));
      if (!op || op.project_id !== project.id) throw notFound(`operation ${c.req.param('operation_id')} not found`);
      return c.json({ operation: operationView(op) });
    });
}
