/**
 * Abuse, end to end: an account that creates 30 short databases and never connects is throttled
 * when they end, then suspended at its next create; creates, branches and provisioning are
 * refused with the reason while deletes and reads keep working; the operator clears and pins.
 */
import { describe, expect, it } from 'vitest';
import { call, expectError } from '../support/api';
import { createDb, deleteDb } from '../support/databases';
import { assertion, provision, registerOrchestrator } from '../support/orchestrators';
import { abuseMoves, abuseOf, expireAndSweep, operator, shortDatabases, watchedAgent } from './support';

describe('an account that creates and abandons', () => {
  it('is throttled, then suspended, with events carrying the signals; deletes and reads keep working; clear and pin act', async () => {
    const agent = await watchedAgent();
    const parent = await createDb(agent.token, { ttl_seconds: 3_600 });
    const abandoned = await shortDatabases(agent, 30);
    expect((await abuseOf(agent)).state).toBe('ok');

    await expireAndSweep(
      agent,
      abandoned.map((d) => d.id),
    );
    const throttled = await abuseOf(agent);
    expect(throttled).toMatchObject({ state: 'throttled', pinned: false });
    expect(throttled.signals.account.churn).toEqual({ value: 1, ended: 30, unused: 30 });
    expect(throttled.signals.account.credentials_unused).toMatchObject({ value: 1, unused: 30 });
    expect(throttled.signals.tokens[0]).toMatchObject({ level: 'suspended', churn: { unused: 30 } });
    expect(throttled.reasons[0]).toMatch(/^churn: 30 of 30 ended databases never used/);

    // The next create meets the state its history calls for: suspended, with the reason.
    const refused = await expectError(
      await call('/v1/databases', { token: agent.token, body: { ttl_seconds: 60 } }),
      403,
      'account_suspended',
    );
    expect(refused.details?.reason).toMatch(/churn: 30 of 30/);
    expect(refused.message).toMatch(/churn/);
    await expectError(await call(`/v1/databases/${parent.id}/branches`, { token: agent.token, body: {} }), 403, 'account_suspended');
    expect((await abuseOf(agent)).state).toBe('suspended');

    const moves = await abuseMoves(agent);
    expect(moves.map((m: any) => `${m.from}->${m.to}`)).toEqual(['ok->throttled', 'throttled->suspended']);
    for (const m of moves) {
      expect(m.by).toBe('detector');
      expect(m.signals.account.churn).toEqual({ value: 1, ended: 30, unused: 30 });
      expect(m.reason).toMatch(/churn/);
    }

    // Reads and deletes keep working.
    expect((await call(`/v1/databases/${parent.id}`, { token: agent.token })).status).toBe(200);
    expect((await call('/v1/databases', { token: agent.token })).status).toBe(200);

    // Clear: back to ok, the history forgiven (an evaluation does not throttle it again).
    const cleared = await operator(agent.id, 'clear', {});
    expect(cleared.status).toBe(200);
    expect((await cleared.json<any>()).abuse).toMatchObject({ state: 'ok', pinned: false, reason: 'cleared by the operator' });
    const again = await createDb(agent.token, { ttl_seconds: 60 });
    expect((await abuseOf(agent)).state).toBe('ok');

    // Pinned at ok, 11 new abandoned databases move nothing (unpinned, 12 throttle: honest.test.ts).
    expect((await operator(agent.id, 'clear', { pin: true, reason: 'known load test' })).status).toBe(200);
    const more = await shortDatabases(agent, 11);
    for (const d of [again, ...more]) expect((await deleteDb(agent.token, d.id)).status).toBe(200);
    expect((await deleteDb(agent.token, parent.id)).status).toBe(200);
    const pinned = await abuseOf(agent);
    expect(pinned).toMatchObject({ state: 'ok', pinned: true });
    // Each clear forgives what came before it: only the 11 created after the pin count.
    expect(pinned.signals.account.churn).toEqual({ value: 1, ended: 11, unused: 11 });
    expect(pinned.reasons[0]).toMatch(/churn: 11 of 11/);
    expect((await abuseMoves(agent)).slice(2).map((m: any) => [m.by, m.to, m.pinned])).toEqual([
      ['operator', 'ok', false],
      ['operator', 'ok', true],
    ]);
  });

  it('refuses provisioning for a suspended account, and the operator routes name their faults', async () => {
    const o = await registerOrchestrator();
    const user = `abuse-${crypto.randomUUID()}`;
    const first = await provision(await assertion(o, { sub: user }));
    expect(first.status).toBe(201);
    const accountId = (await first.json<any>()).account.id as string;
    const pinned = await operator(accountId, 'pin', { state: 'suspended', reason: 'credential harvesting' });
    expect((await pinned.json<any>()).abuse).toMatchObject({ state: 'suspended', pinned: true, reason: 'credential harvesting' });
    const refused = await expectError(await provision(await assertion(o, { sub: user })), 403, 'account_suspended');
    expect(refused.details?.reason).toBe('credential harvesting');
    expect((await provision(await assertion(o))).status).toBe(201); // another user: unaffected

    await expectError(await operator('acc_00000000000000000000', 'clear', {}), 404, 'account_not_found');
    await expectError(await operator('nope', 'clear', {}), 400);
    await expectError(await operator(accountId, 'pin', { state: 'banned', reason: 'x' }), 400);
    await expectError(await operator(accountId, 'clear', { pin: 'yes' }), 400);
    await expectError(await call(`/v1/accounts/${accountId}/abuse/clear`, { token: 'dbl_nope', body: {} }), 401);
  });
});
