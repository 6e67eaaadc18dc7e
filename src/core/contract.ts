/**
 * The contract between the Worker and the account Durable Object: what its RPC methods return,
 * as plain data (snake_case like the wire, times as ISO strings). The objects build these
 * (durable-objects/views.ts); the app reads them. See ARCHITECTURE.md, "Layers".
 */
import type { Scope } from './auth/tokens';
import type { JsonData } from './result';
import type { DatabaseState } from './state-machine';

export type { DatabaseState };

export interface TokenView {
  id: string;
  name: string;
  scopes: Scope[];
  expires_at: string | null;
  max_database_ttl_seconds: number | null;
  /** The token's own monthly limit, below the account's cap. */
  monthly_spend_limit_usd: number | null;
  /** What the databases it created this UTC month hold, reserved and spent. */
  spent_this_month_usd: number;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface EventView {
  id: string;
  at: string;
  type: string;
  database_id: string | null;
  token_id: string | null;
  data: JsonData | null;
}

/** A registry record. Provider ids are included for the Worker's orchestration; routes choose what agents see. */
export interface DatabaseRecord {
  id: string;
  state: DatabaseState;
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
  /** Masked with anonymisation rules when it was branched. */
  anonymized: boolean;
  reserved_usd: number;
  reserved_micro_usd: number;
  /** Booked from the provider's consumption figures so far. */
  spent_usd: number;
  created_at: string;
  ready_at: string | null;
  deleted_at: string | null;
  last_error: string | null;
  delete_attempts: number;
  next_attempt_at: string | null;
  role_name: string;
  database_name: string;
  host: string | null;
  /** A pending claim into the user's own Neon account, until it is accepted or expires. */
  claim: { request_id: string; url: string; expires_at: string } | null;
  provider: {
    account: string | null;
    project_id: string | null;
    branch_id: string | null;
    endpoint_id: string | null;
  };
}
