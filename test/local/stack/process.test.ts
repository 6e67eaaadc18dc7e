import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../support/free-port';

/** `npm run local` as a user runs it: start-up, clean stops, restarts, one-line errors. */
let dataDir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-process-test-'));
  env = {
    ...process.env,
    DBLEASE_LOCAL_DATA: dataDir,
    DBLEASE_LOCAL_API_PORT: String(await freePort()),
    DBLEASE_LOCAL_PROXY_PORT: String(await freePort()),
    DBLEASE_LOCAL_PG_PORT: String(await freePort()),
    DBLEASE_LOCAL_PG_INTERNAL_PORT: String(await freePort()),
  };
});
afterAll(() => fs.rm(dataDir, { recursive: true, force: true }));

function startLocal(extraEnv: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(path.resolve('node_modules/.bin/tsx'), ['local/main.ts'], {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const postgresRunning = async () => {
  try {
    const pid = Number((await fs.readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run local', () => {
  it('prints what clients need, stops cleanly on SIGTERM, and keeps data across restarts', async () => {
    const first = startLocal();
    await waitFor(() => first.output().includes('local stack ready'), 'the banner');
    expect(first.output()).toContain(`Neon API     http://127.0.0.1:${env.DBLEASE_LOCAL_API_PORT}/api/v2`);
    expect(first.output()).toContain('API key      dblease-local-dev-key');
    expect(first.output()).toContain(`neonConfig.fetchEndpoint = () => 'http://127.0.0.1:${env.DBLEASE_LOCAL_PROXY_PORT}/sql'`);
    const api = `http://127.0.0.1:${env.DBLEASE_LOCAL_API_PORT}/api/v2`;
    const headers = { authorization: 'Bearer dblease-local-dev-key', 'content-type': 'application/json' };
    const created = await fetch(`${api}/projects`, { method: 'POST', headers, body: JSON.stringify({ project: { name: 'survivor' } }) });
    expect(created.status).toBe(201);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(await postgresRunning()).toBe(false);

    const second = startLocal();
    await waitFor(() => second.output().includes('local stack ready'), 'the second start');
    const list = (await (await fetch(`${api}/projects`, { headers })).json()) as { projects: { name: string }[] };
    expect(list.projects.map((p) => p.name)).toEqual(['survivor']);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('says in one line when a port is taken', async () => {
    const blocker = net.createServer().listen(Number(env.DBLEASE_LOCAL_PG_INTERNAL_PORT), '127.0.0.1');
    try {
      const run = startLocal();
      expect(await run.exited).toBe(1);
      expect(run.output().trim()).toMatch(/^error: PostgreSQL port 127\.0\.0\.1:\d+ is already in use; .*DBLEASE_LOCAL_PG_INTERNAL_PORT$/);
    } finally {
      blocker.close();
    }
  });

  it('says in one line when the data folder is unusable', async () => {
    const file = path.join(dataDir, 'not-a-folder');
    await fs.writeFile(file, 'x');
    const run = startLocal({ DBLEASE_LOCAL_DATA: file });
    expect(await run.exited).toBe(1);
    expect(run.output().trim()).toMatch(/^error: data folder .*not-a-folder is unusable/);
  });
});
