import fs from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { postgresOsUser } from './binaries';
import { cloneTree as cloneFiles } from './clone';
import { preparePrivateDir } from './postmaster';
import { ensureTemplate } from './template';

/**
 * Storage per branch: each branch is its own PostgreSQL data directory under
 * `<data folder>/branches/<branch id>`, a copy-on-write clone (a reflink, where the filesystem
 * has them) of the project template or of its parent. ARCHITECTURE.md, "Local stack".
 */
export class BranchStorage {
  /** Template clones made ahead of need, so a new project's branch is one rename. */
  private readonly spares: string[] = [];
  private refilling: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly dataDir: string,
    private readonly root: string,
    private readonly template: string,
    /** Whether files are cloned with reflinks (XFS, Btrfs, APFS) rather than copied. */
    readonly reflink: boolean,
    /** How many template clones are kept ready (`DBLEASE_LOCAL_SPARES`). */
    private readonly spareTarget: number,
  ) {}

  static async open(dataDir: string, log: (line: string) => void, spares = 4): Promise<BranchStorage> {
    const template = await ensureTemplate(dataDir, log);
    const root = path.join(dataDir, 'branches');
    await fs.mkdir(root, { recursive: true });
    await fs.rm(path.join(root, '.incoming'), { recursive: true, force: true });
    await fs.rm(path.join(root, '.spares'), { recursive: true, force: true });
    await fs.rm(path.join(root, '.trash'), { recursive: true, force: true });
    const storage = new BranchStorage(dataDir, root, template, await supportsReflink(root), spares);
    storage.refill();
    return storage;
  }

  /** Tops the spares up in the background, one clone at a time. */
  private refill() {
    if (this.refilling || this.closed) return;
    this.refilling = (async () => {
      while (!this.closed && this.spares.length < this.spareTarget) {
        const dir = path.join(this.root, '.spares', `s${Date.now()}-${this.spares.length}-${Math.random().toString(36).slice(2, 8)}`);
        await fs.mkdir(path.dirname(dir), { recursive: true });
        await cloneTree(this.template, dir);
        if (this.closed) await fs.rm(dir, { recursive: true, force: true });
        else this.spares.push(dir);
      }
    })()
      .catch(() => {
        // A failed refill (disk full) leaves fewer spares; fromTemplate then clones inline and says why.
      })
      .finally(() => (this.refilling = undefined));
  }

  /** Resolves once the spares are topped up: benchmarks wait for it, so a measurement does not share the disk with the refill. */
  async sparesSettled(): Promise<void> {
    while (this.refilling) await this.refilling;
  }

  /** Stops refilling and removes the spares. */
  async close(): Promise<void> {
    this.closed = true;
    await this.refilling;
    await this.emptying;
    await fs.rm(path.join(this.root, '.spares'), { recursive: true, force: true });
    this.spares.length = 0;
  }

  pgdataOf(branchId: string): string {
    return path.join(this.root, branchId);
  }

  async exists(branchId: string): Promise<boolean> {
    return fs
      .access(path.join(this.pgdataOf(branchId), 'PG_VERSION'))
      .then(() => true)
      .catch(() => false);
  }

  /** A new project's first branch: a clone of the pristine template. */
  async fromTemplate(branchId: string): Promise<void> {
    const spare = this.spares.shift();
    this.refill();
    if (spare) await fs.rename(spare, this.pgdataOf(branchId));
    else await this.landing(branchId, (dir) => cloneTree(this.template, dir));
  }

  /**
   * An online physical snapshot of a running branch, taken while it keeps serving: a
   * non-exclusive base backup (start, clone the files, stop), with the backup label and the
   * WAL written meanwhile, so the copy recovers to the consistent state of the backup's end on
   * its first start. `superuser` is a session on the source's compute; no other session is
   * touched or waited for.
   */
  async snapshotOnline(fromId: string, toId: string, superuser: pg.ClientBase): Promise<void> {
    const source = this.pgdataOf(fromId);
    await this.landing(toId, async (dir) => {
      await superuser.query("SELECT pg_backup_start('dblease branch', true)");
      let label: string;
      try {
        await cloneTree(source, dir);
      } finally {
        label = (await superuser.query('SELECT labelfile FROM pg_backup_stop(false)')).rows[0].labelfile;
      }
      // The WAL from the backup's start to its end, copied after the end record was written.
      await cloneTree(path.join(source, 'pg_wal'), path.join(dir, 'pg_wal'), { into: true });
      await writeOwned(path.join(dir, 'backup_label'), label);
    });
  }

  /**
   * Takes a branch's data directory away at once (a rename into `.trash`) and deletes its files
   * in the background, one folder at a time: a delete answers without waiting for a thousand
   * unlinks. Start-up empties what a crash left there.
   */
  async remove(branchId: string): Promise<void> {
    const trash = path.join(this.root, '.trash');
    await fs.mkdir(trash, { recursive: true });
    const doomed = path.join(trash, `${branchId}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
    try {
      await fs.rename(this.pgdataOf(branchId), doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    this.emptying = (this.emptying ?? Promise.resolve()).then(() => fs.rm(doomed, { recursive: true, force: true }).catch(() => {}));
  }

  private emptying: Promise<void> | undefined;

  /** Gives a branch's data to another branch id (a restore that preserves the old state). */
  async move(fromId: string, toId: string): Promise<void> {
    await fs.rename(this.pgdataOf(fromId), this.pgdataOf(toId));
  }

  /**
   * After a crash: a restore that had moved the old data away but not the new data in is
   * finished; any other folder that belongs to no known branch is removed.
   */
  async removeUnknown(known: Set<string>): Promise<void> {
    for (const name of await fs.readdir(this.root)) {
      if (!name.startsWith('br-')) continue;
      const restoring = /^(.*)\.restoring$/.exec(name);
      if (restoring && known.has(restoring[1]) && !(await this.exists(restoring[1]))) {
        await fs.rename(path.join(this.root, name), this.pgdataOf(restoring[1]));
      } else if (!known.has(name)) {
        await fs.rm(path.join(this.root, name), { recursive: true, force: true });
      }
    }
  }

  /**
   * A project's WAL archive: every compute of the project archives its finished segments here.
   * Every branch starts on a timeline of its own (it is promoted out of recovery), so the
   * branches' histories never collide, and any point of any branch since the project began can
   * be recovered from the template and this folder (point-in-time branches and restores).
   */
  archiveDirOf(projectId: string): string {
    return path.join(this.dataDir, 'wal', projectId);
  }

  async prepareArchive(projectId: string): Promise<void> {
    await preparePrivateDir(this.archiveDirOf(projectId));
  }

  async removeArchive(projectId: string): Promise<void> {
    await fs.rm(this.archiveDirOf(projectId), { recursive: true, force: true });
  }

  /** How much WAL a project has archived: what a replay of its whole history reads. */
  async archiveBytes(projectId: string): Promise<number> {
    const dir = this.archiveDirOf(projectId);
    let total = 0;
    for (const name of await fs.readdir(dir).catch(() => [] as string[]))
      total += (await fs.stat(path.join(dir, name)).catch(() => ({ size: 0 }))).size;
    return total;
  }

  /** Resolves once a file (a segment, a timeline's history) is in the archive; rejects after `timeoutMs`. */
  async waitArchived(projectId: string, file: string, timeoutMs = 15_000): Promise<void> {
    const target = path.join(this.archiveDirOf(projectId), file);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (
        await fs
          .access(target)
          .then(() => true)
          .catch(() => false)
      )
        return;
      if (Date.now() > deadline) throw new Error(`WAL file ${file} was not archived within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Makes the branch's next start an archive recovery to `target` (`recovery_target_*`
   * settings), ending in promotion to a new timeline. The settings live in a file that
   * postgresql.conf includes if it exists; clearRecovery removes it once the branch is up.
   */
  async prepareRecovery(branchId: string, target: Record<string, string>): Promise<void> {
    const pgdata = this.pgdataOf(branchId);
    const lines = Object.entries({ ...target, recovery_target_action: 'promote' }).map(([k, v]) => `${k} = '${v.replace(/'/g, "''")}'`);
    await writeOwned(path.join(pgdata, RECOVERY_CONF), `${lines.join('\n')}\n`);
    await writeOwned(path.join(pgdata, 'recovery.signal'), '');
  }

  async clearRecovery(branchId: string): Promise<void> {
    await fs.rm(path.join(this.pgdataOf(branchId), RECOVERY_CONF), { force: true });
  }

  /** Bytes the branch's files take (not counting blocks a reflink shares). */
  async bytes(branchId: string): Promise<number> {
    return treeBytes(this.pgdataOf(branchId));
  }

  /** Builds into a scratch folder and renames it into place, so a crash leaves no half branch. */
  private async landing(branchId: string, build: (dir: string) => Promise<void>): Promise<void> {
    const scratch = path.join(this.root, '.incoming', branchId);
    await fs.rm(scratch, { recursive: true, force: true });
    await fs.mkdir(path.dirname(scratch), { recursive: true });
    try {
      await build(scratch);
      await fs.rename(scratch, this.pgdataOf(branchId));
    } catch (err) {
      await fs.rm(scratch, { recursive: true, force: true });
      throw err;
    }
  }
}

