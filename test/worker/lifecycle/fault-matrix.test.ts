/**
 * The fault matrix (a benchmark target: orphans after one reconcile pass, with faults at every provider
 * step): every provider step of create, branch and delete under 500, 503, 423, 429, a hang and
 * an eviction of the account object. Then what an operator's system would do over time: the
 * sweeper retries what is due (back-off elapsed), and ONE reconcile pass runs. After it, for
 * every case: no orphan and no duplicate at the provider, reservations equal to what the live
 * records hold, every record final (ready, deleted, failed) or visibly retrying, and an event
 * trail ending in the record's state. The matrix is printed as JSON (FAULT_MATRIX) and a table.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { lifecycleConfig } from '../../../src/core/policy/lifecycle-config';
import { reconcileProvider } from '../../../src/app/lifecycle/reconcile';
import { mapLimit } from '../../../src/core/schedule';
import { unwrap } from '../../../src/core/result';
import { usage } from '../support/databases';
import { testClient } from '../support/local-stack';
import { FAULTS, runCase, STEPS, type CaseRun } from './fault-cases';
import { accountSql, events, stubOf } from './support';

const FINAL_EVENT: Record<string, string> = { ready: 'database.ready', deleted: 'database.deleted', failed: 'database.failed' };

interface Outcome {
  op: string;
  step: string;
  fault: string;
  answer: string;
  final: string;
  orphans_reconciled: number;
  orphans_left: number;
  duplicates: number;
  leaked_reservation_micro_usd: number;
  unexplained_records: number;
}

/** What the provider holds under names of this account: name → resource ids. */
async function providerNamesOf(accountId: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const client = testClient();
  for (const p of await client.listProjects({ search: accountId })) {
    out.set(p.name, [...(out.get(p.name) ?? []), p.id]);
    for (const b of await client.listBranches(p.id)) if (b.name.includes(accountId)) out.set(b.name, [...(out.get(b.name) ?? []), b.id]);
  }
  return out;
}

async function judge(run: CaseRun, reconciled: Map<string, number>): Promise<Outcome> {
  const stub = stubOf(run.agent);
  const records = unwrap(
    await stub.listDatabases({ states: ['provisioning', 'ready', 'deleting', 'deleted', 'failed'], limit: 100 }),
  ).databases;
  const live = records.filter((r) => ['provisioning', 'ready', 'deleting'].includes(r.state));
  const names = await providerNamesOf(run.agent.id);
  let orphans = 0;
  let duplicates = 0;
  for (const [name, ids] of names) {
    const record = records.find((r) => name.endsWith(r.id));
    if (!record || record.state !== 'ready') orphans += ids.length;
    else if (ids.length > 1) duplicates += ids.length - 1;
  }
  const reserved = (await usage(run.agent)).reserved_micro_usd;
  const held = live.reduce((n, r) => n + r.reserved_micro_usd, 0);
  const trail = await events(run.agent);
  const unexplained = records.filter((r) => {
    if (r.state === 'deleting') return r.next_attempt_at === null; // retrying is fine, if scheduled
    if (r.state === 'provisioning') return true;
    const last = trail.filter((e) => e.database_id === r.id && e.type.startsWith('database.') && e.type !== 'database.updated').at(-1);
    return last?.type !== FINAL_EVENT[r.state];
  }).length;
  // A refused create or branch answers with an error, not its id: it is the case's only fresh (or branch) record.
  const target =
    records.find((r) => r.id === run.dbId) ??
    records.find((r) => (run.step.op === 'create' ? r.kind === 'fresh' : run.step.op === 'branch' && r.kind === 'branch'));
  return {
    op: run.step.op,
    step: run.step.route,
    fault: run.fault,
    answer: run.answer,
    final: target ? target.state : 'no record',
    orphans_reconciled: reconciled.get(run.agent.id) ?? 0,
    orphans_left: orphans,
    duplicates,
    leaked_reservation_micro_usd: reserved - held,
    unexplained_records: unexplained,
  };
}

describe('fault matrix: faults at every provider step leave nothing behind after one reconcile pass', () => {
  it('holds for every step × fault', async () => {
    const cases = STEPS.flatMap((step) => FAULTS.map((fault) => ({ step, fault })));
    const runs = await mapLimit(cases, 16, ({ step, fault }) => runCase(step, fault));

    // Time passes: back-offs elapse and the sweeper runs (it would, at next_attempt_at).
    await mapLimit(runs, 8, async (run) => {
      await accountSql(run.agent, "update databases set next_attempt_at = ? where state = 'deleting'", Date.now() - 1);
      await stubOf(run.agent).sweepNow();
    });
    // One reconcile pass, with no grace period (the cases' leftovers are seconds old).
    const report = await reconcileProvider(env, { ...lifecycleConfig(env), orphanGraceMs: 0 });
    expect(report.errors).toEqual([]);
    const reconciled = new Map<string, number>();
    for (const o of report.orphans_deleted) reconciled.set(o.account_id, (reconciled.get(o.account_id) ?? 0) + 1);

    const outcomes = await mapLimit(runs, 8, (run) => judge(run, reconciled));
    for (const o of outcomes) {
      const label = `${o.op} ${o.step} × ${o.fault}`;
      expect(o.orphans_left, label).toBe(0);
      expect(o.duplicates, label).toBe(0);
      expect(o.leaked_reservation_micro_usd, label).toBe(0);
      expect(o.unexplained_records, label).toBe(0);
      expect(['ready', 'deleted', 'failed'], label).toContain(o.final);
    }
  }, 120_000);
});
