import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle, startTestStack, physicalOf, type TestStack } from '../support/neon-stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop(true);
});

describe('Neon API v2 on the local stack: the full flow', () => {
  it('project → branch → role → connection URI → operations finished → delete', async () => {
    const { client } = stack;
    const created = await client.createProject({ project: { name: 'flow' } });
    expect(created.status).toBe(201);
    const { project, branch: main, endpoints, roles, databases, connection_uris, operations } = created.data;
    expect(project.name).toBe('flow');
    expect(project.region_id).toBe(stack.config.regionId);
    expect(main.name).toBe('main');
    expect(main.default).toBe(true);
    expect(roles.map((r) => r.name)).toEqual(['neondb_owner']);
    expect(roles[0].password).toMatch(/^npg_[A-Za-z0-9]{12}$/);
    expect(databases.map((d) => [d.name, d.owner_name])).toEqual([['neondb', 'neondb_owner']]);
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0].type).toBe('read_write');
    const [ip, port] = endpoints[0].host.split(':');
    expect(ip).toMatch(/^127\.1\.\d+\.\d+$/);
    expect(Number(port)).toBe(stack.config.pgPort);
    expect(await stack.listening(ip)).toBe(true);
    expect(connection_uris[0].connection_uri).toBe(`postgresql://neondb_owner:${roles[0].password}@${endpoints[0].host}/neondb`);
    expect(connection_uris[0].connection_parameters).toMatchObject({ database: 'neondb', role: 'neondb_owner', host: endpoints[0].host });
    expect(operations.map((o) => o.action)).toContain('start_compute');

    const ops = await settle(stack, project.id);
    expect(ops.every((o) => o.status === 'finished')).toBe(true);
    expect((await client.getProjectEndpoint(project.id, endpoints[0].id)).data.endpoint.current_state).toBe('active');

    // Real data on main, through the real role and password.
    const phys = physicalOf(stack, endpoints[0].host, 'neondb_owner', 'neondb');
    const owner = await stack.connect(phys.host, phys.role, roles[0].password!, phys.database);
    await owner.query('CREATE TABLE t (v int); INSERT INTO t VALUES (1)');
    await owner.end();

    const br = await client.createProjectBranch(project.id, { branch: { name: 'dev' }, endpoints: [{ type: 'read_write' as never }] });
    expect(br.status).toBe(201);
    expect(br.data.branch.parent_id).toBe(main.id);
    expect(br.data.roles!.map((r) => r.name)).toEqual(['neondb_owner']);
    expect(br.data.operations.find((o) => o.action === 'create_branch')?.status).toBe('finished');
    await settle(stack, project.id);

    const role = await client.createProjectBranchRole(project.id, br.data.branch.id, { role: { name: 'agent' } });
    expect(role.status).toBe(201);
    const pw = role.data.role.password!;
    expect((await client.getProjectBranchRolePassword(project.id, br.data.branch.id, 'agent')).data.password).toBe(pw);

    const uri = await client.getConnectionUri({
      projectId: project.id,
      branch_id: br.data.branch.id,
      database_name: 'neondb',
      role_name: 'agent',
    });
    expect(uri.data.uri).toBe(`postgresql://agent:${pw}@${br.data.endpoints![0].host}/neondb`);
    const pooled = await client.getConnectionUri({
      projectId: project.id,
      branch_id: br.data.branch.id,
      database_name: 'neondb',
      role_name: 'agent',
      pooled: true,
    });
    expect(pooled.data.uri).toBe(uri.data.uri);

    // The child is a real copy, owned by the child's role.
    const childPhys = physicalOf(stack, br.data.endpoints![0].id, 'neondb_owner', 'neondb');
    expect(childPhys.host).not.toBe(phys.host);
    const childOwner = await stack.connect(childPhys.host, childPhys.role, roles[0].password!, childPhys.database);
    expect((await childOwner.query('SELECT v FROM t')).rows).toEqual([{ v: 1 }]);
    const tableOwner = await childOwner.query("SELECT tableowner FROM pg_tables WHERE tablename = 't'");
    expect(tableOwner.rows[0].tableowner).toBe(childPhys.role);
    await childOwner.end();
    const agent = await stack.connect(physicalOf(stack, br.data.endpoints![0].id, 'agent', 'neondb').host, 'agent', pw, childPhys.database);
    await agent.end();

    await settle(stack, project.id);
    const del = await client.deleteProjectBranch({ projectId: project.id, branchId: br.data.branch.id });
    expect(del.data.operations.every((o) => o.status === 'finished')).toBe(true);
    // Its compute and its data directory went with it.
    expect(stack.api.computes.isRunning(br.data.branch.id)).toBe(false);
    expect(await stack.api.storage.exists(br.data.branch.id)).toBe(false);
    expect(await stack.listening(br.data.endpoints![0].host.split(':')[0])).toBe(false);

    await settle(stack, project.id);
    expect((await client.deleteProject(project.id)).status).toBe(200);
    const res = await stack.fetch(`/projects/${project.id}`);
    expect(res.status).toBe(404);
    expect(await stack.api.storage.exists(main.id)).toBe(false);
  });

  it('refuses requests without the right key with 401 in Neon’s error shape, and echoes X-Request-ID', async () => {
    for (const key of [null, 'wrong-key']) {
      const res = await stack.fetch('/projects', { key, headers: { 'x-request-id': 'req-123' } });
      expect(res.status).toBe(401);
      expect(res.headers.get('x-request-id')).toBe('req-123');
      const body = await res.json();
      expect(body).toMatchObject({ request_id: 'req-123', code: expect.any(String), message: expect.any(String) });
    }
    const ok = await stack.fetch('/projects');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toMatch(/[0-9a-f-]{36}/);
  });

  it('answers unknown ids with 404', async () => {
    const { data: p } = await stack.client.createProject({ project: {} });
    for (const path of [
      '/projects/no-such-project',
      `/projects/${p.project.id}/branches/br-nope`,
      `/projects/${p.project.id}/endpoints/ep-nope`,
      `/projects/${p.project.id}/branches/${p.branch.id}/roles/nobody`,
      `/projects/${p.project.id}/branches/${p.branch.id}/databases/nodb`,
      `/projects/${p.project.id}/operations/00000000-0000-0000-0000-000000000000`,
    ]) {
      const res = await stack.fetch(path);
      expect(res.status, path).toBe(404);
      expect((await res.json()).message).toMatch(/not found/);
    }
  });

  it('rejects bad input with 400 naming the field, never 500', async () => {
    const { data: p } = await stack.client.createProject({ project: {} });
    await settle(stack, p.project.id);
    const cases: [string, string, unknown, RegExp][] = [
      ['POST', '/projects', '{not json', /not valid JSON/],
      ['POST', '/projects', { project: { region_id: 'aws-us-east-2' } }, /project\.region_id/],
      ['POST', '/projects', { project: { name: 42 } }, /project\.name/],
      ['POST', '/projects', { project: { default_endpoint_settings: { suspend_timeout_seconds: 10_000_000 } } }, /suspend_timeout_seconds/],
      ['POST', `/projects/${p.project.id}/branches`, { branch: { parent_lsn: '0/1' } }, /branch\.parent_lsn/],
      ['POST', `/projects/${p.project.id}/branches`, { branch: { expires_at: 'tomorrow' } }, /branch\.expires_at/],
      ['POST', `/projects/${p.project.id}/branches`, { endpoints: [{ type: 'read_write' }, { type: 'read_write' }] }, /endpoints/],
      ['POST', `/projects/${p.project.id}/branches/${p.branch.id}/roles`, { role: { name: 'postgres' } }, /role\.name/],
      ['POST', `/projects/${p.project.id}/branches/${p.branch.id}/roles`, { role: { name: 'x'.repeat(64) } }, /role\.name.*63/],
      [
        'POST',
        `/projects/${p.project.id}/branches/${p.branch.id}/databases`,
        { database: { name: 'db2', owner_name: 'ghost' } },
        /database\.owner_name/,
      ],
      ['GET', '/projects?limit=0', undefined, /limit/],
      ['GET', '/projects?limit=401', undefined, /limit/],
      ['GET', '/projects?cursor=garbage', undefined, /cursor/],
      [
        'PATCH',
        `/projects/${p.project.id}/endpoints/${p.endpoints[0].id}`,
        { endpoint: { autoscaling_limit_min_cu: 0.1 } },
        /autoscaling_limit_min_cu/,
      ],
    ];
    for (const [method, path, body, message] of cases) {
      const res = await stack.fetch(path, {
        method,
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const json = await res.json();
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(json.message).toMatch(message);
    }
  });

  it('answers overlapping mutations on one project with 423: exactly one of two concurrent branch creates wins', async () => {
    const { data: p } = await stack.client.createProject({ project: {} });
    await settle(stack, p.project.id);
    const create = () =>
      stack.fetch(`/projects/${p.project.id}/branches`, { method: 'POST', body: JSON.stringify({ endpoints: [{ type: 'read_write' }] }) });
    const results = await Promise.all([create(), create()]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 423]);
    const locked = await results.find((r) => r.status === 423)!.json();
    expect(locked.message).toBe('project already has running conflicting operations, scheduling of new ones is prohibited');
    // While the new endpoint's start is still running, further mutations are refused too; reads never are.
    expect((await stack.fetch(`/projects/${p.project.id}/branches`)).status).toBe(200);
    await settle(stack, p.project.id);
    expect((await stack.client.updateProject(p.project.id, { project: { name: 'renamed' } })).status).toBe(200);
  });
});
