import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EndpointType } from '@neondatabase/api-client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type RunningStack } from '../support/local-stack';

const run = promisify(execFile);

/**
 * `GET …/branches/{id}/schema` and `…/compare_schema`: DDL read from the catalogs of a branch's
 * database, and `neon branches schema-diff` (the Neon CLI, unchanged) on top of them.
 */
let stack: RunningStack;
let configDir: string;
let projectId: string;
let mainId: string;
let devId: string;

async function sql(uri: string, text: string) {
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Bodies are read loosely here; the shapes are what the tests assert. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const get = async (pathname: string): Promise<{ status: number; body: any }> => {
  const res = await fetch(`${stack.urls.api}${pathname}`, { headers: { authorization: `Bearer ${stack.config.apiKey}` } });
  return { status: res.status, body: await res.json() };
};
const schemaOf = (branchId: string, query = 'db_name=neondb') => get(`/projects/${projectId}/branches/${branchId}/schema?${query}`);

beforeAll(async () => {
  [stack, configDir] = await Promise.all([startStack(), fs.mkdtemp(path.join(os.tmpdir(), 'neon-cli-config-'))]);
  const { data: p } = await stack.client.createProject({ project: { name: 'schemas' } });
  projectId = p.project.id;
  mainId = p.branch.id;
  await stack.settle(projectId, p.operations);
  await sql(
    p.connection_uris[0].connection_uri,
    `CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL DEFAULT 'anon');
     CREATE INDEX users_name ON users (name);
     CREATE VIEW named AS SELECT id FROM users WHERE name <> 'anon';`,
  );
  const { data: dev } = await stack.client.createProjectBranch(projectId, {
    branch: { name: 'dev' },
    endpoints: [{ type: EndpointType.ReadWrite }],
  });
  devId = dev.branch.id;
  await stack.settle(projectId, dev.operations);
  await sql(dev.connection_uris![0].connection_uri, 'ALTER TABLE users ADD COLUMN email text');
  // A second database on dev only, with one object of each kind.
  const { data: db } = await stack.client.createProjectBranchDatabase(projectId, devId, {
    database: { name: 'rich', owner_name: 'neondb_owner' },
  });
  await stack.settle(projectId, db.operations);
  const { data: uri } = await stack.client.getConnectionUri({
    projectId,
    branch_id: devId,
    database_name: 'rich',
    role_name: 'neondb_owner',
  });
  await sql(
    uri.uri,
    `CREATE SCHEMA app;
       CREATE TYPE app.mood AS ENUM ('sad', 'it''s fine');
       CREATE DOMAIN app.positive AS int CHECK (VALUE > 0);
       CREATE TABLE app.a (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, m app.mood DEFAULT 'sad', twice bigint GENERATED ALWAYS AS (id * 2) STORED, "Odd Name" text COLLATE "C" UNIQUE, CHECK (id > 0));
       CREATE TABLE app.b (a_id bigint REFERENCES app.a (id) ON DELETE CASCADE, p app.positive);
       CREATE INDEX b_a ON app.b (a_id) WHERE p IS NOT NULL;
       CREATE MATERIALIZED VIEW app.counts AS SELECT a_id, count(*) FROM app.b GROUP BY 1;
       CREATE FUNCTION app.bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
       CREATE TRIGGER b_bump BEFORE INSERT ON app.b FOR EACH ROW EXECUTE FUNCTION app.bump();
       CREATE TABLE public.events (at date NOT NULL) PARTITION BY RANGE (at);
       CREATE TABLE public.events_2024 PARTITION OF public.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
       ALTER TABLE app.b ENABLE ROW LEVEL SECURITY;
       CREATE POLICY mine ON app.b FOR SELECT USING (p > 1);`,
  );
});
afterAll(async () => {
  await stack?.dispose();
  await fs.rm(configDir, { recursive: true, force: true });
});

const MAIN_DDL = `CREATE SEQUENCE public.users_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    MINVALUE 1
    MAXVALUE 2147483647
    CACHE 1;

CREATE TABLE public.users (
    id integer DEFAULT nextval('public.users_id_seq'::regclass) NOT NULL,
    name text DEFAULT 'anon'::text NOT NULL
);

ALTER SEQUENCE public.users_id_seq OWNED BY public.users.id;

CREATE VIEW public.named AS
SELECT id
   FROM public.users
  WHERE name <> 'anon'::text;

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

CREATE INDEX users_name ON public.users USING btree (name);
`;

describe('GET …/branches/{id}/schema', () => {
  it('answers the DDL of the database, qualified and ordered, the same every time', async () => {
    const first = await schemaOf(mainId);
    expect(first).toEqual({ status: 200, body: { sql: expect.any(String) } });
    // Extensions the stack installs in every database come first; the rest is the tenant's.
    expect(first.body.sql.replace(/^(CREATE EXTENSION [^\n]*\n\n)*/, '')).toBe(MAIN_DDL);
    expect((await schemaOf(mainId)).body.sql).toBe(first.body.sql);
  });

  it('reads a branch whose compute is not running, starting it', async () => {
    const { data: bare } = await stack.client.createProjectBranch(projectId, { branch: { name: 'bare' } });
    expect(bare.endpoints).toEqual([]);
    expect((await schemaOf(bare.branch.id)).body.sql).toBe((await schemaOf(mainId)).body.sql);
  });

  it('answers Neon’s JSON form with format=json', async () => {
    const { status, body } = await schemaOf(devId, 'db_name=neondb&format=json');
    expect(status).toBe(200);
    expect(body.json.tables).toEqual([
      {
        schema: 'public',
        name: 'users',
        columns: [
          { name: 'id', type: 'integer', nullable: false, generated: false },
          { name: 'name', type: 'text', nullable: false, generated: false },
          { name: 'email', type: 'text', nullable: true, generated: false },
        ],
        constraints: [{ type: 'primary_key', columns: ['id'], name: 'users_pkey' }],
      },
    ]);
  });

  it('renders every kind of object it reads', async () => {
    const { body } = await schemaOf(devId, 'db_name=rich');
    const statements: string[] = body.sql.trim().split('\n\n');
    const expected = [
      'CREATE SCHEMA app;',
      "CREATE TYPE app.mood AS ENUM (\n    'sad',\n    'it''s fine'\n);",
      'CREATE DOMAIN app.positive AS integer\n    CHECK (VALUE > 0);',
      expect.stringMatching(/^CREATE OR REPLACE FUNCTION app\.bump\(\)\n RETURNS trigger\n LANGUAGE plpgsql\n/),
      [
        'CREATE TABLE app.a (',
        '    id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,',
        "    m app.mood DEFAULT 'sad'::app.mood,",
        '    twice bigint GENERATED ALWAYS AS ((id * 2)) STORED,',
        '    "Odd Name" text COLLATE "C"',
        ');',
      ].join('\n'),
      'CREATE TABLE app.b (\n    a_id bigint,\n    p app.positive\n);',
      'CREATE TABLE public.events (\n    at date NOT NULL\n)\nPARTITION BY RANGE (at);',
      "CREATE TABLE public.events_2024 PARTITION OF public.events\n    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
      expect.stringMatching(
        /^CREATE MATERIALIZED VIEW app\.counts AS\nSELECT a_id,\n {4}count\(\*\) AS count\n[\s\S]*\n {2}WITH NO DATA;$/,
      ),
      'ALTER TABLE ONLY app.a\n    ADD CONSTRAINT "a_Odd Name_key" UNIQUE ("Odd Name");',
      'ALTER TABLE ONLY app.a\n    ADD CONSTRAINT a_id_check CHECK (id > 0);',
      'ALTER TABLE ONLY app.a\n    ADD CONSTRAINT a_pkey PRIMARY KEY (id);',
      'CREATE INDEX b_a ON app.b USING btree (a_id) WHERE (p IS NOT NULL);',
      'CREATE TRIGGER b_bump BEFORE INSERT ON app.b FOR EACH ROW EXECUTE FUNCTION app.bump();',
      'ALTER TABLE ONLY app.b\n    ADD CONSTRAINT b_a_id_fkey FOREIGN KEY (a_id) REFERENCES app.a(id) ON DELETE CASCADE;',
      'ALTER TABLE app.b ENABLE ROW LEVEL SECURITY;',
      'CREATE POLICY mine ON app.b\n    FOR SELECT\n    USING (((p)::integer > 1));',
    ];
    expect(statements.filter((s) => !s.startsWith('CREATE EXTENSION '))).toEqual(expected);
  });

  it.each([
    ['', 400, 'db_name: is required'],
    ['db_name=nope', 404, 'db_name: database "nope" not found on branch'],
    ['db_name=neondb&lsn=0/1', 400, 'lsn: a schema at a past point in time is not available on the local stack'],
    ['db_name=neondb&timestamp=2024-01-01T00:00:00Z', 400, 'timestamp: a schema at a past point in time'],
    ['db_name=neondb&lsn=0/1&timestamp=2024-01-01T00:00:00Z', 400, 'lsn, timestamp: give at most one of them'],
    ['db_name=neondb&format=xml', 400, 'format: must be sql or json'],
  ])('?%s answers %i naming the field', async (query, status, message) => {
    const res = await schemaOf(mainId, query);
    expect(res.status).toBe(status);
    expect(res.body.message).toContain(message);
  });
});

describe('GET …/branches/{id}/compare_schema', () => {
  const compare = (branchId: string, query: string) => get(`/projects/${projectId}/branches/${branchId}/compare_schema?${query}`);

  it('answers a unified diff against the base branch, or the parent when none is given', async () => {
    const { status, body } = await compare(devId, `base_branch_id=${mainId}&db_name=neondb`);
    expect(status).toBe(200);
    expect(body.diff).toContain(`--- neondb (branch ${mainId})\n+++ neondb (branch ${devId})\n`);
    expect(body.diff).toContain(
      "-    name text DEFAULT 'anon'::text NOT NULL\n+    name text DEFAULT 'anon'::text NOT NULL,\n+    email text\n",
    );
    expect((await compare(devId, 'db_name=neondb')).body.diff).toBe(body.diff);
    expect((await compare(mainId, `base_branch_id=${mainId}&db_name=neondb`)).body).toEqual({ diff: '' });
  });

  it.each([
    ['main without a base', () => compare(mainId, 'db_name=neondb'), 400, 'base_branch_id: required'],
    ['an unknown base', () => compare(devId, 'base_branch_id=br-nope&db_name=neondb'), 404, 'base_branch_id: branch br-nope not found'],
    ['a database the base lacks', () => compare(devId, 'db_name=rich'), 404, 'db_name: database "rich" not found'],
    ['base_lsn', () => compare(devId, 'db_name=neondb&base_lsn=0/1'), 400, 'base_lsn: a schema at a past point'],
  ])('%s is refused naming the field', async (_label, ask, status, message) => {
    const res = await ask();
    expect(res.status).toBe(status);
    expect(res.body.message).toContain(message);
  });
});

describe('neon branches schema-diff', () => {
  it('prints the diff between two branches, naming the new column', async () => {
    const { stdout } = await run(
      path.resolve('node_modules/.bin/neon'),
      [
        'branches',
        'schema-diff',
        'main',
        'dev',
        '--project-id',
        projectId,
        '--database',
        'neondb',
        '--no-analytics',
        '--config-dir',
        configDir,
      ],
      { env: { ...process.env, NEON_API_HOST: stack.urls.api, NEON_API_KEY: stack.config.apiKey, DO_NOT_TRACK: '1' }, timeout: 30_000 },
    );
    expect(stdout).toContain('+    email text');
    expect(stdout).toContain(`+++ Database: neondb\t(Branch: ${devId})`);
  });
});
