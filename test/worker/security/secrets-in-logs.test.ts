/**
 * Secrets never appear in logs, error bodies, events or Server-Timing: the create, branch,
 * rotate, SQL, migration and fault paths run with every console method captured, and nothing
 * they print or answer holds a password, a token secret, the provider key or a connection string.
 */
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { parseToken } from '../../../src/core/auth/tokens';
import { DEVELOPMENT_ENCRYPTION_KEY, DEVELOPMENT_SIGNING_KEY } from '../../../src/core/secrets';
import { unwrap } from '../../../src/core/result';
import { accountObject, call, mintToken, OPERATOR_TOKEN } from '../support/api';
import { newAgent } from '../support/databases';
import { addFaults, removeFaults } from '../support/local-stack';

const rules: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await removeFaults(rules.splice(0));
});

/** Every console line, as text. */
function captureConsole(): string[] {
  const lines: string[] = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(
        args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? `${a.message}\n${a.stack}` : JSON.stringify(a))).join(' '),
      );
    });
  }
  return lines;
}

describe('secrets', () => {
  it('never reach a log line, an error body, an event or Server-Timing', async () => {
    const logs = captureConsole();
    const answers: string[] = [];
    const secrets: string[] = [inject('neonApiKey'), OPERATOR_TOKEN, DEVELOPMENT_ENCRYPTION_KEY, DEVELOPMENT_SIGNING_KEY];
    const record = async (res: Response) => {
      const text = await res.text();
      answers.push(`${res.headers.get('server-timing') ?? ''}`);
      if (res.status >= 400) answers.push(text);
      return { status: res.status, json: text ? JSON.parse(text) : null };
    };
    const remember = (db: any) => {
      if (!db?.connection) return;
      secrets.push(db.connection.direct, db.connection.pooled, decodeURIComponent(new URL(db.connection.direct).password));
    };

    const agent = await newAgent();
    const reader = await mintToken(agent, { scopes: ['databases:read'] });
    for (const t of [agent.ownerToken, agent.token, reader.token]) secrets.push(t, parseToken(t)!.secret);
    const H = (token: string) => ({ token });

    const made = await record(
      await call('/v1/databases', { ...H(agent.token), body: { ttl_seconds: 600 }, headers: { 'idempotency-key': 'k1' } }),
    );
    expect(made.status).toBe(201);
    remember(made.json);
    const id = made.json.id;
    remember(
      (await record(await call('/v1/databases', { ...H(agent.token), body: { ttl_seconds: 600 }, headers: { 'idempotency-key': 'k1' } })))
        .json,
    );
    const branch = await record(await call(`/v1/databases/${id}/branches`, { ...H(agent.token), body: { ttl_seconds: 600 } }));
    expect(branch.status).toBe(201);
    remember(branch.json);
    const rotated = await record(await call(`/v1/databases/${id}/credentials/rotate`, { method: 'POST', ...H(agent.token) }));
    expect(rotated.status).toBe(200);
    remember(rotated.json);

    // SQL: a good query, a failing one, one that names the role, and the wrong scope.
    await record(await call(`/v1/databases/${id}/sql`, { ...H(agent.token), body: { query: 'create table t (x int primary key)' } }));
    await record(
      await call(`/v1/databases/${id}/sql`, {
        ...H(agent.token),
        body: { queries: [{ query: 'insert into t values (1)' }, { query: 'insert into t values (1)' }] },
      }),
    );
    await record(
      await call(`/v1/databases/${id}/sql`, { ...H(agent.token), body: { query: 'select current_user, nonexistent_column from t' } }),
    );
    await record(await call(`/v1/databases/${id}/sql`, { ...H(reader.token), body: { query: 'select 1' } }));

    // A migration that fails verification, and one that applies.
    const failing = await record(
      await call(`/v1/databases/${id}/migrations`, {
        ...H(agent.token),
        body: { sql: 'alter table t add column y text', verify_sql: 'select 1/0' },
      }),
    );
    if (failing.json?.id) await record(await call(`/v1/migrations/${failing.json.id}`, H(agent.token)));
    const good = await record(
      await call(`/v1/databases/${id}/migrations`, { ...H(agent.token), body: { sql: 'alter table t add column z text' } }),
    );
    if (good.json?.id) await record(await call(`/v1/migrations/${good.json.id}/apply`, { method: 'POST', ...H(agent.token) }));

    // Faults: the provider down on create, on rotate, and a lost reply.
    rules.push(...(await addFaults({ route: 'POST /projects', status: 503, match: agent.id })));
    await record(await call('/v1/databases', { ...H(agent.token), body: {} }));
    await removeFaults(rules.splice(0));
    const projectId = unwrap(await accountObject(agent.id).getDatabase(id)).database.provider.project_id!;
    const resetRoute = 'POST /projects/:project_id/branches/:branch_id/roles/:role_name/reset_password';
    rules.push(...(await addFaults({ route: resetRoute, status: 500, phase: 'after', match: projectId })));
    await record(await call(`/v1/databases/${id}/credentials/rotate`, { method: 'POST', ...H(agent.token) }));
    await removeFaults(rules.splice(0));
    // Bad tokens: a wrong secret for a real account.
    const wrong = agent.token.slice(0, -6) + 'AAAAAA';
    await record(await call('/v1/account', H(wrong)));

    const events = await record(await call('/v1/events?limit=200', H(agent.ownerToken)));
    answers.push(JSON.stringify(events.json));
    const dbs = await record(await call(`/v1/databases?state=ready`, H(reader.token)));
    answers.push(JSON.stringify(dbs.json));

    expect(logs.length + answers.length).toBeGreaterThan(10);
    const haystack = [...logs, ...answers].join('\n');
    for (const secret of new Set(secrets.filter((s) => s && s.length >= 8))) {
      expect(haystack.includes(secret), `a secret of ${secret.length} characters appeared`).toBe(false);
    }
  });
});
