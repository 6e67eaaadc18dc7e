import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { ComputeAddress } from '../../../local/hooks.js';
import { startPostmaster } from '../../../local/postgres/postmaster.js';
import { COMPUTE_SUPERUSER, ensureTemplate } from '../../../local/postgres/template.js';

/**
 * Real computes for the proxy tests, made as the stack makes them (local/postgres): each
 * listens only on a Unix socket in its own 0700 folder and trusts every local connection
 * (`local all all trust`), so the proxy in front must authenticate clients itself.
 */

const run = promisify(execFile);

export interface TestCompute {
  name: string;
  address: ComputeAddress;
  /** A superuser session over the trusted socket (as the control plane has). */
  admin: pg.Pool;
  stop(): Promise<void>;
}

/** Adds the search bit up the tree, so PostgreSQL's user can reach the farm (a 0700 mkdtemp stops it). */
async function letTraverse(target: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    const { mode } = await fs.stat(dir);
    if ((mode & 0o001) === 0) await fs.chmod(dir, (mode & 0o7777) | 0o011);
    if (dir === path.dirname(dir)) return;
  }
}

/** The stack's own project template and postmasters, started from copies of it, as the stack starts computes. */
export class ComputeFarm {
  private readonly computes: TestCompute[] = [];

  private constructor(
    readonly root: string,
    private readonly template: string,
  ) {}

  static async create(root: string): Promise<ComputeFarm> {
    await fs.mkdir(root, { recursive: true });
    await letTraverse(root);
    return new ComputeFarm(root, await ensureTemplate(root, () => {}));
  }

  async start(name: string): Promise<TestCompute> {
    const pgdata = path.join(this.root, name);
    // cp -a keeps the owner (PostgreSQL's user, when we are root) and the 0700 mode.
    await run('cp', ['-a', this.template, pgdata]);
    // cluster_name is readable by any role: it tells tests which compute a session landed on.
    const server = await startPostmaster({
      pgdata,
      socketDir: path.join(this.root, `${name}-socket`),
      settings: { cluster_name: name, fsync: 'off' },
    });
    const admin = new pg.Pool({
      host: server.address.socketDir,
      port: server.address.port,
      user: COMPUTE_SUPERUSER,
      database: 'postgres',
      max: 3,
    });
    admin.on('error', () => {});
    const compute: TestCompute = {
      name,
      address: server.address,
      admin,
      async stop() {
        await admin.end().catch(() => {});
        await server.stop();
      },
    };
    this.computes.push(compute);
    return compute;
  }

  async stop(): Promise<void> {
    await Promise.all(this.computes.map((c) => c.stop()));
    await fs.rm(this.root, { recursive: true, force: true });
  }
}
