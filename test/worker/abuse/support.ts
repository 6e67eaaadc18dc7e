/** Helpers for the abuse tests: accounts with the documented default thresholds, short databases, the state. */
import { runInDurableObject } from 'cloudflare:test';
import { expect } from 'vitest';
import { parseAbuseThresholds, type AbuseThresholds } from '../../../src/core/policy/abuse-config';
import { mapLimit } from '../../../src/core/schedule';
import { accountSql, events, stubOf } from '../lifecycle/support';
import { accountObject, call, OPERATOR_TOKEN, type TestAccount } from '../support/api';
import { createDb, newAgent, type Agent } from '../support/databases';

/** The suite runs with detection off (vitest.config.ts); these accounts get the defaults of an empty var. */
export async function withDefaultThresholds(acct: { id: string }, over: Partial<AbuseThresholds> = {}) {
  const thresholds = { ...parseAbuseThresholds(''), ...over };
  await runInDurableObject(accountObject(acct.id), (instance: { abuseThresholds?: AbuseThresholds }) => {
    instance.abuseThresholds = thresholds;
  });
}

export async function watchedAgent(): Promise<Agent> {
  const agent = await newAgent();
  await withDefaultThresholds(agent);
  return agent;
}

/** `n` short databases (60 s leases), four at a time. */
export async function shortDatabases(agent: Agent, n: number): Promise<{ id: string; uri: string }[]> {
  const made: { id: string; uri: string }[] = [];
  await mapLimit(
    Array.from({ length: n }, (_, i) => i),
    4,
    async () => {
      const db = await createDb(agent.token, { ttl_seconds: 60 });
      made.push({ id: db.id, uri: db.connection.direct });
    },
  );
  return made;
}

/** Their leases run out now; the sweep removes them (and looks at their endpoints first). */
export async function expireAndSweep(acct: { id: string }, ids: string[]) {
  for (const id of ids) await accountSql(acct, 'update databases set expires_at = ? where id = ?', Date.now() - 1_000, id);
  await stubOf(acct).sweepNow();
}

export async function abuseOf(acct: TestAccount) {
  const res = await call('/v1/account', { token: acct.ownerToken });
  const body = await res.json<any>();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.abuse;
}

export const abuseMoves = async (acct: TestAccount) =>
  (await events(acct)).filter((e) => e.type === 'account.abuse_state').map((e) => e.data);

export const operator = (acctId: string, action: 'clear' | 'pin', body: Record<string, unknown>) =>
  call(`/v1/accounts/${acctId}/abuse/${action}`, { token: OPERATOR_TOKEN, body });
