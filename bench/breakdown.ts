/**
 * `npm run bench -- breakdown`: where the time of a warm-pool create goes, by process. The local
 * stack runs in a process of its own (bench/stack-process.ts) and the Worker under workerd alone
 * (bench/workerd-direct.ts), so CPU is read per process from /proc (bench/proc-stats.ts) before
 * and after each phase:
 *
 * 1. fill: the pool fills to POOL entries (CPU per entry: what each refill costs);
 * 2. the Worker restarts on the same state with a pool size below what the pool holds, so claims
 *    start no refills and the figures are the claim path's own; then create + first query, one at
 *    a time (BENCH_RUNS of them), and 50 at once across 50 accounts;
 * 3. memory: 1,000 live leases (20 accounts × 50, on demand), then RSS and PSS of workerd, the
 *    stack's Node process and its PostgreSQL processes.
 *
 * From the 50-at-once phase it derives the CPU floor: with every create costing C ms of CPU on
 * `cores` cores, 50 creates cannot all finish before 50 × C ÷ cores, whatever the code does.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { api, benchAccount, OPERATOR_TOKEN, BENCH_VARS } from './provisioning-setup';
import { benchAccounts, measureAccountGet, sampleCreate, waitForPool } from './provisioning-curve';
import { machineBusyMs, pssMiB, readProcs, subtree, type Proc } from './proc-stats';
import { machine, writeResult } from './report';
import { alignedTable, summarize, type Summary } from './stats';
import type { StackMessage } from './stack-process';
import { newWorkerState, startDirectWorker, type DirectWorker } from './workerd-direct';
import { bundleSources, profileWorkerd, summarizeProfile, type ProfileSummary, type V8Profile } from './cpu-profile';

const RUNS = Number(process.env.BENCH_RUNS || 10);
const BURST = 50;
/** Enough for the creates one at a time, the measured burst and the profiled one. */
const POOL = 2 * BURST + RUNS + 5;
/** Live leases for the memory reading: BENCH_LEASES (default 1,000), in accounts of 50 (the default policy's cap). */
const LEASE_COUNT = Number(process.env.BENCH_LEASES || 1_000);
const LEASES = { accounts: Math.ceil(LEASE_COUNT / 50), each: Math.min(50, LEASE_COUNT) };

type Group = 'workerd' | 'stack (Node)' | 'postgres and other stack children' | 'bench client (Node)' | 'rest of the machine';
const GROUPS: Group[] = ['workerd', 'stack (Node)', 'postgres and other stack children', 'bench client (Node)', 'rest of the machine'];

interface Sample {
  at: number;
  cpu: Record<Group, number>;
}

/** CPU so far per group (ms): own time, plus exited children's where the group owns a process tree. */
async function sample(workerdPid: number, stackPid: number): Promise<Sample> {
  const procs = await readProcs();
  const sum = (ps: Proc[], f: (p: Proc) => number) => ps.reduce((a, p) => a + f(p), 0);
  const stack = procs.get(stackPid);
  const below = subtree(procs, stackPid).filter((p) => p.pid !== stackPid);
  const self = process.cpuUsage();
  const cpu: Record<Group, number> = {
    workerd: sum(subtree(procs, workerdPid), (p) => p.own + p.children),
    'stack (Node)': stack?.own ?? 0,
    // Backends live for one connection and postmasters stop when computes suspend: their time is
    // in the stack's (or a postmaster's) children's time once they have exited.
    'postgres and other stack children': sum(below, (p) => p.own + p.children) + (stack?.children ?? 0),
    'bench client (Node)': (self.user + self.system) / 1000,
    'rest of the machine': 0,
  };
  const ours = GROUPS.slice(0, 4).reduce((a, g) => a + cpu[g], 0);
  cpu['rest of the machine'] = (await machineBusyMs()) - ours;
  return { at: performance.now(), cpu };
}

