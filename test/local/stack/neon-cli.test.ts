import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type RunningStack } from '../support/local-stack';

const run = promisify(execFile);

/** The Neon CLI (`neon`, npm `neon`) and `psql`, unchanged, against the local stack. */
let stack: RunningStack;
let configDir: string;

beforeAll(async () => {
  stack = await startStack();
  configDir = await fs.mkdtemp(path.join(os.tmpdir(), 'neon-cli-config-'));
});
afterAll(async () => {
  await stack?.dispose();
  await fs.rm(configDir, { recursive: true, force: true });
});

async function neonCli(...args: string[]): Promise<string> {
  const { stdout } = await run(path.resolve('node_modules/.bin/neon'), [...args, '--no-analytics', '--config-dir', configDir], {
    env: { ...process.env, NEON_API_HOST: stack.urls.api, NEON_API_KEY: stack.config.apiKey, DO_NOT_TRACK: '1' },
    timeout: 30_000,
  });
  return stdout;
}
const json = async (...args: string[]) => JSON.parse(await neonCli(...args, '--output', 'json'));

describe('the Neon CLI', () => {
  it('creates, lists and deletes projects and branches, and prints a connection string psql accepts', async () => {
    const created = await json('projects', 'create', '--name', 'from-cli');
    const projectId: string = created.project.id;
    expect((await json('projects', 'list')).projects.map((p: { id: string }) => p.id)).toContain(projectId);

    await json('branches', 'create', '--project-id', projectId, '--name', 'feature');
    const branches = await json('branches', 'list', '--project-id', projectId);
    expect(branches.map((b: { name: string }) => b.name).sort()).toEqual(['feature', 'main']);

    // The CLI's default output, as Neon's: TLS required, and SCRAM bound to it (channel binding).
    const uri = (await neonCli('connection-string', 'feature', '--project-id', projectId)).trim();
    expect(uri).toMatch(/^postgresql:\/\/neondb_owner:[^@]+@127\.1\.\d+\.\d+:\d+\/neondb\?sslmode=require&channel_binding=require$/);
    const { stdout } = await run('psql', [uri, '-Atc', 'select 40 + 2'], { timeout: 15_000 });
    expect(stdout.trim()).toBe('42');

    await neonCli('branches', 'delete', 'feature', '--project-id', projectId);
    expect((await json('branches', 'list', '--project-id', projectId)).map((b: { name: string }) => b.name)).toEqual(['main']);
    await expect(run('psql', [uri, '-Atc', 'select 1'], { timeout: 15_000 })).rejects.toThrow();

    await neonCli('projects', 'delete', projectId);
    expect((await json('projects', 'list')).projects).toEqual([]);
  });
});
