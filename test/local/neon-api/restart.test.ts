import { afterAll, describe, expect, it } from 'vitest';
import { physicalOf, settle, startTestStack, type TestStack } from '../support/neon-stack';

let stack: TestStack | undefined;
afterAll(async () => {
  await stack?.stop(true);
});

describe('a restart of the stack', () => {
  it('keeps projects, branches, roles, passwords, data, endpoints, operations and consumption', async () => {
    const first = await startTestStack();
    stack = first;
    const { data: p } = await first.client.createProject({ project: { name: 'survivor' } });
    await settle(first, p.project.id);
    const { data: b } = await first.client.createProjectBranch(p.project.id, {
      branch: { name: 'dev' },
      endpoints: [{ type: 'read_write' as never }],
    });
    await settle(first, p.project.id);
    const { data: r } = await first.client.createProjectBranchRole(p.project.id, b.branch.id, { role: { name: 'app' } });
    await settle(first, p.project.id);
    const dev = physicalOf(first, b.endpoints![0].id, 'neondb_owner', 'neondb');
    const c = await first.connect(dev.host, dev.role, p.roles[0].password!, dev.database);
    await c.query("CREATE TABLE kept AS SELECT 'yes' AS v");
    await c.end();
    // Compute time is the computes' running time: stopped, they add none while the stack restarts.
    await new Promise((res) => setTimeout(res, 1000));
    for (const ep of [...p.endpoints, ...b.endpoints!]) await first.client.suspendProjectEndpoint(p.project.id, ep.id);
    await settle(first, p.project.id);
    const opsBefore = (await first.client.listProjectOperations({ projectId: p.project.id, limit: 100 })).data.operations.length;
    const activeBefore = (await first.client.getProject(p.project.id)).data.project.active_time_seconds;
    expect(activeBefore).toBeGreaterThanOrEqual(1);
    await first.stop(false);
    stack = undefined;

    const second = await startTestStack({ dataDir: first.config.dataDir });
    stack = second;
    const project = (await second.client.getProject(p.project.id)).data.project;
    expect(project.name).toBe('survivor');
    expect(project.active_time_seconds).toBe(activeBefore);
    const branches = (await second.client.listProjectBranches({ projectId: p.project.id })).data.branches.map((x) => x.name).sort();
    expect(branches).toEqual(['dev', 'main']);
    expect((await second.client.getProjectBranchRolePassword(p.project.id, b.branch.id, 'app')).data.password).toBe(r.role.password);
    expect((await second.client.listProjectOperations({ projectId: p.project.id, limit: 100 })).data.operations.length).toBe(opsBefore);
    // Every endpoint listens again, and its state is applied to PostgreSQL.
    for (const ep of [...p.endpoints, ...b.endpoints!]) expect(await second.listening(ep.host.split(':')[0])).toBe(true);
    const again = physicalOf(second, b.endpoints![0].host, 'neondb_owner', 'neondb');
    expect(again).toEqual(dev);
    const c2 = await second.connect(again.host, again.role, p.roles[0].password!, again.database);
    expect((await c2.query('SELECT v FROM kept')).rows).toEqual([{ v: 'yes' }]);
    await c2.end();
    const app = physicalOf(second, b.endpoints![0].id, 'app', 'neondb');
    (await second.connect(app.host, app.role, r.role.password!, app.database)).end();
    // Addresses are never handed out twice.
    const { data: p2 } = await second.client.createProject({ project: {} });
    const used = [...p.endpoints, ...b.endpoints!].map((e) => e.host);
    expect(used).not.toContain(p2.endpoints[0].host);
  });
});
