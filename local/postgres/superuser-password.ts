import crypto from 'node:crypto';
import { postgresOsUser } from './binaries';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The cluster superuser's password: random per install, kept beside the data directory in a
 * file only its owner can read, and never printed. Anyone who has it owns every branch, so a
 * fixed, documented value would let any local process (or anything that reached the cluster
 * port) in as `postgres`.
 */
export const SUPERUSER_PASSWORD_FILE = 'superuser-password';

/** The fixed value earlier versions initialised clusters with; such clusters are moved off it. */
export const LEGACY_SUPERUSER_PASSWORD = 'dblease-local-superuser';

export function superuserPasswordPath(dataDir: string): string {
  return path.join(dataDir, SUPERUSER_PASSWORD_FILE);
}

/** Reads the password of an existing install (tests, benchmarks, an operator's psql). */
export async function readSuperuserPassword(dataDir: string): Promise<string> {
  return (await fs.readFile(superuserPasswordPath(dataDir), 'utf8')).trim();
}

/**
 * The stored password, created on first use. `created` tells the caller the file is new, so an
 * existing cluster may still carry the legacy password.
 */
export async function loadOrCreateSuperuserPassword(dataDir: string): Promise<{ password: string; created: boolean }> {
  const file = superuserPasswordPath(dataDir);
  const password = crypto.randomBytes(24).toString('base64url');
  try {
    // `wx`: two starts racing on one folder cannot overwrite each other's password.
    await fs.writeFile(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
    return { password, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const { mode } = await fs.stat(file);
  // A copy restored or edited with looser permissions is tightened, not trusted as is.
  if ((mode & 0o077) !== 0) await fs.chmod(file, 0o600);
  const stored = await readSuperuserPassword(dataDir);
  if (stored.length < 16) throw new Error(`${file} holds no usable password; remove it only together with the cluster`);
  return { password: stored, created: false };
}

/**
 * A SCRAM-SHA-256 verifier (RFC 5802/7677, PostgreSQL's stored form), so `ALTER ROLE … PASSWORD`
 * never carries the plaintext to the server, where a failed statement would be logged.
 */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = crypto.randomBytes(16);
  const salted = crypto.pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = crypto.createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = crypto.createHash('sha256').update(clientKey).digest();
  const serverKey = crypto.createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * The password for initdb, in a file only the user initdb runs as can read, inside the data
 * folder (which that user can traverse), removed once initdb has run.
 */
export async function initdbPasswordFile(dataDir: string, password: string): Promise<{ path: string; remove(): Promise<void> }> {
  const file = path.join(dataDir, '.initdb-password');
  await fs.rm(file, { force: true });
  await fs.writeFile(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
  const remove = () => fs.rm(file, { force: true });
  try {
    if (process.getuid?.() === 0) {
      const { uid, gid } = await postgresOsUser();
      await fs.chown(file, uid!, gid!);
    }
  } catch (err) {
    await remove();
    throw err;
  }
  return { path: file, remove };
}
