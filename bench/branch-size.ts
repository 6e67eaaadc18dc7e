import type { ThrowawayStack } from '../test/support/throwaway-stack';
import { createBranchWithEndpoint, createProject, deleteBranch, type Api } from './neon-calls';
import { duBytes } from './disk-usage';
import { summarize, type Summary } from './stats';

/**
 * Branch time against parent size: one parent, branched while its compute runs (an online
 * snapshot), first empty, then grown to ~100 MB and to ~1 GB in place, so the big parent is made
 * once. Each sample is POST branches with an endpoint until its operations finish (the child's
 * compute is up, its recovery done); the child is deleted again untimed, so disk use stays at
 * one copy.
 */
export interface SizeSample {
  label: string;
  /** What the parent's data directory holds (all its files, WAL included). */
  parentBytes: number;
  /** `pg_database_size` of the parent's database. */
  databaseBytes: number;
  /** The project's WAL archive (every segment its computes finished, kept for point-in-time branches), du. */
  archiveBytes: number;
  summary: Summary;
  raw: number[];
}

export interface SizeSeries {
  filesystem: string;
  reflink: boolean;
  sizes: SizeSample[];
  /** Seconds spent filling the parent up to each size. */
  fillSeconds: number[];
  /** Median at ~1 GB ÷ median when empty. */
  ratio: number;
}

const MiB = 2 ** 20;
export const SIZES = [
  { label: 'empty', bytes: 0 },
  { label: '~100 MB', bytes: 100 * MiB },
  { label: '~1 GB', bytes: 1024 * MiB },
];

/**
 * Grows the parent's database to `targetBytes` with rows of ~170 bytes (an id and 128
 * characters of md5 text: below TOAST's threshold, so nothing is compressed away), through a
 * superuser session on the parent's own compute; a checkpoint at the end, as a parent that has
 * been running a while would have had.
 */
async function fill(stack: ThrowawayStack, branchId: string, targetBytes: number): Promise<number> {
  const branch = stack.api.store.branches.get(branchId)!;
  return stack.api.computes.withClient(branch, 'neondb', async (c) => {
    await c.query('create table if not exists bench_fill (id bigint, pad text)');
    const size = async () => Number((await c.query('select pg_database_size(current_database()) as s')).rows[0].s);
    let next = Number((await c.query('select coalesce(max(id), 0) + 1 as n from bench_fill')).rows[0].n);
    for (let now = await size(); now < targetBytes; now = await size()) {
      // At most ~64 MB a statement, and no more rows than the remaining bytes need.
      const rows = Math.max(1000, Math.min(400_000, Math.ceil((targetBytes - now) / 170)));
      await c.query('insert into bench_fill select g, repeat(md5(g::text), 4) from generate_series($1::bigint, $2::bigint) g', [
        next,
        next + rows - 1,
      ]);
      next += rows;
    }
    await c.query('checkpoint');
    return size();
  });
}

export async function branchTimeBySize(stack: ThrowawayStack, api: Api, runs: number, filesystem: string): Promise<SizeSeries> {
  const parent = await createProject(api, 'bench-size-parent');
  const sizes: SizeSample[] = [];
  const fillSeconds: number[] = [];
  for (const size of SIZES) {
    const filling = performance.now();
    const databaseBytes = await fill(stack, parent.branchId, size.bytes);
    fillSeconds.push(Math.round((performance.now() - filling) / 100) / 10);
    const raw: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const child = await createBranchWithEndpoint(api, parent.id);
      raw.push(performance.now() - started);
      await deleteBranch(api, parent.id, child);
    }
    sizes.push({
      label: size.label,
      parentBytes: await stack.api.storage.bytes(parent.branchId),
      databaseBytes,
      archiveBytes: await duBytes(stack.api.storage.archiveDirOf(parent.id)),
      summary: summarize(raw),
      raw: raw.map((x) => Math.round(x * 100) / 100),
    });
  }
  return {
    filesystem,
    reflink: stack.api.storage.reflink,
    sizes,
    fillSeconds,
    ratio: +(sizes.at(-1)!.summary.median / sizes[0].summary.median).toFixed(2),
  };
}
