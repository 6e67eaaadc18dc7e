import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { physicalOf, settle, startTestStack, type TestStack } from '../support/neon-stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop(true);
});

const rw = [{ type: 'read_write' as never }];

describe('lists, refusals, restore, expiry and consumption', () => {
  it('pages through projects and branches with cursors, each exactly once, even with creates in between', async () => {
    const { client } = stack;
    const tag = `pg-${Date.now()}`;
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await client.createProject({ project: { name: `${tag}-${i}` } })).data.project.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const { data } = await client.listProjects({ limit: 3, search: tag, cursor });
      seen.push(...data.projects.map((p) => p.id));
      if (page === 0) await client.createProject({ project: { name: `${tag}-late` } });
      if (data.projects.length < 3) break;
      cursor = data.pagination!.cursor;
    }
    expect([...seen].sort()).toEqual([...made].sort());
    expect(new Set(seen).size).toBe(seen.length);
    expect((await client.listProjects({ search: made[0] })).data.projects.map((p) => p.id)).toEqual([made[0]]);

    const projectId = made[0];
    await settle(stack, projectId);
    const branches = [(await client.listProjectBranches({ projectId })).data.branches[0].id];
    for (let i = 0; i < 5; i++) {
      branches.push((await client.createProjectBranch(projectId, { branch: { name: `b${i}` } })).data.branch.id);
      await settle(stack, projectId);
    }
    for (const sort_by of ['name', 'created_at', 'updated_at'] as const) {
      for (const sort_order of ['asc', 'desc'] as const) {
        const got: string[] = [];
        let next: string | undefined;
        do {
          const { data } = await client.listProjectBranches({
            projectId,
            limit: 2,
            sort_by: sort_by as never,
            sort_order: sort_order as never,
            cursor: next,
          });
          got.push(...data.branches.map((b) => b.id));
          next = data.pagination?.next;
        } while (next);
        expect([...got].sort(), `${sort_by} ${sort_order}`).toEqual([...branches].sort());
        expect(new Set(got).size).toBe(got.length);
      }
    }
    const byName = (
      await client.listProjectBranches({ projectId, sort_by: 'name' as never, sort_order: 'asc' as never })
    ).data.branches.map((b) => b.name);
    expect(byName).toEqual([...byName].sort());
  });

  it('refuses to delete the default, a protected, or a parent branch, and a second read_write endpoint', async () => {
    const { client } = stack;
    const { data: p } = await client.createProject({ project: {} });
    await settle(stack, p.project.id);
    const del = (id: string) => stack.fetch(`/projects/${p.project.id}/branches/${id}`, { method: 'DELETE' });
    expect((await del(p.branch.id)).status).toBe(422);
    const { data: parent } = await client.createProjectBranch(p.project.id, { branch: { name: 'parent', protected: true } });
    await settle(stack, p.project.id);
    const protectedRes = await del(parent.branch.id);
    expect(protectedRes.status).toBe(422);
    expect((await protectedRes.json()).message).toMatch(/protected/);
    await client.updateProjectBranch(p.project.id, parent.branch.id, { branch: { protected: false } });
    await client.createProjectBranch(p.project.id, { branch: { name: 'child', parent_id: parent.branch.id } });
    await settle(stack, p.project.id);
    const parentRes = await del(parent.branch.id);
    expect(parentRes.status).toBe(422);
    expect((await parentRes.json()).message).toMatch(/child branches/);
    const second = await stack.fetch(`/projects/${p.project.id}/endpoints`, {
      method: 'POST',
      body: JSON.stringify({ endpoint: { branch_id: p.branch.id, type: 'read_write' } }),
    });
    expect(second.status).toBe(422);
  });

  it('deletes a branch whose expires_at has passed, and refuses children under an expiring branch', async () => {
    const { client } = stack;
    const { data: p } = await client.createProject({ project: {} });
    await settle(stack, p.project.id);
    const soon = new Date(Date.now() + 2000).toISOString().replace(/\.\d+Z$/, 'Z');
    const { data: b } = await client.createProjectBranch(p.project.id, { branch: { name: 'ttl', expires_at: soon }, endpoints: rw });
    expect(b.branch.expires_at).toBe(soon);
    await settle(stack, p.project.id);
    const child = await stack.fetch(`/projects/${p.project.id}/branches`, {
      method: 'POST',
      body: JSON.stringify({ branch: { parent_id: b.branch.id } }),
    });
    expect(child.status).toBe(422);
    expect((await child.json()).message).toMatch(/expiration/);
    const deadline = Date.now() + 8000;
    while ((await stack.fetch(`/projects/${p.project.id}/branches/${b.branch.id}`)).status !== 404) {
      if (Date.now() > deadline) throw new Error('expired branch was not deleted');
      await new Promise((r) => setTimeout(r, 200));
    }
    // null clears an expiry
    const later = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const { data: keep } = await client.createProjectBranch(p.project.id, { branch: { name: 'keep', expires_at: later } });
    await settle(stack, p.project.id);
    const cleared = await client.updateProjectBranch(p.project.id, keep.branch.id, { branch: { expires_at: null } });
    expect(cleared.data.branch.expires_at).toBeUndefined();
  });

  it('restores a branch from another branch’s head, keeping the old data under preserve_under_name', async () => {
    const { client } = stack;
    const { data: p } = await client.createProject({ project: {} });
    await settle(stack, p.project.id);
    const pw = p.roles[0].password!;
    const { data: src } = await client.createProjectBranch(p.project.id, { branch: { name: 'src' }, endpoints: rw });
    await settle(stack, p.project.id);
    const s = physicalOf(stack, src.endpoints![0].id, 'neondb_owner', 'neondb');
    const sc = await stack.connect(s.host, s.role, pw, s.database);
    await sc.query("CREATE TABLE marker AS SELECT 'from-src' AS v");
    await sc.end();
    const m = physicalOf(stack, p.endpoints[0].id, 'neondb_owner', 'neondb');
    const mc = await stack.connect(m.host, m.role, pw, m.database);
    await mc.query("CREATE TABLE marker AS SELECT 'old-main' AS v");
    await mc.end();

    const lsn = await stack.fetch(`/projects/${p.project.id}/branches/${p.branch.id}/restore`, {
      method: 'POST',
      body: JSON.stringify({ source_branch_id: src.branch.id, source_lsn: '0/1' }),
    });
    expect(lsn.status).toBe(400);
    const restored = await client.restoreProjectBranch(p.project.id, p.branch.id, {
      source_branch_id: src.branch.id,
      preserve_under_name: 'main-before',
    });
    expect(restored.data.operations.every((o) => o.status === 'finished')).toBe(true);
    await settle(stack, p.project.id);

    const now = physicalOf(stack, p.endpoints[0].id, 'neondb_owner', 'neondb');
    const nc = await stack.connect(now.host, now.role, pw, now.database);
    expect((await nc.query('SELECT v FROM marker')).rows).toEqual([{ v: 'from-src' }]);
    await nc.end();
    const list = (await client.listProjectBranches({ projectId: p.project.id })).data.branches;
    const before = list.find((b) => b.name === 'main-before')!;
    expect(before).toBeDefined();
    // The preserved branch kept the old data; give it an endpoint and read it with its own role.
    const { data: ep } = await client.createProjectEndpoint(p.project.id, {
      endpoint: { branch_id: before.id, type: 'read_write' as never },
    });
    await settle(stack, p.project.id);
    const kept = physicalOf(stack, ep.endpoint.id, 'neondb_owner', 'neondb');
    expect(kept.database).toBe(m.database);
    const old = await stack.connect(kept.host, kept.role, pw, kept.database);
    expect((await old.query('SELECT v FROM marker')).rows).toEqual([{ v: 'old-main' }]);
    await old.end();
    expect((await client.listProjectBranchDatabases(p.project.id, before.id)).data.databases.map((d) => d.name)).toEqual(['neondb']);
  });

  it('reports consumption from the compute’s real running time and real storage', async () => {
    const { client } = stack;
    const { data: p } = await client.createProject({ project: {} });
    await settle(stack, p.project.id);
    const ep = p.endpoints[0];
    const from = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const to = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const read = async () => {
      const res = await stack.fetch(
        `/consumption_history/v2/branches?project_ids=${p.project.id}&from=${from}&to=${to}&granularity=hourly&metrics=compute_unit_seconds,root_branch_bytes_month`,
      );
      expect(res.status).toBe(200);
      const body = await res.json();
      const frames = body.branches[0].periods[0].consumption;
      const sum = (name: string) =>
        frames
          .flatMap((f: { metrics: { metric_name: string; value: number }[] }) => f.metrics)
          .filter((m: { metric_name: string }) => m.metric_name === name)
          .reduce((a: number, m: { value: number }) => a + m.value, 0);
      return { cu: sum('compute_unit_seconds'), bytes: sum('root_branch_bytes_month') };
    };
    const suspend = async () => {
      await client.suspendProjectEndpoint(p.project.id, ep.id);
      await settle(stack, p.project.id);
    };
    await suspend();
    const first = await read();
    expect(first.bytes).toBeGreaterThan(0);

    // 4.1 s of a running compute at 0.25 CU is about 1 CU-second, with no client connected at all.
    await client.startProjectEndpoint(p.project.id, ep.id);
    await settle(stack, p.project.id);
    await new Promise((r) => setTimeout(r, 4100));
    await suspend();
    const second = await read();
    expect(second.cu - first.cu).toBeGreaterThanOrEqual(1);
    // A stopped compute costs nothing.
    await new Promise((r) => setTimeout(r, 1200));
    expect((await read()).cu).toBe(second.cu);

    const phys = physicalOf(stack, ep.id, 'neondb_owner', 'neondb');
    const c = await stack.connect(phys.host, phys.role, p.roles[0].password!, phys.database);
    await c.query("CREATE TABLE big AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 20000) g");
    await c.end();
    const third = await read();
    expect(third.bytes).toBeGreaterThan(second.bytes);
    await suspend();
    const final = await read();

    const project = (await client.getProject(p.project.id)).data.project;
    expect(project.active_time_seconds).toBeGreaterThanOrEqual(4);
    const bad = await stack.fetch(`/consumption_history/v2/projects?from=${from}&to=${to}&granularity=weekly&metrics=compute_unit_seconds`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/granularity/);
    const dayFrom = new Date(Date.now() - 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const dayTo = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const projects = await stack.fetch(
      `/consumption_history/v2/projects?project_ids=${p.project.id}&from=${dayFrom}&to=${dayTo}&granularity=daily&metrics=compute_unit_seconds`,
    );
    const pj = await projects.json();
    expect(projects.status).toBe(200);
    const daily = pj.projects[0].periods[0].consumption
      .flatMap((f: { metrics: { value: number }[] }) => f.metrics)
      .reduce((a: number, m: { value: number }) => a + m.value, 0);
    expect(daily).toBeCloseTo(final.cu, 6);
  });
});
