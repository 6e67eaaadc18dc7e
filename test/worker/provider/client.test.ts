import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import type { NeonClient } from '../../../src/neon/client';
import { sqlOverHttp, sqlPool } from '../../../src/app/sql/driver';
import { waitForSql } from '../../../src/app/sql/ready';
import { testClient, testName } from '../support/local-stack';

const created: string[] = [];
afterAll(async () => {
  const client = testClient();
  await Promise.all(created.map((id) => client.deleteProject(id).catch(() => {})));
});

/** A project with role `agent` owning database `app`, as the provisioning saga builds it. */
async function projectWithAgentDb(client: NeonClient, name: string) {
  const project = await client.createProject({ name, ownerRoleName: 'owner', databaseName: 'ownerdb', suspendTimeoutSeconds: 60 });
  created.push(project.project.id);
  const branchId = project.branch.id;
  const endpointId = project.endpoints[0].id;
  const role = await client.createRole(project.project.id, branchId, 'agent');
  await client.createDatabase(project.project.id, branchId, 'app', 'agent');
  const uri = await client.connectionUri(project.project.id, { branchId, endpointId, databaseName: 'app', roleName: 'agent' });
  return { project, branchId, endpointId, role, uri };
}

describe('provider client against the local stack', () => {
  it('creates a project, waits for its operations, adds a role and a database the role owns, and connects', async () => {
    const client = testClient();
    const name = testName('client');
    const { project, role, uri, branchId } = await projectWithAgentDb(client, name);

    expect(project.project.name).toBe(name);
    // Every operation the create started has finished by the time it returned.
    for (const op of project.operations) expect(String((await client.getOperation(project.project.id, op.id)).status)).toBe('finished');
    expect(role.password).toBeTruthy();
    expect(new URL(uri).username).toBe('agent');
    expect(decodeURIComponent(new URL(uri).password)).toBe(role.password);
    expect(await client.revealRolePassword(project.project.id, branchId, 'agent')).toBe(role.password);

    expect(await waitForSql(env, uri)).toMatchObject({ attempts: expect.any(Number) });
    const http = sqlOverHttp(env, uri);
    const [row] =
      await http`select current_user as who, current_database() as db, (select pg_get_userbyid(datdba) from pg_database where datname = current_database()) as owner`;
    // The local stack names roles and databases per branch physically (`agent__<branch>`); Neon does not.
    expect(row.who).toMatch(/^agent(__|$)/);
    expect(row.db).toMatch(/^app(__|$)/);
    expect(row.owner).toBe(row.who);

    const pool = sqlPool(env, uri);
    try {
      const res = await pool.query('select 1 as one');
      expect(res.rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('lists projects through every page of the cursor, and deleting is idempotent', async () => {
    const client = testClient();
    const tag = `dblease-test-page-${crypto.randomUUID().slice(0, 8)}`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await client.createProject({ name: `${tag}-${i}` });
      ids.push(p.project.id);
      created.push(p.project.id);
    }
    const listed = await client.listProjects({ search: tag, pageSize: 1 });
    expect(listed.map((p) => p.id).sort()).toEqual([...ids].sort());

    expect(await client.deleteProject(ids[0])).toBe(true);
    expect(await client.deleteProject(ids[0])).toBe(false);
    const after = await client.listProjects({ search: tag, pageSize: 2 });
    expect(after.map((p) => p.id).sort()).toEqual(ids.slice(1).sort());
  });

  it('branches a project: the branch sees the parent data and writes do not cross', async () => {
    const client = testClient();
    const { project, uri } = await projectWithAgentDb(client, testName('branch'));
    const projectId = project.project.id;
    const parent = sqlOverHttp(env, uri);
    await parent`create table notes (body text)`;
    await parent`insert into notes values ('before branching')`;

    const child = await client.createBranch(projectId, { parentId: project.branch.id, name: 'child', suspendTimeoutSeconds: 60 });
    expect(child.endpoints).toHaveLength(1);
    expect(String(child.endpoints[0].type)).toBe('read_write');
    const childUri = await client.connectionUri(projectId, {
      branchId: child.branch.id,
      endpointId: child.endpoints[0].id,
      databaseName: 'app',
      roleName: 'agent',
    });
    expect(new URL(childUri).hostname).not.toBe(new URL(uri).hostname);
    const branch = sqlOverHttp(env, childUri);

    expect(await branch`select body from notes`).toEqual([{ body: 'before branching' }]);
    await branch`insert into notes values ('only on the branch')`;
    await parent`insert into notes values ('only on the parent')`;
    expect((await parent`select body from notes order by body`).map((r) => r.body)).toEqual(['before branching', 'only on the parent']);
    expect((await branch`select body from notes order by body`).map((r) => r.body)).toEqual(['before branching', 'only on the branch']);

    const branches = await client.listBranches(projectId);
    expect(branches.map((b) => b.id)).toContain(child.branch.id);
    expect(await client.deleteBranch(projectId, child.branch.id)).toBe(true);
    expect(await client.deleteBranch(projectId, child.branch.id)).toBe(false);
    expect((await client.listBranches(projectId)).map((b) => b.id)).not.toContain(child.branch.id);
  });

  it('suspends and starts an endpoint; a suspended compute wakes on connect', async () => {
    const client = testClient();
    const { project, endpointId, uri } = await projectWithAgentDb(client, testName('suspend'));
    const suspended = await client.suspendEndpoint(project.project.id, endpointId);
    expect(String(suspended.current_state)).toBe('idle');
    expect(await sqlOverHttp(env, uri)`select 1 as one`).toEqual([{ one: 1 }]);
    const started = await client.startEndpoint(project.project.id, endpointId);
    expect(String(started.current_state)).toBe('active');
  });

  it('rotates a role password: the new one works and the old one stops working', async () => {
    const client = testClient();
    const { project, branchId, role, uri } = await projectWithAgentDb(client, testName('reset'));
    const fresh = await client.resetRolePassword(project.project.id, branchId, 'agent');
    expect(fresh).not.toBe(role.password);
    const url = new URL(uri);
    url.password = encodeURIComponent(fresh);
    expect(await sqlOverHttp(env, url.toString())`select 1 as one`).toEqual([{ one: 1 }]);
    await expect(sqlOverHttp(env, uri)`select 1`).rejects.toMatchObject({ code: '28P01' });
  });
});
