import { API_ROLE_ATTRIBUTES } from '../postgres/template';
import type { Computes } from './computes';
import type { BranchRec } from './model';

export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * Superuser actions on one branch's compute, which is started for them if it is not running
 * (as Neon applies a change to a branch's compute). Names are the real ones: roles and
 * databases belong to the branch's own cluster.
 */
export class Physical {
  constructor(private readonly computes: Computes) {}

  private sql(branch: BranchRec, text: string, values?: unknown[]) {
    return this.computes.withClient(branch, 'postgres', (c) => c.query(text, values));
  }

  /** As Neon makes them: members of neon_superuser (template.ts says what it may do). */
  async createRole(branch: BranchRec, role: string, password: string | undefined) {
    const login = password === undefined ? 'NOLOGIN' : `LOGIN PASSWORD ${literal(password)}`;
    await this.sql(branch, `CREATE ROLE ${ident(role)} ${login} ${API_ROLE_ATTRIBUTES} IN ROLE neon_superuser`);
  }

  async setPassword(branch: BranchRec, role: string, password: string) {
    await this.sql(branch, `ALTER ROLE ${ident(role)} LOGIN PASSWORD ${literal(password)}`);
  }

  async renameRole(branch: BranchRec, from: string, to: string) {
    if (from !== to) await this.sql(branch, `ALTER ROLE ${ident(from)} RENAME TO ${ident(to)}`);
  }

  /**
   * Drops a role: its objects in every database go to that database's owner and its grants go,
   * as REASSIGN OWNED and DROP OWNED do per database; then its sessions end.
   */
  async dropRole(branch: BranchRec, role: string) {
    const dbs = await this.sql(branch, `SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datallowconn`);
    for (const { datname, owner } of dbs.rows as { datname: string; owner: string }[]) {
      await this.computes.withClient(branch, datname, async (c) => {
        if (owner !== role) await c.query(`REASSIGN OWNED BY ${ident(role)} TO ${ident(owner)}`);
        await c.query(`DROP OWNED BY ${ident(role)}`);
      });
    }
    await this.sql(branch, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
    await this.sql(branch, `DROP ROLE IF EXISTS ${ident(role)}`);
  }

  async createDatabase(branch: BranchRec, db: string, owner: string) {
    await this.sql(branch, `CREATE DATABASE ${ident(db)} OWNER ${ident(owner)}`);
  }

  async setOwner(branch: BranchRec, db: string, owner: string) {
    await this.sql(branch, `ALTER DATABASE ${ident(db)} OWNER TO ${ident(owner)}`);
  }

  /** PostgreSQL renames only a database nobody is connected to: its sessions end first. */
  async renameDatabase(branch: BranchRec, from: string, to: string) {
    if (from === to) return;
    await this.sql(branch, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [from]);
    await this.sql(branch, `ALTER DATABASE ${ident(from)} RENAME TO ${ident(to)}`);
  }

  async dropDatabase(branch: BranchRec, db: string) {
    await this.sql(branch, `DROP DATABASE IF EXISTS ${ident(db)} WITH (FORCE)`);
  }

  /** Logical size of the named databases, read from a running compute only (null otherwise). */
  async sizes(branch: BranchRec, dbs: string[]): Promise<number | null> {
    if (!this.computes.isRunning(branch.id)) return null;
    const r = await this.sql(
      branch,
      'SELECT coalesce(sum(pg_database_size(oid)), 0)::bigint AS size FROM pg_database WHERE datname = ANY($1)',
      [dbs],
    );
    return Number(r.rows[0].size);
  }

  /** The SCRAM secret of a role that may log in through an endpoint (hooks.ts, roleSecret). */
  async loginSecret(branch: BranchRec, role: string): Promise<string | undefined> {
    const r = await this.sql(
      branch,
      `SELECT rolpassword FROM pg_authid
        WHERE rolname = $1 AND rolcanlogin AND NOT rolsuper AND (rolvaliduntil IS NULL OR rolvaliduntil > now())`,
      [role],
    );
    return r.rows[0]?.rolpassword ?? undefined;
  }
}
