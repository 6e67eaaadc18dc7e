import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { ComputeAddress } from '../hooks';
import { startPostmaster, type Postmaster } from '../postgres/postmaster';
import type { BranchStorage } from '../postgres/storage';
import { COMPUTE_SUPERUSER } from '../postgres/template';
import { Failure } from './errors';
import type { BranchRec } from './model';

/** One running compute: a postmaster on one branch's data directory. */
export interface RunningCompute {
  branchId: string;
  postmaster: Postmaster;
  /** Superuser sessions to its `postgres` database, for the control plane's own work. */
  admin: pg.Pool;
  lastUsed: number;
}

export interface ComputesOptions {
  storage: BranchStorage;
  dataDir: string;
  /** At most this many computes run at once (`DBLEASE_LOCAL_MAX_COMPUTES`). */
  maxRunning: number;
  log: (line: string) => void;
  /** Whether a running compute may be stopped to make room: no client session, nothing under way. */
  evictable(branchId: string): boolean;
  /** Stops one through the endpoint state machine, so its endpoints read `idle` afterwards. */
  evict(branchId: string): Promise<void>;
  started?(branchId: string, startMs: number): void;
  /** Last words with a compute before it stops (its storage size is read then). */
  stopping?(branchId: string): Promise<void>;
  stopped?(branchId: string): void;
}

/** Raised when a compute must start and every running one is in use. */
export class ComputeCapReached extends Failure {
  constructor(max: number) {
    super(
      503,
      `${max} computes are running, the local stack's cap (DBLEASE_LOCAL_MAX_COMPUTES), and each has open sessions or work under way; close some sessions or raise the cap`,
      'TOO_MANY_COMPUTES',
    );
  }
}

/**
 * Every compute archives its finished WAL segments into its project's archive, and recovers
 * from it (storage.ts, archiveDirOf): what point-in-time branches are made of.
 */
function archiveSettings(dir: string): Record<string, string> {
  if (/['\\]/.test(dir)) throw new Error(`the data folder's path must not contain quotes or backslashes: ${dir}`);
  return {
    archive_mode: 'on',
    archive_command: `test ! -f '${dir}/%f' && cp %p '${dir}/%f'`,
    restore_command: `cp '${dir}/%f' %p`,
  };
}

/** A socket path must fit in 107 bytes: a long data-folder path gets its sockets in the temp folder. */
function socketRoot(dataDir: string): string {
  const inside = path.join(dataDir, 'run');
  if (Buffer.byteLength(inside) <= 80) return inside;
  const tag = crypto.createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `dblease-run-${tag}`);
}

/**
 * The postmasters. Each branch that has a running compute has exactly one, started on demand
 * (a connection through an endpoint, an API change to its roles or databases) and stopped when
 * its endpoints suspend, are deleted, or room is needed for another under the cap.
 */
export class Computes {
  private readonly running = new Map<string, RunningCompute>();
  private readonly starting = new Map<string, Promise<RunningCompute>>();
  private readonly root: string;

  constructor(private readonly opts: ComputesOptions) {
    this.root = socketRoot(opts.dataDir);
  }

  /** The branch's private socket folder; `seq` keeps it short and unique. */
  private socketDirOf(branch: BranchRec): string {
    return path.join(this.root, `c${branch.seq}`);
  }

  isRunning(branchId: string): boolean {
    return this.running.has(branchId);
  }

  address(branchId: string): ComputeAddress | undefined {
    return this.running.get(branchId)?.postmaster.address;
  }

  get runningCount(): number {
    return this.running.size;
  }

  runningBranches(): RunningCompute[] {
    return [...this.running.values()];
  }

  touch(branchId: string): void {
    const rc = this.running.get(branchId);
    if (rc) rc.lastUsed = Date.now();
  }

  /** Resolves with the branch's running compute, starting it (once, however many ask) if needed. */
  ensureRunning(branch: BranchRec): Promise<RunningCompute> {
    const rc = this.running.get(branch.id);
    if (rc) {
      rc.lastUsed = Date.now();
      return Promise.resolve(rc);
    }
    let pending = this.starting.get(branch.id);
    if (!pending) {
      pending = this.start(branch).finally(() => this.starting.delete(branch.id));
      this.starting.set(branch.id, pending);
    }
    return pending;
  }

  private async start(branch: BranchRec): Promise<RunningCompute> {
    await this.makeRoom(branch.id);
    const postmaster = await startPostmaster({
      pgdata: this.opts.storage.pgdataOf(branch.id),
      socketDir: this.socketDirOf(branch),
      settings: archiveSettings(this.opts.storage.archiveDirOf(branch.project_id)),
      log: this.opts.log,
    });
    const admin = new pg.Pool({
      host: postmaster.address.socketDir,
      port: postmaster.address.port,
      user: COMPUTE_SUPERUSER,
      database: 'postgres',
      max: 4,
      idleTimeoutMillis: 5_000,
      application_name: 'dblease-local-control-plane',
    });
    admin.on('error', () => {
      // An idle admin session ended with its compute; the next use reconnects or fails clearly.
    });
    const rc: RunningCompute = { branchId: branch.id, postmaster, admin, lastUsed: Date.now() };
    this.running.set(branch.id, rc);
    void postmaster.exited.then(() => {
      if (this.running.get(branch.id) !== rc) return;
      // Not stopped by us: it crashed or was killed. The next connection starts it again.
      this.running.delete(branch.id);
      void admin.end().catch(() => {});
      this.opts.log(`compute for ${branch.id} exited unexpectedly; it starts again on the next connection`);
      this.opts.stopped?.(branch.id);
    });
    this.opts.started?.(branch.id, postmaster.startMs);
    return rc;
  }

  /** Under the cap, the longest-idle compute with nothing open is stopped first. */
  private async makeRoom(branchId: string): Promise<void> {
    // Counting the one about to start, and others starting meanwhile.
    const wanted = () => this.running.size + this.starting.size + (this.starting.has(branchId) ? 0 : 1);
    while (wanted() > this.opts.maxRunning) {
      const candidate = [...this.running.values()]
        .filter((rc) => this.opts.evictable(rc.branchId))
        .sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (!candidate) throw new ComputeCapReached(this.opts.maxRunning);
      await this.opts.evict(candidate.branchId);
      // evict() normally ends in stop(); make sure the slot is free even if it did not.
      await this.stop(candidate.branchId);
    }
  }

  /** Fast shutdown: sessions end, a checkpoint is written, the memory goes back to the system. */
  async stop(branchId: string): Promise<void> {
    const rc = this.running.get(branchId);
    if (!rc) return;
    await this.opts.stopping?.(branchId).catch(() => {});
    if (this.running.get(branchId) !== rc) return;
    this.running.delete(branchId);
    await rc.admin.end().catch(() => {});
    await rc.postmaster.stop();
    this.opts.stopped?.(branchId);
  }

  /** A superuser session on one database of the branch's compute, started if needed. */
  async withClient<T>(branch: BranchRec, database: string, work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    const rc = await this.ensureRunning(branch);
    if (database === 'postgres') {
      const client = await rc.admin.connect();
      try {
        return await work(client);
      } finally {
        client.release();
      }
    }
    const client = new pg.Client({
      host: rc.postmaster.address.socketDir,
      port: rc.postmaster.address.port,
      user: COMPUTE_SUPERUSER,
      database,
      application_name: 'dblease-local-control-plane',
    });
    client.on('error', () => {});
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end().catch(() => {});
    }
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.starting.values()]);
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
  }
}
