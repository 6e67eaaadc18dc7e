/**
 * The Directory: ONE object (`idFromName('directory')`) for what is global to a deployment,
 * decided in synchronous SQL so it cannot race (durable-objects/SCHEMA.md, "Directory"):
 * - the trusted orchestrators and their public keys (inline JWKS, or the URL to fetch them from), and which are retired;
 * - which account belongs to which user of which orchestrator (`iss`, `sub`);
 * - the assertion ids (`jti`) already used, kept while the assertion could still be valid.
 */
import { DurableObject } from 'cloudflare:workers';
import { Failure, notFound } from '../src/core/errors';
import { newId } from '../src/core/ids';
import { fail, ok, type Result } from '../src/core/result';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS orchestrators (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  jwks TEXT NOT NULL,
  max_monthly_spend_usd REAL,
  allowed_scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  retired_at INTEGER
);
CREATE TABLE IF NOT EXISTS users (
  iss TEXT NOT NULL,
  sub TEXT NOT NULL,
  account_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (iss, sub)
);
CREATE TABLE IF NOT EXISTS used_assertions (
  iss TEXT NOT NULL,
  jti TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (iss, jti)
);
CREATE INDEX IF NOT EXISTS used_assertions_expiry ON used_assertions (expires_at);
`;

/** Columns added after the first release, each applied once (SQLite has no ADD COLUMN IF NOT EXISTS). */
const ADDED_COLUMNS: [table: string, column: string, ddl: string][] = [['orchestrators', 'jwks_uri', 'jwks_uri TEXT']];

/** At most this many orchestrators are registered at once: the operator's list, not a public registry. */
export const MAX_ORCHESTRATORS = 100;

export interface PublicJwks {
  keys: Record<string, string>[];
}

export interface NewOrchestrator {
  name: string;
  /** Inline public keys, or null when they are fetched from `jwks_uri`. */
  jwks: PublicJwks | null;
  jwks_uri: string | null;
  max_monthly_spend_usd: number | null;
  allowed_scopes: string[];
}

export interface Orchestrator extends NewOrchestrator {
  id: string;
  object: 'orchestrator';
  created_at: string;
  retired_at: string | null;
}

type Row = {
  id: string;
  name: string;
  jwks: string;
  jwks_uri: string | null;
  max_monthly_spend_usd: number | null;
  allowed_scopes: string;
  created_at: number;
  retired_at: number | null;
};

const view = (r: Row): Orchestrator => ({
  id: r.id,
  object: 'orchestrator',
  name: r.name,
  jwks: r.jwks_uri === null ? (JSON.parse(r.jwks) as PublicJwks) : null,
  jwks_uri: r.jwks_uri,
  max_monthly_spend_usd: r.max_monthly_spend_usd,
  allowed_scopes: JSON.parse(r.allowed_scopes) as string[],
  created_at: new Date(r.created_at).toISOString(),
  retired_at: r.retired_at === null ? null : new Date(r.retired_at).toISOString(),
});

export class Directory extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
    for (const [table, column, ddl] of ADDED_COLUMNS) {
      const has = this.sql
        .exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
        .toArray()
        .some((c) => c.name === column);
      if (!has) this.sql.exec(`ALTER TABLE ${table} ADD COLUMN ${ddl}`);
    }
  }

  registerOrchestrator(input: NewOrchestrator): Result<Orchestrator> {
    return attempt(() => this.register(input));
  }

  private register(input: NewOrchestrator): Orchestrator {
    const active = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM orchestrators WHERE retired_at IS NULL').one().n;
    if (active >= MAX_ORCHESTRATORS) throw new Failure('invalid_field', `at most ${MAX_ORCHESTRATORS} orchestrators may be registered`);
    const row: Row = {
      id: newId('orc'),
      name: input.name,
      jwks: JSON.stringify(input.jwks ?? { keys: [] }),
      jwks_uri: input.jwks_uri,
      max_monthly_spend_usd: input.max_monthly_spend_usd,
      allowed_scopes: JSON.stringify(input.allowed_scopes),
      created_at: Date.now(),
      retired_at: null,
    };
    this.sql.exec(
      'INSERT INTO orchestrators (id, name, jwks, jwks_uri, max_monthly_spend_usd, allowed_scopes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      row.id,
      row.name,
      row.jwks,
      row.jwks_uri,
      row.max_monthly_spend_usd,
      row.allowed_scopes,
      row.created_at,
    );
    return view(row);
  }

  listOrchestrators(): Orchestrator[] {
    return this.sql.exec<Row>('SELECT * FROM orchestrators ORDER BY created_at, id').toArray().map(view);
  }

  /** The orchestrator, or null when unknown (retired ones included: the caller decides). */
  orchestrator(id: string): Orchestrator | null {
    const row = this.sql.exec<Row>('SELECT * FROM orchestrators WHERE id = ?', id).toArray()[0];
    return row ? view(row) : null;
  }

  /**
   * Marks an assertion id used, or answers 409 `assertion_replayed` if it was. The id is kept
   * while the assertion could still be valid (its `exp`, plus the allowed skew); older ones go.
   */
  admitAssertion(iss: string, jti: string, keepUntil: number): Result<null> {
    return attempt(() => {
      this.sql.exec('DELETE FROM used_assertions WHERE expires_at < ?', Date.now());
      const seen = this.sql.exec('SELECT 1 FROM used_assertions WHERE iss = ? AND jti = ?', iss, jti).toArray().length > 0;
      if (seen) throw new Failure('assertion_replayed', 'this assertion was used already: sign a new one with a new jti');
      this.sql.exec('INSERT INTO used_assertions (iss, jti, expires_at) VALUES (?, ?, ?)', iss, jti, keepUntil);
      return null;
    });
  }

  /** The account of a user of an orchestrator: found, or assigned now (one per pair, however many ask at once). */
  accountFor(iss: string, sub: string): { account_id: string; created: boolean } {
    const found = this.sql.exec<{ account_id: string }>('SELECT account_id FROM users WHERE iss = ? AND sub = ?', iss, sub).toArray()[0];
    if (found) return { account_id: found.account_id, created: false };
    const accountId = newId('acc');
    this.sql.exec('INSERT INTO users (iss, sub, account_id, created_at) VALUES (?, ?, ?, ?)', iss, sub, accountId, Date.now());
    return { account_id: accountId, created: true };
  }

  /** The accounts an orchestrator provisioned (to revoke its tokens when it is retired). */
  accountsOf(iss: string): string[] {
    return this.sql
      .exec<{ account_id: string }>('SELECT account_id FROM users WHERE iss = ? ORDER BY account_id', iss)
      .toArray()
      .map((r) => r.account_id);
  }

  /** Retires an orchestrator: it can no longer provision, and the tokens it minted stop working. Idempotent. */
  retireOrchestrator(id: string): Result<Orchestrator> {
    return attempt(() => {
      this.sql.exec('UPDATE orchestrators SET retired_at = ? WHERE id = ? AND retired_at IS NULL', Date.now(), id);
      const found = this.orchestrator(id);
      if (!found) throw notFound('orchestrator', id);
      return found;
    });
  }
}

/** Refusals cross RPC as data (RPC keeps only an Error's message). */
function attempt<T>(fn: () => T): Result<T> {
  try {
    return ok(fn());
  } catch (err) {
    if (err instanceof Failure) return fail(err);
    throw err;
  }
}