/** The recovery settings a branch's first start reads (template.ts includes the file). */
export const RECOVERY_CONF = 'dblease-recovery.conf';

/** Files a running server makes and a copy must not carry. */
const RUNTIME_FILES = ['postmaster.pid', 'postmaster.opts', RECOVERY_CONF];

/** A clone without the files of the server that was running on the source. */
async function cloneTree(from: string, to: string, opts: { into?: boolean } = {}): Promise<void> {
  await cloneFiles(from, to, opts);
  for (const file of RUNTIME_FILES) await fs.rm(path.join(to, file), { force: true });
}

async function writeOwned(file: string, text: string) {
  await fs.writeFile(file, text, { mode: 0o600 });
  const owner = await postgresOsUser();
  if (owner.uid !== undefined) await fs.chown(file, owner.uid, owner.gid!);
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await treeBytes(p);
    else if (entry.isFile()) total += (await fs.stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/** Tries a forced clone of a scratch file: it fails where the filesystem has no reflinks. */
async function supportsReflink(dir: string): Promise<boolean> {
  const a = path.join(dir, '.reflink-probe-a');
  const b = path.join(dir, '.reflink-probe-b');
  try {
    await fs.writeFile(a, 'probe');
    await fs.copyFile(a, b, constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    return false;
  } finally {
    await fs.rm(a, { force: true });
    await fs.rm(b, { force: true });
  }
}
