import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startStack, type RunningStack } from '../support/local-stack';

/**
 * Roles as Neon has them: real names on each branch's own compute, copied with the branch's
 * data and independent afterwards. Every session goes through the endpoint proxy with the
 * connection strings the API returns.
 */
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.dispose());

async function project(name: string) {
  const { data } = await stack.client.createProject({ project: { name } });
  await stack.settle(data.project.id, data.operations);
  return { id: data.project.id, branchId: data.branch.id, uri: data.connection_uris![0].connection_uri };
}

async function branch(projectId: string) {
  const { data } = await stack.client.createProjectBranch(projectId, { endpoints: [{ type: 'read_write' as never }] });
  await stack.settle(projectId, data.operations);
  return { id: data.branch.id, uri: data.connection_uris![0].connection_uri };
}

const withUser = (uri: string, user: string, password: string) => {
  const url = new URL(uri);
  url.username = user;
  url.password = encodeURIComponent(password);
  return url.toString();
};

const one = async (uri: string, sql: string) => {
  const client = await connect(uri);
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
};

describe('roles on a branch', () => {
  it('carry their real names, and SQL that names them works: GRANT, SET ROLE, ALTER OWNER, pg_has_role', async () => {
    const p = await project('names');
    const owner = await connect(p.uri);
    try {
      expect((await owner.query('SELECT current_user AS u, session_user AS s')).rows).toEqual([{ u: 'neondb_owner', s: 'neondb_owner' }]);
      await owner.query(
        `CREATE ROLE app_rw NOLOGIN; CREATE TABLE orders (id int); GRANT SELECT ON orders TO app_rw; GRANT CREATE ON SCHEMA public TO app_rw`,
      );
      // Its creator is a member of a role it makes (createrole_self_grant), as Neon's owner is.
      await owner.query('ALTER TABLE orders OWNER TO app_rw');
      expect((await owner.query(`SELECT pg_has_role('neondb_owner', 'app_rw', 'MEMBER') AS m`)).rows[0].m).toBe(true);
      await owner.query('SET ROLE app_rw');
      expect((await owner.query('SELECT current_user AS u')).rows[0].u).toBe('app_rw');
    } finally {
      await owner.end();
    }
  });

  it('API-made roles are members of neon_superuser: they read and write the owner’s tables', async () => {
    const p = await project('superuser');
    await one(p.uri, 'CREATE TABLE secrets_of_owner (v text); INSERT INTO secrets_of_owner VALUES (1)');
    const { data } = await stack.client.createProjectBranchRole(p.id, p.branchId, { role: { name: 'analyst' } });
    await stack.settle(p.id, data.operations);
    const analyst = withUser(p.uri, 'analyst', data.role.password!);
    await one(analyst, `INSERT INTO secrets_of_owner VALUES ('2')`);
    expect(await one(analyst, 'SELECT count(*)::int AS n FROM secrets_of_owner')).toEqual([{ n: 2 }]);
    expect(await one(analyst, `SELECT pg_has_role(current_user, 'neon_superuser', 'MEMBER') AS m`)).toEqual([{ m: true }]);
  });

  it('a child keeps the grants, ownership and policies of its parent, and RLS behaves as it did there', async () => {
    const p = await project('inherit');
    await one(
      p.uri,
      `CREATE ROLE tenant_a LOGIN PASSWORD 'pw-a';
       CREATE TABLE notes (owner text, body text);
       INSERT INTO notes VALUES ('tenant_a', 'mine'), ('tenant_b', 'theirs');
       GRANT SELECT ON notes TO tenant_a;
       ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
       CREATE POLICY own_rows ON notes FOR SELECT TO tenant_a USING (owner = current_user)`,
    );
    const child = await branch(p.id);
    for (const uri of [p.uri, child.uri]) {
      expect(await one(withUser(uri, 'tenant_a', 'pw-a'), 'SELECT body FROM notes')).toEqual([{ body: 'mine' }]);
    }
    expect(await one(child.uri, `SELECT tableowner FROM pg_tables WHERE tablename = 'notes'`)).toEqual([{ tableowner: 'neondb_owner' }]);
    // Diverges afterwards: a change of password on the child is the child's alone.
    await one(child.uri, `ALTER ROLE tenant_a PASSWORD 'pw-child'`);
    expect(await one(withUser(child.uri, 'tenant_a', 'pw-child'), 'SELECT count(*)::int AS n FROM notes')).toEqual([{ n: 1 }]);
    expect(await one(withUser(p.uri, 'tenant_a', 'pw-a'), 'SELECT count(*)::int AS n FROM notes')).toEqual([{ n: 1 }]);
    await expect(connect(withUser(p.uri, 'tenant_a', 'pw-child'))).rejects.toMatchObject({ code: '28P01' });
  });

  it('the same role name lives on two projects with two passwords, and a role made in SQL is invisible elsewhere', async () => {
    const a = await project('same-a');
    const b = await project('same-b');
    const passwordOf = (uri: string) => decodeURIComponent(new URL(uri).password);
    expect(new URL(a.uri).username).toBe('neondb_owner');
    expect(new URL(b.uri).username).toBe('neondb_owner');
    expect(passwordOf(a.uri)).not.toBe(passwordOf(b.uri));
    await expect(connect(withUser(b.uri, 'neondb_owner', passwordOf(a.uri)))).rejects.toMatchObject({ code: '28P01' });

    await one(a.uri, `CREATE ROLE only_on_a LOGIN PASSWORD 'x'`);
    const sibling = await branch(a.id);
    await one(a.uri, `CREATE ROLE after_branching LOGIN PASSWORD 'y'`);
    expect(await one(withUser(a.uri, 'after_branching', 'y'), 'SELECT current_user AS u')).toEqual([{ u: 'after_branching' }]);
    const rolesOn = async (uri: string) =>
      (await one(uri, `SELECT rolname FROM pg_roles WHERE rolname IN ('only_on_a', 'after_branching') ORDER BY 1`)).map((r) => r.rolname);
    expect(await rolesOn(a.uri)).toEqual(['after_branching', 'only_on_a']);
    // The branch was taken between the two: it has the first only.
    expect(await rolesOn(sibling.uri)).toEqual(['only_on_a']);
    expect(await rolesOn(b.uri)).toEqual([]);
    await expect(connect(withUser(b.uri, 'only_on_a', 'x'))).rejects.toMatchObject({ code: '28P01' });
  });

  it('pg_stat_statements is preloaded and neon_superuser reads it', async () => {
    const p = await project('stats');
    await one(p.uri, 'SELECT 42 AS answer_for_stats');
    const rows = await one(p.uri, `SELECT count(*)::int AS n FROM pg_stat_statements WHERE query LIKE '%answer_for_stats%'`);
    expect(rows[0].n).toBeGreaterThan(0);
    expect(await one(p.uri, `SELECT current_setting('shared_preload_libraries') AS libs`)).toEqual([{ libs: 'pg_stat_statements' }]);
  });
});
