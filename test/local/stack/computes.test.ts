import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startStack, type RunningStack } from '../support/local-stack';

/** The cap on running computes (DBLEASE_LOCAL_MAX_COMPUTES), here 2, and what a fresh project costs on disk. */
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({ maxComputes: 2 });
});
afterAll(() => stack?.dispose());

async function project() {
  const { data } = await stack.client.createProject({ project: {} });
  await stack.settle(data.project.id, data.operations);
  return { id: data.project.id, branchId: data.branch.id, endpointId: data.endpoints[0].id, uri: data.connection_uris![0].connection_uri };
}

const state = async (p: { id: string; endpointId: string }) =>
  (await stack.client.getProjectEndpoint(p.id, p.endpointId)).data.endpoint.current_state;

describe('running computes are capped', () => {
  it('suspends the longest-idle compute to start another, and says so clearly when every one is in use', async () => {
    const a = await project();
    const b = await project();
    expect(stack.api.computes.runningCount).toBe(2);
    // b was used last, so a is the one to go.
    const sessionB = await connect(b.uri);
    const c = await project();
    expect(stack.api.computes.runningCount).toBe(2);
    expect(await state(a)).toBe('idle');
    expect(await state(b)).toBe('active');
    const ops = (await stack.client.listProjectOperations({ projectId: a.id })).data.operations;
    expect(ops[0]).toMatchObject({ action: 'suspend_compute', status: 'finished' });

    // b and c both hold a session: nothing can be suspended for a.
    const sessionC = await connect(c.uri);
    const refused = await connect(a.uri).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(refused?.message).toMatch(/2 computes are running.*DBLEASE_LOCAL_MAX_COMPUTES/);
    const api = await fetch(`${stack.urls.api}/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.config.apiKey}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(api.status).toBe(503);
    expect(((await api.json()) as { message: string }).message).toMatch(/DBLEASE_LOCAL_MAX_COMPUTES/);

    // Once a session ends, its compute may make room again.
    await sessionC.end();
    const back = await connect(a.uri);
    expect((await back.query('SELECT 1 AS ok')).rows[0].ok).toBe(1);
    expect(await state(a)).toBe('active');
    expect(await state(c)).toBe('idle');
    await Promise.all([back.end(), sessionB.end()]);
  });

  it('a fresh project takes little disk: one template clone', async () => {
    const p = await project();
    const bytes = await stack.api.storage.bytes(p.branchId);
    expect(bytes).toBeGreaterThan(10 * 2 ** 20);
    expect(bytes).toBeLessThan(48 * 2 ** 20);
  });
});
