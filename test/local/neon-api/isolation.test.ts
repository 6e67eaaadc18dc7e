import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { physicalOf, settle, startTestStack, type TestStack } from '../support/neon-stack';

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
  throw new Error('PostgreSQL accepted a connection it must refuse');
};

describe('branches and roles are isolated in PostgreSQL itself', () => {
  it('a role from branch A cannot log in to branch B, and one logical role has per-branch passwords', async () => {
    const { client } = stack;
    const { data: p } = await client.createProject({ project: { name: 'iso' } });
    await settle(stack, p.project.id);
    const ownerPw = p.roles[0].password!;
    const { data: b } = await client.createProjectBranch(p.project.id, {
      branch: { name: 'b' },
      endpoints: [{ type: 'read_write' as never }],
    });
    await settle(stack, p.project.id);
    const mainEp = p.endpoints[0].id;
    const bEp = b.endpoints![0].id;

    // Inherited with the parent's password, then independent.
    const bOwner = physicalOf(stack, bEp, 'neondb_owner', 'neondb');
    (await stack.connect(bOwner.role, ownerPw, bOwner.database)).end();
    // Leaves a pooled upstream session in the SQL-over-HTTP proxy, opened with the old password.
    const bUri = `postgresql://neondb_owner:${ownerPw}@${b.endpoints![0].host}/neondb`;
    expect((await stack.sqlOverHttp(bUri, 'select 1')).status).toBe(200);
    const reset = await client.resetProjectBranchRolePassword(p.project.id, b.branch.id, 'neondb_owner');
    const newPw = reset.data.role.password!;
    expect(newPw).not.toBe(ownerPw);
    // The pooled session went with the reset: the old password no longer works, even there.
    expect((await stack.sqlOverHttp(bUri, 'select 1')).body.code).toBe('28P01');
    await settle(stack, p.project.id);
    expect((await refusal(stack.connect(bOwner.role, ownerPw, bOwner.database))).code).toBe('28P01');
    (await stack.connect(bOwner.role, newPw, bOwner.database)).end();
    const mainOwner = physicalOf(stack, mainEp, 'neondb_owner', 'neondb');
    (await stack.connect(mainOwner.role, ownerPw, mainOwner.database)).end();

    // A role made on A exists on A only; PostgreSQL refuses it on B's database.
    const { data: r } = await client.createProjectBranchRole(p.project.id, p.branch.id, { role: { name: 'only_a' } });
    await settle(stack, p.project.id);
    const onlyA = physicalOf(stack, mainEp, 'only_a', 'neondb');
    (await stack.connect(onlyA.role, r.role.password!, onlyA.database)).end();
    expect(stack.api.gate.resolve(bEp)!.role('only_a')).toBeUndefined();
    const denied = await refusal(stack.connect(onlyA.role, r.role.password!, bOwner.database));
    expect(denied.code).toBe('42501');
    // Nor can A's owner enter B, even with the password they share by inheritance.
    const { data: c } = await client.createProjectBranch(p.project.id, {
      branch: { name: 'c' },
      endpoints: [{ type: 'read_write' as never }],
    });
    await settle(stack, p.project.id);
    const cOwner = physicalOf(stack, c.endpoints![0].id, 'neondb_owner', 'neondb');
    expect((await refusal(stack.connect(mainOwner.role, ownerPw, cOwner.database))).code).toBe('42501');

    // Writes on a child never reach the parent.
    const child = await stack.connect(cOwner.role, ownerPw, cOwner.database);
    await child.query('CREATE TABLE only_in_c (x int)');
    await child.end();
    const parent = await stack.connect(mainOwner.role, ownerPw, mainOwner.database);
    expect((await parent.query("SELECT to_regclass('only_in_c') AS t")).rows[0].t).toBeNull();
    await parent.end();

    // A deleted role can no longer log in.
    await client.deleteProjectBranchRole(p.project.id, p.branch.id, 'only_a');
    await settle(stack, p.project.id);
    expect((await refusal(stack.connect(onlyA.role, r.role.password!, onlyA.database))).code).toBe('28P01');
  });

  it('suspend closes the branch’s databases and ends sessions; start reopens them; ensureAwake wakes', async () => {
    const { client } = stack;
    const { data: p } = await client.createProject({ project: {} });
    await settle(stack, p.project.id);
    const ep = p.endpoints[0];
    const phys = physicalOf(stack, ep.host, 'neondb_owner', 'neondb');
    const pw = p.roles[0].password!;
    const session = await stack.connect(phys.role, pw, phys.database);
    const ended = new Promise((resolve) => session.on('error', resolve));

    const s = await client.suspendProjectEndpoint(p.project.id, ep.id);
    expect(s.data.operations[0]).toMatchObject({ action: 'suspend_compute', status: 'finished' });
    expect(s.data.endpoint.current_state).toBe('idle');
    await ended;
    await expect(session.query('SELECT 1')).rejects.toThrow();
    expect((await refusal(stack.connect(phys.role, pw, phys.database))).message).toMatch(/not currently accepting connections/);

    await client.startProjectEndpoint(p.project.id, ep.id);
    const ops = await settle(stack, p.project.id);
    expect(ops[0]).toMatchObject({ action: 'start_compute', status: 'finished' });
    (await stack.connect(phys.role, pw, phys.database)).end();

    await client.suspendProjectEndpoint(p.project.id, ep.id);
    await stack.api.gate.ensureAwake(ep.id);
    expect((await client.getProjectEndpoint(p.project.id, ep.id)).data.endpoint.current_state).toBe('active');
    (await stack.connect(phys.role, pw, phys.database)).end();
    expect((await client.listProjectOperations({ projectId: p.project.id })).data.operations[0].action).toBe('start_compute');

    await client.updateProjectEndpoint(p.project.id, ep.id, { endpoint: { disabled: true } });
    await expect(stack.api.gate.ensureAwake(ep.id)).rejects.toMatchObject({ sqlState: '57P03' });
    expect((await refusal(stack.connect(phys.role, pw, phys.database))).message).toMatch(/not currently accepting connections/);
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
    const deadline = Date.now() + 5000;
    while ((await client.getProjectEndpoint(p.project.id, ep.id)).data.endpoint.current_state !== 'idle') {
      if (Date.now() > deadline) throw new Error('endpoint never suspended');
      await new Promise((r) => setTimeout(r, 200));
    }
    const ops = (await client.listProjectOperations({ projectId: p.project.id })).data.operations;
    expect(ops[0]).toMatchObject({ action: 'suspend_compute', status: 'finished' });
  });

  it('refuses to branch from a database a client holds open, with 409, and never kills the client', async () => {
    const { client } = stack;
    const { data: p } = await client.createProject({ project: {} });
    await settle(stack, p.project.id);
    const phys = physicalOf(stack, p.endpoints[0].id, 'neondb_owner', 'neondb');
    const session = await stack.connect(phys.role, p.roles[0].password!, phys.database);
    const started = Date.now();
    const res = await stack.fetch(`/projects/${p.project.id}/branches`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(409);
    expect((await res.json()).message).toMatch(/1 open client connection.*branching needs none/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await session.query('SELECT 1 AS ok')).rows[0].ok).toBe(1);
    await session.end();
    // An idle pooled session of the SQL-over-HTTP proxy does not block branching: it is released.
    const uri = `postgresql://neondb_owner:${p.roles[0].password}@${p.endpoints[0].host}/neondb`;
    expect((await stack.sqlOverHttp(uri, 'select 1')).status).toBe(200);
    expect((await stack.fetch(`/projects/${p.project.id}/branches`, { method: 'POST', body: '{}' })).status).toBe(201);
  });
});
