/**
 * The dashboard's databases: the table (its caption, its columns, branches as trees), its
 * filters and cursors, and the database page with its actions, each through the services.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { accountObject, call } from '../support/api';
import { Browser } from '../support/browser';
import { branchDb, createDb, newAgent, query, type Agent } from '../support/databases';
import { watchProvider } from '../support/local-stack';

/** The table rows' database ids, in order, and their tree levels. */
const rowsOf = (html: string) =>
  [...html.matchAll(/<tr data-id="(db_[0-9a-z]+)" data-level="(\d)"/g)].map((m) => ({ id: m[1]!, level: Number(m[2]) }));

describe('the databases table', () => {
  let agent: Agent;
  let b: Browser;
  let parent: any;
  let child: any;
  let labelled: any;
  let sessionId: string;
  beforeAll(async () => {
    agent = await newAgent();
    b = new Browser();
    await b.signIn(agent.ownerToken);
    const session = await (await call('/v1/sessions', { token: agent.token, body: { ttl_seconds: 600 } })).json<any>();
    sessionId = session.id;
    parent = await createDb(agent.token, { labels: { team: 'red' } });
    child = await branchDb(agent.token, parent.id);
    labelled = await createDb(agent.token, { labels: { team: 'blue' }, session_id: sessionId });
  });

  it('is a table captioned Databases with every column, branches nested under their parent', async () => {
    const html = await b.page('/databases');
    expect(html).toContain('<caption>Databases</caption>');
    for (const col of ['Id', 'Kind', 'Labels', 'Session', 'State', 'Created', 'Expires', 'Reserved', 'Spent']) {
      expect(html).toContain(`<th scope="col">${col}</th>`);
    }
    const rows = rowsOf(html);
    expect(rows.map((r) => r.id).sort()).toEqual([parent.id, child.id, labelled.id].sort());
    // The branch comes right after its parent, one level in.
    const at = rows.findIndex((r) => r.id === parent.id);
    expect(rows[at + 1]).toEqual({ id: child.id, level: 1 });
    expect(rows.find((r) => r.id === labelled.id)!.level).toBe(0);
    // Expiry both ways: relative text and the absolute time.
    expect(html).toMatch(new RegExp(`<time datetime="${labelled.expires_at}" data-relative="[^"]*">in (59|60) minutes</time>`));
    expect(html).toContain(`${labelled.expires_at.slice(0, 10)} ${labelled.expires_at.slice(11, 16)} UTC`);
    expect(html).toContain('team:blue');
  });

  it('filters by label, session and state, as the API does', async () => {
    expect(rowsOf(await b.page('/databases?label=team%3Ared')).map((r) => r.id)).toEqual([parent.id]);
    expect(rowsOf(await b.page(`/databases?session_id=${sessionId}`)).map((r) => r.id)).toEqual([labelled.id]);
    expect(rowsOf(await b.page('/databases?state=deleted'))).toEqual([]);
    expect(rowsOf(await b.page('/databases?state=ready'))).toHaveLength(3);
    // The form shows the filter it applied.
    expect(await b.page('/databases?state=ready')).toContain('<option value="ready" selected="">ready</option>');
  });

  it('refuses a bad filter with a 400 naming it', async () => {
    expect(await b.page('/databases?state=sleeping', 400)).toContain('state: one of');
    expect(await b.page('/databases?label=nocolon', 400)).toContain('label');
    expect(await b.page('/databases?session_id=nope', 400)).toContain('session_id');
  });

  it("pages with the API's cursors, keeping the filters", async () => {
    const seen: string[] = [];
    let path = '/databases?state=ready&limit=1';
    for (let i = 0; i < 5 && path; i++) {
      const html = await b.page(path);
      seen.push(...rowsOf(html).map((r) => r.id));
      const next = /<a href="(\/databases\?[^"]+)" rel="next">/.exec(html)?.[1]?.replace(/&amp;/g, '&');
      if (next) expect(next).toMatch(/state=ready&limit=1&cursor=/);
      path = next ?? '';
    }
    expect(seen.sort()).toEqual([parent.id, child.id, labelled.id].sort());
  });
});

