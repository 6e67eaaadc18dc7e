/** Helpers for the database tests: agents with tokens, creates over HTTP, SQL, provider look-ups. */
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { sqlOverHttp, sqlPool } from '../../../src/app/sql/driver';
import { call, createAccount, mintToken, type TestAccount } from './api';
import { testClient } from './local-stack';

export interface Agent extends TestAccount {
  /** databases:read + databases:write + databases:credentials + sql. */
  token: string;
}

export const ALL_AGENT_SCOPES = ['databases:read', 'databases:write', 'databases:credentials', 'sql'];

export async function newAgent(policy?: Record<string, number>): Promise<Agent> {
  const acct = await createAccount('databases test');
  if (policy) {
    const res = await call('/v1/account/policy', { method: 'PATCH', token: acct.ownerToken, body: policy });
    expect(res.status, await res.clone().text()).toBe(200);
  }
  const { token } = await mintToken(acct, { scopes: ALL_AGENT_SCOPES });
  return { ...acct, token };
}

export async function createDb(token: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await call('/v1/databases', { token, body, headers });
  const json = await res.json<any>();
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json;
}

export async function branchDb(token: string, parentId: string, body: Record<string, unknown> = {}) {
  const res = await call(`/v1/databases/${parentId}/branches`, { token, body });
  const json = await res.json<any>();
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json;
}

export const deleteDb = (token: string, id: string, cascade = false) =>
  call(`/v1/databases/${id}${cascade ? '?cascade=true' : ''}`, { method: 'DELETE', token });

/** One query over HTTP (`neon()`). */
export async function query(uri: string, text: string): Promise<Record<string, unknown>[]> {
  return (await sqlOverHttp(env, uri).query(text)) as Record<string, unknown>[];
}

/** One query over a WebSocket `Pool`, closed afterwards. */
export async function poolQuery(uri: string, text: string): Promise<Record<string, unknown>[]> {
  const pool = sqlPool(env, uri);
  try {
    return (await pool.query(text)).rows;
  } finally {
    await pool.end();
  }
}

/** The provider's projects whose name mentions `fragment` (an account or database id). */
export async function providerProjects(fragment: string) {
  return (await testClient().listProjects({ search: fragment })).filter((p) => p.name.includes(fragment));
}

/** The active-database count and reservations of an account. */
export async function usage(acct: TestAccount) {
  const res = await call('/v1/account', { token: acct.ownerToken });
  return (await res.json<any>()).usage as { active_databases: number; reserved_micro_usd: number };
}

export async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() - started > timeoutMs) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}
