import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type RunningStack } from '../support/local-stack';

/**
 * What Neon's clients use besides the core routes: Neon's JSON error for a route that does not
 * exist, branch annotations, and set_as_default. One stack; the annotation case restarts it.
 */
let stack: RunningStack;
let dataDir: string;
let shared: Awaited<ReturnType<typeof newProject>>;
let movable: Awaited<ReturnType<typeof newProject>>;

beforeAll(async () => {
  stack = await startStack();
  dataDir = stack.dataDir;
  [shared, movable] = await Promise.all([newProject('shared'), newProject('movable')]);
});
afterAll(() => stack?.dispose());

/** Error bodies are read loosely here; the shapes are what the tests assert. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonResponse = Omit<Response, 'json'> & { json(): Promise<any> };

const call = (path: string, init: RequestInit & { key?: string | null } = {}): Promise<JsonResponse> => {
  const headers = new Headers(init.headers);
  if (init.key !== null) headers.set('authorization', `Bearer ${init.key ?? stack.config.apiKey}`);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(`${stack.origin}${path}`, { ...init, headers });
};

async function newProject(name: string) {
  const { data } = await stack.client.createProject({ project: { name } });
  await stack.settle(data.project.id, data.operations);
  return data;
}

describe('a route that does not exist', () => {
  it.each([
    ['GET', '/api/v2/no-such-thing'],
    ['POST', '/api/v2/projects/p/branches/b/no-such-action'],
    ['DELETE', '/api/v2/regions'], // a known path, a method it does not have
    ['PUT', '/api/v2/projects'],
    ['GET', '/no-such-page'],
    ['PATCH', '/_admin/no-such-thing'],
  ])('%s %s answers 404 in Neon’s JSON error shape', async (method, path) => {
    const res = await call(path, { method });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.json();
    expect(body).toEqual({ request_id: expect.any(String), code: 'NOT_FOUND', message: `no route for ${method} ${path}` });
    expect(body.request_id).toBe(res.headers.get('x-request-id'));
  });

  it('is still refused without a key under /api/v2, before anything says whether it exists', async () => {
    const res = await call('/api/v2/no-such-thing', { key: null });
    expect(res.status).toBe(401);
    expect((await res.json()).code).toBe('UNAUTHORIZED');
  });
});

describe('branch annotations', () => {
  it('are stored on create, returned by list and get, kept by patch, and survive a restart', async () => {
    const pid = shared.project.id;
    const value = { 'vercel-commit-ref': 'feature/x', anonymized: 'true' };
    const { data: created } = await stack.client.createProjectBranch(pid, { branch: { name: 'preview' }, annotation_value: value });
    const bid = created.branch.id;
    // The Neon CLI sends `{}` with every branch: that is no annotation.
    const { data: plain } = await stack.client.createProjectBranch(pid, { branch: { name: 'plain' }, annotation_value: {} });

    const expected = {
      object: { type: 'console/branch', id: bid },
      value,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    };
    const list = (await stack.client.listProjectBranches({ projectId: pid })).data;
    expect(list.annotations).toEqual({ [bid]: expected });
    expect((await stack.client.getProjectBranch(pid, bid)).data.annotation).toEqual(expected);
    expect((await stack.client.getProjectBranch(pid, plain.branch.id)).data.annotation).toEqual({
      object: { type: 'console/branch', id: plain.branch.id },
      value: {},
    });

    const patched = await stack.client.updateProjectBranch(pid, bid, { branch: { name: 'preview-2' } });
    expect(patched.data.branch.name).toBe('preview-2');
    expect((await stack.client.getProjectBranch(pid, bid)).data.annotation.value).toEqual(value);

    await stack.stop();
    stack = await startStack({ dataDir });
    expect((await stack.client.getProjectBranch(pid, bid)).data.annotation).toEqual(expected);
    expect((await stack.client.listProjectBranches({ projectId: pid })).data.annotations).toEqual({ [bid]: expected });
  });

  it.each([
    ['a number', { n: 1 }, 'annotation_value.n: Invalid input: expected string, received number'],
    ['an array', ['a'], 'annotation_value: Invalid input: expected record, received array'],
    [
      '51 entries',
      Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])),
      'annotation_value: at most 50 entries (got 51)',
    ],
    ['a 257-character key', { ['k'.repeat(257)]: 'v' }, 'annotation_value: keys must be 1 to 256 characters (a key of 257)'],
    ['an empty key', { '': 'v' }, 'annotation_value: keys must be 1 to 256 characters (an empty key)'],
    ['a 1025-character value', { k: 'v'.repeat(1025) }, 'annotation_value.k: must be at most 1024 characters'],
  ])('%s is refused with 400 naming the field, and no branch is made', async (_label, annotation_value, message) => {
    const pid = shared.project.id;
    const before = (await stack.client.listProjectBranches({ projectId: pid })).data.branches.length;
    const res = await call(`/api/v2/projects/${pid}/branches`, { method: 'POST', body: JSON.stringify({ branch: {}, annotation_value }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'BAD_REQUEST', message });
    expect((await stack.client.listProjectBranches({ projectId: pid })).data.branches.length).toBe(before);
  });
});

describe('set_as_default', () => {
  it('moves the default to the branch: the old one loses it, deletion and new branches follow', async () => {
    const pid = movable.project.id;
    const main = movable.branch;
    const { data: dev } = await stack.client.createProjectBranch(pid, { branch: { name: 'dev', protected: true } });

    // A protected branch may become the default: protection guards deletion and reset.
    const res = await stack.client.setDefaultProjectBranch(pid, dev.branch.id);
    expect(res.status).toBe(200);
    expect(res.data.branch).toMatchObject({ id: dev.branch.id, default: true, primary: true, protected: true });
    expect(res.data.operations).toEqual([]);
    const branches = (await stack.client.listProjectBranches({ projectId: pid })).data.branches;
    expect(branches.filter((b) => b.default).map((b) => b.id)).toEqual([dev.branch.id]);
    expect((await stack.client.getProjectBranch(pid, main.id)).data.branch.default).toBe(false);

    // Again: nothing changes, still 200.
    expect((await stack.client.setDefaultProjectBranch(pid, dev.branch.id)).data.branch.default).toBe(true);
    // A new branch with no parent given now comes from the new default.
    const { data: child } = await stack.client.createProjectBranch(pid, { branch: { name: 'child' } });
    expect(child.branch.parent_id).toBe(dev.branch.id);
    const del = await call(`/api/v2/projects/${pid}/branches/${child.branch.id}`, { method: 'DELETE' });
    expect([del.status, await del.text()]).toEqual([200, expect.any(String)]);

    const refused = await call(`/api/v2/projects/${pid}/branches/${dev.branch.id}`, { method: 'DELETE' });
    expect(refused.status).toBe(422);
    expect((await refused.json()).message).toMatch(/default branch/);
    // The old default is no longer held by that rule, only by having a child (dev).
    const old = await call(`/api/v2/projects/${pid}/branches/${main.id}`, { method: 'DELETE' });
    expect(old.status).toBe(422);
    expect((await old.json()).message).toBe(`branch ${main.id} has child branches; delete them first`);
  });

  it('refuses a branch that expires (422) and an unknown one (404), changing nothing', async () => {
    const pid = shared.project.id;
    const expires_at = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const { data: temp } = await stack.client.createProjectBranch(pid, { branch: { name: 'temp', expires_at } });

    const expiring = await call(`/api/v2/projects/${pid}/branches/${temp.branch.id}/set_as_default`, { method: 'POST' });
    expect(expiring.status).toBe(422);
    expect((await expiring.json()).message).toMatch(/expires_at/);
    const unknown = await call(`/api/v2/projects/${pid}/branches/br-no-such-branch/set_as_default`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'NOT_FOUND', message: 'branch br-no-such-branch not found' });
    const elsewhere = await call(`/api/v2/projects/no-such-project/branches/${temp.branch.id}/set_as_default`, { method: 'POST' });
    expect(elsewhere.status).toBe(404);

    const branches = (await stack.client.listProjectBranches({ projectId: pid })).data.branches;
    expect(branches.filter((b) => b.default).map((b) => b.id)).toEqual([shared.branch.id]);
  });
});
