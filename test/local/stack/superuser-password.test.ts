import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { banner } from '../../../local/banner';
import { ClusterStartError, startCluster } from '../../../local/postgres/cluster';
import { LEGACY_SUPERUSER_PASSWORD, readSuperuserPassword, superuserPasswordPath } from '../../../local/postgres/superuser-password';
import { freePort } from '../../support/free-port';
import { startThrowawayStack } from '../../support/throwaway-stack';

/** Folders made here; removed at the end. */
const folders: string[] = [];
async function folder(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-superuser-test-'));
  folders.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of folders) await fs.rm(dir, { recursive: true, force: true });
});

/** A superuser login straight to the real PostgreSQL: the SQLSTATE of its refusal, or 'ok'. */
async function login(port: number, password: string): Promise<string> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.end();
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? (err as Error).message;
  }
}

const modeOf = async (file: string) => (await fs.stat(file)).mode & 0o777;

describe('cluster superuser password', () => {
  let dataDir: string;
  let password: string;
  const logs: string[] = [];

  beforeAll(async () => {
    dataDir = await folder();
    const stack = await startThrowawayStack({ dataDir, log: (line) => logs.push(line) });
    try {
      password = await readSuperuserPassword(dataDir);
      // Things that print: the banner and every log line of a start-up and a few API calls.
      logs.push(banner(stack));
      const res = await fetch(`${stack.urls.api}/projects`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.config.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ project: { name: 'pw' } }),
      });
      logs.push(await res.text());
      expect(await login(stack.config.pgInternalPort, password)).toBe('ok');
    } finally {
      await stack.stop();
    }
  });

  it('is generated on first start, long and random, in a 0600 file of the data folder', async () => {
    const file = superuserPasswordPath(dataDir);
    expect(path.dirname(file)).toBe(dataDir);
    expect(await modeOf(file)).toBe(0o600);
    expect(password).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(password).not.toBe(LEGACY_SUPERUSER_PASSWORD);
  });

  it('is never printed: not in the banner, the logs, or the API answers', () => {
    expect(logs.length).toBeGreaterThan(1);
    for (const line of logs) expect(line).not.toContain(password);
    expect(logs.join('\n')).toContain(superuserPasswordPath(dataDir));
  });

  it('is reused on later starts, and a loosened file is tightened again', async () => {
    await fs.chmod(superuserPasswordPath(dataDir), 0o644);
    const port = await freePort();
    const cluster = await startCluster({ dataDir, host: '127.0.0.1', port, log: () => {} });
    try {
      expect(await readSuperuserPassword(dataDir)).toBe(password);
      expect(await modeOf(superuserPasswordPath(dataDir))).toBe(0o600);
      expect(await login(port, password)).toBe('ok');
    } finally {
      await cluster.stop();
    }
  });

  it('differs per install, and a cluster still on the old fixed password is moved off it', async () => {
    const other = await folder();
    const port = await freePort();
    // A cluster as earlier versions left it: the documented fixed password and no password file.
    const first = await startCluster({ dataDir: other, host: '127.0.0.1', port, log: () => {} });
    await first.admin.query(`ALTER ROLE postgres PASSWORD '${LEGACY_SUPERUSER_PASSWORD}'`);
    await first.stop();
    await fs.rm(superuserPasswordPath(other));

    const again = await startCluster({ dataDir: other, host: '127.0.0.1', port, log: () => {} });
    try {
      const rotated = await readSuperuserPassword(other);
      expect(rotated).not.toBe(password);
      expect(await modeOf(superuserPasswordPath(other))).toBe(0o600);
      expect(await login(port, rotated)).toBe('ok');
      expect(await login(port, LEGACY_SUPERUSER_PASSWORD)).toBe('28P01');
    } finally {
      await again.stop();
    }
  });

  it('refuses to start with a file that does not match, without printing either password', async () => {
    const file = superuserPasswordPath(dataDir);
    const wrong = 'not-the-password-of-this-cluster-0123456789';
    await fs.writeFile(file, `${wrong}\n`, { mode: 0o600 });
    try {
      const err = await startCluster({ dataDir, host: '127.0.0.1', port: await freePort(), log: () => {} }).then(
        (c) => c.stop().then(() => undefined),
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(ClusterStartError);
      expect(err!.message).toContain(file);
      expect(err!.message).not.toContain(wrong);
      expect(err!.message).not.toContain(password);
    } finally {
      await fs.writeFile(file, `${password}\n`, { mode: 0o600 });
    }
  });
});
