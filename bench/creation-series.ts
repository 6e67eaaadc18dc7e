import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ThrowawayStack } from '../test/support/throwaway-stack';
import { createBranchWithEndpoint, createProject, deleteBranch, type Api } from './neon-calls';
import { summarize, type Summary } from './stats';

/**
 * Project and branch creation through the Neon-compatible API, alone and in waves of
 * `concurrency`, beside the bare file clone a new project's storage is. What each sample made
 * is removed after it (or after its wave), untimed, so the stack runs no more computes at the
 * end of a series than at its start.
 */
export interface Series {
  name: string;
  summary: Summary;
  raw: number[];
}

async function timed<T>(
  waves: number,
  width: number,
  task: (i: number) => Promise<T>,
  cleanup: (made: T) => Promise<unknown>,
): Promise<number[]> {
  const durations: number[] = [];
  for (let w = 0; w < waves; w++) {
    const made = await Promise.all(
      Array.from({ length: width }, async (_, j) => {
        const started = performance.now();
        const result = await task(w * width + j);
        durations.push(performance.now() - started);
        return result;
      }),
    );
    await Promise.all(made.map(cleanup));
  }
  return durations;
}

function cp(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('cp', args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cp exited ${code}`))));
  });
}

export async function creationSeries(stack: ThrowawayStack, api: Api, runs: number, concurrency: number): Promise<Series[]> {
  const series: Series[] = [];
  const add = async (name: string, samples: Promise<number[]>) => {
    const raw = await samples;
    series.push({ name, summary: summarize(raw), raw: raw.map((x) => Math.round(x * 100) / 100) });
  };
  const waves = Math.max(1, Math.ceil(runs / concurrency));

  // The storage of a new project alone: one clone of the template, as the stack's spares are made.
  const template = path.join(stack.dataDir, 'template', 'pgdata');
  const scratch = path.join(stack.dataDir, 'bench-clones');
  await fs.mkdir(scratch, { recursive: true });
  const cloneArgs = process.platform === 'darwin' ? ['-pRc'] : ['-a', '--reflink=auto'];
  await add(
    'bare template clone (cp), alone',
    timed(
      Math.max(3, Math.ceil(runs / 2)),
      1,
      async (i) => {
        const to = path.join(scratch, `c${i}`);
        await cp([...cloneArgs, template, to]);
        return to;
      },
      (to) => fs.rm(to, { recursive: true, force: true }),
    ),
  );

  const dropProject = (p: { id: string }) => api.deleteProject(p.id);
  await add(
    'create project, alone',
    timed(runs, 1, (i) => createProject(api, `bench-${i}`), dropProject),
  );
  await add(
    `create project, ${concurrency} concurrent`,
    timed(waves, concurrency, (i) => createProject(api, `bench-c-${i}`), dropProject),
  );

  // Neon (and this stack) refuse overlapping mutations on one project with 423, so concurrent
  // branches span projects: one parent per concurrent slot.
  const parents = await Promise.all(Array.from({ length: concurrency }, (_, i) => createProject(api, `bench-parent-${i}`)));
  const dropBranch = (b: { projectId: string; branchId: string }) => deleteBranch(api, b.projectId, b.branchId);
  const branchOf = async (projectId: string) => ({ projectId, branchId: await createBranchWithEndpoint(api, projectId) });
  await add(
    'create branch with endpoint, alone',
    timed(runs, 1, () => branchOf(parents[0].id), dropBranch),
  );
  await add(
    `create branch with endpoint, ${concurrency} concurrent`,
    timed(waves, concurrency, (i) => branchOf(parents[i % concurrency].id), dropBranch),
  );
  for (const p of parents) await dropProject(p);
  return series;
}
