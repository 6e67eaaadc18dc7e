import { startThrowawayStack, type ThrowawayStack } from '../test/support/throwaway-stack';
import { branchTimeBySize, type SizeSeries } from './branch-size';
import { coldStarts, freshProjects, type ColdStart, type FreshProjectDisk, type PerCompute } from './compute-figures';
import { creationSeries, type Series } from './creation-series';
import { neonApi } from './neon-calls';
import { filesystemOf, startReflinkStack } from './reflink-stack';
import { machine, writeResult } from './report';
import { table } from './stats';

/**
 * `npm run bench -- local-stack`: the local stack's own costs, on throw-away stacks. Creation
 * through the Neon API (alone and concurrent), branch time against parent size on the data
 * folder's filesystem and on a reflink XFS image when this machine can mount one, a compute's
 * cold start, its memory when idle, and a fresh project's disk. BENCH_RUNS (default 10) is the
 * samples per series; the size series and the bare clone take half as many (at least 3).
 */
const RUNS = Number(process.env.BENCH_RUNS || 10);
const SIZE_RUNS = Math.max(3, Math.ceil(RUNS / 2));
const CONCURRENCY = 10;
/** Fresh projects whose idle computes and disk are measured (fewer on the reflink image: a second look). */
const COMPUTES = 10;
const REFLINK_COMPUTES = 5;

const MiB = 2 ** 20;
const mib = (bytes: number) => Math.round(bytes / MiB);

/** What is measured on each data folder's filesystem. */
interface OnFilesystem {
  filesystem: string;
  reflink: boolean;
  branchTimeByParentSize: SizeSeries;
  memoryPerCompute: PerCompute;
  diskPerFreshProject: FreshProjectDisk;
}

async function onFilesystem(stack: ThrowawayStack, computes: number): Promise<OnFilesystem> {
  const api = neonApi(stack);
  const filesystem = await filesystemOf(stack.dataDir);
  const fresh = await freshProjects(stack, api, computes);
  return {
    filesystem,
    reflink: stack.api.storage.reflink,
    branchTimeByParentSize: await branchTimeBySize(stack, api, SIZE_RUNS, filesystem),
    memoryPerCompute: fresh.memory,
    diskPerFreshProject: fresh.disk,
  };
}

function printSizes(s: SizeSeries) {
  console.log(
    `\nbranch with endpoint against parent size, ${s.filesystem} (${s.reflink ? 'reflinks' : 'no reflinks: files are copied'}), ms`,
  );
  console.log(
    table(
      s.sizes.map((z) => ({
        name: `parent ${z.label}: database ${mib(z.databaseBytes)} MiB, data directory ${mib(z.parentBytes)} MiB`,
        summary: z.summary,
      })),
    ),
  );
  console.log(`  1 GB ÷ empty (median): ${s.ratio}${s.reflink ? ' (target ≤ 1.5)' : ''}; filling took ${s.fillSeconds.join(' / ')} s`);
  console.log(`  the project's WAL archive at each size: ${s.sizes.map((z) => `${mib(z.archiveBytes)} MiB`).join(' / ')} (du)`);
}

function printCompute(f: OnFilesystem) {
  const { memoryPerCompute: mem, diskPerFreshProject: disk } = f;
  console.log(
    `\n${f.filesystem}: memory per idle compute, mean of ${mem.computes}: PSS ${mem.pssMiB} MiB, RSS ${mem.rssMiB} MiB (${mem.processes} processes each)`,
  );
  const unshared = disk.unsharedBytes
    ? `, ${(disk.unsharedBytes.median / MiB).toFixed(1)} MiB of it not shared with any other file (filefrag)`
    : '';
  console.log(
    `${f.filesystem}: disk per fresh project, median of ${disk.projects}: ${mib(disk.bytes.median)} MiB of files, ${mib(disk.duBytes.median)} MiB allocated (du)${unshared}`,
  );
}

/** The stack whose data folder is the temporary folder's own filesystem: everything is measured there. */
async function onDefaultStack(): Promise<{ pgVersion: string; series: Series[]; coldStart: ColdStart; figures: OnFilesystem }> {
  const stack = await startThrowawayStack({}, 'dblease-bench-');
  try {
    const api = neonApi(stack);
    return {
      pgVersion: (await stack.cluster.admin.query('show server_version')).rows[0].server_version,
      series: await creationSeries(stack, api, RUNS, CONCURRENCY),
      coldStart: await coldStarts(stack, api, RUNS),
      figures: await onFilesystem(stack, COMPUTES),
    };
  } finally {
    await stack.dispose();
  }
}

export async function benchLocalStack(): Promise<object> {
  const began = performance.now();
  const { pgVersion, series, coldStart: cold, figures } = await onDefaultStack();
  const filesystems = [figures];
  // Where the data folder has no reflinks, the same again on an XFS image, if one can be mounted.
  let reflinkUnavailable: string | undefined;
  if (!figures.reflink) {
    const reflink = await startReflinkStack();
    if ('unavailable' in reflink) reflinkUnavailable = reflink.unavailable;
    else {
      try {
        filesystems.push(await onFilesystem(reflink.stack, REFLINK_COMPUTES));
      } finally {
        await reflink.dispose();
      }
    }
  }
  const seconds = Math.round((performance.now() - began) / 1000);

  console.log(`\nLocal stack (Neon-compatible API), ${RUNS} runs per series (${SIZE_RUNS} per parent size), ms\n`);
  console.log(table(series));
  for (const f of filesystems) printSizes(f.branchTimeByParentSize);
  if (reflinkUnavailable) console.log(`  no reflink filesystem measured: ${reflinkUnavailable}`);
  console.log('\ncold start of a compute (its endpoint suspended), ms');
  console.log(
    table([
      { name: 'connect through the proxy + select 1, cold', summary: cold.connect },
      { name: "the postmaster's own start (spawn to ready)", summary: cold.postmaster },
      { name: 'connect through the proxy + select 1, warm', summary: cold.warmConnect },
    ]),
  );
  for (const f of filesystems) printCompute(f);
  const result = {
    benchmark: 'local-stack',
    machine: machine(pgVersion),
    runs: RUNS,
    size_runs: SIZE_RUNS,
    seconds,
    series,
    cold_start: cold,
    filesystems,
    reflink_unavailable: reflinkUnavailable,
  };
  console.log(`\n${seconds} s in all; written to ${await writeResult('local-stack', result)}`);
  return result;
}
