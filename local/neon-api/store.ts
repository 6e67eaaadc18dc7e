import pg from 'pg';
import type { Cluster } from '../postgres/cluster';
import type {
  BranchRec,
  DatabaseRec,
  EndpointRec,
  OperationRec,
  OrganizationRec,
  ProjectRec,
  RoleRec,
  TransferRequestRec,
  UsageBucket,
} from './model';

export const META_DATABASE = 'neon_local_meta';
const SCHEMA_VERSION = 2;

type Kind = 'project' | 'branch' | 'endpoint' | 'role' | 'database' | 'operation' | 'organization' | 'transfer';
type RecOf = {
  project: ProjectRec;
  branch: BranchRec;
  endpoint: EndpointRec;
  role: RoleRec;
  database: DatabaseRec;
  operation: OperationRec;
  organization: OrganizationRec;
  transfer: TransferRequestRec;
};
const keyOf = {
  project: (r: ProjectRec) => r.id,
  branch: (r: BranchRec) => r.id,
  endpoint: (r: EndpointRec) => r.id,
  role: (r: RoleRec) => `${r.branch_id}/${r.name}`,
  database: (r: DatabaseRec) => String(r.id),
  operation: (r: OperationRec) => r.id,
  organization: (r: OrganizationRec) => r.id,
  transfer: (r: TransferRequestRec) => r.id,
};

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE records (kind text NOT NULL, id text NOT NULL, data jsonb NOT NULL, PRIMARY KEY (kind, id));
    CREATE TABLE counters (name text PRIMARY KEY, value bigint NOT NULL);
    CREATE TABLE usage_hourly (
      branch_id text NOT NULL, hour timestamptz NOT NULL, project_id text NOT NULL,
      active_seconds double precision NOT NULL, compute_unit_seconds double precision NOT NULL,
      storage_bytes bigint NOT NULL, PRIMARY KEY (branch_id, hour));`,
  // Version 2: a data directory per branch (no records change shape in SQL; the check is below).
  2: `SELECT 1`,
};

/** Raised when the data folder holds projects of the one-shared-cluster layout (before version 2). */
export class OldLayoutError extends Error {}

/**
 * Metadata: every record in memory, written through to a dedicated database on the cluster.
 * All writes go through one connection in order, so a later write of a record never lands
 * before an earlier one.
 */
export class Store {
  readonly projects = new Map<string, ProjectRec>();
  readonly branches = new Map<string, BranchRec>();
  readonly endpoints = new Map<string, EndpointRec>();
  readonly roles = new Map<string, RoleRec>();
  readonly databases = new Map<string, DatabaseRec>();
  readonly operations = new Map<string, OperationRec>();
  readonly organizations = new Map<string, OrganizationRec>();
  readonly transfers = new Map<string, TransferRequestRec>();
  readonly usage = new Map<string, UsageBucket>();
  private counters = new Map<string, number>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly db: pg.Client) {}

  static async open(cluster: Cluster): Promise<Store> {
    const exists = await cluster.admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [META_DATABASE]);
    if (exists.rowCount === 0) {
      await cluster.admin.query(`CREATE DATABASE ${META_DATABASE}`);
      await cluster.admin.query(`REVOKE ALL ON DATABASE ${META_DATABASE} FROM PUBLIC`);
    }
    const db = await cluster.connect(META_DATABASE);
    db.on('error', () => {
      // Reported by the next query on it.
    });
    await db.query('CREATE TABLE IF NOT EXISTS schema_version (version int NOT NULL)');
    const current = (await db.query('SELECT max(version) AS v FROM schema_version')).rows[0].v ?? 0;
    if (current === 1 && (await db.query("SELECT 1 FROM records WHERE kind = 'branch' LIMIT 1")).rowCount) {
      await db.end().catch(() => {});
      throw new OldLayoutError(
        'this data folder was made by an earlier local stack, whose branches lived in one shared cluster; they cannot be carried over to a data directory per branch. Move the folder away (or set DBLEASE_LOCAL_DATA) and start again',
      );
    }
    for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
      await db.query('BEGIN');
      await db.query(MIGRATIONS[v]);
      await db.query('INSERT INTO schema_version VALUES ($1)', [v]);
      await db.query('COMMIT');
    }
    const store = new Store(db);
    await store.load();
    return store;
  }

  private async load() {
    for (const row of (await this.db.query('SELECT kind, id, data FROM records')).rows) this.mapOf(row.kind as Kind)?.set(row.id, row.data);
    for (const row of (await this.db.query('SELECT name, value FROM counters')).rows) this.counters.set(row.name, Number(row.value));
    for (const row of (await this.db.query('SELECT * FROM usage_hourly')).rows) {
      const bucket: UsageBucket = {
        project_id: row.project_id,
        branch_id: row.branch_id,
        hour: new Date(row.hour).toISOString(),
        active_seconds: row.active_seconds,
        compute_unit_seconds: row.compute_unit_seconds,
        storage_bytes: Number(row.storage_bytes),
      };
      this.usage.set(`${bucket.branch_id}/${bucket.hour}`, bucket);
    }
  }

  private write<T>(text: string, values: unknown[]): Promise<T> {
    const run = this.queue.then(() => this.db.query(text, values));
    this.queue = run.catch(() => {});
    return run as Promise<T>;
  }

  /** Next value of a persisted counter (ids, endpoint addresses, list order). */
  async next(name: string): Promise<number> {
    const value = (this.counters.get(name) ?? 0) + 1;
    this.counters.set(name, value);
    await this.write('INSERT INTO counters VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, value]);
    return value;
  }

  put<K extends Kind>(kind: K, rec: RecOf[K]): Promise<void> {
    const id = (keyOf[kind] as (r: RecOf[K]) => string)(rec);
    this.mapOf(kind).set(id, rec);
    return this.write('INSERT INTO records VALUES ($1, $2, $3) ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data', [
      kind,
      id,
      JSON.stringify(rec),
    ]);
  }

  remove<K extends Kind>(kind: K, rec: RecOf[K]): Promise<void> {
    const id = (keyOf[kind] as (r: RecOf[K]) => string)(rec);
    this.mapOf(kind).delete(id);
    return this.write('DELETE FROM records WHERE kind = $1 AND id = $2', [kind, id]);
  }

  putUsage(buckets: UsageBucket[]): Promise<void> {
    if (buckets.length === 0) return Promise.resolve();
    return this.write(
      `INSERT INTO usage_hourly (branch_id, hour, project_id, active_seconds, compute_unit_seconds, storage_bytes)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(branch_id text, hour timestamptz, project_id text,
         active_seconds double precision, compute_unit_seconds double precision, storage_bytes bigint)
       ON CONFLICT (branch_id, hour) DO UPDATE SET active_seconds = excluded.active_seconds,
         compute_unit_seconds = excluded.compute_unit_seconds, storage_bytes = excluded.storage_bytes`,
      [JSON.stringify(buckets)],
    );
  }

  private mapOf<K extends Kind>(kind: K): Map<string, RecOf[K]> {
    return (
      {
        project: this.projects,
        branch: this.branches,
        endpoint: this.endpoints,
        role: this.roles,
        database: this.databases,
        operation: this.operations,
        organization: this.organizations,
        transfer: this.transfers,
      } as unknown as Record<K, Map<string, RecOf[K]>>
    )[kind];
  }

  branchesOf(projectId: string) {
    return [...this.branches.values()].filter((b) => b.project_id === projectId);
  }
  endpointsOf(projectId: string) {
    return [...this.endpoints.values()].filter((e) => e.project_id === projectId);
  }
  endpointsOfBranch(branchId: string) {
    return [...this.endpoints.values()].filter((e) => e.branch_id === branchId);
  }
  rolesOf(branchId: string) {
    return [...this.roles.values()].filter((r) => r.branch_id === branchId);
  }
  databasesOf(branchId: string) {
    return [...this.databases.values()].filter((d) => d.branch_id === branchId).sort((a, b) => a.id - b.id);
  }
  role(branchId: string, name: string) {
    return this.rolesOf(branchId).find((r) => r.name === name);
  }
  database(branchId: string, name: string) {
    return this.databasesOf(branchId).find((d) => d.name === name);
  }
  endpointByIp(ip: string) {
    return [...this.endpoints.values()].find((e) => e.ip === ip);
  }

  async close() {
    await this.queue;
    await this.db.end().catch(() => {});
  }
}
