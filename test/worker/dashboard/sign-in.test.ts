/**
 * Signing in to the owner dashboard, and everything that must keep others out: the cookie's
 * attributes, the form tokens, cross-site posts, forged and expired cookies, sign-out, and the
 * one-time link of provisioning.
 */
import { runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { accountObject, call, createAccount, mintToken, OPERATOR_TOKEN, type TestAccount } from '../support/api';
import { assertion, provision, registerOrchestrator, type Orchestrator } from '../support/orchestrators';
import { Browser } from '../support/browser';

const sessionCookie = (b: Browser) => b.cookies.get('dblease_session') ?? b.cookies.get('__Host-dblease_session');

describe('the dashboard sign-in', () => {
  let acct: TestAccount;
  beforeAll(async () => {
    acct = await createAccount('dashboard sign-in');
  });

  it('turns a pasted owner token into a session cookie, and the token appears nowhere after', async () => {
    const b = new Browser();
    const form = await b.get('/signin');
    expect(form.status).toBe(200);
    const html = await form.text();
    expect(html).toMatch(/<label for="token">Token<\/label>/);
    expect(html).toMatch(/<button type="submit">Sign in<\/button>/);

    const signedIn = await b.signIn(acct.ownerToken);
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/');
    const cookie = signedIn.headers.getSetCookie().find((c) => c.startsWith('dblease_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const maxAge = Number(/Max-Age=(\d+)/.exec(cookie)![1]);
    expect(maxAge).toBeGreaterThan(3600);
    expect(maxAge).toBeLessThanOrEqual(12 * 3600);
    expect(cookie).not.toContain(acct.ownerToken);

    const overview = await b.get('/');
    expect(overview.status).toBe(200);
    const page = await overview.text();
    expect(page).toContain('dashboard sign-in');
    expect(page).not.toContain(acct.ownerToken);
    expect(page).not.toContain(acct.ownerToken.split('_').at(-1));
  });

  it('sends a strict Content-Security-Policy, no framing and no referrer with every page', async () => {
    const res = await new Browser().get('/signin');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('uses a __Host- cookie marked Secure over https', async () => {
    const b = new Browser('https://dblease.test');
    const res = await b.signIn(acct.ownerToken);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('__Host-dblease_session='))!;
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/Path=\//);
    expect((await b.get('/')).status).toBe(200);
  });

  it('refuses a token that is not an owner token, and one that is not a token', async () => {
    const reader = await mintToken(acct, { scopes: ['databases:read'] });
    const b = new Browser();
    expect((await b.signIn(reader.token)).status).toBe(403);
    expect((await b.signIn('dbl_not-a-token')).status).toBe(401);
    expect(sessionCookie(b)).toBeUndefined();
  });

  it('refuses a cross-site form post with 403, and a same-site one without the form token', async () => {
    const b = new Browser();
    await b.signIn(acct.ownerToken);
    const csrf = await b.formToken('/');
    const crossSite = await b.post('/signout', { csrf }, 'cross-site');
    expect(crossSite.status).toBe(403);
    expect(await crossSite.text()).toContain('cross_site_request');
    expect((await b.post('/signout', {})).status).toBe(403);
    expect((await b.post('/signout', { csrf: 'x'.repeat(csrf.length) })).status).toBe(403);
    // Still signed in: none of those signed anyone out.
    expect((await b.get('/')).status).toBe(200);
    // A sign-in form posted from elsewhere, or without its token, signs nobody in.
    const fresh = new Browser();
    expect((await fresh.post('/signin', { csrf: await fresh.formToken('/signin'), token: acct.ownerToken }, 'cross-site')).status).toBe(
      403,
    );
    expect((await fresh.post('/signin', { token: acct.ownerToken })).status).toBe(403);
    expect(sessionCookie(fresh)).toBeUndefined();
  });

  it('refuses forged and expired cookies: pages go to the sign-in form, posts get 401', async () => {
    const b = new Browser();
    await b.signIn(acct.ownerToken);
    const real = sessionCookie(b)!;
    const secret = real.slice(-43);
    const forgedSecret = real.slice(0, -43) + (secret[0] === 'A' ? 'B' : 'A') + secret.slice(1);
    const forgedTag = real.replace(/_([0-9a-f]{32})_/, `_${'0'.repeat(32)}_`);
    for (const value of [forgedSecret, forgedTag, acct.ownerToken, 'garbage']) {
      const other = new Browser();
      other.cookies.set('dblease_session', value);
      const res = await other.get('/');
      expect(res.status, value).toBe(303);
      expect(res.headers.get('location')).toBe('/signin');
    }

    await runInDurableObject(accountObject(acct.id), async (_i, state) => {
      state.storage.sql.exec('update dashboard_sessions set expires_at = ?', Date.now() - 1);
    });
    const expired = await b.get('/');
    expect(expired.status).toBe(303);
    expect((await b.post('/signout', { csrf: 'anything' })).status).toBe(401);
  });

  it('signs out: the same cookie no longer opens anything', async () => {
    const b = new Browser();
    await b.signIn(acct.ownerToken);
    const cookie = sessionCookie(b)!;
    const out = await b.post('/signout', { csrf: await b.formToken('/') });
    expect(out.status).toBe(303);
    expect(sessionCookie(b)).toBeUndefined();
    const replay = new Browser();
    replay.cookies.set('dblease_session', cookie);
    expect((await replay.get('/')).status).toBe(303);
  });

  it('ends the visit when the owner token it was opened with is revoked', async () => {
    const owner = await createAccount('revoked owner');
    const second = await mintToken(owner, { scopes: ['owner'] });
    const b = new Browser();
    await b.signIn(second.token);
    expect((await b.get('/')).status).toBe(200);
    await call(`/v1/tokens/${second.id}`, { method: 'DELETE', token: owner.ownerToken });
    expect((await b.get('/')).status).toBe(303);
  });
});

describe('the one-time dashboard link of provisioning', () => {
  let o: Orchestrator;
  beforeAll(async () => {
    o = await registerOrchestrator();
  });

  const dashboardUrl = async () => {
    const res = await provision(await assertion(o));
    const body = await res.json<any>();
    expect(body.dashboard_url).toMatch(/^http:\/\/dblease\.test\/signin\/link\?code=dbc_/);
    expect(body.dashboard_url).not.toContain(body.token.token);
    return { url: new URL(body.dashboard_url), account: body.account.id as string };
  };

  it('signs the user in once: opening it spends nothing, pressing the button does, and a second use is refused', async () => {
    const { url } = await dashboardUrl();
    const b = new Browser();
    const opened = await b.get(url.pathname + url.search);
    expect(opened.status).toBe(200);
    expect(await opened.text()).toContain('Open my dashboard');
    // A link scanner fetching it again spends nothing.
    expect((await new Browser().get(url.pathname + url.search)).status).toBe(200);

    const code = url.searchParams.get('code')!;
    const used = await b.post('/signin/link', { csrf: await b.formToken(url.pathname + url.search), code });
    expect(used.status).toBe(303);
    expect((await b.get('/')).status).toBe(200);

    const again = new Browser();
    const refused = await again.post('/signin/link', { csrf: await again.formToken(url.pathname + url.search), code });
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain('invalid_sign_in_link');
    expect(sessionCookie(again)).toBeUndefined();
  });

  it('is refused after its 15 minutes', async () => {
    const { url, account } = await dashboardUrl();
    await runInDurableObject(accountObject(account), async (_i, state) => {
      state.storage.sql.exec('update sign_in_codes set expires_at = ?', Date.now() - 1);
    });
    const b = new Browser();
    const res = await b.post('/signin/link', { csrf: await b.formToken(url.pathname + url.search), code: url.searchParams.get('code')! });
    expect(res.status).toBe(401);
  });

  it('is refused for a code of an account dblease did not issue', async () => {
    const { url } = await dashboardUrl();
    const forged = url.searchParams.get('code')!.replace(/_([0-9a-f]{32})_/, `_${'f'.repeat(32)}_`);
    const b = new Browser();
    const res = await b.post('/signin/link', { csrf: await b.formToken(url.pathname + url.search), code: forged });
    expect(res.status).toBe(401);
  });
});

// Keeps the operator token import honest: the dashboard is not for the operator.
it('does not accept the operator token as a sign-in', async () => {
  expect((await new Browser().signIn(OPERATOR_TOKEN)).status).toBe(401);
});
