/**
 * The Worker's secrets for `npm start`: taken from the environment when set there (and checked,
 * so a bad key stops start-up with one clear line), else generated once per install and kept
 * in the data folder, readable by its owner only. Never printed.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { decodeKey } from '../src/core/crypto/key-material';

export interface WorkerSecrets {
  DBLEASE_OPERATOR_TOKEN: string;
  DBLEASE_ENCRYPTION_KEY: string;
  DBLEASE_SIGNING_KEY: string;
}

const KEYS = ['DBLEASE_ENCRYPTION_KEY', 'DBLEASE_SIGNING_KEY'] as const;

export async function workerSecrets(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<WorkerSecrets> {
  const file = path.join(dataDir, 'worker-secrets.json');
  let saved: Partial<WorkerSecrets> = {};
  try {
    saved = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<WorkerSecrets>;
  } catch {
    // First start: generated below.
  }
  const secrets: WorkerSecrets = {
    DBLEASE_OPERATOR_TOKEN: env.DBLEASE_OPERATOR_TOKEN || saved.DBLEASE_OPERATOR_TOKEN || 'dblease-dev-operator-token',
    DBLEASE_ENCRYPTION_KEY: env.DBLEASE_ENCRYPTION_KEY || saved.DBLEASE_ENCRYPTION_KEY || randomBytes(32).toString('base64'),
    DBLEASE_SIGNING_KEY: env.DBLEASE_SIGNING_KEY || saved.DBLEASE_SIGNING_KEY || randomBytes(32).toString('base64'),
  };
  for (const name of KEYS) {
    try {
      decodeKey(name, secrets[name]);
    } catch (err) {
      throw new Error(err instanceof Error ? err.message : String(err));
    }
  }
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(file, JSON.stringify(secrets), { mode: 0o600 });
  await fs.chmod(file, 0o600);
  return secrets;
}
