import type { LocalStackConfig } from '../config';
import type { BranchStorage } from '../postgres/storage';
import { TEMPLATE_DATABASE, TEMPLATE_ROLE } from '../postgres/template';
import type { Compute } from './compute';
import type { Computes } from './computes';
import { now, type BranchRec, type DatabaseRec, type ProjectRec, type RoleRec } from './model';
import { branchId, password } from './names';
import type { Operations } from './operations';
import type { Physical } from './physical';
import type { Provision } from './provision';
import type { Store } from './store';

/** Up to this much archived WAL, a branch of "now" is a replay onto a template clone rather than a copy. */
const REPLAY_LIMIT_BYTES = 32 * 2 ** 20;

export interface NewBranch {
  name?: string;
  protected?: boolean;
  expires_at?: string;
}

/** A point in a branch's history: Neon's `parent_timestamp` / `parent_lsn` (checked by the caller). */
export type HistoryPoint = { timestamp: string } | { lsn: string };

/**
 * Branches as Neon has them: each one its own data directory, a copy-on-write snapshot of its
 * parent (or of the project template), so roles, passwords, grants, ownership and policies come
 * with it exactly and diverge afterwards. ARCHITECTURE.md, "Local stack".
 */
export class Branching {
  constructor(
    private readonly config: LocalStackConfig,
    private readonly store: Store,
    private readonly ops: Operations,
    private readonly storage: BranchStorage,
    private readonly computes: Computes,
    private readonly physical: Physical,
    private readonly compute: Compute,
    private readonly provision: Provision,
  ) {}

  private async newBranchRec(project: ProjectRec, fields: Partial<BranchRec> & { name?: string }): Promise<BranchRec> {
    const at = now();
    const id = branchId();
    const rec: BranchRec = {
      id,
      project_id: project.id,
      name: fields.name ?? id,
      default: false,
      protected: false,
      current_state: 'init',
      created_at: at,
      updated_at: at,
      seq: await this.store.next('branch'),
      ...fields,
    } as BranchRec;
    if (!fields.name) rec.name = rec.id;
    await this.store.put('branch', rec);
    return rec;
  }

  private roleRec(branch: BranchRec, name: string, pw: string): RoleRec {
    const at = now();
    return { project_id: branch.project_id, branch_id: branch.id, name, password: pw, protected: false, created_at: at, updated_at: at };
  }

  private async databaseRec(branch: BranchRec, name: string, owner: string): Promise<DatabaseRec> {
    const at = now();
    return {
      id: await this.store.next('database'),
      project_id: branch.project_id,
      branch_id: branch.id,
      name,
      owner_name: owner,
      created_at: at,
      updated_at: at,
    };
  }

  async newRole(branch: BranchRec, name: string, pw = password()): Promise<RoleRec> {
    const role = this.roleRec(branch, name, pw);
    await this.physical.createRole(branch, name, pw);
    await this.store.put('role', role);
    return role;
  }

  async newDatabase(branch: BranchRec, name: string, owner: RoleRec): Promise<DatabaseRec> {
    const db = await this.databaseRec(branch, name, owner.name);
    await this.physical.createDatabase(branch, name, owner.name);
    await this.store.put('database', db);
    return db;
  }

  /**
   * The project's first branch: a clone of the template, whose owner role and database are
   * renamed to the ones asked for and given a fresh password. Its compute is left running for
   * the endpoint that starts next.
   */
  async createRoot(project: ProjectRec, opts: { name: string; role: string; database: string }): Promise<BranchRec> {
    const branch = await this.newBranchRec(project, { name: opts.name, default: true });
    try {
      await this.storage.prepareArchive(project.id);
      await this.storage.fromTemplate(branch.id);
      const role = this.roleRec(branch, opts.role, password());
      await this.compute.lock(branch.id, async () => {
        await this.physical.renameRole(branch, TEMPLATE_ROLE, role.name);
        await this.physical.setPassword(branch, role.name, role.password);
        if (opts.database !== TEMPLATE_DATABASE) await this.physical.renameDatabase(branch, TEMPLATE_DATABASE, opts.database);
      });
      await this.store.put('role', role);
      await this.store.put('database', await this.databaseRec(branch, opts.database, role.name));
      branch.start_lsn = await this.currentLsn(branch);
      return await this.ready(branch);
    } catch (err) {
      await this.dropBranchData(branch);
      await this.store.remove('branch', branch);
      throw err;
    }
  }

  async createChild(project: ProjectRec, parent: BranchRec, opts: NewBranch, at?: HistoryPoint): Promise<BranchRec> {
    const branch = await this.newBranchRec(project, { ...opts, parent_id: parent.id });
    try {
      const target = await this.copyOf(parent, branch.id, at);
      await this.inheritRecords(parent, branch);
      await this.promote(branch, target);
      if (at) await this.reconcileRecords(branch);
      return await this.ready(branch);
    } catch (err) {
      await this.dropBranchData(branch);
      await this.store.remove('branch', branch);
      throw err;
    }
  }

