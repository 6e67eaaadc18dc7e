/**
 * One shard of the deadline index (`idFromName('shard-<n>')`, n = shardOf(accountId)): each
 * account object's earliest lifecycle deadline, and whether it holds anything live. Cron asks
 * every shard for `due_at <= now` (an indexed range scan with a limit) instead of listing
 * accounts, so a minute's cron costs one call per shard plus one per account with work due,
 * whether there are a hundred accounts or a hundred thousand.
 */
import { DurableObject } from 'cloudflare:workers';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS deadlines (
  account_id TEXT PRIMARY KEY,
  due_at INTEGER,
  live INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS deadlines_due ON deadlines (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS deadlines_live ON deadlines (account_id) WHERE live = 1;
`;

export interface DueAccount {
  account_id: string;
  due_at: number;
}

export class DeadlineIndex extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
  }

  /**
   * Idempotent upsert of one account's entry. An account with no deadline and nothing live is
   * dropped, so the shard only ever holds accounts that may need cron.
   */
  publish(accountId: string, dueAt: number | null, live: boolean): void {
    const sql = this.ctx.storage.sql;
    if (dueAt === null && !live) {
      sql.exec('DELETE FROM deadlines WHERE account_id = ?', accountId);
      return;
    }
    sql.exec(
      `INSERT INTO deadlines (account_id, due_at, live, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET due_at = excluded.due_at, live = excluded.live, updated_at = excluded.updated_at`,
      accountId,
      dueAt,
      live ? 1 : 0,
      Date.now(),
    );
  }

  /** Accounts whose deadline has passed, most overdue first. */
  due(now: number, limit = 500): DueAccount[] {
    return this.ctx.storage.sql
      .exec<{ account_id: string; due_at: number }>(
        'SELECT account_id, due_at FROM deadlines WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?',
        now,
        limit,
      )
      .toArray()
      .map((r) => ({ account_id: r.account_id, due_at: r.due_at }));
  }

  /** Accounts holding live records, in id order after `after` (reconciliation's "gone" check). */
  liveAccounts(after = '', limit = 1_000): string[] {
    return this.ctx.storage.sql
      .exec<{ account_id: string }>(
        'SELECT account_id FROM deadlines WHERE live = 1 AND account_id > ? ORDER BY account_id LIMIT ?',
        after,
        limit,
      )
      .toArray()
      .map((r) => r.account_id);
  }

  entry(accountId: string): { due_at: number | null; live: boolean } | null {
    const row = this.ctx.storage.sql
      .exec<{ due_at: number | null; live: number }>('SELECT due_at, live FROM deadlines WHERE account_id = ?', accountId)
      .toArray()[0];
    return row ? { due_at: row.due_at, live: row.live === 1 } : null;
  }
}
