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

export interface NewBranch {
  name?: string;
  protected?: boolean;
  expires_at?: string;
}

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
      await this.storage.fromTemplate(branch.id);
      const role = this.roleRec(branch, opts.role, password());
      await this.compute.lock(branch.id, async () => {
        await this.physical.renameRole(branch, TEMPLATE_ROLE, role.name);
        await this.physical.setPassword(branch, role.name, role.password);
        if (opts.database !== TEMPLATE_DATABASE) await this.physical.renameDatabase(branch, TEMPLATE_DATABASE, opts.database);
      });
      await this.store.put('role', role);
      await this.store.put('database', await this.databaseRec(branch, opts.database, role.name));
      return await this.ready(branch);
    } catch (err) {
      await this.dropBranchData(branch);
      await this.store.remove('branch', branch);
      throw err;
    }
  }

  async createChild(project: ProjectRec, parent: BranchRec, opts: NewBranch): Promise<BranchRec> {
    const branch = await this.newBranchRec(project, { ...opts, parent_id: parent.id });
    try {
      await this.snapshot(parent, branch.id);
      await this.inheritRecords(parent, branch);
      return await this.ready(branch);
    } catch (err) {
      await this.dropBranchData(branch);
      await this.store.remove('branch', branch);
      throw err;
    }
  }

  /**
   * The source's state now, as a new data directory named `intoId`: an online snapshot when its
   * compute runs (its sessions, even mid-transaction, are not touched), a plain clone at rest
   * otherwise. Under the source's lock, so it neither starts nor stops meanwhile.
   */
  private async snapshot(source: BranchRec, intoId: string) {
    await this.compute.lock(source.id, async () => {
      if (this.computes.isRunning(source.id)) {
        await this.computes.withClient(source, 'postgres', (c) => this.storage.snapshotOnline(source.id, intoId, c));
      } else {
        await this.storage.copyAtRest(source.id, intoId);
      }
    });
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
  async restore(project: ProjectRec, target: BranchRec, source: BranchRec, preserveUnderName?: string) {
    const oldRoles = this.store.rolesOf(target.id);
    const oldDbs = this.store.databasesOf(target.id);
    const incoming = `${target.id}.restoring`;
    await this.storage.remove(incoming);
    await this.snapshot(source, incoming);
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