  /**
   * The source's state, now or at a point of its history, as a new data directory named
   * `intoId`; answers the recovery target its first start must reach. Now: an online snapshot
   * (or a clone at rest), recovered to consistency. A point: the template, recovered through
   * the project's archived WAL to that point on the source's timeline.
   */
  private async copyOf(source: BranchRec, intoId: string, at?: HistoryPoint): Promise<Record<string, string>> {
    // Without reflinks a copy costs a file per relation (about a thousand), where replaying a
    // young project's history onto a template clone made ahead costs a few segments: now is
    // then a point like any other, the end of the source's WAL (README, "Disk and durability").
    const replayNow = !at && !this.storage.reflink && (await this.storage.archiveBytes(source.project_id)) <= REPLAY_LIMIT_BYTES;
    if (!at && !replayNow) {
      await this.snapshot(source, intoId);
      // On the source's own timeline: "latest" would follow a sibling branch's newer one.
      return { recovery_target: 'immediate', recovery_target_timeline: 'current' };
    }
    const { tli, file, lsn } = await this.compute.lock(source.id, () =>
      this.computes.withClient(source, 'postgres', async (c) => {
        // A commit after any point up to now, so a target time of "a moment ago" is reached;
        // then the segment holding it is finished and archived.
        await c.query('SELECT txid_current()');
        const r = await c.query(
          'SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) AS tli, pg_current_wal_lsn()::text AS lsn, pg_walfile_name(pg_switch_wal()) AS file',
        );
        return r.rows[0] as { tli: string; file: string; lsn: string };
      }),
    );
    await this.storage.waitArchived(source.project_id, file);
    await this.storage.fromTemplate(intoId);
    const timeline = String(parseInt(tli, 16));
    if (!at) return { recovery_target_timeline: timeline, recovery_target_lsn: lsn };
    return 'timestamp' in at
      ? // PostgreSQL reads this setting without ISO 8601's T and Z.
        { recovery_target_timeline: timeline, recovery_target_time: at.timestamp.replace('T', ' ').replace('Z', '+00') }
      : { recovery_target_timeline: timeline, recovery_target_lsn: at.lsn };
  }

  /**
   * A new data directory's first start: recovery to `target`, then promotion to a timeline of
   * its own (whose history file must be archived before another branch of the project may pick
   * a timeline). The compute is left running.
   */
  private async promote(branch: BranchRec, target: Record<string, string>) {
    await this.storage.prepareRecovery(branch.id, target);
    await this.computes.ensureRunning(branch);
    const tli: string = await this.computes.withClient(branch, 'postgres', async (c) => {
      return (await c.query('SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) AS tli')).rows[0].tli;
    });
    await this.storage.waitArchived(branch.project_id, `${tli}.history`);
    await this.storage.clearRecovery(branch.id);
    branch.start_lsn = await this.currentLsn(branch);
  }