describe('a database page', () => {
  let agent: Agent;
  let b: Browser;
  beforeAll(async () => {
    agent = await newAgent();
    b = new Browser();
    await b.signIn(agent.ownerToken);
  });
  const detail = async (id: string) => (await call(`/v1/databases/${id}`, { token: agent.token })).json<any>();

  it('shows its facts, its branches and its events as a timeline', async () => {
    const db = await createDb(agent.token, { labels: { job: 'etl' } });
    const branch = await branchDb(agent.token, db.id);
    const html = await b.page(`/databases/${db.id}`);
    expect(html).toContain(`<h1>Database ${db.id}</h1>`);
    expect(html).toContain('<caption>Branches</caption>');
    expect(html).toContain(`<tr data-id="${branch.id}"`);
    const timeline = /<ol class="timeline">(.*?)<\/ol>/s.exec(html)![1]!;
    expect([...timeline.matchAll(/<code>([a-z._]+)<\/code>/g)].map((m) => m[1])).toEqual(['database.provisioning', 'database.ready']);
    // Nothing secret on it.
    expect(html).not.toContain('postgresql://');
  });

  it("lists the database's bindings into the owner's Workers", async () => {
    const db = await createDb(agent.token);
    expect(await b.page(`/databases/${db.id}`)).not.toContain('<caption>Bindings</caption>');
    const admitted = await accountObject(agent.id).admitBinding({
      database_id: db.id,
      type: 'worker_secret',
      cf_account_id: 'cf-account',
      script_name: 'orders-api',
      name: 'DATABASE_URL',
      pooled: true,
      token_id: null,
    });
    expect(admitted.ok).toBe(true);
    const html = await b.page(`/databases/${db.id}`);
    expect(html).toContain('<caption>Bindings</caption>');
    expect(html).toMatch(
      /<th scope="row"><code>DATABASE_URL<\/code><\/th><td>Worker secret \(pooled\)<\/td><td>orders-api<\/td><td>creating/,
    );
  });

  it('is 404 for another account, and for nonsense a 400', async () => {
    const other = await newAgent();
    const db = await createDb(other.token);
    expect(await b.page(`/databases/${db.id}`, 404)).toContain('database_not_found');
    expect(await b.page('/databases/nonsense', 400)).toContain('id: not a database id');
  });

  it('extends the lease by the chosen TTL, refusing a length it did not offer', async () => {
    const db = await createDb(agent.token, { ttl_seconds: 600 });
    const page = await b.page(`/databases/${db.id}`);
    expect(page).toContain('<option value="86400">1 day</option>');
    const res = await b.submit(`/databases/${db.id}/extend`, { ttl_seconds: '86400' });
    expect(res.status).toBe(303);
    const after = await detail(db.id);
    expect(Date.parse(after.expires_at) - Date.now()).toBeGreaterThan(86_000_000);
    const refused = await b.submit(`/databases/${db.id}/extend`, { ttl_seconds: '1234' });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('ttl_seconds');
    expect((await detail(db.id)).expires_at).toBe(after.expires_at);
  });

  it('keeps a database (in an account of its own: keeping reserves to the end of the month)', async () => {
    const keeper = await newAgent();
    const kb = new Browser();
    await kb.signIn(keeper.ownerToken);
    const db = await createDb(keeper.token);
    expect(await kb.page(`/databases/${db.id}`)).toContain('>Keep</button>');
    expect((await kb.submit(`/databases/${db.id}/keep`)).status).toBe(303);
    const kept = await (await call(`/v1/databases/${db.id}`, { token: keeper.token })).json<any>();
    expect(kept).toMatchObject({ kept: true, expires_at: null });
    expect(await kb.page(`/databases/${db.id}`)).not.toContain('>Keep</button>');
  });

  it('rotates credentials, showing the new connection string once behind a reveal', async () => {
    const db = await createDb(agent.token);

    const rotated = await b.submit(`/databases/${db.id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    const html = await rotated.text();
    const secret =
      /<details><summary>Reveal the new connection string<\/summary><p><code id="new-connection" class="secret">(postgresql:\/\/[^<]+)<\/code>/.exec(
        html,
      )?.[1];
    expect(secret).toBeDefined();
    expect(secret).not.toContain(encodeURIComponent(new URL(db.connection.direct).password));
    expect(html).toContain('data-copy="new-connection"');
    // Shown once: the page afterwards has no connection string.
    expect(await b.page(`/databases/${db.id}`)).not.toContain('postgresql://');
  });

  it('resets a branch to its parent: its own writes go, the connection string stays; never an anonymised branch', async () => {
    const parent = await createDb(agent.token, { seed: { sql: 'create table t (v int); insert into t values (1)' } });
    const branch = await branchDb(agent.token, parent.id);
    await query(branch.connection.direct, 'insert into t values (2)');
    expect(await b.page(`/databases/${branch.id}`)).toContain('Reset to parent</button>');
    expect(await b.page(`/databases/${parent.id}`)).not.toContain('Reset to parent</button>');

    const res = await b.submit(`/databases/${branch.id}/reset`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Reset to its parent');
    expect(await query(branch.connection.direct, 'select v from t order by v')).toEqual([{ v: 1 }]);

    // "as of": the time reaches the provider's restore; one it cannot read is a 400.
    expect(await b.page(`/databases/${branch.id}`)).toContain('name="at"');
    const at = new Date().toISOString();
    const restored = await watchProvider('POST /projects/:project_id/branches/:branch_id/restore', `"source_timestamp":"${at}"`);
    const asOf = await b.submit(`/databases/${branch.id}/reset`, { at });
    expect(await restored.seen()).toBe(1);
    await restored.stop();
    expect(asOf.status).toBe(200);
    expect(await asOf.text()).toContain(`Reset to its parent as of ${at}`);
    expect((await b.submit(`/databases/${branch.id}/reset`, { at: 'yesterday' })).status).toBe(400);

    const masked = await branchDb(agent.token, parent.id, {
      anonymize: { rules: [{ table: 't', column: 'v', method: 'fixed', value: '0' }] },
    });
    expect(await b.page(`/databases/${masked.id}`)).not.toContain('Reset to parent</button>');
    expect((await b.submit(`/databases/${masked.id}/reset`)).status).toBe(409);
  });

  it('asks the provider for a claim link, and shows it on the page', async () => {
    const db = await createDb(agent.token);
    expect(await b.page(`/databases/${db.id}`)).toContain('Claim into my Neon account</button>');
    const res = await b.submit(`/databases/${db.id}/claim`);
    const html = await res.text();
    expect(res.status, html.slice(0, 300)).toBe(202);
    const claim = (await detail(db.id)).claim;
    expect(claim).toMatchObject({ state: 'pending' });
    expect(html).toContain(`<a href="${claim.url.replace(/&/g, '&amp;')}">the claim link</a>`);
    // A pending claim: no second claim button.
    expect(await b.page(`/databases/${db.id}`)).not.toContain('Claim into my Neon account</button>');
  });

  it('deletes a database with branches only when the cascade box is ticked', async () => {
    const db = await createDb(agent.token);
    const branch = await branchDb(agent.token, db.id);
    expect(await b.page(`/databases/${db.id}`)).toContain('Also delete its 1 branch');
    const refused = await b.submit(`/databases/${db.id}/delete`);
    expect(refused.status).toBe(409);
    expect((await detail(db.id)).state).toBe('ready');
    const deleted = await b.submit(`/databases/${db.id}/delete`, { cascade: 'on' });
    expect(deleted.status).toBe(303);
    expect(deleted.headers.get('location')).toBe('/databases');
    expect((await detail(db.id)).state).toBe('deleted');
    expect((await detail(branch.id)).state).toBe('deleted');
  });

  it('refuses its actions without the form token, or from another site', async () => {
    const db = await createDb(agent.token);
    const csrf = await b.formToken('/');
    expect((await b.post(`/databases/${db.id}/delete`, {})).status).toBe(403);
    expect((await b.post(`/databases/${db.id}/delete`, { csrf }, 'cross-site')).status).toBe(403);
    expect((await detail(db.id)).state).toBe('ready');
  });
});
