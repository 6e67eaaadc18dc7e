/**
 * The fault matrix's cases: every provider step of create, branch and delete, under each
 * fault. Every fault is scoped to the case's own resources (the local stack's `match` on URL or
 * body), so all cases run at once without disturbing one another: by the account id in the
 * project's name for `POST /projects`, by the project id for everything after it. For the
 * create steps after the project exists, the project's answer is held back a moment while the
 * case reads its id and arms the fault ("arm after project").
 */
import { evictDurableObject } from 'cloudflare:test';
import { unwrap } from '../../../src/core/result';
import { call } from '../support/api';
import { branchDb, createDb, newAgent, providerProjects, type Agent } from '../support/databases';
import { addFaults, removeFaults, type FaultRule } from '../support/local-stack';
import { expireNow, stubOf } from './support';

export const FAULTS = ['500', '503', '423', '429', 'hang', 'evict'] as const;
export type Fault = (typeof FAULTS)[number];

export interface Step {
  op: 'create' | 'branch' | 'delete';
  route: string;
  /** How the fault finds this case's requests. */
  scope: 'account' | 'project' | 'arm_after_project';
}

export const STEPS: Step[] = [
  { op: 'create', route: 'POST /projects', scope: 'account' },
  { op: 'create', route: 'POST /projects/:project_id/branches/:branch_id/roles', scope: 'arm_after_project' },
  { op: 'create', route: 'PATCH /projects/:project_id/branches/:branch_id/databases/:database_name', scope: 'arm_after_project' },
  { op: 'branch', route: 'POST /projects/:project_id/branches', scope: 'project' },
  { op: 'branch', route: 'POST /projects/:project_id/branches/:branch_id/roles/:role_name/reset_password', scope: 'project' },
  { op: 'delete', route: 'DELETE /projects/:project_id', scope: 'project' },
  { op: 'delete', route: 'DELETE /projects/:project_id/branches/:branch_id', scope: 'project' },
];

/**
 * 500 after the work (the answer is lost: the ambiguous case that makes orphans); 503 for longer
 * than the client's four attempts; 423 and 429 a few times (retried); a hang after the work
 * (the client's 10 s timeout); and an eviction of the account object while the step runs.
 */
function rule(step: Step, fault: Fault, match: string): FaultRule {
  const base = { route: step.route, match };
  switch (fault) {
    case '500':
      return { ...base, status: 500, phase: 'after', times: 1 };
    case '503':
      return { ...base, status: 503, times: 4 };
    case '423':
      return { ...base, status: 423, times: 3 };
    case '429':
      return { ...base, status: 429, times: 2 };
    case 'hang':
      return { ...base, hang: true, phase: 'after', times: 1 };
    case 'evict':
      return { ...base, latency_ms: 600, times: 1 };
  }
}

export interface CaseRun {
  step: Step;
  fault: Fault;
  agent: Agent;
  /** The agent-facing status (create/branch), or the sweep's outcome (delete). */
  answer: string;
  /** The database the operation was about, when known. */
  dbId: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function projectOf(dbId: string): Promise<string> {
  const [p] = await providerProjects(dbId);
  if (!p) throw new Error(`no provider project for ${dbId}`);
  return p.id;
}

/** Waits for the account's (only) project to exist, then arms `fault` on it. */
async function armAfterProject(agent: Agent, r: FaultRule): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const [p] = await providerProjects(agent.id);
    if (p) return addFaults({ ...r, match: p.id });
    await sleep(20);
  }
  throw new Error('the project never appeared');
}

export async function runCase(step: Step, fault: Fault): Promise<CaseRun> {
  const agent = await newAgent();
  const ids: string[] = [];
  // The eviction lands while the faulted step is held up by its latency.
  let evictDuring: Promise<unknown> = Promise.resolve();
  const evictSoon = () => {
    if (fault === 'evict') evictDuring = sleep(200).then(() => evictDurableObject(stubOf(agent)));
  };
  try {
    if (step.op === 'create') {
      let armed: Promise<string[]> = Promise.resolve([]);
      if (step.scope === 'account') {
        ids.push(...(await addFaults(rule(step, fault, agent.id))));
        evictSoon();
      } else {
        // Hold the project's answer back while the case arms its fault on that project.
        ids.push(...(await addFaults({ route: 'POST /projects', match: agent.id, latency_ms: 400, phase: 'after', times: 1 })));
        armed = armAfterProject(agent, rule(step, fault, '')).then((armedIds) => {
          evictSoon();
          return armedIds;
        });
      }
      const res = await call('/v1/databases', { token: agent.token, body: { ttl_seconds: 3_600 } });
      ids.push(...(await armed));
      await evictDuring;
      const body = await res.json<any>();
      return { step, fault, agent, answer: String(res.status), dbId: body.id ?? null };
    }
    const parent = await createDb(agent.token, { ttl_seconds: 3_600 });
    const projectId = await projectOf(parent.id);
    if (step.op === 'branch') {
      ids.push(...(await addFaults(rule(step, fault, projectId))));
      evictSoon();
      const res = await call(`/v1/databases/${parent.id}/branches`, { token: agent.token, body: { ttl_seconds: 3_600 } });
      await evictDuring;
      const body = await res.json<any>();
      return { step, fault, agent, answer: String(res.status), dbId: body.id ?? null };
    }
    // Delete, by the sweeper: the database (or, for the branch step, its branch) expires.
    const target = step.route.includes('branches') ? await branchDb(agent.token, parent.id, { ttl_seconds: 3_600 }) : parent;
    ids.push(...(await addFaults(rule(step, fault, projectId))));
    await expireNow(agent, target.id);
    evictSoon();
    const sweep = stubOf(agent)
      .sweepNow()
      .then((r) => {
        const v = unwrap(r);
        return v.deleted ? 'swept: deleted' : v.failed ? 'swept: delete failed, retrying' : 'swept: nothing';
      })
      .catch(() => 'sweep aborted (object evicted)');
    const answer = await sweep;
    await evictDuring;
    return { step, fault, agent, answer, dbId: target.id };
  } finally {
    await removeFaults(ids);
  }
}
