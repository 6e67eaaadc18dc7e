import type { PoolEntry } from '../src/neon/pool-entry';

/**
 * The warm pool's SQLite tables (durable-objects/SCHEMA.md, "The warm pool"). Plain SQL: small
 * tables, and every statement here is synchronous, which is what makes `claim` atomic inside the
 * Durable Object. `password_sealed` is the entry role's password sealed under the Worker's key
 * (never plain text); a row leaves the table, password and all, in the same statement that
 * hands it out.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS pool_entries (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('filling', 'ready')),
  account_id TEXT,
  project_id TEXT,
  branch_id TEXT,
  endpoint_id TEXT,
  role_name TEXT,
  database_name TEXT,
  uri_template TEXT,
  pooled_uri_template TEXT,
  created_at INTEGER NOT NULL,
  ready_at INTEGER,
  password_sealed TEXT,
  proven_at INTEGER,
  awake INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS pool_entries_ready ON pool_entries (state, ready_at);
CREATE TABLE IF NOT EXISTS pool_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pool_claims (
  project_id TEXT PRIMARY KEY,
  provider_account TEXT NOT NULL,
  claimed_by_account TEXT NOT NULL,
  claimed_by_db TEXT NOT NULL,
  claimed_at INTEGER NOT NULL
);
`;

/**
 * How long the pool remembers who claimed a project: far longer than any create saga lives, so
 * reconciliation can always tell whose a `dblease-pool-` project is while its record may still
 * lack the id (the project keeps its pool name; the record is what points at it afterwards).
 */
export const CLAIM_MEMORY_MS = 24 * 3_600_000;

/** Who took a pool project (a database being created), and when. */
export interface PoolClaim {
  projectId: string;
  providerAccount: string;
  accountId: string;
  dbId: string;
  claimedAt: number;
}

/**
 * Columns added after the first version, for pools created before them (a CREATE TABLE IF NOT
 * EXISTS leaves an existing table as it was). Entries from before have no sealed password: they
 * are never handed out, and the next refill deletes their projects (`legacyEntries`).
 */
const ADDED_COLUMNS = ['password_sealed TEXT', 'proven_at INTEGER', 'awake INTEGER NOT NULL DEFAULT 0'];
const SCHEMA_VERSION = '3';

type Row = Record<string, SqlStorageValue>;

function toEntry(row: Row): PoolEntry {
  return {
    id: String(row.id),
    accountId: String(row.account_id),
    projectId: String(row.project_id),
    branchId: String(row.branch_id),
    endpointId: String(row.endpoint_id),
    roleName: String(row.role_name),
    databaseName: String(row.database_name),
    uriTemplate: String(row.uri_template),
    pooledUriTemplate: String(row.pooled_uri_template),
    passwordSealed: String(row.password_sealed),
    provenAt: Number(row.proven_at),
    awake: Number(row.awake) === 1,
  };
}

/** Ready rows that can be handed out: filled with sealed credentials (not left from before them). */
const USABLE = `state = 'ready' AND password_sealed IS NOT NULL`;

