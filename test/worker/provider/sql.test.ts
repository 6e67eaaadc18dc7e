import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureSqlDriver } from '../../../src/app/sql/driver';
import { isTransientSqlError, waitForSql } from '../../../src/app/sql/ready';
import { testClient, testName } from '../support/local-stack';
import { wire } from '../support/wire';

let project: { id: string; endpointId: string; uri: string };

beforeAll(async () => {
  const client = testClient();
  const created = await client.createProject({ name: testName('sql') });
  project = {
    id: created.project.id,
    endpointId: created.endpoints[0].id,
    uri: await client.connectionUri(created.project.id, { databaseName: 'neondb', roleName: 'neondb_owner' }),
  };
});
afterAll(async () => {
  await testClient().deleteProject(project.id);
});

describe('waitForSql', () => {
  it('answers once a suspended compute has woken', async () => {
    await testClient().suspendEndpoint(project.id, project.endpointId);
    const ready = await waitForSql(env, project.uri);
    expect(ready.attempts).toBeGreaterThanOrEqual(1);
    expect(ready.ms).toBeLessThan(10_000);
  });

  it('does not retry a wrong password: that is an answer, not a wake-up', async () => {
    const wrong = new URL(project.uri);
    wrong.password = 'not-the-password';
    const started = Date.now();
    await expect(waitForSql(env, wrong.toString())).rejects.toMatchObject({ code: '28P01' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('retries while nothing answers, then gives up as provider_unavailable', async () => {
    // The driver's endpoint is per isolate: point it at a closed port, then back.
    const dead = { NEON_LOCAL_PROXY: '127.0.0.1:9' };
    const started = Date.now();
    try {
      const err = await waitForSql(dead, project.uri, { timeoutMs: 800, attemptTimeoutMs: 200 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(wire(err)).toMatchObject({
        type: 'provider_unavailable',
        retryAfter: 5,
      });
    } finally {
      configureSqlDriver(env);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await waitForSql(env, project.uri)).toMatchObject({ attempts: 1 });
  });
});

describe('isTransientSqlError', () => {
  const withCode = (code: string) => Object.assign(new Error('x'), { code });
  it('treats "cannot connect now" and connection failures as transient, auth and SQL errors as final', () => {
    expect(isTransientSqlError(withCode('57P03'))).toBe(true);
    expect(isTransientSqlError(withCode('08006'))).toBe(true);
    expect(isTransientSqlError(withCode('28P01'))).toBe(false);
    expect(isTransientSqlError(withCode('3D000'))).toBe(false);
    expect(isTransientSqlError(withCode('42601'))).toBe(false);
    expect(isTransientSqlError(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))).toBe(true);
    expect(isTransientSqlError('nope')).toBe(false);
  });
});
