/**
 * What the account object hands back over RPC: plain data, snake_case like the wire, times as
 * ISO strings (the types are the contract in src/core/contract.ts). Hashes and sealed values
 * never leave the object.
 */
export type { DatabaseRecord, EventView, TokenView };
import type { Scope } from '../src/core/auth/tokens';
import type { JsonData } from '../src/core/result';
import type { DatabaseRecord, EventView, TokenView } from '../src/core/contract';
import { microToUsd } from '../src/core/policy/cost';
import type { databases, events, tokens } from './schema';

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

export const tokenView = (t: typeof tokens.$inferSelect, spentThisMonthMicroUsd = 0): TokenView => ({
  id: t.id,
  name: t.name,
  scopes: t.scopes as Scope[],
  expires_at: iso(t.expiresAt),
  max_database_ttl_seconds: t.maxDatabaseTtlSeconds,
  monthly_spend_limit_usd: t.monthlySpendLimitMicroUsd === null ? null : microToUsd(t.monthlySpendLimitMicroUsd),
  spent_this_month_usd: microToUsd(spentThisMonthMicroUsd),
  created_at: iso(t.createdAt)!,
  revoked_at: iso(t.revokedAt),
  last_used_at: iso(t.lastUsedAt),
});

export const eventView = (e: typeof events.$inferSelect): EventView => ({
  id: String(e.id),
  at: iso(e.at)!,
  type: e.type,
  database_id: e.databaseId,
  token_id: e.tokenId,
  data: (e.data as JsonData | null) ?? null,
});

export const databaseRecord = (d: typeof databases.$inferSelect): DatabaseRecord => ({
  id: d.id,
  state: d.state,
  kind: d.kind,
  parent_id: d.parentId,
  depth: d.depth,
  region: d.region,
  labels: d.labels,
  session_id: d.sessionId,
  token_id: d.tokenId,
  ttl_seconds: d.ttlSeconds,
  expires_at: iso(d.expiresAt),
  kept: d.kept,
  anonymized: d.anonymized,
  reserved_usd: microToUsd(d.reservedMicroUsd),
  reserved_micro_usd: d.reservedMicroUsd,
  spent_usd: microToUsd(d.spentMicroUsd),
  created_at: iso(d.createdAt)!,
  ready_at: iso(d.readyAt),
  deleted_at: iso(d.deletedAt),
  last_error: d.lastError,
  delete_attempts: d.deleteAttempts,
  next_attempt_at: iso(d.nextAttemptAt),
  role_name: d.roleName,
  database_name: d.databaseName,
  host: d.host,
  claim:
    d.claimRequestId && d.claimUrl && d.claimExpiresAt !== null
      ? { request_id: d.claimRequestId, url: d.claimUrl, expires_at: iso(d.claimExpiresAt)! }
      : null,
  provider: {
    account: d.providerAccount,
    project_id: d.providerProjectId,
    branch_id: d.providerBranchId,
    endpoint_id: d.providerEndpointId,
  },
});
