/**
 * The provider's view of whether anyone connected to a database: the `last_active` of its
 * endpoint (Neon's, and the local stack's, which sets it when a client connection through its
 * proxies opens or closes). Asked just before a resource is removed, the last chance, and only
 * for records whose use dblease has not seen (durable-objects/abuse.ts). One request per
 * project; a project or endpoint already gone answers nothing, never a failure.
 */
import type { DatabaseRecord } from '../core/contract';
import type { NeonClient } from './index';

export interface Activity {
  id: string;
  active_at: number;
}

export async function lastActivity(client: NeonClient, records: DatabaseRecord[]): Promise<Activity[]> {
  const byProject = new Map<string, DatabaseRecord[]>();
  for (const r of records) {
    const project = r.provider.project_id;
    if (r.ready_at === null || !project || (!r.provider.endpoint_id && !r.provider.branch_id)) continue;
    byProject.set(project, [...(byProject.get(project) ?? []), r]);
  }
  const out: Activity[] = [];
  for (const [projectId, group] of byProject) {
    const endpoints = await client.listEndpoints(projectId).catch((err: unknown) => {
      if ((err as { notFound?: boolean }).notFound) return [];
      throw err;
    });
    for (const r of group) {
      const ep = endpoints.find((e) => e.id === r.provider.endpoint_id) ?? endpoints.find((e) => e.branch_id === r.provider.branch_id);
      const at = ep?.last_active ? Date.parse(ep.last_active) : NaN;
      if (Number.isFinite(at)) out.push({ id: r.id, active_at: at });
    }
  }
  return out;
}
