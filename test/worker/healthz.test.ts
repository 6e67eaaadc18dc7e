import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';

describe('GET /healthz', () => {
  it('reports the local stack reachable', async () => {
    const res = await exports.default.fetch('http://dblease.test/healthz');
    expect(res.status).toBe(200);
    const body = await res.json<{ ok: boolean; provider: { reachable: boolean; latency_ms: number } }>();
    expect(body.ok).toBe(true);
    expect(body.provider.reachable).toBe(true);
    expect(body.provider.latency_ms).toBeGreaterThanOrEqual(0);
  });
});
