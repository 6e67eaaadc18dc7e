import { afterEach, describe, expect, it, vi } from 'vitest';
import { OPERATOR_TOKEN, call, createAccount, expectError, fieldPaths } from '../support/api';
import { ERRORS } from '../../../src/core/errors';
import { app } from '../../../src/app/app';

afterEach(() => vi.restoreAllMocks());

describe('request ids', () => {
  it('echo a sane X-Request-ID, in errors too', async () => {
    const res = await call('/v1/nowhere', { headers: { 'x-request-id': 'agent-run.42:7' } });
    expect(res.headers.get('x-request-id')).toBe('agent-run.42:7');
    expect((await expectError(res, 404, 'route_not_found')).request_id).toBe('agent-run.42:7');
  });
  it('replace an insane one with a generated id', async () => {
    const res = await call('/v1/nowhere', { headers: { 'x-request-id': 'x'.repeat(500) } });
    expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-z]{20}$/);
    const bad = await call('/v1/nowhere', { headers: { 'x-request-id': 'a b<script>' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^req_/);
  });
});

describe('errors', () => {
  it('unknown routes are a JSON 404', async () => {
    const res = await call('/v2/anything', { method: 'DELETE' });
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    await expectError(res, 404, 'route_not_found');
  });
  it('malformed JSON is a 400 naming body', async () => {
    const res = await call('/v1/accounts', {
      token: OPERATOR_TOKEN,
      rawBody: '{"name": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(fieldPaths(await expectError(res, 400, 'invalid_field'))).toEqual(['body']);
  });
  it('a body that is not declared JSON is a 400 naming body', async () => {
    const res = await call('/v1/accounts', {
      token: OPERATOR_TOKEN,
      rawBody: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(fieldPaths(await expectError(res, 400))).toEqual(['body']);
  });
  it('validation failures name each field, unknown fields included', async () => {
    const res = await call('/v1/accounts', { token: OPERATOR_TOKEN, body: { name: 7, extra: true, more: 1 } });
    expect(fieldPaths(await expectError(res, 400, 'invalid_field')).sort()).toEqual(['extra', 'more', 'name']);
  });
  it('anything unexpected is a logged 500 that leaks neither message nor stack', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(crypto.subtle, 'digest').mockRejectedValueOnce(new Error('boom: s3cr3t-value'));
    const res = await call('/v1/accounts', { token: OPERATOR_TOKEN, body: { name: 'x' } });
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(JSON.parse(text).error).toMatchObject({ type: 'internal', code: 'internal', message: 'internal error' });
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('at ');
    expect(log).toHaveBeenCalledWith(expect.stringContaining('s3cr3t-value'));
  });
});

describe('GET /openapi.json', () => {
  it('is OpenAPI 3.1 generated from the routes, with a bearer scheme', async () => {
    const res = await call('/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json<any>();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/accounts', '/v1/account', '/v1/account/policy', '/v1/tokens', '/v1/tokens/{id}', '/v1/events']),
    );
    expect(doc.paths['/v1/tokens'].post.security).toEqual([{ bearer: [] }]);
    expect(doc.components.schemas.CreateToken.properties.scopes.items.enum).toContain('databases:credentials');
  });
  it('is built once and then served from memory', async () => {
    await call('/openapi.json');
    const build = vi.spyOn(app, 'getOpenAPI31Document');
    const docs = await Promise.all(Array.from({ length: 20 }, async () => (await call('/openapi.json')).text()));
    expect(new Set(docs).size).toBe(1);
    expect(build).not.toHaveBeenCalled();
    build.mockRestore();
  });
});

describe('authentication', () => {
  it('refuses missing, malformed and unknown tokens with 401', async () => {
    const acct = await createAccount();
    const forged = acct.ownerToken.slice(0, -4) + (acct.ownerToken.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const token of [undefined, 'nope', forged, OPERATOR_TOKEN]) {
      await expectError(await call('/v1/account', { token }), 401);
    }
    await expectError(await call('/v1/account', { headers: { authorization: `Basic ${acct.ownerToken}` } }), 401);
  });
  it('compares account tags and token hashes with crypto.subtle.timingSafeEqual', async () => {
    const acct = await createAccount();
    const spy = vi.spyOn(crypto.subtle, 'timingSafeEqual');
    expect((await call('/v1/account', { token: acct.ownerToken })).status).toBe(200);
    const lengths = spy.mock.calls.map(([a, b]) => [(a as Uint8Array).byteLength, (b as Uint8Array).byteLength]);
    expect(lengths).toContainEqual([32, 32]); // the account tag, in hex
    expect(lengths).toContainEqual([64, 64]); // the SHA-256 of the secret, in hex
  });
  it('the operator route refuses account tokens and wrong operator tokens', async () => {
    const acct = await createAccount();
    await expectError(await call('/v1/accounts', { token: acct.ownerToken, body: { name: 'x' } }), 401, 'invalid_operator_token');
    await expectError(await call('/v1/accounts', { token: `${OPERATOR_TOKEN}x`, body: { name: 'x' } }), 401);
  });
});

describe('the error catalogue in /openapi.json', () => {
  it('lists every code with its status, meaning and what to do', async () => {
    const doc = await (await call('/openapi.json')).json<any>();
    const schema = doc.components.schemas.ErrorCode;
    expect(schema.enum).toEqual(Object.keys(ERRORS));
    expect(schema['x-dblease-codes'].quota_exceeded).toEqual({
      status: 429,
      meaning: ERRORS.quota_exceeded.meaning,
      action: ERRORS.quota_exceeded.action,
    });
  });
});