  private currentLsn(branch: BranchRec): Promise<string> {
    return this.computes.withClient(
      branch,
      'postgres',
      async (c) => (await c.query('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn,
    );
  }

  /** The branch's current WAL position, for checking a `parent_lsn` against its history. */
  lsnNow(branch: BranchRec): Promise<string> {
    return this.compute.lock(branch.id, () => this.currentLsn(branch));
  }

  /**
   * After a recovery to the past, roles and databases made since are not there: the records
   * follow what the branch really holds, and its roles get the passwords the API shows.
   */
  private async reconcileRecords(branch: BranchRec) {
    const { roles, dbs } = await this.computes.withClient(branch, 'postgres', async (c) => ({
      roles: new Set((await c.query('SELECT rolname FROM pg_roles')).rows.map((r) => r.rolname as string)),
      dbs: new Set((await c.query('SELECT datname FROM pg_database')).rows.map((r) => r.datname as string)),
    }));
    for (const r of this.store.rolesOf(branch.id)) {
      if (roles.has(r.name)) await this.physical.setPassword(branch, r.name, r.password);
      else await this.store.remove('role', r);
    }
    for (const d of this.store.databasesOf(branch.id)) if (!dbs.has(d.name)) await this.store.remove('database', d);
  }

  /**
   * The source's state now, as a new data directory named `intoId`: an online snapshot taken
   * while its compute serves (its sessions, even mid-transaction, are not touched). A stopped
   * source is started for it: the snapshot's backup label is what lets the copy recover to a
   * consistent point and leave the source's timeline. Under the source's lock, so it neither
   * starts nor stops meanwhile.
   */
  private async snapshot(source: BranchRec, intoId: string) {
    await this.compute.lock(source.id, () =>
      this.computes.withClient(source, 'postgres', (c) => this.storage.snapshotOnline(source.id, intoId, c)),
    );
  }

  /** The copy carries the source's roles and databases physically; the API learns of them here. */
  private async inheritRecords(source: BranchRec, target: BranchRec, keepPasswords = new Map<string, string>()) {
    for (const r of this.store.rolesOf(source.id)) {
      await this.store.put('role', { ...this.roleRec(target, r.name, keepPasswords.get(r.name) ?? r.password), protected: r.protected });
    }
    for (const d of this.store.databasesOf(source.id))
      await this.store.put('database', await this.databaseRec(target, d.name, d.owner_name));
  }

  private async ready(branch: BranchRec) {
    branch.current_state = 'ready';
    branch.updated_at = now();
    await this.store.put('branch', branch);
    return branch;
  }

  /** Stops a branch's compute, removes its data directory and forgets its roles and databases. */
  private async dropBranchData(branch: BranchRec) {
    await this.computes.stop(branch.id);
    await this.storage.remove(branch.id);
    for (const db of this.store.databasesOf(branch.id)) await this.store.remove('database', db);
    for (const role of this.store.rolesOf(branch.id)) await this.store.remove('role', role);
  }

  /** Deletes a branch with its endpoints and data. The caller checks Neon's refusals first. */
  async deleteBranch(branch: BranchRec) {
    for (const ep of this.store.endpointsOfBranch(branch.id)) await this.provision.deleteEndpoint(ep);
    await this.compute.lock(branch.id, () => this.dropBranchData(branch));
    await this.store.remove('branch', branch);
  }

  /**
   * Restore to the head of another branch. The target keeps its id, endpoints and role
   * passwords (so its connection strings stay valid); its data becomes a snapshot of the
   * source's. Its compute restarts, which ends its sessions. The old data either becomes the
   * `preserveUnderName` branch (taking over the target's children, as Neon does) or is dropped.
   */
  async restore(project: ProjectRec, target: BranchRec, source: BranchRec, preserveUnderName?: string, at?: HistoryPoint) {
    const oldRoles = this.store.rolesOf(target.id);
    const oldDbs = this.store.databasesOf(target.id);
    const incoming = `${target.id}.restoring`;
    await this.storage.remove(incoming);
    const recoveryTarget = await this.copyOf(source, incoming, at);
    let preserved: BranchRec | undefined;
    await this.compute.lock(target.id, async () => {
      await this.computes.stop(target.id);
      for (const r of oldRoles) await this.store.remove('role', r);
      if (preserveUnderName) {
        preserved = await this.newBranchRec(project, { name: preserveUnderName, parent_id: target.parent_id });
        await this.storage.move(target.id, preserved.id);
        for (const r of oldRoles) await this.store.put('role', { ...r, branch_id: preserved.id });
        // A database record is keyed by its id, so this moves it.
        for (const d of oldDbs) await this.store.put('database', { ...d, branch_id: preserved.id });
        await this.ready(preserved);
      } else {
        await this.storage.remove(target.id);
        for (const d of oldDbs) await this.store.remove('database', d);
      }
      await this.storage.move(incoming, target.id);
      await this.inheritRecords(source, target, new Map(oldRoles.map((r) => [r.name, r.password])));
      await this.promote(target, recoveryTarget);
      if (at) await this.reconcileRecords(target);
      // The copy holds the source's passwords; the target's own come back where names match.
      for (const r of this.store.rolesOf(target.id)) {
        const mine = oldRoles.find((o) => o.name === r.name);
        if (mine && mine.password !== this.store.role(source.id, r.name)?.password)
          await this.physical.setPassword(target, r.name, r.password);
      }
    });
    if (preserved) {
      for (const child of this.store.branchesOf(project.id)) {
        if (child.parent_id === target.id && child.id !== preserved.id)
          await this.store.put('branch', { ...child, parent_id: preserved.id });
      }
    }
    target.last_reset_at = now();
    target.updated_at = target.last_reset_at;
    await this.store.put('branch', target);
    return preserved;
  }

  /** Neon deletes expired branches in the background; so does this, every tick. */
  async expireDue() {
    const at = Date.now();
    for (const branch of [...this.store.branches.values()]) {
      if (!branch.expires_at || Date.parse(branch.expires_at) > at || this.ops.busy(branch.project_id)) continue;
      await this.ops
        .exclusive(branch.project_id, async () => {
          const op = await this.ops.begin(branch.project_id, 'delete_timeline', { branch_id: branch.id });
          await this.ops.track(op, () => this.deleteBranch(branch));
        })
        .catch((err) => this.config.log(`neon-api: expiring branch ${branch.id} failed: ${err.message}`));
    }
  }

  /** Cleans what a crash left half-made: branches still in `init`, data folders nobody owns. */
  async recover() {
    await this.storage.removeUnknown(new Set(this.store.branches.keys()));
    for (const branch of [...this.store.branches.values()]) {
      if (branch.current_state === 'init' || !(await this.storage.exists(branch.id))) {
        if (branch.current_state !== 'init') this.config.log(`neon-api: branch ${branch.id} has no data directory; it is removed`);
        for (const ep of this.store.endpointsOfBranch(branch.id)) await this.store.remove('endpoint', ep);
        await this.dropBranchData(branch);
        await this.store.remove('branch', branch);
      }
    }
  }
}
