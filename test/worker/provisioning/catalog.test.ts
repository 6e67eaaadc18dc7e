import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { operatorConfig } from '../../../src/core/policy/operator-config';
import { regionConfig } from '../../../src/core/policy/regions';
import { app } from '../../../src/app/app';
import { call } from '../support/api';

describe('GET /.well-known/dblease.json', () => {
  it('is public, and says what the Worker enforces', async () => {
    const res = await call('/.well-known/dblease.json');
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    const { maxima, prices } = operatorConfig(env);
    expect(body).toMatchObject({
      protocol_version: expect.any(String),
      urls: {
        api: 'http://dblease.test/v1',
        mcp: 'http://dblease.test/mcp',
        openapi: 'http://dblease.test/openapi.json',
        dashboard: 'http://dblease.test/',
      },
      resources: {
        postgres: {
          kinds: ['fresh', 'branch'],
          regions: regionConfig(env).regions,
          ttl_seconds: { default: maxima.default_ttl_seconds, max: maxima.max_ttl_seconds },
          default_limits: { max_active_databases: maxima.max_active_databases, monthly_spend_cap_usd: maxima.monthly_spend_cap_usd },
          prices,
        },
      },
      provisioning: { endpoint: 'http://dblease.test/v1/provision', audience: 'http://dblease.test', algorithms: ['EdDSA', 'ES256'] },
    });
    expect(body.provisioning.scopes).toEqual(['databases:read', 'databases:write', 'databases:credentials', 'sql']);
  });

  it('follows the operator configuration it is built from', async () => {
    const configured = {
      ...env,
      DBLEASE_REGIONS: 'aws-us-east-2,aws-eu-central-1',
      DBLEASE_DEFAULT_REGION: 'aws-eu-central-1',
      DBLEASE_PUBLIC_URL: 'https://db.example',
    };
    const res = await app.fetch(
      new Request('http://dblease.test/.well-known/dblease.json'),
      configured as Env,
      { waitUntil() {}, passThroughOnException() {}, props: {} } as never,
    );
    const body = await res.json<any>();
    expect(body.resources.postgres.regions).toEqual(['aws-us-east-2', 'aws-eu-central-1']);
    expect(body.resources.postgres.default_region).toBe('aws-eu-central-1');
    expect(body.provisioning.audience).toBe('https://db.example');
  });

  it('is cacheable: an ETag, Cache-Control, and 304 when it has not changed', async () => {
    const first = await call('/.well-known/dblease.json');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(first.headers.get('cache-control')).toBe('public, max-age=300');
    const again = await call('/.well-known/dblease.json', { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });
});
