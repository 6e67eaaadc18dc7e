import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, startStack, type RunningStack } from '../support/local-stack';

/** Deleting what clients still use, and a data folder that runs out of space. */
const stacks: RunningStack[] = [];
const mounts: string[] = [];
afterAll(async () => {
  for (const stack of stacks) await stack.dispose().catch(() => {});
  for (const dir of mounts) {
    execFileSync('umount', ['-l', dir]);
    await fs.rm(path.dirname(dir), { recursive: true, force: true });
  }
});

async function createProject(stack: RunningStack) {
  const res = await fetch(`${stack.urls.api}/projects`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.config.apiKey}`, 'content-type': 'application/json' },
    body: '{}',
  });
  const body = (await res.json()) as {
    message?: string;
    project: { id: string };
    branch: { id: string };
    connection_uris: { connection_uri: string }[];
    operations: never[];
  };
  if (res.status === 201) await stack.settle(body.project.id, body.operations);
  return { status: res.status, body };
}

describe('the local stack', () => {
  it('deletes a project whose database clients are still using, one of them mid-transaction', async () => {
    const stack = await startStack();
    stacks.push(stack);
    const { body } = await createProject(stack);
    const uri = body.connection_uris[0].connection_uri;
    const idle = await connect(uri);
    const busy = await connect(uri);
    await busy.query('BEGIN; CREATE TABLE t (x int); INSERT INTO t VALUES (1)');
    const ended = Promise.all([idle, busy].map((c) => new Promise((resolve) => c.once('error', resolve))));

    const { status } = await stack.client.deleteProject(body.project.id);
    expect(status).toBe(200);
    await ended;
    expect(await stack.api.storage.exists(body.branch.id)).toBe(false);
    expect(stack.api.computes.isRunning(body.branch.id)).toBe(false);
    await expect(connect(uri)).rejects.toThrow();
  });

  // Mounting a small filesystem needs root (CI runs as root; README, "Testing", says so).
  it.runIf(process.getuid?.() === 0)('answers a full data folder with a clear 507, and keeps every branch it already has', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-full-disk-'));
    // Only the branches' storage is small: about four spare template clones and a few projects.
    const branches = path.join(dataDir, 'branches');
    await fs.mkdir(branches);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=200m', 'tmpfs', branches]);
    mounts.push(branches);
    const stack = await startStack({ dataDir });
    stacks.push(stack);
    const first = await createProject(stack);
    expect(first.status).toBe(201);
    const kept = await connect(first.body.connection_uris[0].connection_uri);
    await kept.query(`CREATE TABLE kept AS SELECT 'still here' AS v`);
    await kept.end();

    let refused: Awaited<ReturnType<typeof createProject>> | undefined;
    for (let i = 0; i < 12 && !refused; i++) {
      const attempt = await createProject(stack);
      if (attempt.status !== 201) refused = attempt;
    }
    expect(refused?.status).toBe(507);
    expect(refused?.body.message).toMatch(/data folder is full/);
    // No half-made branch is left behind, and what was there still answers.
    const listed = (await stack.client.listProjects({})).data.projects.map((p) => p.id);
    for (const id of listed) expect((await stack.client.listProjectBranches({ projectId: id })).data.branches.length).toBeGreaterThan(0);
    const again = await connect(first.body.connection_uris[0].connection_uri);
    expect((await again.query('SELECT v FROM kept')).rows).toEqual([{ v: 'still here' }]);
    await again.end();
  });
});
