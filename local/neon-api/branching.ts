import type { LocalStackConfig } from '../config';
import type { ProxyConnections } from '../hooks';
import type { Compute } from './compute';
import { now, type BranchRec, type DatabaseRec, type ProjectRec, type RoleRec } from './model';
import { branchId, password, physicalKey, physicalName } from './names';
import type { Operations } from './operations';
import type { Physical } from './physical';
import type { Provision } from './provision';
import type { Store } from './store';

export interface NewBranch {
  name?: string;
  protected?: boolean;
  expires_at?: string;
}

/** Branches as real copies: their roles, their databases, and what happens on delete and restore. */
export class Branching {
  constructor(
    private readonly config: LocalStackConfig,
    private readonly store: Store,
    private readonly ops: Operations,
    private readonly physical: Physical,
    private readonly compute: Compute,
    private readonly provision: Provision,
    private readonly proxy: ProxyConnections,
  ) {}

  private async newBranchRec(project: ProjectRec, fields: Partial<BranchRec> & { name?: string }): Promise<BranchRec> {
    const at = now();
    const id = branchId();
    const rec: BranchRec = {
      id,
      project_id: project.id,
      name: fields.name ?? id,
      key: physicalKey(),
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

  async newRole(branch: BranchRec, name: string, pw = password()): Promise<RoleRec> {
    const at = now();
    const role: RoleRec = {
      project_id: branch.project_id,
      branch_id: branch.id,
      name,
      physical: physicalName(name, branch.key),
      password: pw,
      protected: false,
      created_at: at,
      updated_at: at,
    };
    await this.physical.createRole(role.physical, role.password);
    await this.store.put('role', role);
    return role;
  }

  async newDatabase(branch: BranchRec, name: string, owner: RoleRec, template?: DatabaseRec): Promise<DatabaseRec> {
    const at = now();
    const db: DatabaseRec = {
      id: await this.store.next('database'),
      project_id: branch.project_id,
      branch_id: branch.id,
      name,
      physical: physicalName(name, branch.key),
      owner_name: owner.name,
      created_at: at,
      updated_at: at,
    };
    await this.physical.createDatabase(db.physical, owner.physical, template?.physical);
    await this.store.put('database', db);
    return db;
  }

  /** The project's first branch, with its owner role and database. Closed until an endpoint starts. */
  async createRoot(project: ProjectRec, opts: { name: string; role: string; database: string }): Promise<BranchRec> {
    const branch = await this.newBranchRec(project, { name: opts.name, default: true });
    try {
      const role = await this.newRole(branch, opts.role);
      const db = await this.newDatabase(branch, opts.database, role);
      await this.physical.grantConnect([db.physical], [role.physical]);
      await this.physical.setAllowConnections([db.physical], false);
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
      await this.copyInto(parent, branch);
      return await this.ready(branch);
    } catch (err) {
      await this.dropBranchData(branch);
      await this.store.remove('branch', branch);
      throw err;
    }
  }

  private async ready(branch: BranchRec) {
    branch.current_state = 'ready';
    branch.updated_at = now();
    await this.store.put('branch', branch);
    return branch;
  }

  /**
   * Copies the source's roles (with their passwords) and databases into `target`, whose own
   * records must be empty. Done before the response: the copy reflects the source as of the
   * request.
   */
  private async copyInto(source: BranchRec, target: BranchRec, keepPasswords = new Map<string, string>()) {
    const sourceRoles = this.store.rolesOf(source.id);
    const sourceDbs = this.store.databasesOf(source.id);
    const roles = new Map<string, RoleRec>();
    for (const r of sourceRoles) roles.set(r.name, await this.newRole(target, r.name, keepPasswords.get(r.name) ?? r.password));
    const copies: DatabaseRec[] = [];
    for (const db of sourceDbs) {
      await this.proxy.releaseIdle(db.physical);
      await this.physical.waitUntilUnused(db.physical);
      const owner = roles.get(db.owner_name);
      if (!owner) throw new Error(`database ${db.name} has no owner role ${db.owner_name} on branch ${source.id}`);
      copies.push(await this.newDatabase(target, db.name, owner, db));
    }
    const pairs = sourceRoles.map((r) => ({ from: r.physical, to: roles.get(r.name)!.physical }));
    const sourceFix = {
      dbs: sourceDbs.map((d) => ({ physical: d.physical, owner: this.store.role(source.id, d.owner_name)!.physical })),
      roles: sourceRoles.map((r) => r.physical),
    };
    for (const copy of copies) await this.physical.adoptCopy(copy.physical, pairs, sourceFix);
    await this.physical.grantConnect(
      copies.map((d) => d.physical),
      [...roles.values()].map((r) => r.physical),
    );
    await this.physical.setAllowConnections(
      copies.map((d) => d.physical),
      false,
    );
  }

  /** Drops a branch's databases (ending their sessions) and roles, and forgets them. */
  private async dropBranchData(branch: BranchRec, dbs = this.store.databasesOf(branch.id), roles = this.store.rolesOf(branch.id)) {
    for (const db of dbs) {
      await this.proxy.releaseIdle(db.physical).catch(() => {});
      await this.physical.dropDatabase(db.physical);
      await this.store.remove('database', db);
    }
    for (const role of roles) {
      await this.proxy.releaseRole(role.physical).catch(() => {});
      await this.physical.terminateRoleSessions(role.physical);
      await this.physical.dropRole(role.physical);
      await this.store.remove('role', role);
    }
  }

  /** Deletes a branch with its endpoints and data. The caller checks Neon's refusals first. */
  async deleteBranch(branch: BranchRec) {
    for (const ep of this.store.endpointsOfBranch(branch.id)) await this.provision.deleteEndpoint(ep);
    await this.compute.lock(branch.id, () => this.dropBranchData(branch));
    await this.store.remove('branch', branch);
  }

  /**
   * Restore to the head of another branch. The target keeps its id and endpoints; it gets a
   * copy of the source's databases and roles under a new physical key. Its old data either
   * becomes the `preserveUnderName` branch (taking over the target's children, as Neon
   * does) or is dropped.
   */
  async restore(project: ProjectRec, target: BranchRec, source: BranchRec, preserveUnderName?: string) {
    const oldDbs = this.store.databasesOf(target.id);
    const oldRoles = this.store.rolesOf(target.id);
    let preserved: BranchRec | undefined;
    await this.compute.lock(target.id, async () => {
      if (preserveUnderName) {
        preserved = await this.newBranchRec(project, { name: preserveUnderName, parent_id: target.parent_id, key: target.key });
        for (const r of oldRoles) await this.store.put('role', { ...r, branch_id: preserved.id });
        for (const d of oldDbs) await this.store.put('database', { ...d, branch_id: preserved.id });
        await this.ready(preserved);
      } else {
        for (const r of oldRoles) await this.store.remove('role', r);
        for (const d of oldDbs) await this.store.remove('database', d);
      }
      target.key = physicalKey();
      try {
        // The target's roles keep their passwords (a reset keeps the connection string); only the data comes from the source.
        await this.copyInto(source, target, new Map(oldRoles.map((r) => [r.name, r.password])));
      } catch (err) {
        await this.dropBranchData(target);
        for (const r of oldRoles) await this.store.put('role', r);
        for (const d of oldDbs) await this.store.put('database', d);
        if (preserved) await this.store.remove('branch', preserved);
        throw err;
      }
      await this.compute.applyBranchState(target.id);
      // The target's compute restarts on Neon: sessions on the old data end here too.
      if (preserved)
        await this.physical.setAllowConnections(
          oldDbs.map((d) => d.physical),
          false,
        );
      else await this.dropBranchData(target, oldDbs, oldRoles);
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

  /** Cleans what a crash left half-made: branches still in `init`, deletions under way. */
  async recover() {
    for (const branch of [...this.store.branches.values()]) {
      if (branch.current_state === 'init') {
        await this.dropBranchData(branch);
        await this.store.remove('branch', branch);
      }
    }
  }
}
