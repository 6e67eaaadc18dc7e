import type { ThrowawayStack } from '../test/support/throwaway-stack';
import { idleComputeMemory, type ComputeMemory } from './compute-memory';
import { duBytes, unsharedBytes } from './disk-usage';
import { createProject, suspendEndpoint, type Api, type NewProject } from './neon-calls';
import { selectOne } from './provisioning-setup';
import { summarize, type Summary } from './stats';

/** What one compute costs: its cold start, its memory when idle, a fresh project's disk. */

const round = (x: number) => Math.round(x * 100) / 100;

export interface ColdStart {
  /** Connection through the endpoint proxy + `select 1`, from a suspended endpoint. */
  connect: Summary;
  /** The postmaster's own spawn-to-ready, as the endpoint reports it. */
  postmaster: Summary;
  /** The same connection once the compute runs, for comparison. */
  warmConnect: Summary;
}

export async function coldStarts(stack: ThrowawayStack, api: Api, runs: number): Promise<ColdStart> {
  const p = await createProject(api, 'bench-cold-start');
  const cold: number[] = [];
  const warm: number[] = [];
  const postmaster: number[] = [];
  for (let i = 0; i < runs; i++) {
    await suspendEndpoint(api, p.id, p.endpointId);
    if (stack.api.computes.isRunning(p.branchId)) throw new Error('the compute still runs after its endpoint was suspended');
    let started = performance.now();
    await selectOne(p.uri);
    cold.push(performance.now() - started);
    const rc = stack.api.computes.runningBranches().find((r) => r.branchId === p.branchId);
    if (!rc) throw new Error('no compute runs after a connection through the proxy');
    postmaster.push(rc.postmaster.startMs);
    started = performance.now();
    await selectOne(p.uri);
    warm.push(performance.now() - started);
  }
  await api.deleteProject(p.id);
  return { connect: summarize(cold), postmaster: summarize(postmaster), warmConnect: summarize(warm) };
}

export interface PerCompute {
  computes: number;
  /** Means over the computes. */
  pssMiB: number;
  rssMiB: number;
  processes: number;
  each: ComputeMemory[];
}

export interface FreshProjectDisk {
  projects: number;
  /** `storage.bytes`: the files' sizes. */
  bytes: Summary;
  /** `du`: blocks allocated (a reflink's shared blocks counted in full). */
  duBytes: Summary;
  /** Blocks no other file shares (filefrag): a reflink clone's real cost; absent without filefrag. */
  unsharedBytes?: Summary;
}

/**
 * `count` fresh projects, each with its compute running as project creation leaves it: their
 * memory once idle (no session, not even the control plane's), and their disk. The projects
 * are deleted afterwards.
 */
export async function freshProjects(
  stack: ThrowawayStack,
  api: Api,
  count: number,
): Promise<{ memory: PerCompute; disk: FreshProjectDisk }> {
  const projects: NewProject[] = [];
  for (let i = 0; i < count; i++) projects.push(await createProject(api, `bench-fresh-${i}`));
  const pids = projects.map((p) => {
    const rc = stack.api.computes.runningBranches().find((r) => r.branchId === p.branchId);
    if (!rc) throw new Error(`project ${p.id} has no running compute after creation`);
    return rc.postmaster.pid;
  });
  const each = await idleComputeMemory(pids);
  const mean = (f: (m: ComputeMemory) => number) => round(each.reduce((s, m) => s + f(m), 0) / each.length);
  const bytes: number[] = [];
  const du: number[] = [];
  const unshared: number[] = [];
  for (const p of projects) {
    const dir = stack.api.storage.pgdataOf(p.branchId);
    bytes.push(await stack.api.storage.bytes(p.branchId));
    du.push(await duBytes(dir));
    const own = await unsharedBytes(dir);
    if (own !== undefined) unshared.push(own);
  }
  for (const p of projects) await api.deleteProject(p.id);
  return {
    memory: {
      computes: each.length,
      pssMiB: mean((m) => m.pssMiB),
      rssMiB: mean((m) => m.rssMiB),
      processes: mean((m) => m.processes),
      each: each.map((m) => ({ ...m, pssMiB: round(m.pssMiB), rssMiB: round(m.rssMiB) })),
    },
    disk: {
      projects: count,
      bytes: summarize(bytes),
      duBytes: summarize(du),
      unsharedBytes: unshared.length === count ? summarize(unshared) : undefined,
    },
  };
}
