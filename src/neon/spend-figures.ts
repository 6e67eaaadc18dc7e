/**
 * The provider's consumption figures for a set of records, fetched in as few requests as Neon
 * allows (100 branches per request, one request per page), on whatever budget the client's
 * gate takes from. Used by cron's reconciliation (all live records, every N minutes) and by the
 * sweep (the records it is about to delete: the last chance to ask).
 */
import { branchConsumption, MAX_IDS_PER_REQUEST } from './consumption';
import type { NeonClient } from './index';
import { consumptionWindow, granularityFor, sumTimeframes, type Granularity } from '../core/policy/spend-booking';

/** A record whose spend can be reconciled: it has a branch at the provider. */
export interface SpendSubject {
  id: string;
  project_id: string;
  branch_id: string;
  /** When its lease began (admission): consumption before it is not the account's. */
  since: number;
}

/** One record's consumption to date, as the provider reported it at `as_of`. */
export interface SpendFigure {
  id: string;
  compute_unit_seconds: number;
  byte_months: number;
  as_of: number;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Figures for every subject the provider reports on. A subject whose branch the provider does
 * not list (already gone) gets no figure, so its booking stays what it was.
 */
export async function fetchSpendFigures(client: NeonClient, subjects: SpendSubject[], now: number): Promise<SpendFigure[]> {
  const byGranularity = new Map<Granularity, SpendSubject[]>();
  for (const s of subjects) {
    const g = granularityFor(s.since, now);
    byGranularity.set(g, [...(byGranularity.get(g) ?? []), s]);
  }
  const figures: SpendFigure[] = [];
  for (const [granularity, group] of byGranularity) {
    for (const batch of chunks(group, MAX_IDS_PER_REQUEST)) {
      const window = consumptionWindow(Math.min(...batch.map((s) => s.since)), now, granularity);
      const rows = await branchConsumption(client, {
        projectIds: [...new Set(batch.map((s) => s.project_id))],
        branchIds: batch.map((s) => s.branch_id),
        granularity,
        ...window,
      });
      const byBranch = new Map(rows.map((r) => [`${r.project_id}/${r.branch_id}`, r]));
      for (const s of batch) {
        const row = byBranch.get(`${s.project_id}/${s.branch_id}`);
        if (!row) continue;
        const used = sumTimeframes(
          row.periods.flatMap((p) => p.consumption),
          s.since,
          granularity,
        );
        figures.push({ id: s.id, compute_unit_seconds: used.computeUnitSeconds, byte_months: used.byteMonths, as_of: now });
      }
    }
  }
  return figures;
}
