import crypto from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { callerOrg } from '../caller';
import type { Deps } from '../context';
import { badRequest } from '../errors';
import { decodeCursor, encodeCursor, visibleProjects } from '../lookup';
import type { UsageBucket } from '../model';
import { limitParam, query } from '../validate';

const METRICS = [
  'compute_unit_seconds',
  'root_branch_bytes_month',
  'child_branch_bytes_month',
  'instant_restore_bytes_month',
  'public_network_transfer_bytes',
  'private_network_transfer_bytes',
  'extra_branches_month',
  'snapshot_storage_bytes_month',
] as const;
type Metric = (typeof METRICS)[number];
const HOURS_PER_MONTH = 730;
const MAX_TIMEFRAMES = 10_000;

const common = {
  from: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time' }),
  to: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time' }),
  granularity: z.enum(['hourly', 'daily', 'monthly']),
  org_id: z.string().optional(),
  metrics: z.array(z.enum(METRICS)).min(1, 'at least one metric is required'),
  project_ids: z
    .array(z.string().regex(/^[a-z0-9-]{1,60}$/))
    .max(100)
    .optional(),
  cursor: z.string().optional(),
};
const projectsSchema = z.object({ ...common, limit: limitParam(100) });
const branchesSchema = z.object({
  ...common,
  project_ids: common.project_ids.unwrap().min(1, 'is required'),
  branch_ids: z.array(z.string()).max(100).optional(),
  limit: limitParam(1000),
});
const ARRAYS = ['metrics', 'project_ids', 'branch_ids'];

function floorTo(ms: number, g: 'hourly' | 'daily' | 'monthly') {
  const d = new Date(ms);
  if (g === 'hourly') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours());
  if (g === 'daily') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}
function step(ms: number, g: 'hourly' | 'daily' | 'monthly') {
  const d = new Date(ms);
  if (g === 'hourly') return ms + 3_600_000;
  if (g === 'daily') return ms + 86_400_000;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * Neon's v2 consumption history from the persisted hourly buckets. Storage metrics are
 * byte-months (sampled bytes × hours / 730). Network transfer, instant restore, snapshots
 * and extra branches have no local source and report 0.
 */
export function consumptionRoutes(deps: Deps) {
  const { store, usage } = deps;

  function timeframes(q: z.infer<typeof projectsSchema>, branchIds: Set<string>) {
    const from = floorTo(Date.parse(q.from), q.granularity);
    const to = floorTo(Date.parse(q.to), q.granularity);
    if (to <= from) throw badRequest('to: must be after from once both are rounded to the granularity');
    if (q.org_id !== undefined && q.org_id !== callerOrg()) throw badRequest(`org_id: unknown organization "${q.org_id}"`);
    const buckets = usage.buckets(branchIds, from, to);
    const roots = new Set(
      [...branchIds].filter((id) => {
        const b = store.branches.get(id);
        return b && !b.parent_id;
      }),
    );
    const frames = [];
    for (let start = from; start < to; start = step(start, q.granularity)) {
      if (frames.length >= MAX_TIMEFRAMES)
        throw badRequest(`from: the period holds more than ${MAX_TIMEFRAMES} ${q.granularity} timeframes; narrow it`);
      const end = step(start, q.granularity);
      const inFrame = buckets.filter((b) => Date.parse(b.hour) >= start && Date.parse(b.hour) < end);
      frames.push({
        timeframe_start: iso(start),
        timeframe_end: iso(end),
        metrics: q.metrics.map((m) => ({ metric_name: m, value: metric(m, inFrame, roots) })),
      });
    }
    const periodStart = floorTo(from, 'monthly');
    return [{ period_id: uuidFor(`local-${periodStart}`), period_plan: 'local', period_start: iso(periodStart), consumption: frames }];
  }

  /** Deleted branches still count towards their project's consumption. */
  const branchesEver = (projectId: string) => {
    const ids = new Set(store.branchesOf(projectId).map((b) => b.id));
    for (const b of store.usage.values()) if (b.project_id === projectId) ids.add(b.branch_id);
    return ids;
  };

  function page<T extends { seq: number }>(list: T[], cursor: string | undefined, limit: number) {
    let rest = list.sort((a, b) => b.seq - a.seq);
    if (cursor) {
      const after = decodeCursor(cursor, (v): v is { seq: number } => typeof (v as { seq?: unknown })?.seq === 'number');
      rest = rest.filter((x) => x.seq < after.seq);
    }
    const items = rest.slice(0, limit);
    const last = items.at(-1);
    return { items, pagination: { cursor: last ? encodeCursor({ seq: last.seq }) : (cursor ?? '') } };
  }

  return new Hono()
    .get('/consumption_history/v2/projects', async (c) => {
      const q = query(c, projectsSchema, ARRAYS);
      await usage.sampleStorage();
      const wanted = q.project_ids ? new Set(q.project_ids) : undefined;
      const projects = visibleProjects(deps).filter((p) => !wanted || wanted.has(p.id));
      const { items, pagination } = page(projects, q.cursor, q.limit ?? 10);
      return c.json({
        projects: items.map((p) => ({ project_id: p.id, periods: timeframes(q, branchesEver(p.id)) })),
        pagination,
      });
    })
    .get('/consumption_history/v2/branches', async (c) => {
      const q = query(c, branchesSchema, ARRAYS);
      await usage.sampleStorage();
      // Another organization's project ids are ignored, as unknown ones are.
      const own = new Set(visibleProjects(deps).map((p) => p.id));
      const projects = new Set(q.project_ids.filter((id) => own.has(id)));
      const wanted = q.branch_ids?.length ? new Set(q.branch_ids) : undefined;
      const branches = [...store.branches.values()].filter((b) => projects.has(b.project_id) && (!wanted || wanted.has(b.id)));
      const { items, pagination } = page(branches, q.cursor, q.limit ?? 100);
      return c.json({
        branches: items.map((b) => ({ project_id: b.project_id, branch_id: b.id, periods: timeframes(q, new Set([b.id])) })),
        pagination,
      });
    });
}

function metric(name: Metric, buckets: UsageBucket[], roots: Set<string>): number {
  const sum = (f: (b: UsageBucket) => number) => buckets.reduce((s, b) => s + f(b), 0);
  switch (name) {
    case 'compute_unit_seconds':
      return Math.round(sum((b) => b.compute_unit_seconds));
    case 'root_branch_bytes_month':
      return Math.round(sum((b) => (roots.has(b.branch_id) ? b.storage_bytes : 0)) / HOURS_PER_MONTH);
    case 'child_branch_bytes_month':
      return Math.round(sum((b) => (roots.has(b.branch_id) ? 0 : b.storage_bytes)) / HOURS_PER_MONTH);
    default:
      return 0;
  }
}

function uuidFor(seed: string) {
  const h = crypto.createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
