import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startStack, type RunningStack } from '../support/local-stack';

/**
 * Branches and restores as of a moment: the template, recovered through the project's archived
 * WAL to `parent_timestamp` / `parent_lsn` on the parent's timeline.
 */
let stack: RunningStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.dispose());

async function rows(uri: string, sql: string) {
  const client = await connect(uri);
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.urls.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.config.apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('point in time', () => {
  it('a branch as of a time sees the rows deleted after it, and one as of an LSN sees what was there at that LSN', async () => {
    const created = await api('POST', '/projects', { project: { name: 'pitr' } });
    await stack.settle(created.body.project.id, created.body.operations);
    const projectId = created.body.project.id;
    const uri = created.body.connection_uris[0].connection_uri;
    await rows(uri, `CREATE TABLE orders (id int); INSERT INTO orders SELECT generate_series(1, 100)`);
    const [{ lsn }] = await rows(uri, 'SELECT pg_current_wal_lsn()::text AS lsn');
    await pause(1100);
    const before = new Date().toISOString();
    await pause(1100);
    await rows(uri, 'DELETE FROM orders WHERE id > 10');
    await rows(uri, `INSERT INTO orders VALUES (1000)`);

    const asOf = await api('POST', `/projects/${projectId}/branches`, {
      branch: { name: 'before-the-bad-deploy', parent_timestamp: before },
      endpoints: [{ type: 'read_write' }],
    });
    expect(asOf.status).toBe(201);
    await stack.settle(projectId, asOf.body.operations);
    expect(await rows(asOf.body.connection_uris[0].connection_uri, 'SELECT count(*)::int AS n, max(id) AS top FROM orders')).toEqual([
      { n: 100, top: 100 },
    ]);
    // The parent is untouched, and the past branch lives on by itself.
    expect(await rows(uri, 'SELECT count(*)::int AS n FROM orders')).toEqual([{ n: 11 }]);
    await rows(asOf.body.connection_uris[0].connection_uri, 'INSERT INTO orders VALUES (-1)');
    expect(await rows(uri, 'SELECT count(*)::int AS n FROM orders WHERE id = -1')).toEqual([{ n: 0 }]);

    const atLsn = await api('POST', `/projects/${projectId}/branches`, {
      branch: { name: 'at-lsn', parent_lsn: lsn },
      endpoints: [{ type: 'read_write' }],
    });
    expect(atLsn.status).toBe(201);
    await stack.settle(projectId, atLsn.body.operations);
    expect(await rows(atLsn.body.connection_uris[0].connection_uri, 'SELECT count(*)::int AS n FROM orders')).toEqual([{ n: 100 }]);

    // A branch of a branch, as of a time on the child's own timeline.
    const childUri = asOf.body.connection_uris[0].connection_uri;
    await pause(1100);
    const onChild = new Date().toISOString();
    await pause(1100);
    await rows(childUri, 'TRUNCATE orders');
    const grandchild = await api('POST', `/projects/${projectId}/branches`, {
      branch: { parent_id: asOf.body.branch.id, parent_timestamp: onChild },
      endpoints: [{ type: 'read_write' }],
    });
    expect(grandchild.status).toBe(201);
    await stack.settle(projectId, grandchild.body.operations);
    expect(await rows(grandchild.body.connection_uris[0].connection_uri, 'SELECT count(*)::int AS n FROM orders')).toEqual([{ n: 101 }]);
  });

  it('restores a branch to its own past, keeping its connection string', async () => {
    const created = await api('POST', '/projects', { project: {} });
    await stack.settle(created.body.project.id, created.body.operations);
    const { id: projectId } = created.body.project;
    const uri = created.body.connection_uris[0].connection_uri;
    await rows(uri, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('good')`);
    await pause(1100);
    const good = new Date().toISOString();
    await pause(1100);
    await rows(uri, `UPDATE kept SET v = 'bad'`);
    const restored = await api('POST', `/projects/${projectId}/branches/${created.body.branch.id}/restore`, {
      source_branch_id: created.body.branch.id,
      source_timestamp: good,
      preserve_under_name: 'main-before-restore',
    });
    expect(restored.status).toBe(200);
    await stack.settle(projectId, restored.body.operations);
    expect(await rows(uri, 'SELECT v FROM kept')).toEqual([{ v: 'good' }]);
  });

  it('refuses a time or LSN outside the history with 400 naming the field and the window', async () => {
    const created = await api('POST', '/projects', { project: { history_retention_seconds: 3600 } });
    await stack.settle(created.body.project.id, created.body.operations);
    const base = `/projects/${created.body.project.id}/branches`;
    const early = await api('POST', base, { branch: { parent_timestamp: '2020-01-01T00:00:00Z' } });
    expect(early.status).toBe(400);
    expect(early.body.message).toMatch(/^branch\.parent_timestamp: .*outside the branch's history, which runs from \S+ to \S+/);
    const future = await api('POST', base, { branch: { parent_timestamp: new Date(Date.now() + 60_000).toISOString() } });
    expect(future.status).toBe(400);
    const lsn = await api('POST', base, { branch: { parent_lsn: 'FF/0' } });
    expect(lsn.status).toBe(400);
    expect(lsn.body.message).toMatch(/^branch\.parent_lsn: FF\/0 is outside the branch's history/);
    const garbage = await api('POST', base, { branch: { parent_lsn: 'yesterday' } });
    expect(garbage.body.message).toMatch(/^branch\.parent_lsn: must be an LSN/);
  });
});
