import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle, startTestStack, type TestStack } from '../support/neon-stack';
import { createOrg, originOf } from '../support/organizations';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop(true);
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A project of the default organization (the stack's key), with a row of data in it. */
async function ownedProject(name: string) {
  const { data } = await stack.client.createProject({ project: { name } });
  await settle(stack, data.project.id);
  const uri = data.connection_uris[0].connection_uri;
  const made = await stack.sqlOverHttp(uri, "CREATE TABLE kept AS SELECT 'still here' AS v");
  expect(made.status).toBe(200);
  return { data, uri };
}

async function requestTransfer(projectId: string, body: unknown = {}) {
  const res = await stack.fetch(`/projects/${projectId}/transfer_requests`, { method: 'POST', body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return res.json();
}

const accept = (projectId: string, requestId: string, key: string, body: unknown = {}) =>
  stack.fetch(`/projects/${projectId}/transfer_requests/${requestId}`, { method: 'PUT', key, body: JSON.stringify(body) });

describe('project transfer requests', () => {
  it('moves a project to the organization whose key accepts it; endpoints, roles, passwords and data stay', async () => {
    const { data, uri } = await ownedProject('moving');
    const pid = data.project.id;
    const b = await createOrg(stack, 'receiver');
    const c = await createOrg(stack, 'bystander');

    const before = Date.now();
    const request = await requestTransfer(pid, { ttl_seconds: 600 });
    expect(request).toEqual({
      id: expect.stringMatching(UUID),
      project_id: pid,
      created_at: expect.any(String),
      expires_at: expect.any(String),
      claim_url: `${originOf(stack)}/claim/${pid}/${request.id}`,
    });
    expect(Date.parse(request.expires_at) - Date.parse(request.created_at)).toBe(600_000);
    expect(Date.parse(request.created_at)).toBeGreaterThanOrEqual(before - 1000);
    // Neon's default lifetime is 24 hours.
    const spare = await requestTransfer(pid);
    expect(Date.parse(spare.expires_at) - Date.parse(spare.created_at)).toBe(86_400_000);

    // Until it is accepted the project is not the recipient's; a key receives into its own org only.
    expect((await stack.fetch(`/projects/${pid}`, { key: b.key })).status).toBe(404);
    const elsewhere = await accept(pid, request.id, b.key, { org_id: c.id });
    expect(elsewhere.status).toBe(404);
    expect((await elsewhere.json()).message).toMatch(/^org_id: /);
    expect((await accept(pid, '00000000-0000-4000-8000-000000000000', b.key)).status).toBe(404);

    const accepted = await accept(pid, request.id, b.key, { org_id: b.id });
    expect(accepted.status).toBe(204);

    expect((await stack.fetch(`/projects/${pid}`)).status).toBe(404);
    expect((await stack.fetch(`/projects/${pid}/endpoints`)).status).toBe(404);
    expect((await stack.client.listProjects({})).data.projects.map((p) => p.id)).not.toContain(pid);
    const now = (await b.client.getProject(pid)).data.project;
    expect(now.org_id).toBe(b.id);
    expect((await b.client.listProjects({})).data.projects.map((p) => p.id)).toEqual([pid]);
    expect((await b.client.listProjectEndpoints(pid)).data.endpoints.map((e) => [e.id, e.host])).toEqual(
      data.endpoints.map((e) => [e.id, e.host]),
    );
    expect((await b.client.getProjectBranchRolePassword(pid, data.branch.id, 'neondb_owner')).data.password).toBe(data.roles[0].password);
    // The connection string handed out before the transfer still answers, with the same data.
    const read = await stack.sqlOverHttp(uri, 'SELECT v FROM kept');
    expect(read.status).toBe(200);
    expect(read.body.rows).toEqual([{ v: 'still here' }]);

    // A request is accepted once; the old owner's other offer went with the ownership.
    expect((await accept(pid, request.id, b.key)).status).toBe(409);
    expect((await accept(pid, spare.id, c.key)).status).toBe(404);
    expect((await b.client.getProject(pid)).data.project.org_id).toBe(b.id);
  });

  it('refuses an expired request, in Neon’s error shape, and leaves the project where it was', async () => {
    const { data } = await ownedProject('staying');
    const pid = data.project.id;
    const b = await createOrg(stack, 'too-late');
    const zero = await stack.fetch(`/projects/${pid}/transfer_requests`, { method: 'POST', body: JSON.stringify({ ttl_seconds: 0 }) });
    expect(zero.status).toBe(400);
    expect((await zero.json()).message).toMatch(/^ttl_seconds: /);

    const request = await requestTransfer(pid, { ttl_seconds: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    const res = await accept(pid, request.id, b.key);
    expect(res.status).toBe(410);
    expect(await res.json()).toEqual({
      request_id: expect.any(String),
      code: 'TRANSFER_REQUEST_EXPIRED',
      message: `transfer request ${request.id} expired at ${request.expires_at}`,
    });
    expect((await stack.client.getProject(pid)).data.project.org_id).toBe('org-local');
    expect((await stack.fetch(`/projects/${pid}`, { key: b.key })).status).toBe(404);
  });
});

function expectPageHeaders(res: Response) {
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("form-action 'self'");
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
}

/** A GET to the API port with a chosen Host header (fetch cannot set it). */
function getWithHost(url: string, host: string): Promise<number> {
  const { port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('the claim page', () => {
  it('accepts a transfer with a form POST of an organization key, and refuses a bad key', async () => {
    const { data, uri } = await ownedProject('claimed');
    const pid = data.project.id;
    const b = await createOrg(stack, 'claimer');
    const { claim_url } = await requestTransfer(pid);

    const page = await fetch(claim_url);
    expect(page.status).toBe(200);
    expectPageHeaders(page);
    const html = await page.text();
    expect(html).toMatch(/<label for="api_key">API key<\/label>/);
    expect(html).toMatch(/<input id="api_key" name="api_key" type="password"/);
    expect(html).toMatch(/<form method="post">/);
    expect(html).toMatch(/<button type="submit">Accept<\/button>/);
    expect(html).toContain(pid);
    expect(html).not.toMatch(/<script/i);
    // A rebound name gets nothing, as on the API.
    expect(await getWithHost(claim_url, 'evil.example')).toBe(403);

    const bad = await fetch(claim_url, { method: 'POST', body: new URLSearchParams({ api_key: 'not-a-key-of-this-stack' }) });
    expect(bad.status).toBe(401);
    expectPageHeaders(bad);
    const badHtml = await bad.text();
    expect(badHtml).toContain('belongs to no organization');
    expect(badHtml).not.toContain('not-a-key-of-this-stack');
    expect((await stack.fetch(`/projects/${pid}`, { key: b.key })).status).toBe(404);

    const good = await fetch(claim_url, { method: 'POST', body: new URLSearchParams({ api_key: b.key }) });
    expect(good.status).toBe(200);
    expectPageHeaders(good);
    const goodHtml = await good.text();
    expect(goodHtml).toContain('now belongs to the organization claimer');
    expect(goodHtml).not.toContain(b.key);
    expect((await b.client.getProject(pid)).data.project.org_id).toBe(b.id);
    expect((await stack.fetch(`/projects/${pid}`)).status).toBe(404);
    expect((await stack.sqlOverHttp(uri, 'SELECT v FROM kept')).body.rows).toEqual([{ v: 'still here' }]);
  });

  it('refuses an expired request with a clear message and no form, whatever key is pasted', async () => {
    const { data } = await ownedProject('claimed-late');
    const b = await createOrg(stack, 'late-claimer');
    const { claim_url } = await requestTransfer(data.project.id, { ttl_seconds: 1 });
    await new Promise((r) => setTimeout(r, 1100));

    const page = await fetch(claim_url);
    expect(page.status).toBe(410);
    expectPageHeaders(page);
    const html = await page.text();
    expect(html).toContain('expired at');
    expect(html).not.toContain('<form');
    const post = await fetch(claim_url, { method: 'POST', body: new URLSearchParams({ api_key: b.key }) });
    expect(post.status).toBe(410);
    expect(await post.text()).toContain('expired at');
    expect((await stack.client.getProject(data.project.id)).data.project.org_id).toBe('org-local');
    expect((await fetch(`${originOf(stack)}/claim/${data.project.id}/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
  });
});