interface Phase {
  name: string;
  creates: number;
  wall_ms: number;
  /** CPU ms per create (per entry for the fill), by group. */
  cpu_per_create: Record<Group, number>;
  /** CPU of our processes per create (the rest of the machine left out). */
  ours_per_create: number;
  /** Our processes' CPU ÷ (wall × cores): 1 is every core busy with this benchmark. */
  core_share: number;
  latency?: Summary;
  request?: Summary;
  /** The first query alone (after the 201): a new connection, which wakes the suspended compute. */
  first_query?: Summary;
}

function phase(name: string, creates: number, a: Sample, b: Sample, cores: number, latency?: number[], request?: number[]): Phase {
  const wall = b.at - a.at;
  const per = Object.fromEntries(GROUPS.map((g) => [g, +((b.cpu[g] - a.cpu[g]) / creates).toFixed(1)])) as Record<Group, number>;
  const ours = GROUPS.slice(0, 4).reduce((s, g) => s + (b.cpu[g] - a.cpu[g]), 0);
  return {
    name,
    creates,
    wall_ms: Math.round(wall),
    cpu_per_create: per,
    ours_per_create: +(ours / creates).toFixed(1),
    core_share: +(ours / (wall * cores)).toFixed(2),
    ...(latency ? { latency: summarize(latency) } : {}),
    ...(request ? { request: summarize(request) } : {}),
    ...(latency && request ? { first_query: summarize(latency.map((t, i) => t - request[i]!)) } : {}),
  };
}

/** One warm-pool create + its first query; its total and its 201 alone, ms. */
async function createAndQuery(worker: DirectWorker, token: string): Promise<{ total: number; request: number }> {
  const sample = await sampleCreate(worker, token);
  if (sample.timings.source !== 'pool') throw new Error(`expected a pool claim, got ${sample.timings.source}`);
  return sample;
}

/**
 * A burst of creates + first queries with workerd's isolate and the stack's Node process under
 * V8's sampling profiler (bench/cpu-profile.ts): self time by source file and by function.
 */
