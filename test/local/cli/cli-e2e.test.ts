import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStandIn } from '../../support/cloudflare-over-http';
import { startDevWorker, type DevWorker } from '../../support/dev-worker';
import { CF_ACCOUNT, CF_TOKEN, CloudflareStandIn } from '../../worker/support/cloudflare-stand-in';
import { startThrowawayStack, type ThrowawayStack } from '../../support/throwaway-stack';

/**
 * The `dblease` CLI as users run it: a subprocess with `--json`, against the real Worker
 * (Wrangler's programmatic dev server, workerd) on the real local stack (embedded PostgreSQL,
 * Neon-compatible API, SQL proxies). Every assertion that matters is about a real effect: a
 * connection string that answers, rows that landed, a branch that copied them, a `.env` whose
 * URL works.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = path.join(ROOT, 'cli/dblease.js');
const OPERATOR_TOKEN = 'cli-e2e-operator-token';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: Json;
}

let stack: ThrowawayStack;
let worker: DevWorker;
const cloudflare = new CloudflareStandIn();
let cloudflareServer: Awaited<ReturnType<typeof serveStandIn>>;
let workerUrl: string;
let token: string;
const tempDirs: string[] = [];

async function tempDir(prefix: string) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Runs `node cli/dblease.js …` with the account's token in the environment, as an agent would. */
function cli(args: string[], opts: { cwd?: string; env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Only what the CLI documents, so a DBLEASE_SESSION in the developer's shell cannot leak in.
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', DBLEASE_URL: workerUrl, DBLEASE_TOKEN: token, ...opts.env };
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: Json;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** `--json` on success: exit 0, nothing on stderr, one JSON document on stdout. */
async function ok(args: string[], opts?: Parameters<typeof cli>[1]): Promise<Json> {
  const run = await cli([...args, '--json'], opts);
  expect(run.code, `dblease ${args.join(' ')} failed: ${run.stdout}${run.stderr}`).toBe(0);
  expect(run.stderr).toBe('');
  expect(run.json).toBeDefined();
  return run.json;
}

/** `--json` on failure: the exit code, and the API's error body on stdout. */
async function fails(args: string[], code: number): Promise<Json> {
  const run = await cli([...args, '--json']);
  expect(run.code, `dblease ${args.join(' ')}: ${run.stdout}${run.stderr}`).toBe(code);
  expect(run.json?.error?.type, run.stdout).toEqual(expect.any(String));
  expect(run.json.error.message).toEqual(expect.any(String));
  return run.json.error;
}

async function query(connectionString: string, sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Waits for something the Worker finishes after answering (deletion, session release). */
async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    value = await probe();
  }
  return value;
}

/** A database is gone when GET says deleting/deleted or 404 (the Worker may forget it). */
async function isGone(id: string) {
  const run = await cli(['get', id, '--json']);
  if (run.code === 4) return true;
  return run.code === 0 && (run.json.state === 'deleted' || run.json.state === 'deleting');
}

beforeAll(async () => {
  stack = await startThrowawayStack({}, 'dblease-cli-e2e-stack-');
  cloudflareServer = await serveStandIn(cloudflare);
  worker = await startDevWorker(stack, {
    name: 'cli-e2e',
    operatorToken: OPERATOR_TOKEN,
    vars: { CLOUDFLARE_API_BASE_URL: cloudflareServer.url },
  });
  workerUrl = worker.url;

  const health = await fetch(`${workerUrl}/healthz`);
  expect(health.status, 'the Worker answers /healthz').toBe(200);

  const res = await fetch(`${workerUrl}/v1/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'cli-e2e' }),
  });
  // `{account, owner_token: {…, token}}`: the owner token, shown this once.
  const body = (await res.json().catch(() => null)) as { owner_token?: { token?: string } } | null;
  if (res.status !== 201) throw new Error(`POST /v1/accounts answered ${res.status}: ${JSON.stringify(body)}`);
  if (typeof body?.owner_token?.token !== 'string') throw new Error('POST /v1/accounts returned no owner_token.token');
  token = body.owner_token.token;
}, 180_000);

afterAll(async () => {
  await worker?.dispose().catch(() => {});
  await stack?.dispose().catch(() => {});
  await cloudflareServer?.close().catch(() => {});
  for (const dir of tempDirs) await fs.rm(dir, { recursive: true, force: true }).catch(() => {});
}, 60_000);

describe('dblease CLI against the Worker on the local stack', { timeout: 60_000 }, () => {
  let parent: Json;
  let child: Json;
  /** Later steps build on earlier ones; say so instead of failing with a TypeError. */
  const need = (value: Json, what: string) => {
    if (!value) throw new Error(`skipped: ${what} failed in an earlier step`);
  };

  it('create: a ready database whose connection strings answer select 1', async () => {
    parent = await ok(['create', '--ttl', '30m', '--label', 'suite=cli-e2e', '--label', 'role=parent']);
    expect(parent).toMatchObject({
      object: 'database',
      state: 'ready',
      kind: 'fresh',
      parent_id: null,
      labels: { suite: 'cli-e2e', role: 'parent' },
    });
    expect(parent.id).toMatch(/^db_/);
    const expiresIn = Date.parse(parent.expires_at) - Date.now();
    expect(expiresIn).toBeGreaterThan(25 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(30 * 60_000 + 5_000);
    expect(await query(parent.connection.direct, 'select 1 as one')).toEqual([{ one: 1 }]);
    expect(await query(parent.connection.pooled, 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('create without --json: connection strings for a person, on stdout only', async () => {
    const run = await cli(['create', '--ttl', '5m', '--label', 'suite=cli-e2e']);
    expect(run.code, run.stderr).toBe(0);
    const id = /^id\s+(db_\S+)$/m.exec(run.stdout)?.[1];
    expect(id).toBeDefined();
    const direct = /^direct\s+(postgres\S+)$/m.exec(run.stdout)?.[1];
    expect(await query(direct!, 'select 2 as two')).toEqual([{ two: 2 }]);
    expect(run.stdout).not.toContain(token);
    expect((await cli(['rm', id!])).code).toBe(0);
  });

  it('sql: a query with parameters, and a file run as one batch', async () => {
    need(parent, 'create');
    const created = await ok(['sql', parent.id, 'create table items (n int primary key, note text)']);
    expect(created.command).toBe('CREATE');

    const inserted = await ok([
      'sql',
      parent.id,
      'insert into items values ($1, $2), ($3, $4)',
      '--param',
      '-1',
      '--param',
      'minus; one',
      '--param',
      '2',
      '--param',
      'two',
    ]);
    expect(inserted).toMatchObject({ command: 'INSERT', rowCount: 2 });

    const dir = await tempDir('dblease-cli-e2e-sql-');
    const file = path.join(dir, 'seed.sql');
    await fs.writeFile(
      file,
      "-- seed\ninsert into items values (3, 'semi;colon');\nupdate items set note = $$dollar;quoted$$ where n = 2;\nselect count(*)::int as c from items;\n",
    );
    const batch = await ok(['sql', parent.id, '--file', file]);
    expect(batch.results).toHaveLength(3);
    expect(batch.results[2].rows).toEqual([{ c: 3 }]);

    const stdinBatch = await ok(['sql', parent.id, '--file', '-'], { stdin: "insert into items values (4, 'from stdin');" });
    expect(stdinBatch.results[0]).toMatchObject({ command: 'INSERT', rowCount: 1 });

    // The effects are in the database itself, not just in the CLI's answers.
    expect(await query(parent.connection.direct, 'select n, note from items order by n')).toEqual([
      { n: -1, note: 'minus; one' },
      { n: 2, note: 'dollar;quoted' },
      { n: 3, note: 'semi;colon' },
      { n: 4, note: 'from stdin' },
    ]);

    const typed = await ok(['sql', parent.id, 'select $1::int + 1 as next, $2::text is null as is_null', '--params', '[41, null]']);
    expect(typed.rows).toEqual([{ next: 42, is_null: true }]);

    const human = await cli(['sql', parent.id, 'select n from items where n > $1 order by n', '--param', '2']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toBe('n\n3\n4\nSELECT 2\n');
  });

  it('sql: a failing batch changes nothing (one transaction)', async () => {
    need(parent, 'create');
    const dir = await tempDir('dblease-cli-e2e-sql-');
    const file = path.join(dir, 'bad.sql');
    await fs.writeFile(file, "insert into items values (10, 'rolled back');\ninsert into items values (10, 'duplicate key');\n");
    const run = await cli(['sql', parent.id, '--file', file, '--json']);
    expect(run.code).not.toBe(0);
    expect(run.json.error).toBeDefined();
    expect(await query(parent.connection.direct, 'select count(*)::int as c from items where n = 10')).toEqual([{ c: 0 }]);
  });

  it('branch: a copy of the parent’s data that diverges on its own', async () => {
    need(parent, 'create');
    child = await ok(['branch', parent.id, '--ttl', '20m', '--label', 'suite=cli-e2e', '--label', 'role=child']);
    expect(child).toMatchObject({ object: 'database', state: 'ready', kind: 'branch', parent_id: parent.id, depth: 1 });
    expect(await query(child.connection.direct, 'select count(*)::int as c from items')).toEqual([{ c: 4 }]);
    await ok(['sql', child.id, "insert into items values (100, 'only in the branch')"]);
    expect(await query(child.connection.direct, 'select count(*)::int as c from items')).toEqual([{ c: 5 }]);
    expect(await query(parent.connection.direct, 'select count(*)::int as c from items')).toEqual([{ c: 4 }]);
  });

  it('ls: filters by label and state, and --all follows next_cursor', async () => {
    need(parent, 'create');
    need(child, 'branch');
    const page = await ok(['ls', '--label', 'suite=cli-e2e', '--state', 'ready']);
    expect(page).toHaveProperty('next_cursor');
    const ids = page.data.map((d: Json) => d.id);
    expect(ids).toEqual(expect.arrayContaining([parent.id, child.id]));
    for (const db of page.data) expect(db.labels.suite).toBe('cli-e2e');

    const narrowed = await ok(['ls', '--label', 'suite=cli-e2e', '--label', 'role=child']);
    expect(narrowed.data.map((d: Json) => d.id)).toEqual([child.id]);

    const first = await ok(['ls', '--label', 'suite=cli-e2e', '--state', 'ready', '--limit', '1']);
    expect(first.data).toHaveLength(1);
    expect(first.next_cursor).toEqual(expect.any(String));
    const all = await ok(['ls', '--label', 'suite=cli-e2e', '--state', 'ready', '--limit', '1', '--all']);
    expect(all.next_cursor).toBeNull();
    expect(all.data.map((d: Json) => d.id).sort()).toEqual([...ids].sort());

    const human = await cli(['ls', '--label', 'suite=cli-e2e']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^ID\s+STATE/);
    expect(human.stdout).toContain(child.id);
    expect(human.stdout).not.toContain('postgres');
  });

  it('keep: the database no longer expires', async () => {
    // Its own database, so the cascade below does not depend on how deletion treats kept ones.
    const keeper = await ok(['create', '--ttl', '5m', '--label', 'suite=cli-e2e-keep']);
    await ok(['keep', keeper.id]);
    const shown = await ok(['get', keeper.id]);
    expect(shown.kept).toBe(true);
    const human = await cli(['ls', '--label', 'suite=cli-e2e-keep']);
    expect(human.stdout).toMatch(new RegExp(`^${keeper.id}\\s+ready\\s+fresh\\s+-\\s+kept\\s`, 'm'));
  });

  it('claim: prints the claim link, and the database shows its pending claim', async () => {
    const fresh = await ok(['create', '--ttl', '5m']);
    const human = await cli(['claim', fresh.id]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/claim\//m);
    const shown = await ok(['get', fresh.id]);
    expect(shown.claim).toMatchObject({ state: 'pending' });
  });

  it('bind|unbind: the connection string lands in the Worker as a secret, and leaves it again', async () => {
    const db = await ok(['create', '--ttl', '5m']);
    const missing = await fails(['bind', db.id, '--worker', 'my-app', '--account', CF_ACCOUNT], 7);
    expect(missing.code).toBe('cloudflare_token_missing');
    const put = await fetch(`${workerUrl}/v1/account/cloudflare`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ api_token: CF_TOKEN }),
    });
    expect(put.status, await put.clone().text()).toBe(200);
    cloudflare.addScript('my-app');

    const bound = await ok(['bind', db.id, '--worker', 'my-app', '--account', CF_ACCOUNT]);
    expect(bound).toMatchObject({ type: 'worker_secret', name: 'DATABASE_URL', state: 'active' });
    expect(await query(cloudflare.secret('my-app', 'DATABASE_URL')!, 'select 3 as three')).toEqual([{ three: 3 }]);

    const unbound = await ok(['unbind', db.id, bound.id]);
    expect(['removing', 'removed']).toContain(unbound.state);
    expect(
      await eventually(
        async () => cloudflare.secret('my-app', 'DATABASE_URL'),
        (s) => s === undefined,
      ),
    ).toBeUndefined();
    expect((await cli(['bind', db.id, '--account', CF_ACCOUNT, '--json'])).code).not.toBe(0);
  });

  it('extend: a new lease length counted from now', async () => {
    need(parent, 'create');
    const extended = await ok(['extend', parent.id, '--ttl', '2h']);
    expect(Date.parse(extended.expires_at) - Date.now()).toBeGreaterThan(115 * 60_000);
  });

  it('env: writes working URLs into .env and keeps every other line', async () => {
    need(parent, 'create');
    need(child, 'branch');
    const dir = await tempDir('dblease-cli-e2e-env-');
    const file = path.join(dir, '.env');
    const before = '# my app\r\nAPI_KEY="abc"\r\nDATABASE_URL=postgres://stale\r\n\r\nTAIL=1';
    await fs.writeFile(file, before);
    const result = await ok(['env', child.id], { cwd: dir });
    expect(result).toEqual({ database_id: child.id, file, keys: ['DATABASE_URL', 'DATABASE_URL_UNPOOLED'], created: false });
    expect(JSON.stringify(result)).not.toContain('postgres');

    const text = await fs.readFile(file, 'utf8');
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('# my app');
    expect(lines[1]).toBe('API_KEY="abc"');
    expect(lines[3]).toBe('');
    expect(lines[4]).toBe('TAIL=1');
    const vars = parseEnv(text);
    expect(vars.API_KEY).toBe('abc');
    expect(await query(vars.DATABASE_URL!, 'select count(*)::int as c from items')).toEqual([{ c: 5 }]);
    expect(await query(vars.DATABASE_URL_UNPOOLED!, 'select 1 as one')).toEqual([{ one: 1 }]);

    // A new file, under another name, is private to its owner.
    const fresh = await ok(['env', parent.id, '--file', 'test.env', '--key', 'TEST_DATABASE_URL'], { cwd: dir });
    expect(fresh).toMatchObject({ created: true, keys: ['TEST_DATABASE_URL', 'TEST_DATABASE_URL_UNPOOLED'] });
    expect((await fs.stat(path.join(dir, 'test.env'))).mode & 0o777).toBe(0o600);
    const freshVars = parseEnv(await fs.readFile(path.join(dir, 'test.env'), 'utf8'));
    expect(await query(freshVars.TEST_DATABASE_URL!, 'select count(*)::int as c from items')).toEqual([{ c: 4 }]);
  });

  it('rm: refuses a parent with children (409, exit 7), deletes with --cascade', async () => {
    need(parent, 'create');
    need(child, 'branch');
    const refused = await fails(['rm', parent.id], 7);
    expect(refused.type).toBe('conflict');
    expect((await ok(['get', parent.id])).state).toBe('ready');

    await ok(['rm', parent.id, '--cascade']);
    expect(await eventually(() => isGone(parent.id), Boolean)).toBe(true);
    expect(await eventually(() => isGone(child.id), Boolean)).toBe(true);
  });

  it('session start|heartbeat|end: databases bound to the session go with it', async () => {
    const session = await ok(['session', 'start', '--ttl', '5m', '--label', 'suite=cli-e2e']);
    expect(session).toMatchObject({ object: 'session', state: 'active', ttl_seconds: 300 });
    expect(session.id).toMatch(/^ses_/);

    // DBLEASE_SESSION binds without a flag, as the help says.
    const bound = await ok(['create', '--ttl', '10m'], { env: { DBLEASE_SESSION: session.id } });
    expect(bound.session_id).toBe(session.id);
    expect(await query(bound.connection.direct, 'select 1 as one')).toEqual([{ one: 1 }]);
    const listed = await ok(['ls', '--session', session.id]);
    expect(listed.data.map((d: Json) => d.id)).toEqual([bound.id]);

    await new Promise((r) => setTimeout(r, 1100));
    const beat = await ok(['session', 'heartbeat', session.id]);
    expect(beat.state).toBe('active');
    expect(Date.parse(beat.expires_at)).toBeGreaterThan(Date.parse(session.expires_at));

    await ok(['session', 'end', session.id]);
    const lapsed = await fails(['session', 'heartbeat', session.id], 4);
    expect(lapsed.type).toBe('gone');
    expect(await eventually(() => isGone(bound.id), Boolean)).toBe(true);
  });

  it('exit codes and error bodies come from the API', async () => {
    const missing = await fails(['get', 'db_0000000000000000'], 4);
    expect(missing).toMatchObject({ type: 'not_found', request_id: expect.any(String) });

    const badLabel = await fails(['create', '--label', 'Not A Key=x'], 2);
    expect(badLabel.type).toBe('invalid_request');
    expect(JSON.stringify(badLabel.details)).toContain('labels');

    const human = await cli(['create', '--label', 'Not A Key=x']);
    expect(human.code).toBe(2);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/^dblease: .*labels.*\[.*request .+\]\n$/);

    const auth = await cli(['ls', '--json'], { env: { DBLEASE_TOKEN: 'not-a-real-token' } });
    expect(auth.code).toBe(3);
    expect(auth.json.error.type).toBe('unauthenticated');
    expect(auth.stdout + auth.stderr).not.toContain('not-a-real-token');
  });
});

describe('dblease CLI: seeds, anonymised branches, schema and reset', { timeout: 60_000 }, () => {
  let seeded: Json;

  it('create --seed file.sql: its rows are in before it returns; a missing, empty, too-large or failing seed is exit 2', async () => {
    const dir = await tempDir('dblease-cli-e2e-seed-');
    const file = path.join(dir, 'seed.sql');
    await fs.writeFile(file, "create table users (id int primary key, email text);\ninsert into users values (1, 'ada@example.com');\n");
    seeded = await ok(['create', '--ttl', '10m', '--seed', file]);
    expect(await query(seeded.connection.direct, 'select email from users')).toEqual([{ email: 'ada@example.com' }]);

    expect((await fails(['create', '--seed', path.join(dir, 'nope.sql')], 2)).message).toMatch(/cannot read --seed .*nope\.sql: ENOENT/);
    await fs.writeFile(path.join(dir, 'empty.sql'), '  \n');
    expect((await fails(['create', '--seed', path.join(dir, 'empty.sql')], 2)).details.fields[0].path).toBe('seed.sql');
    await fs.writeFile(path.join(dir, 'big.sql'), `select 1;${' '.repeat(8 * 1024 * 1024)}`);
    expect((await fails(['create', '--seed', path.join(dir, 'big.sql')], 2)).message).toMatch(
      /^--seed .*big\.sql is 8,388,617 characters; the API takes at most 8,388,608$/,
    );
    await fs.writeFile(path.join(dir, 'bad.sql'), "create table t (n int);\ninsert into t values ('not a number');\n");
    const failed = await fails(['create', '--seed', path.join(dir, 'bad.sql')], 2);
    expect(failed).toMatchObject({ code: 'sql_error', details: { code: '22P02' } });
  });

  it('branch --anonymize rules.json masks the column; schema prints DDL, schema --diff names the column the branch added', async () => {
    if (!seeded) throw new Error('skipped: create --seed failed in an earlier step');
    const dir = await tempDir('dblease-cli-e2e-mask-');
    const rules = path.join(dir, 'rules.json');
    await fs.writeFile(rules, JSON.stringify([{ table: 'users', column: 'email', method: 'hash' }]));
    const masked = await ok(['branch', seeded.id, '--ttl', '10m', '--anonymize', rules]);
    expect((await query(masked.connection.direct, 'select email from users'))[0].email).toMatch(/^[0-9a-f]{64}$/);

    const ddl = await cli(['schema', seeded.id]);
    expect(ddl.code, ddl.stderr).toBe(0);
    expect(ddl.stdout).toMatch(/^CREATE TABLE "public"\."users" \(.*\);$/m);
    await query(masked.connection.direct, 'alter table users add column nickname text');
    const diff = await ok(['schema', masked.id, '--diff', seeded.id]);
    expect(diff.tables.changed[0].columns.added.map((c: Json) => c.name)).toEqual(['nickname']);
    const human = await cli(['schema', masked.id, '--diff', seeded.id]);
    expect(human.stdout).toBe('~ public.users\n  + column nickname text\n');
  });

  it("branch --at and reset [--at]: the parent as of then, or now; the branch's own writes go and its connection string stays; a fresh database is exit 7", async () => {
    if (!seeded) throw new Error('skipped: create --seed failed in an earlier step');
    const branch = await ok(['branch', seeded.id, '--ttl', '10m']);
    await query(branch.connection.direct, "insert into users values (2, 'own@example.com')");
    const at = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 1100));
    // A parent write after `at`: what is as of `at` must not have it.
    await query(seeded.connection.direct, "insert into users values (3, 'later@example.com')");
    const ids = async (uri: string) => (await query(uri, 'select id from users order by id')).map((r: Json) => r.id);

    const asOf = await ok(['branch', seeded.id, '--ttl', '10m', '--at', at]);
    expect(await ids(asOf.connection.direct)).toEqual([1]);
    const reset = await ok(['reset', branch.id, '--at', at]);
    expect(reset).toMatchObject({ id: branch.id, state: 'ready', parent_id: seeded.id });
    expect(reset.connection).toEqual(branch.connection);
    expect(await ids(branch.connection.direct)).toEqual([1]);
    await ok(['reset', branch.id]);
    expect(await ids(branch.connection.direct)).toEqual([1, 3]);
    const future = await fails(['reset', branch.id, '--at', new Date(Date.now() + 60_000).toISOString()], 2);
    expect(future).toMatchObject({ code: 'invalid_field', details: { fields: [{ path: 'at' }], window: { seconds: 86400 } } });
    expect((await fails(['reset', seeded.id], 7)).code).toBe('invalid_state');
  });
});
