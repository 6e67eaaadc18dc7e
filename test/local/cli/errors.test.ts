import { describe, expect, it } from 'vitest';
import { apiError, Client, parseRetryAfter } from '../../../cli/client.js';
import { CliError, EXIT, exitCodeForStatus } from '../../../cli/errors.js';
import { freePort } from '../../support/free-port';

describe('exit codes', () => {
  it.each([
    [400, EXIT.usage, 2],
    [401, EXIT.auth, 3],
    [403, EXIT.auth, 3],
    [404, EXIT.notFound, 4],
    [410, EXIT.notFound, 4],
    [402, EXIT.limit, 5],
    [429, EXIT.limit, 5],
    [503, EXIT.unavailable, 6],
    [409, EXIT.conflict, 7],
    [500, EXIT.other, 1],
    [418, EXIT.other, 1],
  ])('HTTP %i exits %i', (status, code, number) => {
    expect(exitCodeForStatus(status)).toBe(code);
    expect(code).toBe(number);
  });
});

describe('apiError', () => {
  const body = {
    error: {
      type: 'invalid_request',
      code: 'invalid_field',
      message: 'ttl_seconds: must be positive',
      details: { fields: [{ path: 'ttl_seconds', message: 'must be positive' }] },
      request_id: 'req_1',
    },
  };

  it('passes dblease error bodies through untouched', () => {
    const err = apiError(400, body, null);
    expect(err).toBeInstanceOf(CliError);
    expect(err.exitCode).toBe(EXIT.usage);
    expect(err.toJSON()).toEqual(body);
  });

  it('carries Retry-After beside the body', () => {
    const limited = { error: { type: 'rate_limited', code: 'create_rate', message: 'slow down', request_id: 'r' } };
    const err = apiError(429, limited, '7');
    expect(err.exitCode).toBe(EXIT.limit);
    expect(err.retryAfter).toBe(7);
    expect(err.toJSON()).toEqual({ ...limited, retry_after: 7 });
  });

  it('gives foreign bodies (a proxy page, nothing) the same shape', () => {
    const err = apiError(503, undefined, null);
    expect(err.exitCode).toBe(EXIT.unavailable);
    expect(err.error).toMatchObject({ type: 'provider_unavailable', code: 'http_503' });
    expect(apiError(404, { message: 'Not Found' }, null).error).toMatchObject({ type: 'not_found', code: 'http_404' });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('12')).toBe(12);
    expect(parseRetryAfter('soon')).toBeUndefined();
    const inTen = new Date(Date.now() + 10_000).toUTCString();
    expect(parseRetryAfter(inTen)).toBeGreaterThanOrEqual(8);
    expect(parseRetryAfter(inTen)).toBeLessThanOrEqual(10);
  });
});

describe('Client', () => {
  it('refuses to send a request without a token (exit 3)', async () => {
    const err = await new Client({ url: 'http://127.0.0.1:1' }).request('GET', '/v1/databases').catch((e) => e);
    expect(err).toBeInstanceOf(CliError);
    expect(err.exitCode).toBe(EXIT.auth);
    expect(err.error.code).toBe('missing_token');
  });

  it('reports an unreachable server as exit 6, with the idempotency key to retry with', async () => {
    const port = await freePort(); // nothing listens there any more
    const client = new Client({ url: `http://127.0.0.1:${port}`, token: 'secret-token' });
    const err = await client.request('POST', '/v1/databases', { body: {}, idempotencyKey: 'key-123' }).catch((e) => e);
    expect(err).toBeInstanceOf(CliError);
    expect(err.exitCode).toBe(EXIT.unavailable);
    expect(err.error).toMatchObject({ type: 'network_error', code: 'network_error', details: { idempotency_key: 'key-123' } });
    expect(err.message).toContain('--idempotency-key key-123');
    expect(JSON.stringify(err.toJSON())).not.toContain('secret-token');
  });
});
