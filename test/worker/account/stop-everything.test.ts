/**
 * `POST /v1/account/stop`: the owner's one switch. Every other token revoked, every session
 * ended, every database that is not kept deleted (children included), with an event; kept ones
 * and their parents untouched; idempotent, and safe to repeat while the deletions still run.
 */
import { describe, expect, it } from 'vitest';
import { unwrap } from '../../../src/core/result';
import { accountObject, call, expectError, mintToken } from '../support/api';
import { branchDb, createDb, newAgent } from '../support/databases';

const stop = (token: string) => call('/v1/account/stop', { method: 'POST', token });
async function keep(token: string, id: string) {
  const res = await call(`/v1/databases/${id}/keep`, { method: 'POST', token });
  expect(res.status, await res.clone().text()).toBe(200);
}
const stateOf = async (token: string, id: string) => (await (await call(`/v1/databases/${id}`, { token })).json<any>()).state;

describe('stop everything', () => {
  it('revokes the other tokens, ends the sessions, deletes every unkept database and leaves the kept ones', async () => {
    const agent = await newAgent();
    const session = await (await call('/v1/sessions', { token: agent.token, body: { ttl_seconds: 600 } })).json<any>();
    const loose = await createDb(agent.token);
    const looseBranch = await branchDb(agent.token, loose.id);
    const inSession = await createDb(agent.token, { session_id: session.id });
    // One kept database (a kept lease reserves the rest of the month: one fits the default cap).
    const parentOfKept = await createDb(agent.token);
    const keptBranch = await branchDb(agent.token, parentOfKept.id);
    await keep(agent.token, keptBranch.id);

    const res = await stop(agent.ownerToken);
    const report = await res.json<any>();
    expect(res.status, JSON.stringify(report)).toBe(200);
    expect(report).toEqual({
      tokens_revoked: 1,
      sessions_ended: 1,
      dashboard_sessions_ended: 0,
      databases_deleting: 3,
      databases_left: { kept: 2, claimed: 0, claim_pending: 0, provisioning: 0 },
    });

    await expectError(await call('/v1/databases', { token: agent.token }), 401, 'token_revoked');
    expect((await call('/v1/account', { token: agent.ownerToken })).status).toBe(200);
    expect((await (await call(`/v1/sessions/${session.id}`, { token: agent.ownerToken })).json<any>()).state).toBe('ended');

    // Asking again while the deletions run changes nothing and answers the same way.
    const again = await (await stop(agent.ownerToken)).json<any>();
    expect(again).toMatchObject({ tokens_revoked: 0, sessions_ended: 0, databases_deleting: 3 });

    unwrap(await accountObject(agent.id).sweepNow());
    for (const db of [loose, looseBranch, inSession]) expect(await stateOf(agent.ownerToken, db.id), db.id).toBe('deleted');
    for (const db of [parentOfKept, keptBranch]) expect(await stateOf(agent.ownerToken, db.id), db.id).toBe('ready');

    const afterwards = await (await stop(agent.ownerToken)).json<any>();
    expect(afterwards).toMatchObject({ tokens_revoked: 0, databases_deleting: 0, databases_left: { kept: 2 } });

    const events = (await (await call('/v1/events?limit=200', { token: agent.ownerToken })).json<any>()).data;
    const stopped = events.filter((e: any) => e.type === 'account.stopped');
    expect(stopped).toHaveLength(3);
    expect(stopped[0].data).toMatchObject({ tokens_revoked: 1, databases_deleting: 3 });
  });

  it('is for the owner only', async () => {
    const agent = await newAgent();
    const writer = await mintToken(agent, { scopes: ['databases:write'] });
    await expectError(await stop(writer.token), 403, 'insufficient_scope');
    await expectError(await stop(agent.token), 403, 'insufficient_scope');
    expect((await call('/v1/databases', { token: agent.token })).status).toBe(200);
  });
});
