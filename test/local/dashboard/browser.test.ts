/**
 * The owner dashboard in a real browser: Debian's Chromium driven by playwright-core, against
 * the real Worker (Wrangler's dev server, workerd) on a throwaway local stack. One owner's visit,
 * step by step: sign in with a token, see a database the API made, extend it, delete it, mint
 * and revoke a token, read the charts, stop everything, sign out. Throughout: no console error,
 * no failed request, no unexpected 4xx/5xx, and the token never in the address bar.
 * Screenshots land in test-artifacts/dashboard/ (git-ignored) for a reviewer.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevWorker, type DevWorker } from '../../support/dev-worker';
import { startThrowawayStack, type ThrowawayStack } from '../../support/throwaway-stack';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ARTIFACTS = path.join(ROOT, 'test-artifacts/dashboard');
const OPERATOR_TOKEN = 'browser-test-operator-token';
const ACCOUNT_NAME = 'browser owner';

let stack: ThrowawayStack;
let worker: DevWorker;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
let ownerToken: string;
/** What went wrong in the page, by kind; every test ends by checking it is empty. */
const problems: string[] = [];

async function api(method: string, route: string, token: string, body?: unknown) {
  const res = await fetch(`${worker.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json().catch(() => null)) as any };
}

/** After every navigation: the token is not in the address bar. */
/** Presses Tab until `selector` has the focus: it is reachable by keyboard, in order. */
async function tabTo(selector: string, most = 15) {
  for (let i = 0; i < most; i++) {
    await page.keyboard.press('Tab');
    if (await page.locator(selector).evaluate((el) => el === el.ownerDocument.activeElement)) return;
  }
  throw new Error(`${selector} is not reachable with Tab`);
}

async function go(url: string) {
  await page.goto(`${worker.url}${url}`);
  expect(page.url()).not.toContain(ownerToken);
}

beforeAll(async () => {
  await fs.mkdir(ARTIFACTS, { recursive: true });
  userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-chromium-'));
  const [s, browserContext] = await Promise.all([
    startThrowawayStack({}, 'dblease-browser-stack-'),
    chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    }),
  ]);
  stack = s;
  context = browserContext;
  worker = await startDevWorker(stack, { name: 'browser', operatorToken: OPERATOR_TOKEN });
  const created = await api('POST', '/v1/accounts', OPERATOR_TOKEN, { name: ACCOUNT_NAME });
  expect(created.status).toBe(201);
  ownerToken = created.json.owner_token.token;

  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`response ${r.status()}: ${r.url()}`);
  });
}, 90_000);

afterAll(async () => {
  await context?.close().catch(() => {});
  await worker?.dispose().catch(() => {});
  await stack?.dispose().catch(() => {});
  if (userDataDir) await fs.rm(userDataDir, { recursive: true, force: true }).catch(() => {});
}, 60_000);

describe('the owner dashboard in Chromium', { timeout: 30_000 }, () => {
  let agentToken: string;
  let dbId: string;

  it('signs in with a pasted token, by keyboard alone, and the token never reaches the address bar', async () => {
    await go('/');
    expect(new URL(page.url()).pathname).toBe('/signin');
    await tabTo('#token');
    expect(await page.locator('#token').evaluate((el) => el.ownerDocument.querySelector(`label[for="${el.id}"]`)?.textContent)).toBe(
      'Token',
    );
    await page.keyboard.insertText(ownerToken);
    await tabTo('button[type="submit"]');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${worker.url}/`);
    expect(page.url()).not.toContain(ownerToken);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Overview');
    expect(await page.content()).not.toContain(ownerToken);
    expect(problems).toEqual([]);
  });

  it('shows a database created through the API, in the table and on its page', async () => {
    const minted = await api('POST', '/v1/tokens', ownerToken, {
      name: 'agent',
      scopes: ['databases:read', 'databases:write', 'databases:credentials', 'sql'],
    });
    agentToken = minted.json.token;
    const parent = await api('POST', '/v1/databases', agentToken, { ttl_seconds: 600, labels: { agent: 'planner', task: 'etl' } });
    expect(parent.status).toBe(201);
    dbId = parent.json.id;
    const [branch] = await Promise.all([
      api('POST', `/v1/databases/${dbId}/branches`, agentToken, { labels: { agent: 'tester' } }),
      api('POST', '/v1/databases', agentToken, { ttl_seconds: 3600, labels: { agent: 'reviewer' } }),
    ]);
    expect(branch.status).toBe(201);

    await go('/');
    await page.screenshot({ path: path.join(ARTIFACTS, 'overview.png'), fullPage: true });
    await go('/databases');
    const table = page.getByRole('table', { name: 'Databases' });
    await expect(table.getByRole('link', { name: dbId }).count()).resolves.toBe(1);
    await expect(table.locator(`tr[data-id="${branch.json.id}"]`).getAttribute('data-level')).resolves.toBe('1');
    await page.screenshot({ path: path.join(ARTIFACTS, 'databases.png'), fullPage: true });

    await table.getByRole('link', { name: dbId }).click();
    await page.waitForURL(`${worker.url}/databases/${dbId}`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(`Database ${dbId}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'database.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it('renders the charts as SVG with data points', async () => {
    await go('/');
    const activity = page.locator('svg#chart-activity');
    await expect(activity.locator('.point').count()).resolves.toBe(48);
    const values = await activity.locator('.point').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
    expect(Math.max(...values)).toBeGreaterThanOrEqual(3);
    await expect(page.locator('svg#chart-spend .point').count()).resolves.toBe(2 * new Date().getUTCDate());
    await expect(activity.locator('text.axis-label').allTextContents()).resolves.toEqual(['Hour (UTC)', 'Databases']);
    expect(problems).toEqual([]);
  });

  it('extends a lease and shows the new expiry', async () => {
    await go(`/databases/${dbId}`);
    const before = await page.locator('#expires time').getAttribute('datetime');
    await page.getByLabel('Lease from now').selectOption({ label: '1 day' });
    await page.getByRole('button', { name: 'Extend' }).click();
    await page.waitForURL(`${worker.url}/databases/${dbId}`);
    const after = await page.locator('#expires time').getAttribute('datetime');
    expect(Date.parse(after!) - Date.parse(before!)).toBeGreaterThan(20 * 3600_000);
    // The script rewrote the relative time in the reader's locale: about a day from now.
    await expect(page.locator('#expires time').textContent()).resolves.toMatch(/tomorrow|in 1 day|in 24 hours/);
    expect(problems).toEqual([]);
  });

  it('deletes a database (its branch with it, once the box is ticked)', async () => {
    await go(`/databases/${dbId}`);
    await page.getByLabel(/Also delete its 1 branch/).check();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`${worker.url}/databases`);
    await expect(page.getByRole('table', { name: 'Databases' }).getByRole('link', { name: dbId }).count()).resolves.toBe(0);
    expect((await api('GET', `/v1/databases/${dbId}`, agentToken)).json.state).toBe('deleted');
    expect(problems).toEqual([]);
  });

  it('creates a token shown once, and revokes it', async () => {
    await go('/tokens');
    await page.getByLabel('Name').fill('browser bot');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = (await page.locator('#new-token-secret').textContent())!.trim();
    expect(secret).toMatch(/^dbl_/);
    await expect(page.getByRole('button', { name: 'Copy' }).count()).resolves.toBe(1);
    expect(page.url()).not.toContain(secret);
    expect((await api('GET', '/v1/databases', secret)).status).toBe(200);
    await page.getByRole('button', { name: 'Revoke browser bot' }).click();
    await page.getByText('Token browser bot revoked').waitFor();
    expect((await api('GET', '/v1/databases', secret)).status).toBe(401);
    await go('/tokens');
    expect(await page.content()).not.toContain(secret);
    expect(problems).toEqual([]);
  });

  it('stops everything: every unkept database goes and the revoked tokens get 401', async () => {
    await Promise.all([1, 2].map((i) => api('POST', '/v1/databases', agentToken, { labels: { wave: String(i) } })));
    const live = (await api('GET', '/v1/databases', ownerToken)).json.data;
    expect(live.length).toBe(3);
    await go('/stop');
    await page.getByLabel('Account name').fill(ACCOUNT_NAME);
    await page.getByRole('button', { name: 'Stop everything' }).click();
    await page.getByRole('heading', { name: 'What stopped' }).waitFor();
    await expect(page.locator('[data-field="databases_deleting"]').textContent()).resolves.toBe(String(live.length));
    expect((await api('GET', '/v1/databases', agentToken)).status).toBe(401);
    // The sweeper removes them in the account object's alarm, which stop arms at once.
    const deadline = Date.now() + 20_000;
    let left = live.length;
    while (left > 0 && Date.now() < deadline) {
      left = (await api('GET', '/v1/databases', ownerToken)).json.data.filter((d: any) => d.state !== 'deleted').length;
      if (left > 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(left).toBe(0);
    expect(problems).toEqual([]);
  });

  it('signs out: the overview asks for a sign-in again', async () => {
    await go('/');
    // Every page's controls are reachable by keyboard: the nav, then the sign-out button.
    await tabTo('nav a[href="/stop"]');
    await tabTo('.signout button');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${worker.url}/signin`);
    await go('/');
    expect(new URL(page.url()).pathname).toBe('/signin');
    expect(problems).toEqual([]);
  });
});
