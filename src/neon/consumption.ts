/**
 * Neon's per-branch consumption history (`GET /consumption_history/v2/branches`). Per branch
 * rather than per project because a fresh database's project also holds its child branches,
 * which are records of their own: per-project figures would count them twice.
 */
import type { NeonClient } from './client';
import { providerCall } from './http';

export const CONSUMPTION_METRICS = ['compute_unit_seconds', 'root_branch_bytes_month', 'child_branch_bytes_month'] as const;

/** Neon's bounds: up to 100 projects per request, branch pages of up to 1,000. */
export const MAX_IDS_PER_REQUEST = 100;
const PAGE = 1_000;

export interface BranchConsumption {
  project_id: string;
  branch_id: string;
  periods: { consumption: { timeframe_start: string; timeframe_end: string; metrics: { metric_name: string; value: number }[] }[] }[];
}

interface BranchesPage {
  branches: BranchConsumption[];
  pagination?: { cursor?: string };
}

/** Every page of figures for these branches (at most 100 project and 100 branch ids). */
export async function branchConsumption(
  client: NeonClient,
  input: { projectIds: string[]; branchIds: string[]; from: string; to: string; granularity: 'hourly' | 'daily' },
): Promise<BranchConsumption[]> {
  const all: BranchConsumption[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await providerCall<BranchesPage>(
      client.account,
      {
        method: 'GET',
        path: '/consumption_history/v2/branches',
        route: 'GET /consumption_history/v2/branches',
        query: {
          from: input.from,
          to: input.to,
          granularity: input.granularity,
          metrics: CONSUMPTION_METRICS.join(','),
          project_ids: input.projectIds.join(','),
          branch_ids: input.branchIds.join(','),
          limit: PAGE,
          cursor,
        },
      },
      client.options,
    );
    all.push(...page.branches);
    const next = page.pagination?.cursor;
    if (page.branches.length < PAGE || !next || next === cursor) return all;
    cursor = next;
  }
}