async function profileBurst(stack: ChildProcess, worker: DirectWorker, tokens: string[]): Promise<Record<string, ProfileSummary>> {
  const reply = <T>(key: string) =>
    new Promise<T>((resolve) => stack.on('message', (m: Record<string, unknown>) => key in m && resolve(m[key] as T)));
  const stackStarted = reply<boolean>('profiling');
  stack.send('profile-start');
  await stackStarted;
  const { profile } = await profileWorkerd(worker.inspectorPort!, () => Promise.all(tokens.map((t) => createAndQuery(worker, t))));
  const stackProfile = reply<V8Profile>('profile');
  stack.send('profile-stop');
  const root = path.resolve(import.meta.dirname, '..');
  const fromRoot = (url: string) =>
    url
      .replace(/^file:\/\//, '')
      .replace(`${root}/`, '')
      .replace(/^.*node_modules\//, 'node_modules/');
  return {
    workerd: summarizeProfile(profile, bundleSources(worker.bundleFile)),
    'stack (Node)': summarizeProfile(await stackProfile, fromRoot),
  };
}

function printProfile(title: string, p: ProfileSummary): void {
  console.log(`
CPU profile, ${title}: busy ${p.busy_ms} of ${p.sampled_ms} ms sampled`);
  console.log('  self ms by file:');
  for (const f of p.by_file) console.log(`    ${String(f.self_ms).padStart(8)}  ${f.where}`);
  console.log('  ms by the nearest function of our own on the stack (library and runtime time charged to its caller):');
  for (const l of p.by_own_caller) console.log(`    ${String(l.self_ms).padStart(8)}  ${l.fn}  (${l.where}, line ${l.line})`);
  console.log('  self ms by function:');
  for (const l of p.top) console.log(`    ${String(l.self_ms).padStart(8)}  ${l.fn}  (${l.where}, line ${l.line})`);
}

async function startStack(): Promise<{ child: ChildProcess; addresses: StackMessage }> {
  const child = fork(path.join(import.meta.dirname, 'stack-process.ts'), {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const [addresses] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(() => Promise.reject(new Error('the stack process exited'))),
  ])) as [StackMessage];
  return { child, addresses };
}

async function stopStack(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.send('stop');
  // Stopping every compute and removing the data folder of 1,000 branches takes a while.
  await Promise.race([exited, new Promise((r) => setTimeout(r, 300_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function memory(workerdPid: number, stackPid: number) {
  const procs = await readProcs();
  const postgres = subtree(procs, stackPid).filter((p) => p.comm === 'postgres');
  const mib = (x: number) => Math.round(x);
  let pgPss = 0;
  for (const p of postgres) pgPss += await pssMiB(p.pid);
  return {
    workerd: { rss_mib: mib(procs.get(workerdPid)?.rssMiB ?? 0), pss_mib: mib(await pssMiB(workerdPid)) },
    stack_node: { rss_mib: mib(procs.get(stackPid)?.rssMiB ?? 0), pss_mib: mib(await pssMiB(stackPid)) },
    postgres: {
      processes: postgres.length,
      // A postmaster's parent is the stack; backends' parent is their postmaster.
      postmasters: postgres.filter((p) => p.ppid === stackPid).length,
      rss_sum_mib: mib(postgres.reduce((a, p) => a + p.rssMiB, 0)),
      pss_sum_mib: mib(pgPss),
    },
  };
}

/** The stack's data folder on disk (MiB), found from its postmasters' `-D` arguments. */
function dataFolderMiB(stackPid: number): number | null {
  const args = spawnSync('ps', ['-o', 'args=', '--ppid', String(stackPid)]).stdout.toString();
  const dir = /-D (\S+)/.exec(args)?.[1];
  const root = dir ? /^(.*?dblease-bench-breakdown-[^/]+)/.exec(dir)?.[1] : undefined;
  if (!root) return null;
  // Folders the stack moves meanwhile make du complain; the total is still what is on disk.
  const mib = Number(
    spawnSync('du', ['-sm', root], { stdio: ['ignore', 'pipe', 'ignore'] })
      .stdout.toString()
      .split('\t')[0],
  );
  return Number.isFinite(mib) ? Math.round(mib) : null;
}

/** Free space where the stack keeps its data, GiB: the lease phase stops before it runs the disk low. */
function freeGiB(): number {
  const out = spawnSync('df', ['-k', '--output=avail', os.tmpdir()]).stdout.toString().trim().split('\n');
  return Number(out[out.length - 1]) / 2 ** 20;
}
/** Leases stop being made below this much free disk (each branch is a data folder of its own). */
const MIN_FREE_GIB = 15;
/** Concurrent on-demand creates while leasing: enough to be quick, few enough for the stack's copies. */
const LEASE_CONCURRENCY = 10;
/** How long leases wait idle for their computes to suspend (the endpoints' 60 s timeout, and the sweep). */
const SUSPEND_WAIT_MS = 75_000;

export async function benchBreakdown(): Promise<object> {
  const began = Date.now();
  const cores = os.cpus().length;
  const log = (line: string) => console.error(`  ${line}`);
  const { child, addresses } = await startStack();
  const stackPid = child.pid!;
  const state = await newWorkerState();
  const workers: DirectWorker[] = [];
  const start = async (vars: Record<string, string>, persist = true, inspect = false) => {
    const w = await startDirectWorker(addresses, {
      operatorToken: OPERATOR_TOKEN,
      vars: { ...BENCH_VARS, ...vars },
      persist: persist ? state : undefined,
      inspect,
    });
    workers.push(w);
    return w;
  };
  const stop = async (w: DirectWorker) => {
    await w.dispose();
    workers.splice(workers.indexOf(w), 1);
  };
  try {
    // 1. Fill.
    const filler = await start({ DBLEASE_WARM_POOL_SIZE: String(POOL), DBLEASE_WARM_POOL_AWAKE: String(POOL) });
    const tokens = await benchAccounts(filler.url, BURST);
    const f0 = await sample(filler.pid, stackPid);
    // The first create finds the pool empty (it goes on demand) and starts the refill.
    await api(filler.url, tokens[0]!, 'POST', '/v1/databases', {});
    await waitForPool(filler, OPERATOR_TOKEN, POOL);
    const fill = phase(
      `fill ${POOL} entries (per entry; one on-demand create included)`,
      POOL,
      f0,
      await sample(filler.pid, stackPid),
      cores,
    );
    log(`${fill.name}: ${fill.wall_ms} ms`);
    await stop(filler);

    // 2. Claims, with refills held off: a pool size of 1 keeps claims on, and the pool holds more.
    const claimer = await start({ DBLEASE_WARM_POOL_SIZE: '1' }, true, true);
    await measureAccountGet(claimer, tokens[0]!, 3); // the isolate and an account object, warm
    // CPU per process around a phase of creates, with their latencies.
    const creates = async (name: string, run: () => Promise<{ total: number; request: number }[]>) => {
      const before = await sample(claimer.pid, stackPid);
      const made = await run();
      const after = await sample(claimer.pid, stackPid);
      return phase(
        name,
        made.length,
        before,
        after,
        cores,
        made.map((x) => x.total),
        made.map((x) => x.request),
      );
    };
    const one = await creates('create + first query, one at a time', async () => {
      const alone: { total: number; request: number }[] = [];
      for (let i = 0; i < RUNS; i++) alone.push(await createAndQuery(claimer, tokens[i % tokens.length]!));
      return alone;
    });
    log(`${one.name}: p50 ${one.latency!.median} ms`);
    const fifty = await creates(`create + first query, ${BURST} at once`, () =>
      Promise.all(tokens.slice(0, BURST).map((t) => createAndQuery(claimer, t))),
    );
    log(`${fifty.name}: p99 ${fifty.latency!.p99} ms`);
    // The same burst again under the profilers (sampling costs a little CPU, so not the measured one).
    const profiles = await profileBurst(child, claimer, tokens.slice(0, BURST));
    await stop(claimer);

    // 3. Memory with 1,000 live leases, on demand on fresh Worker state.
    const leaser = await start({ DBLEASE_WARM_POOL_SIZE: '0' }, false);
    const policy = {
      max_active_databases: LEASES.each,
      creates_per_minute: 100_000,
      create_burst: 100_000,
      monthly_spend_cap_usd: 100_000,
    };
    const leaseTokens: string[] = [];
    for (let i = 0; i < LEASES.accounts; i++) leaseTokens.push(await benchAccount(leaser.url, policy));
    const idle = await memory(leaser.pid, stackPid);
    let live = 0;
    let failed = 0;
    const refusals: Record<string, number> = {};
    const total = LEASE_COUNT;
    const leaseStarted = Date.now();
    let stoppedForDisk = false;
    for (let wave = 0; live + failed < total; wave++) {
      if (freeGiB() < MIN_FREE_GIB) {
        stoppedForDisk = true;
        break;
      }
      const n = Math.min(LEASE_CONCURRENCY, total - live - failed);
      const results = await Promise.all(
        Array.from({ length: n }, (_, j) =>
          api(leaser.url, leaseTokens[(wave * LEASE_CONCURRENCY + j) % LEASES.accounts]!, 'POST', '/v1/databases', { ttl_seconds: 3_600 }),
        ),
      );
      live += results.filter((r) => r.status === 201).length;
      for (const r of results.filter((x) => x.status !== 201)) {
        failed += 1;
        const why = `${r.status} ${r.json?.error?.code ?? ''}: ${String(r.json?.error?.message ?? '').slice(0, 160)}`;
        refusals[why] = (refusals[why] ?? 0) + 1;
      }
    }
    const leased = await memory(leaser.pid, stackPid);
    const disk = dataFolderMiB(stackPid);
    if (stoppedForDisk) log(`stopped leasing at ${live}: under ${MIN_FREE_GIB} GiB of disk left`);
    await new Promise((r) => setTimeout(r, SUSPEND_WAIT_MS));
    const suspended = await memory(leaser.pid, stackPid);
    log(`${live} live leases (${failed} creates refused) in ${Math.round((Date.now() - leaseStarted) / 1000)} s`);
    for (const [why, n] of Object.entries(refusals)) log(`  refused ${n} ×: ${why}`);
    await stop(leaser);

    // The figures.
    const floor = (fifty.ours_per_create * BURST) / cores;
    const figures = {
      burst_ratio: +(fifty.latency!.p99 / one.latency!.median).toFixed(2),
      cpu_floor_at_50_ms: Math.round(floor),
      cpu_floor_ratio: +(floor / one.latency!.median).toFixed(2),
      // workerd runs the Worker and every object of this deployment in one isolate, on one thread.
      workerd_serial_floor_ms: Math.round(fifty.cpu_per_create.workerd * BURST),
    };
    const m = machine('see the provisioning benchmark');
    const head = ['phase', 'wall ms', ...GROUPS, 'ours', 'core share'];
    const rows = [fill, one, fifty].map((p) => [
      p.name,
      String(p.wall_ms),
      ...GROUPS.map((g) => String(p.cpu_per_create[g])),
      String(p.ours_per_create),
      String(p.core_share),
    ]);
    console.log(`\nBreakdown: CPU ms per create by process, the Worker under workerd alone (BENCH_RUNS=${RUNS})`);
    console.log(`${m.cpus}, ${cores} cores, ${m.memory_gib} GiB; Node ${m.node}\n`);
    console.log(alignedTable(head, rows));
    console.log(
      `\n  one at a time: create + first query p50 ${one.latency!.median}, p99 ${one.latency!.p99} ms; the 201 alone p50 ${one.request!.median} ms, the first query alone p50 ${one.first_query!.median} ms`,
    );
    console.log(
      `  ${BURST} at once: p50 ${fifty.latency!.median}, p99 ${fifty.latency!.p99} ms; the 201 alone p50 ${fifty.request!.median}, p99 ${fifty.request!.p99} ms; the first query alone p50 ${fifty.first_query!.median}, p99 ${fifty.first_query!.p99} ms`,
    );
    console.log(`  burst ratio (p99 at ${BURST} ÷ p50 alone): ${figures.burst_ratio}`);
    console.log(
      `  CPU floor at ${BURST}: ${fifty.ours_per_create} ms of CPU per create × ${BURST} ÷ ${cores} cores = ${figures.cpu_floor_at_50_ms} ms, so the burst ratio cannot go below ${figures.cpu_floor_ratio} on this machine`,
    );
    console.log(
      `  workerd floor at ${BURST}: ${fifty.cpu_per_create.workerd} ms of workerd CPU per create × ${BURST} = ${figures.workerd_serial_floor_ms} ms (one isolate, one thread, here): the last 201 of the burst cannot come sooner`,
    );
    console.log(`\nmemory (MiB): idle Worker and stack, then with ${live} live leases`);
    for (const [label, mem] of [
      ['idle', idle],
      [`${live} leases, just made`, leased],
      [`${live} leases, ${SUSPEND_WAIT_MS / 1000} s later (computes suspended)`, suspended],
    ] as const) {
      console.log(
        `  ${label}: workerd RSS ${mem.workerd.rss_mib} (PSS ${mem.workerd.pss_mib}); stack Node RSS ${mem.stack_node.rss_mib} (PSS ${mem.stack_node.pss_mib}); ` +
          `PostgreSQL ${mem.postgres.processes} processes, ${mem.postgres.postmasters} postmasters, RSS sum ${mem.postgres.rss_sum_mib}, PSS sum ${mem.postgres.pss_sum_mib}`,
      );
    }
    if (disk !== null) console.log(`  the stack's data folder: ${disk} MiB on disk`);
    for (const [name, p] of Object.entries(profiles)) printProfile(`${name}, ${BURST} creates + first queries at once`, p);
    const result = {
      benchmark: 'breakdown',
      machine: m,
      runs: RUNS,
      seconds: Math.round((Date.now() - began) / 1000),
      phases: [fill, one, fifty],
      figures,
      profiles,
      memory: { idle, leases: { live, refused: failed, refusals, just_made: leased, suspended }, data_folder_mib: disk },
    };
    console.log(`\nwritten to ${await writeResult('breakdown', result)} (${result.seconds} s)`);
    return result;
  } finally {
    for (const w of [...workers]) await w.dispose().catch(() => {});
    await fs.rm(state.dir, { recursive: true, force: true });
    await stopStack(child);
  }
}
