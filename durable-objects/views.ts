/**
 * What the account object hands back over RPC: plain data, snake_case like the wire, times as
 * ISO strings. Hashes and sealed values never leave the object.
 */
import type { Scope } from '../src/auth/tokens';
import type { JsonData } from '../src/rpc';
import { microToUsd } from '../src/policy/cost';
import type { databases, events, tokens } from './schema';

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

export interface TokenView {
  id: string;
  name: string;
  scopes: Scope[];
  expires_at: string | null;
  max_database_ttl_seconds: number | null;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export const tokenView = (t: typeof tokens.$inferSelect): TokenView => ({
  id: t.id,
  name: t.name,
  scopes: t.scopes as Scope[],
  expires_at: iso(t.expiresAt),
  max_database_ttl_seconds: t.maxDatabaseTtlSeconds,
  created_at: iso(t.createdAt)!,
  revoked_at: iso(t.revokedAt),
  last_used_at: iso(t.lastUsedAt),
});

export interface EventView {
  id: string;
  at: string;
  type: string;
  database_id: string | null;
  token_id: string | null;
  data: JsonData | null;
}

export const eventView = (e: typeof events.$inferSelect): EventView => ({
  id: String(e.id),
  at: iso(e.at)!,
  type: e.type,
  database_id: e.databaseId,
  token_id: e.tokenId,
  data: (e.data as JsonData | null) ?? null,
});

/** A registry record. Provider ids are included for the Worker's orchestration; routes choose what agents see. */
export interface DatabaseRecord {
  id: string;
  state: (typeof databases.$inferSelect)['state'];
  kind: 'fresh' | 'branch';
  parent_id: string | null;
  depth: number;
  region: string;
  labels: Record<string, string>;
  session_id: string | null;
  token_id: string | null;
  ttl_seconds: number;
  expires_at: string | null;
  kept: boolean;
  reserved_usd: number;
  reserved_micro_usd: number;
  created_at: string;
  ready_at: string | null;
  deleted_at: string | null;
  last_error: string | null;
  delete_attempts: number;
  next_attempt_at: string | null;
  role_name: string;
  database_name: string;
  host: string | null;
  provider: {
    account: string | null;
    project_id: string | null;
    branch_id: string | null;
    endpoint_id: string | null;
  };
}

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
  reserved_usd: microToUsd(d.reservedMicroUsd),
  reserved_micro_usd: d.reservedMicroUsd,
  created_at: iso(d.createdAt)!,
  ready_at: iso(d.readyAt),
  deleted_at: iso(d.deletedAt),
  last_error: d.lastError,
  delete_attempts: d.deleteAttempts,
  next_attempt_at: iso(d.nextAttemptAt),
  role_name: d.roleName,
  database_name: d.databaseName,
  host: d.host,
  provider: {
    account: d.providerAccount,
    project_id: d.providerProjectId,
    branch_id: d.providerBranchId,
    endpoint_id: d.providerEndpointId,
  },
});