export class PoolStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
    if (this.getMeta('schema_version') !== SCHEMA_VERSION) {
      for (const column of ADDED_COLUMNS) {
        try {
          sql.exec(`ALTER TABLE pool_entries ADD COLUMN ${column}`);
        } catch (err) {
          // A table made by this version's CREATE TABLE has the column already.
          if (!/duplicate column/i.test(String(err))) throw err;
        }
      }
      this.setMeta('schema_version', SCHEMA_VERSION);
    }
  }

  /** Entries being filled, or ready to hand out (rows left from before sealed credentials do not count). */
  count(state: 'filling' | 'ready'): number {
    const where = state === 'ready' ? USABLE : `state = 'filling'`;
    return Number(this.sql.exec(`SELECT count(*) AS n FROM pool_entries WHERE ${where}`).one().n);
  }

  /** Entries, filling or ready, whose compute is kept running (DBLEASE_WARM_POOL_AWAKE). */
  countAwake(): number {
    return Number(this.sql.exec(`SELECT count(*) AS n FROM pool_entries WHERE awake = 1 AND (state = 'filling' OR ${USABLE})`).one().n);
  }

  /** The oldest proof of a ready awake entry, or null: when the next keep-awake proof is owed. */
  oldestAwakeProof(): number | null {
    const p = this.sql.exec(`SELECT min(proven_at) AS p FROM pool_entries WHERE awake = 1 AND ${USABLE}`).one().p;
    return p === null ? null : Number(p);
  }

  /** Ready entries whose compute is kept running, for their keep-awake proofs. */
  awakeEntries(): PoolEntry[] {
    return this.sql.exec(`SELECT * FROM pool_entries WHERE awake = 1 AND ${USABLE}`).toArray().map(toEntry);
  }

  /** A new proof of a ready entry; nothing if it was claimed meanwhile. */
  setProven(id: string, provenAt: number): void {
    this.sql.exec(`UPDATE pool_entries SET proven_at = ? WHERE id = ? AND state = 'ready'`, provenAt, id);
  }

  /** Takes one ready entry out by id (one whose proof failed); null if a claim took it first. */
  takeById(id: string): PoolEntry | null {
    const rows = this.sql.exec(`DELETE FROM pool_entries WHERE id = ? AND ${USABLE} RETURNING *`, id).toArray();
    return rows.length > 0 ? toEntry(rows[0]) : null;
  }

  /**
   * Takes a ready entry out of the pool (its sealed password leaves with the row), one whose
   * compute is awake first, else the oldest; null when there is none. With a claimant, the claim
   * is remembered in the same synchronous step, so the project is never nobody's.
   */
  take(claimant?: { accountId: string; dbId: string }, now = Date.now()): PoolEntry | null {
    const rows = this.sql
      .exec(
        `DELETE FROM pool_entries WHERE id = (
           SELECT id FROM pool_entries WHERE ${USABLE} ORDER BY awake DESC, ready_at, id LIMIT 1
         ) RETURNING *`,
      )
      .toArray();
    const entry = rows.length > 0 ? toEntry(rows[0]) : null;
    if (entry && claimant) {
      this.sql.exec('DELETE FROM pool_claims WHERE claimed_at < ?', now - CLAIM_MEMORY_MS);
      this.sql.exec(
        'INSERT OR REPLACE INTO pool_claims (project_id, provider_account, claimed_by_account, claimed_by_db, claimed_at) VALUES (?, ?, ?, ?, ?)',
        entry.projectId,
        entry.accountId,
        claimant.accountId,
        claimant.dbId,
        now,
      );
    }
    return entry;
  }

  /** Claims remembered (the last CLAIM_MEMORY_MS), for reconciliation. */
  claims(): PoolClaim[] {
    return this.sql
      .exec('SELECT * FROM pool_claims ORDER BY claimed_at')
      .toArray()
      .map((r) => ({
        projectId: String(r.project_id),
        providerAccount: String(r.provider_account),
        accountId: String(r.claimed_by_account),
        dbId: String(r.claimed_by_db),
        claimedAt: Number(r.claimed_at),
      }));
  }

  /** Forgets a claim whose project was deleted (an entry that failed its re-proof). */
  forgetClaim(projectId: string): void {
    this.sql.exec('DELETE FROM pool_claims WHERE project_id = ?', projectId);
  }

  /** Ready rows from before sealed credentials: they can never be handed out. */
  legacyEntries(): { id: string; projectId: string; accountId: string }[] {
    return this.sql
      .exec(`SELECT id, project_id, account_id FROM pool_entries WHERE state = 'ready' AND password_sealed IS NULL`)
      .toArray()
      .map((r) => ({ id: String(r.id), projectId: String(r.project_id), accountId: String(r.account_id) }));
  }

  /** A re-sealed password (a key rotation), written only if the row still holds what was read. */
  replaceSeal(id: string, was: string, sealed: string): void {
    this.sql.exec('UPDATE pool_entries SET password_sealed = ? WHERE id = ? AND password_sealed = ?', sealed, id, was);
  }

  /** Puts a claimed entry back (its claimer could not make it usable). */
  putBack(entry: PoolEntry, now: number): void {
    this.sql.exec('DELETE FROM pool_claims WHERE project_id = ?', entry.projectId);
    this.sql.exec('DELETE FROM pool_entries WHERE id = ?', entry.id);
    this.insertReady(entry, now);
  }

  /** A fill begins; `awake` says whether its compute is to be kept running once it is ready. */
  startFilling(id: string, now: number, awake: boolean): void {
    this.sql.exec(`INSERT INTO pool_entries (id, state, created_at, awake) VALUES (?, 'filling', ?, ?)`, id, now, awake ? 1 : 0);
  }

  /** Records the project as soon as it exists, so a crash leaves a trace of it. */
  noteProject(id: string, projectId: string, accountId: string): void {
    this.sql.exec('UPDATE pool_entries SET project_id = ?, account_id = ? WHERE id = ?', projectId, accountId, id);
  }

  finishFilling(entry: PoolEntry, now: number): void {
    this.sql.exec('DELETE FROM pool_entries WHERE id = ?', entry.id);
    this.insertReady(entry, now);
  }

  forget(id: string): void {
    this.sql.exec('DELETE FROM pool_entries WHERE id = ?', id);
  }

  /** Rows in `filling` that no fill of this incarnation owns (it was evicted or crashed mid-fill). */
  strandedFills(live: ReadonlySet<string>): { id: string; projectId: string | null; accountId: string | null }[] {
    return this.sql
      .exec(`SELECT id, project_id, account_id FROM pool_entries WHERE state = 'filling'`)
      .toArray()
      .filter((r) => !live.has(String(r.id)))
      .map((r) => ({
        id: String(r.id),
        projectId: r.project_id === null ? null : String(r.project_id),
        accountId: r.account_id === null ? null : String(r.account_id),
      }));
  }

  /** Every project the pool holds or is building, for reconciliation. */
  projects(): { projectId: string; accountId: string; state: string }[] {
    return this.sql
      .exec('SELECT project_id, account_id, state FROM pool_entries WHERE project_id IS NOT NULL')
      .toArray()
      .map((r) => ({ projectId: String(r.project_id), accountId: String(r.account_id), state: String(r.state) }));
  }

  readyEntries(): PoolEntry[] {
    return this.sql.exec(`SELECT * FROM pool_entries WHERE ${USABLE}`).toArray().map(toEntry);
  }

  /** Projects per provider account, for least-loaded placement of the next fill. */
  loadByAccount(): Record<string, number> {
    const load: Record<string, number> = {};
    for (const r of this.sql.exec('SELECT account_id, count(*) AS n FROM pool_entries WHERE account_id IS NOT NULL GROUP BY account_id')) {
      load[String(r.account_id)] = Number(r.n);
    }
    return load;
  }

  getMeta(key: string): string | undefined {
    const rows = this.sql.exec('SELECT value FROM pool_meta WHERE key = ?', key).toArray();
    return rows.length > 0 ? String(rows[0].value) : undefined;
  }

  setMeta(key: string, value: string | null): void {
    if (value === null) this.sql.exec('DELETE FROM pool_meta WHERE key = ?', key);
    else
      this.sql.exec('INSERT INTO pool_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value);
  }

  private insertReady(e: PoolEntry, now: number): void {
    this.sql.exec(
      `INSERT INTO pool_entries (id, state, account_id, project_id, branch_id, endpoint_id, role_name, database_name,
         uri_template, pooled_uri_template, created_at, ready_at, password_sealed, proven_at, awake)
       VALUES (?, 'ready', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      e.id,
      e.accountId,
      e.projectId,
      e.branchId,
      e.endpointId,
      e.roleName,
      e.databaseName,
      e.uriTemplate,
      e.pooledUriTemplate,
      now,
      now,
      e.passwordSealed,
      e.provenAt,
      e.awake ? 1 : 0,
    );
  }
}
