import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type RunningStack } from '../support/local-stack';

let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.dispose();
});

/** A request to the API port with a chosen Host header (fetch cannot set it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function request(path: string, host: string, method = 'GET'): Promise<{ status: number; json: any }> {
  const port = Number(new URL(stack.origin).port);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method, headers: { host, authorization: `Bearer ${stack.config.apiKey}` } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, json: body ? JSON.parse(body) : undefined }));
      },
    );
    req.once('error', reject);
    req.end();
  });
}

describe('local Neon API: DNS rebinding', () => {
  const paths = ['/api/v2/projects', '/_admin/stats', '/healthz'];

  it('answers 403 in Neon error JSON under a Host that is not a loopback name, key or not', async () => {
    const port = new URL(stack.origin).port;
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.nip.io:${port}`, '192.168.1.10']) {
      for (const path of paths) {
        const res = await request(path, host);
        expect(res.status, `${host} ${path}`).toBe(403);
        expect(res.json).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('Host header') });
        expect(typeof res.json.request_id).toBe('string');
      }
    }
    // A mutation is refused the same way, before auth, limits or the route see it.
    expect((await request('/api/v2/projects', 'evil.example', 'POST')).status).toBe(403);
  });

  it('serves 127.0.0.1, localhost, [::1] and other 127.x names, with or without port', async () => {
    const port = new URL(stack.origin).port;
    for (const host of [`127.0.0.1:${port}`, '127.0.0.1', `localhost:${port}`, 'localhost', `[::1]:${port}`, '127.1.0.9']) {
      for (const path of paths) expect((await request(path, host)).status, `${host} ${path}`).toBe(200);
    }
  });
});
