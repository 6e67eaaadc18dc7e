/**
 * The dashboard's other forms, each through the API's services: tokens (the secret once, a
 * copy button; revoke), sessions (list, end), policy (lower; never above the operator's), the
 * events page's cursors, and "Stop everything" (the account's name to confirm, then a report).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { accountObject, call } from '../support/api';
import { Browser } from '../support/browser';
import { createDb, newAgent, type Agent } from '../support/databases';

let agent: Agent;
let b: Browser;
beforeAll(async () => {
  agent = await newAgent();
  b = new Browser();
  await b.signIn(agent.ownerToken);
});

describe('every page', () => {
  it('has landmarks, one <h1> of its own, and a <label> for every field', async () => {
    const db = await createDb(agent.token);
    const titles: string[] = [];
    for (const path of ['/', '/databases', `/databases/${db.id}`, '/tokens', '/sessions', '/policy', '/events', '/stop']) {
      const html = await b.page(path);
      const h1s = [...html.matchAll(/<h1>(.*?)<\/h1>/g)].map((m) => m[1]!);
      expect(h1s, path).toHaveLength(1);
      titles.push(h1s[0]!);
      for (const landmark of ['<header', '<nav aria-label="Main">', '<main>']) expect(html, path).toContain(landmark);
      const ids = [...html.matchAll(/<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\sid="([^"]+)"/g)].map((m) => m[1]!);
      const fields = [...html.matchAll(/<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*>/g)];
      expect(ids.length, `${path}: every field has an id`).toBe(fields.length);
      for (const id of ids) expect(html, `${path}: a label for #${id}`).toContain(`<label for="${id}"`);
      // The CSP allows no inline script or style: none is written.
      expect(html, path).not.toMatch(/\sstyle=|<script>|\son[a-z]+=/);
    }
    expect(new Set(titles).size).toBe(titles.length);
  });

  it('is only for a signed-in owner: pages go to the sign-in form, forms are refused', async () => {
    const db = await createDb(agent.token);
    const stranger = new Browser();
    for (const path of ['/', '/databases', `/databases/${db.id}`, '/tokens', '/sessions', '/policy', '/events', '/stop']) {
      const res = await stranger.get(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location'), path).toBe('/signin');
    }
    for (const path of [`/databases/${db.id}/delete`, `/databases/${db.id}/extend`, '/tokens', '/policy', '/stop']) {
      expect((await stranger.post(path, { csrf: 'x' })).status, path).toBe(401);
    }
    await expect((await call(`/v1/databases/${db.id}`, { token: agent.token })).json()).resolves.toMatchObject({ state: 'ready' });
  });
});

describe('the tokens page', () => {
  it('creates a token whose secret is shown once with a copy button, and revokes it', async () => {
    const res = await b.submit('/tokens', { name: 'ci bot', scopes: ['databases:read', 'databases:write'] }, '/tokens');
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    const secret = /<code id="new-token-secret" class="secret">(dbl_[^<]+)<\/code>/.exec(html)![1]!;
    expect(html).toContain('data-copy="new-token-secret"');
    expect((await call('/v1/databases', { token: secret })).status).toBe(200);
    // Shown once: the list afterwards names the token but never shows its secret.
    const list = await b.page('/tokens');
    expect(list).toContain('<th scope="row">ci bot</th>');
    expect(list).not.toContain(secret);
    expect(list).not.toContain(agent.ownerToken);

    const id = new RegExp(`<tr data-id="(tok_[0-9a-z]+)"><th scope="row">ci bot</th>`).exec(list)![1]!;
    const revoked = await b.submit(`/tokens/${id}/revoke`, {}, '/tokens');
    expect(revoked.status).toBe(200);
    expect(await revoked.text()).toContain('Token ci bot revoked');
    expect((await call('/v1/databases', { token: secret })).status).toBe(401);
  });

  it('refuses a token without scopes or with a bad limit, naming the field', async () => {
    const none = await b.submit('/tokens', { name: 'nothing' }, '/tokens');
    expect(none.status).toBe(400);
    expect(await none.text()).toContain('scopes');
    const bad = await b.submit('/tokens', { name: 'x', scopes: 'sql', monthly_spend_limit_usd: 'lots' }, '/tokens');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('monthly_spend_limit_usd: must be a number');
  });

  it('offers no revoke button for the token the visit signed in with', async () => {
    const html = await b.page('/tokens');
    const row = new RegExp(`<tr data-id="${agent.ownerTokenId}">.*?</tr>`, 's').exec(html)![0];
    expect(row).toContain('this sign-in');
    expect(row).not.toContain('/revoke');
  });
});

describe("a real browser's form posts", () => {
  // Chromium sends `Origin: null` with a page's own form posts under Referrer-Policy: no-referrer.
  it('are let through on Origin: null only when Sec-Fetch-Site says same-origin', async () => {
    const nb = new Browser();
    await nb.signIn(agent.ownerToken);
    const csrf = await nb.formToken('/tokens');
    const post = (site: 'same-origin' | 'cross-site', extra: Record<string, string>) =>
      nb.post('/tokens', { csrf, name: 'opaque', scopes: 'sql' }, site, { origin: 'null', ...extra });
    expect((await post('cross-site', {})).status).toBe(403);
    expect((await post('same-origin', { 'sec-fetch-site': '' })).status).toBe(403);
    expect((await post('same-origin', {})).status).toBe(201);
  });
});

describe('the sessions page', () => {
  it('lists sessions and ends one', async () => {
    const session = await (await call('/v1/sessions', { token: agent.token, body: { labels: { agent: 'planner' } } })).json<any>();
    const html = await b.page('/sessions');
    expect(html).toContain('<caption>Sessions</caption>');
    expect(html).toContain(`<tr data-id="${session.id}">`);
    expect(html).toContain('agent:planner');
    const ended = await b.submit(`/sessions/${session.id}/end`, {}, '/sessions');
    expect(ended.status).toBe(200);
    expect((await (await call(`/v1/sessions/${session.id}`, { token: agent.token })).json<any>()).state).toBe('ended');
    const row = new RegExp(`<tr data-id="${session.id}">.*?</tr>`, 's').exec(await ended.text())![0];
    expect(row).not.toContain('/end');
  });
});

describe('the policy page', () => {
  it("lowers a limit, and refuses one above the operator's maximum naming it", async () => {
    const page = await b.page('/policy');
    expect(page).toMatch(/<label for="p-max_active_databases">max active databases<\/label>/);
    const lowered = await b.submit('/policy', { max_active_databases: '3' }, '/policy');
    expect(lowered.status).toBe(200);
    expect(await lowered.text()).toContain('Limits saved.');
    const account = await (await call('/v1/account', { token: agent.ownerToken })).json<any>();
    expect(account.policy.max_active_databases).toBe(3);

    const above = account.policy_maximum.max_ttl_seconds + 1;
    const refused = await b.submit('/policy', { max_ttl_seconds: String(above) }, '/policy');
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('max_ttl_seconds');
    expect((await (await call('/v1/account', { token: agent.ownerToken })).json<any>()).policy.max_ttl_seconds).toBe(
      account.policy.max_ttl_seconds,
    );
    // Empty is the maximum again.
    await b.submit('/policy', { max_active_databases: '' }, '/policy');
    expect((await (await call('/v1/account', { token: agent.ownerToken })).json<any>()).policy.max_active_databases).toBe(
      account.policy_maximum.max_active_databases,
    );
  });
});

describe('the events page', () => {
  it('pages through the audit log with its cursors, oldest first', async () => {
    const first = await b.page('/events');
    expect(first).toContain('<caption>Events, oldest first</caption>');
    expect(first).toContain('<code>account.created</code>');
    const ids = (html: string) => [...html.matchAll(/<tr data-id="(\d+)">/g)].map((m) => Number(m[1]));
    const all = ids(first);
    expect(all).toEqual([...all].sort((x, y) => x - y));
    // Enough events exist by now for a second page only if there are more than 50; check the cursor link either way.
    const next = /<a href="(\/events\?cursor=\d+)" rel="next">/.exec(first)?.[1];
    if (next) {
      const second = ids(await b.page(next));
      expect(second[0]).toBeGreaterThan(all.at(-1)!);
    } else {
      expect(all.length).toBeLessThanOrEqual(50);
    }
    expect(await b.page('/events?cursor=nope', 400)).toContain('cursor');
  });
});

describe('Stop everything', () => {
  it('asks for the account name, refuses a wrong one naming the field, then stops and reports', async () => {
    const acct = await newAgent();
    const sb = new Browser();
    await sb.signIn(acct.ownerToken);
    const db = await createDb(acct.token);
    const form = await sb.page('/stop');
    expect(form).toContain('<label for="confirm-name">Account name</label>');
    expect(form).toMatch(/<button type="submit" class="danger">Stop everything<\/button>/);

    const wrong = await sb.submit('/stop', { account_name: 'not it' }, '/stop');
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('Account name');
    expect((await call('/v1/databases', { token: acct.token })).status).toBe(200);

    const res = await sb.submit('/stop', { account_name: 'databases test' }, '/stop');
    const html = await res.text();
    expect(res.status, html).toBe(200);
    expect(html).toContain('<dd data-field="tokens_revoked">1</dd>');
    expect(html).toContain('<dd data-field="databases_deleting">1</dd>');
    expect((await call('/v1/databases', { token: acct.token })).status).toBe(401);
    const after = await (await call(`/v1/databases/${db.id}`, { token: acct.ownerToken })).json<any>();
    expect(['deleting', 'deleted']).toContain(after.state);
    // The visit that pressed it stays signed in, and pressing again is safe.
    expect((await sb.submit('/stop', { account_name: 'databases test' }, '/stop')).status).toBe(200);
    // The sweep finishes inside the test, not while the run shuts down.
    expect((await accountObject(acct.id).sweepNow()).ok).toBe(true);
    expect((await (await call(`/v1/databases/${db.id}`, { token: acct.ownerToken })).json<any>()).state).toBe('deleted');
  });
});
