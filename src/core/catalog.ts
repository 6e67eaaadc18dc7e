/**
 * The public catalog an orchestrator reads before it provisions (`GET /.well-known/dblease.json`,
 * docs/PROVISIONING.md): built from the same configuration the Worker enforces, so it cannot
 * drift from what admission and provisioning actually do.
 */
import { SCOPES, type Scope } from './auth/tokens';
import type { OperatorConfig } from './policy/operator-config';
import type { RegionConfig } from './policy/regions';

export const PROTOCOL_VERSION = '2026-12-01';
/** Signing algorithms an assertion may use (verified with jose). */
export const ASSERTION_ALGORITHMS = ['EdDSA', 'ES256'] as const;
/** An assertion may be valid for at most this long (`exp` − `iat`), and this much clock skew is allowed. */
export const ASSERTION_MAX_AGE_SECONDS = 300;
export const ASSERTION_CLOCK_SKEW_SECONDS = 30;
/** What a provisioned token may carry: every scope but `owner`. */
export const PROVISIONABLE_SCOPES: readonly Scope[] = SCOPES.filter((s) => s !== 'owner');

export function catalog(base: string, config: OperatorConfig, regions: RegionConfig) {
  const { maxima, prices } = config;
  return {
    protocol_version: PROTOCOL_VERSION,
    service: 'dblease',
    urls: { api: `${base}/v1`, mcp: `${base}/mcp`, openapi: `${base}/openapi.json`, dashboard: `${base}/` },
    resources: {
      postgres: {
        kinds: ['fresh', 'branch'],
        regions: regions.regions,
        default_region: regions.defaultRegion,
        ttl_seconds: { default: maxima.default_ttl_seconds, max: maxima.max_ttl_seconds },
        default_limits: {
          max_active_databases: maxima.max_active_databases,
          creates_per_minute: maxima.creates_per_minute,
          create_burst: maxima.create_burst,
          max_branch_depth: maxima.max_branch_depth,
          monthly_spend_cap_usd: maxima.monthly_spend_cap_usd,
          sql_statement_timeout_ms: maxima.sql_statement_timeout_ms,
          sql_max_rows: maxima.sql_max_rows,
          sql_max_bytes: maxima.sql_max_bytes,
        },
        prices: { ...prices },
      },
    },
    provisioning: {
      endpoint: `${base}/v1/provision`,
      audience: base,
      algorithms: [...ASSERTION_ALGORITHMS],
      max_assertion_age_seconds: ASSERTION_MAX_AGE_SECONDS,
      clock_skew_seconds: ASSERTION_CLOCK_SKEW_SECONDS,
      scopes: [...PROVISIONABLE_SCOPES],
    },
  };
}
