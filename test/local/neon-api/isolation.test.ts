import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle, startTestStack, type TestStack } from '../support/neon-stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop(true);
});

const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('the proxy accepted a connection it must refuse');
};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('every branch is its own compute, with its own roles', () => {
  it('a role from branch A cannot log in to branch B, and one role name has per-branch passwords', async () => {
    const { client } = stack;
    const { data: p } = await client.createProject({ project: { name: 'iso' } });
    await settle(stack, p.project.id);
    const ownerPw = p.roles[0].password!;
    const { data: b } = await client.createProjectBranch(p.project.id, {
      branch: { name: 'b' },
      endpoints: [{ type: 'read_write' as never }],
    });
    await settle(stack, p.project.id);
    const mainHost = p.endpoints[0].host;
    const bHost = b.endpoints![0].host;

    // Two postmasters, one per branch.
    const pids = [p.branch.id, b.branch.id].map(
      (id) => stack.api.computes.runningBranches().find((rc) => rc.branchId === id)?.postmaster.pid,
    );
    expect(pids[0]).toBeGreaterThan(0);
    expect(pids[1]).toBeGreaterThan(0);
    expect(pids[0]).not.toBe(pids[1]);

    // Inherited with the parent's password (a physical copy), then independent.
    (await stack.connect(bHost, 'neondb_owner', ownerPw, 'neondb')).end();
    const bUri = `postgresql://neondb_owner:${ownerPw}@${bHost}/neondb`;
    expect((await stack.sqlOverHttp(bUri, 'select 1')).status).toBe(200);
    const reset = await client.resetProjectBranchRolePassword(p.project.id, b.branch.id, 'neondb_owner');
    const newPw = reset.data.role.password!;
    expect(newPw).not.toBe(ownerPw);
    await settle(stack, p.project.id);
    expect((await stack.sqlOverHttp(bUri, 'select 1')).body.code).toBe('28P01');
    expect((await refusal(stack.connect(bHost, 'neondb_owner', ownerPw, 'neondb'))).code).toBe('28P01');
    (await stack.connect(bHost, 'neondb_owner', newPw, 'neondb')).end();
    (await stack.connect(mainHost, 'neondb_owner', ownerPw, 'neondb')).end();

    // A role made on A exists on A only: B's compute has never heard of it.
    const { data: r } = await client.createProjectBranchRole(p.project.id, p.branch.id, { role: { name: 'only_a' } });
    await settle(stack, p.project.id);
    const onA = await stack.connect(mainHost, 'only_a', r.role.password!, 'neondb');
    expect((await onA.query('SELECT current_user AS u')).rows[0].u).toBe('only_a');
    await onA.end();
    expect((await refusal(stack.connect(bHost, 'only_a', r.role.password!, 'neondb'))).code).toBe('28P01');
    const onB = await stack.superuser(b.branch.id);
    expect((await onB.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'only_a'")).rows[0].n).toBe(0);
    await onB.end();

    // Writes on a child never reach the parent.
    const child = await stack.connect(bHost, 'neondb_owner', newPw, 'neondb');
    await child.query('CREATE TABLE only_in_b (x int)');
    await child.end();
    const parent = await stack.connect(mainHost, 'neondb_owner', ownerPw, 'neondb');
    expect((await parent.query("SELECT to_regclass('only_in_b') AS t")).rows[0].t).toBeNull();
    await parent.end();

    // A deleted role can no longer log in.
    await client.deleteProjectBranchRole(p.project.id, p.branch.id, 'only_a');
    await settle(stack, p.project.id);
    expect((await refusal(stack.connect(mainHost, 'only_a', r.role.password!, 'neondb'))).code).toBe('28P01');
  });

  it('suspend stops the compute’s processes and ends its sessions; a connection starts it again and reports the cold start', async () => {
    const { client } = stack;
    const { data: p } = await client.createProject({ project: {} });
    await settle(stack, p.project.id);
    const ep = p.endpoints[0];
    const pw = p.roles[0].password!;
    const session = await stack.connect(ep.host, 'neondb_owner', pw, 'neondb');
    const ended = new Promise((resolve) => session.on('error', resolve));
    const pid = stack.api.computes.runningBranches().find((rc) => rc.branchId === p.branch.id)!.postmaster.pid;
    expect(alive(pid)).toBe(true);

    const s = await client.suspendProjectEndpoint(p.project.id, ep.id);
    expect(s.data.operations[0]).toMatchObject({ action: 'suspend_compute', status: 'finished' });
    expect(s.data.endpoint.current_state).toBe('idle');
    await ended;
    await expect(session.query('SELECT 1')).rejects.toThrow();
    // The postmaster is gone, and with it the compute's memory.
    expect(alive(pid)).toBe(false);
    expect(stack.api.computes.isRunning(p.branch.id)).toBe(false);

    // The first connection wakes it: the client waits, the start is measured.
    const woken = await stack.connect(ep.host, 'neondb_owner', pw, 'neondb');
    expect((await woken.query('SELECT 1 AS ok')).rows[0].ok).toBe(1);
    await woken.end();
    const after = (await client.getProjectEndpoint(p.project.id, ep.id)).data.endpoint as { current_state: string; cold_start_ms?: number };
    expect(after.current_state).toBe('active');
    expect(after.cold_start_ms).toBeGreaterThan(0);
    const ops = (await client.listProjectOperations({ projectId: p.project.id })).data.operations;
    expect(ops[0]).toMatchObject({ action: 'start_compute', status: 'finished' });

    await client.updateProjectEndpoint(p.project.id, ep.id, { endpoint: { disabled: true } });
    await expect(stack.api.gate.ensureAwake(ep.id)).rejects.toMatchObject({ sqlState: '57P03' });
  });

  it('suspends an endpoint idle for its suspend_timeout_seconds, but not while a client connection is open', async () => {
    const { client } = stack;
    const { data: p } = await client.createProject({ project: { default_endpoint_settings: { suspend_timeout_seconds: 1 } } });
    await settle(stack, p.project.id);
    const ep = p.endpoints[0];
    expect(ep.suspend_timeout_seconds).toBe(1);
    stack.api.gate.connectionOpened(ep.id);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await client.getProjectEndpoint(p.project.id, ep.id)).data.endpoint.current_state).toBe('active');
    stack.api.gate.connectionClosed(ep.id);
    const deadline = Date.now() + 15_000;
    while ((await client.getProjectEndpoint(p.project.id, ep.id)).data.endpoint.current_state !== 'idle') {
      if (Date.now() > deadline) throw new Error('endpoint never suspended');
      await new Promise((r) => setTimeout(r, 200));
    }
    // The endpoint reads idle as its compute begins to stop; the operation ends once it has.
    const ops = await settle(stack, p.project.id);
    expect(ops[0]).toMatchObject({ action: 'suspend_compute', status: 'finished' });
    expect(stack.api.computes.isRunning(p.branch.id)).toBe(false);
  });

  it('branches while clients hold sessions, one mid-transaction: they are untouched and the child sees only what was committed', async () => {
    const { client } = stack;
    const { data: p } = await client.createProject({ project: {} });
    await settle(stack, p.project.id);
    const host = p.endpoints[0].host;
    const pw = p.roles[0].password!;
    const setup = await stack.connect(host, 'neondb_owner', pw, 'neondb');
    await setup.query('CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 1000)');
    const inTx = await stack.connect(host, 'neondb_owner', pw, 'neondb');
    await inTx.query('BEGIN');
    await inTx.query('INSERT INTO t VALUES (-1)');

    const res = await stack.fetch(`/projects/${p.project.id}/branches`, {
      method: 'POST',
      body: JSON.stringify({ endpoints: [{ type: 'read_write' }] }),
    });
    expect(res.status).toBe(201);
    const child = await res.json();
    await settle(stack, p.project.id);

    // Both sessions carry on, the open transaction included.
    expect((await setup.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(1000);
    await inTx.query('INSERT INTO t VALUES (-2)');
    await inTx.query('COMMIT');
    expect((await setup.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(1002);
    await Promise.all([setup.end(), inTx.end()]);

    const onChild = await stack.connect(child.endpoints[0].host, 'neondb_owner', pw, 'neondb');
    expect((await onChild.query('SELECT count(*)::int AS n, min(x) AS low FROM t')).rows[0]).toEqual({ n: 1000, low: 1 });
    await onChild.end();
  });
});
