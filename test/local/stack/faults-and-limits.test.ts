import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type RunningStack } from '../support/local-stack';

/** Fault injection and Neon's 429, driven through the admin endpoint and seen by a Neon client. */
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.dispose());
afterEach(async () => {
  await stack.admin('/faults', { method: 'DELETE' });
  await stack.admin('/rate-limit', { method: 'PUT', body: JSON.stringify({ per_minute: 100_000, per_second_per_route: 10_000 }) });
});

const addFault = async (rule: object) => {
  const res = await stack.admin('/faults', { method: 'POST', body: JSON.stringify(rule) });
  expect(res.status).toBe(201);
};
const status = (promise: Promise<unknown>) =>
  promise.then(
    () => 200,
    (err: { response?: { status: number; headers: Record<string, string>; data: unknown } }) => err.response?.status ?? -1,
  );
const projectNames = async () => (await stack.client.listProjects({ limit: 400 })).data.projects.map((p) => p.name);

describe('fault injection', () => {
  it('with match, fires only for requests whose URL or body carries the text', async () => {
    await addFault({ route: 'POST /projects', status: 503, match: 'only-this-one' });
    expect(await status(stack.client.createProject({ project: { name: 'another-name' } }))).toBe(200);
    expect(await status(stack.client.createProject({ project: { name: 'x-only-this-one-y' } }))).toBe(503);
    expect(await projectNames()).not.toContain('x-only-this-one-y');
  });

  it('answers a status instead of doing the work, on the route it names only', async () => {
    await addFault({ route: 'POST /projects', status: 503 });
    expect(await status(stack.client.createProject({ project: { name: 'never-made' } }))).toBe(503);
    expect(await projectNames()).not.toContain('never-made');
    expect(await status(stack.client.listProjects({}))).toBe(200);
  });

  it('fires on the Nth call only, and at most `times` times', async () => {
    await addFault({ route: 'GET /projects', status: 500, nth: 2 });
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await status(stack.client.listProjects({})));
    expect(seen).toEqual([200, 500, 200, 200]);

    await addFault({ route: 'GET /projects/:project_id', status: 423, times: 2 });
    const { data } = await stack.client.createProject({ project: { name: 'locked-twice' } });
    const gets = [];
    for (let i = 0; i < 3; i++) gets.push(await status(stack.client.getProject(data.project.id)));
    expect(gets).toEqual([423, 423, 200]);
  });

  it('after the work: the project exists although the client saw a 500', async () => {
    await addFault({ route: 'POST /projects', status: 500, phase: 'after', times: 1 });
    expect(await status(stack.client.createProject({ project: { name: 'made-but-lost' } }))).toBe(500);
    expect(await projectNames()).toContain('made-but-lost');
  });

  it('adds latency, and hangs until the client gives up', async () => {
    await addFault({ route: 'GET /projects', latency_ms: 300 });
    const started = Date.now();
    expect(await status(stack.client.listProjects({}))).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    await stack.admin('/faults', { method: 'DELETE' });
    await addFault({ route: 'GET /projects', hang: true });
    const res = fetch(`${stack.urls.api}/projects`, {
      headers: { authorization: `Bearer ${stack.config.apiKey}` },
      signal: AbortSignal.timeout(400),
    });
    await expect(res).rejects.toThrow(/aborted|timeout/i);
  });

  it('refuses a malformed rule with the field at fault', async () => {
    const res = await stack.admin('/faults', { method: 'POST', body: JSON.stringify({ route: 'POST /projects', status: 418 }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/^status/);
    const empty = await stack.admin('/faults', { method: 'POST', body: JSON.stringify({ route: '*' }) });
    expect(empty.status).toBe(400);
    expect(await (await stack.admin('/faults')).json()).toEqual({ faults: [] });
  });

  it('is closed to callers without the API key', async () => {
    const res = await fetch(`${stack.origin}/_admin/faults`, { method: 'POST', body: '{"status":500}' });
    expect(res.status).toBe(401);
  });
});

describe("Neon's rate limit", () => {
  it('answers 429 with Retry-After past the per-route burst, and counts every request', async () => {
    await stack.admin('/stats', { method: 'DELETE' });
    await stack.admin('/rate-limit', { method: 'PUT', body: JSON.stringify({ per_minute: 1000, per_second_per_route: 5 }) });
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        stack.client.listProjects({}).then(
          () => ({ status: 200, retryAfter: undefined as string | undefined }),
          (err) => ({ status: err.response.status as number, retryAfter: err.response.headers['retry-after'] as string }),
        ),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(5);
    const limited = results.filter((r) => r.status === 429);
    expect(limited).toHaveLength(7);
    expect(Number(limited[0].retryAfter)).toBeGreaterThanOrEqual(1);
    // Another route has its own per-second burst.
    expect(await status(stack.client.listProjects({ limit: 1, search: 'x' }))).toBe(429);
    const stats = (await (await stack.admin('/stats')).json()) as { total: number; peak_per_second: number };
    expect(stats.total).toBeGreaterThanOrEqual(13);
    // 13 requests within ~50 ms fall in at most two calendar seconds.
    expect(stats.peak_per_second).toBeGreaterThanOrEqual(7);
  });

  it('holds the per-minute account limit across routes', async () => {
    await stack.admin('/rate-limit', { method: 'PUT', body: JSON.stringify({ per_minute: 3, per_second_per_route: 100 }) });
    const seen = [];
    seen.push(await status(stack.client.listProjects({})));
    const { data } = await stack.client.listProjects({}).catch(() => ({ data: undefined }));
    seen.push(data ? 200 : 429);
    seen.push(await status(stack.client.getProject('no-such-project')));
    seen.push(await status(stack.client.listProjects({})));
    expect(seen).toEqual([200, 200, 404, 429]);
  });
});
