/**
 * The false-positive check: the same 30 short databases, each really used (through dblease's SQL
 * endpoint, or by a direct connection the provider saw), leave the account ok. And the states
 * act and decay: a throttled account's create rate drops to the operator's fraction; after the
 * quiet period it is ok again by itself, unless pinned.
 */
import { describe, expect, it } from 'vitest';
import { accountSql } from '../lifecycle/support';
import { call, expectError } from '../support/api';
import { rows } from '../support/agent-sql';
import { createDb, deleteDb, poolQuery } from '../support/databases';
import { abuseMoves, abuseOf, expireAndSweep, operator, shortDatabases, watchedAgent } from './support';

const DAY_AND_HOUR = 25 * 3_600_000;

describe('an account whose agents use their short databases', () => {
  it('stays ok at the same volume: 20 queried through the SQL endpoint, 10 by a direct connection', async () => {
    const agent = await watchedAgent();
    const used = await shortDatabases(agent, 30);
    for (const d of used.slice(0, 20)) expect(await rows(agent.token, d.id, 'select 1 as one')).toEqual([{ one: 1 }]);
    // Straight to the database with its connection string (the wire protocol over WebSocket), never through dblease.
    for (const d of used.slice(20)) expect(await poolQuery(d.uri, 'select 2 as two')).toEqual([{ two: 2 }]);
    await expireAndSweep(
      agent,
      used.map((d) => d.id),
    );
    const abuse = await abuseOf(agent);
    expect(abuse).toMatchObject({ state: 'ok', reasons: [] });
    expect(abuse.signals.account.churn).toEqual({ value: 0, ended: 30, unused: 0 });
    expect(abuse.signals.account.credentials_unused).toEqual({ value: 0, fetched: 30, unused: 0 });
    const connected = await accountSql(
      agent,
      'select count(*) as n from databases where connected_at is not null and last_used_at is null',
    );
    expect(connected[0]!.n).toBe(10);
    expect((await call('/v1/databases', { token: agent.token, body: { ttl_seconds: 60 } })).status).toBe(201);
    expect(await abuseMoves(agent)).toEqual([]);
  });
});

describe('a throttled account', () => {
  it("creates at the operator's fraction of its rate, and decays to ok after the quiet period unless pinned", async () => {
    const agent = await watchedAgent();
    const abandoned = await shortDatabases(agent, 12);
    for (const d of abandoned) expect((await deleteDb(agent.token, d.id)).status).toBe(200);
    const throttled = await abuseOf(agent);
    expect(throttled.state).toBe('throttled');
    expect(throttled.signals.account.churn).toEqual({ value: 1, ended: 12, unused: 12 });
    // 12 is enough to throttle, not to suspend (20): a create is admitted, at a quarter of the rate.
    const policy = await call('/v1/account/policy', {
      method: 'PATCH',
      token: agent.ownerToken,
      body: { creates_per_minute: 8, create_burst: 8 },
    });
    expect(policy.status).toBe(200);
    await createDb(agent.token, { ttl_seconds: 60 });
    await createDb(agent.token, { ttl_seconds: 60 });
    await expectError(await call('/v1/databases', { token: agent.token, body: { ttl_seconds: 60 } }), 429, 'create_rate_limited');

    // Not yet quiet: nothing moves.
    expect((await abuseOf(agent)).state).toBe('throttled');
    // A day and an hour later (the object's clock, moved by moving its history back), the state decays by itself.
    await accountSql(agent, 'update account set abuse_since = abuse_since - ?', DAY_AND_HOUR);
    await accountSql(agent, 'update databases set created_at = created_at - ?, ready_at = ready_at - ?', DAY_AND_HOUR, DAY_AND_HOUR);
    const decayed = await abuseOf(agent);
    expect(decayed).toMatchObject({ state: 'ok', pinned: false });
    expect(decayed.reason).toMatch(/^quiet for 24 h since throttled/);
    expect((await abuseMoves(agent)).map((m: any) => `${m.from}->${m.to} ${m.by}`)).toEqual([
      'ok->throttled detector',
      'throttled->ok detector',
    ]);

    // A pinned state never decays.
    expect((await operator(agent.id, 'pin', { state: 'throttled', reason: 'under review' })).status).toBe(200);
    await accountSql(agent, 'update account set abuse_since = abuse_since - ?', 2 * DAY_AND_HOUR);
    expect(await abuseOf(agent)).toMatchObject({ state: 'throttled', pinned: true, reason: 'under review' });
  });
});
