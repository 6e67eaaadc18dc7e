import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startStack, type RunningStack } from '../support/local-stack';

/**
 * What a tenant's roles must never do on their compute, though they are members of
 * neon_superuser: reach the server's files or programs (and so other branches' data), change
 * its configuration, load untrusted code, or make themselves superuser. Each statement runs as
 * a role made through the local Neon API, over the endpoint proxy, as a tenant connects;
 * PostgreSQL itself must refuse it with insufficient_privilege (42501).
 */
let stack: RunningStack;
const tenants: { name: string; uri: string }[] = [];

beforeAll(async () => {
  stack = await startStack();
  const { data } = await stack.client.createProject({ project: { name: 'tenant' } });
  const projectId = data.project.id;
  await stack.settle(projectId, data.operations);
  tenants.push({ name: 'database owner', uri: data.connection_uris![0].connection_uri });
  const branchId = data.branch.id;
  const { data: role } = await stack.client.createProjectBranchRole(projectId, branchId, { role: { name: 'app_user' } });
  await stack.settle(projectId, role.operations);
  const owner = new URL(tenants[0].uri);
  owner.username = 'app_user';
  owner.password = encodeURIComponent(role.role.password!);
  tenants.push({ name: 'API-created role', uri: owner.toString() });
  // A table each role may use, so COPY fails on the privilege and not on a missing table.
  const setup = await connect(tenants[0].uri, 5_000);
  await setup.query('CREATE TABLE scratch (line text); GRANT ALL ON scratch TO PUBLIC');
  await setup.end();
});

afterAll(() => stack?.dispose());

// Harmless targets (`true`, /dev/null), so a regression fails the test without touching the machine.
const FORBIDDEN: [string, string][] = [
  ['COPY … TO PROGRAM', `COPY (SELECT 1) TO PROGRAM 'true'`],
  ['COPY … FROM PROGRAM', `COPY scratch FROM PROGRAM 'true'`],
  ['COPY … FROM a server file', `COPY scratch FROM '/etc/passwd'`],
  ['COPY … TO a server file', `COPY scratch TO '/dev/null'`],
  ['grant pg_read_server_files', 'GRANT pg_read_server_files TO CURRENT_USER'],
  ['grant pg_write_server_files', 'GRANT pg_write_server_files TO CURRENT_USER'],
  ['grant pg_execute_server_program', 'GRANT pg_execute_server_program TO CURRENT_USER'],
  ['SET ROLE pg_read_server_files', 'SET ROLE pg_read_server_files'],
  ['SET ROLE pg_execute_server_program', 'SET ROLE pg_execute_server_program'],
  ['pg_read_file', `SELECT pg_read_file('/etc/passwd')`],
  ['pg_read_binary_file', `SELECT pg_read_binary_file('/etc/passwd')`],
  ['pg_ls_dir', `SELECT pg_ls_dir('.')`],
  ['lo_import of a server file', `SELECT lo_import('/etc/passwd')`],
  ['lo_export to a server file', `SELECT lo_export(lo_create(0), '/dev/null')`],
  ['ALTER SYSTEM', `ALTER SYSTEM SET log_statement = 'all'`],
  ['CREATE LANGUAGE plpython3u', 'CREATE LANGUAGE plpython3u HANDLER plpgsql_call_handler'],
  ['CREATE EXTENSION plpython3u', 'CREATE EXTENSION plpython3u'],
  ['CREATE EXTENSION plperlu', 'CREATE EXTENSION plperlu'],
  ['CREATE EXTENSION file_fdw', 'CREATE EXTENSION file_fdw'],
  ['CREATE ROLE … SUPERUSER', 'CREATE ROLE tenant_root SUPERUSER LOGIN'],
  ['ALTER ROLE self SUPERUSER', 'ALTER ROLE CURRENT_USER SUPERUSER'],
  ['ALTER ROLE of the superuser', `ALTER ROLE postgres PASSWORD 'x'`],
  ['SET ROLE postgres', 'SET ROLE postgres'],
  ['GRANT postgres', 'GRANT postgres TO CURRENT_USER'],
  ['grant neon_superuser onwards', 'CREATE ROLE helper; GRANT neon_superuser TO helper'],
  ['a superuser-only setting', `SET log_statement = 'all'`],
];

describe('tenant roles cannot reach the server', () => {
  for (const [label, sql] of FORBIDDEN) {
    it(`refuses ${label}`, async () => {
      for (const tenant of tenants) {
        const client = await connect(tenant.uri, 5_000);
        try {
          const err = (await client.query(sql).then(
            () => undefined,
            (e: unknown) => e,
          )) as { code?: string; message?: string } | undefined;
          expect(err?.code, `${tenant.name}: ${sql} → ${err?.message ?? 'succeeded'}`).toBe('42501');
        } finally {
          await client.end();
        }
      }
    });
  }

  it('still lets the owner use what Neon gives it: trusted extensions, roles and databases of its own, neon_superuser', async () => {
    const client = await connect(tenants[0].uri, 5_000);
    try {
      await client.query('CREATE EXTENSION pgcrypto');
      expect((await client.query(`SELECT length(gen_random_bytes(4)) AS n`)).rows).toEqual([{ n: 4 }]);
      const who = (
        await client.query(
          `SELECT current_user AS name, rolsuper, rolcreaterole, rolcreatedb, pg_has_role(current_user, 'neon_superuser', 'MEMBER') AS neon_superuser
             FROM pg_roles WHERE rolname = current_user`,
        )
      ).rows;
      expect(who).toEqual([{ name: 'neondb_owner', rolsuper: false, rolcreaterole: true, rolcreatedb: true, neon_superuser: true }]);
      await client.query(`CREATE ROLE made_in_sql LOGIN PASSWORD 'x'`);
      await client.query('CREATE DATABASE made_in_sql OWNER made_in_sql');
      await client.query('DROP DATABASE made_in_sql');
      await client.query('DROP ROLE made_in_sql');
    } finally {
      await client.end();
    }
  });
});
