/** The shapes the databases service takes and gives (src/app/databases/service.ts). */
import type { Database } from '../schemas/databases';

/** What a create or branch returned. */
export interface Created {
  /** With `connection` and `timings`. */
  database: Database;
  /**
   * 201: created by this call. 200: the same `Idempotency-Key` and body were seen before, and
   * `database` is the original response, replayed unchanged.
   */
  status: 201 | 200;
  /** `Server-Timing` header value (admit, provider, ready, total). */
  serverTiming: string;
}

export interface CreateOptions {
  /** The `Idempotency-Key`: the same key and body give the same result for 24 h; another body is 409. */
  idempotencyKey?: string;
}

export interface ListQuery {
  cursor?: string;
  /** 1-100, default 50. */
  limit?: number;
  /** `key:value`. */
  label?: string;
  state?: Database['state'];
  session_id?: string;
}

export interface DatabaseList {
  data: Database[];
  next_cursor: string | null;
}

export interface Deleted {
  /** `deleted`, or `deleting` (with `last_error`) when the provider failed and the sweeper will retry. */
  database: Database;
  /** 200: gone. 202: accepted; the provider delete failed and will be retried by cron. */
  status: 200 | 202;
  /** Seconds until the next retry, with 202. */
  retryAfter?: number;
}

export interface DatabasePatch {
  ttl_seconds?: number;
  labels?: Record<string, string>;
}

/** The context whose `waitUntil` carries clean-up that must not delay the answer. */
export type WaitUntil = Pick<ExecutionContext, 'waitUntil'>;
