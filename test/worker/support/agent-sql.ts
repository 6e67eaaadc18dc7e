/** Helpers for the agent-interface tests (SQL endpoint, migrations, MCP, binding) on real databases. */
import { expect } from 'vitest';
import { call, createAccount, mintToken, type TestAccount } from './api';
import { createDb } from './databases';

export interface TestDatabase {
  id: string;
  uri: string;
}

export async function createDatabase(token: string, body: Record<string, unknown> = {}): Promise<TestDatabase> {
  const json = await createDb(token, { ttl_seconds: 900, ...body });
  return { id: json.id, uri: json.connection.direct };
}

/** POST /v1/databases/:id/sql; the parsed body and status. */
export async function sql(token: string, dbId: string, body: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const res = await call(`/v1/databases/${dbId}/sql`, { token, body });
  return { status: res.status, body: await res.json<any>() };
}

/** The rows of one query that must succeed. */
export async function rows(token: string, dbId: string, query: string, params?: unknown[]): Promise<any[]> {
  const res = await sql(token, dbId, { query, ...(params ? { params } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.rows;
}

/** An account with an owner token and one fresh database. */
export async function accountWithDatabase(): Promise<{ acct: TestAccount; db: TestDatabase }> {
  const acct = await createAccount('agent interfaces');
  return { acct, db: await createDatabase(acct.ownerToken) };
}

export { call, createAccount, mintToken };
