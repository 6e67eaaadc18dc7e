/** HTTP helpers for tests of the Worker's API, through `exports.default.fetch` (the real app). */
import { env, exports } from 'cloudflare:workers';
import { expect } from 'vitest';

/** Bound in vitest.config.ts (worker project). */
export const OPERATOR_TOKEN = 'test-operator-token';

export interface CallOptions {
  method?: string;
  token?: string;
  body?: unknown;
  /** Sent as is (not JSON-encoded). */
  rawBody?: string;
  headers?: Record<string, string>;
}

export async function call(path: string, opts: CallOptions = {}): Promise<Response> {
  const headers = new Headers(opts.headers);
  if (opts.token) headers.set('authorization', `Bearer ${opts.token}`);
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  } else if (opts.rawBody !== undefined) {
    body = opts.rawBody;
  }
  return exports.default.fetch(
    new Request(`http://dblease.test${path}`, { method: opts.method ?? (body ? 'POST' : 'GET'), headers, body }),
  );
}

export interface ErrorJson {
  error: { type: string; code: string; message: string; details?: Record<string, any>; request_id: string };
}

/** Asserts the one error shape and status; returns the error. */
export async function expectError(res: Response, status: number, code?: string): Promise<ErrorJson['error']> {
  const body = await res.json<ErrorJson>();
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(body.error.request_id).toBeTruthy();
  if (code) expect(body.error.code).toBe(code);
  return body.error;
}

/** The field paths a 400 names. */
export const fieldPaths = (err: ErrorJson['error']) => (err.details?.fields as { path: string }[]).map((f) => f.path);

export interface TestAccount {
  id: string;
  ownerToken: string;
  ownerTokenId: string;
}

export async function createAccount(name = 'test account'): Promise<TestAccount> {
  const res = await call('/v1/accounts', { token: OPERATOR_TOKEN, body: { name } });
  const body = await res.json<any>();
  expect(res.status, JSON.stringify(body)).toBe(201);
  return { id: body.account.id, ownerToken: body.owner_token.token, ownerTokenId: body.owner_token.id };
}

export async function mintToken(
  acct: TestAccount,
  body: { name?: string; scopes: string[]; expires_at?: string; max_database_ttl_seconds?: number },
): Promise<{ id: string; token: string }> {
  const res = await call('/v1/tokens', { token: acct.ownerToken, body: { name: 'agent', ...body } });
  const json = await res.json<any>();
  expect(res.status, JSON.stringify(json)).toBe(201);
  return { id: json.id, token: json.token };
}

export const accountObject = (accountId: string) => env.ACCOUNT.get(env.ACCOUNT.idFromName(accountId));
