import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/neon-stack';
import { createOrg, originOf, settleAs, type TestOrg } from '../support/organizations';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop(true);
});

/** What `/_admin/organizations` answers: an organization, or Neon's error body. */
type AdminAnswer = { org_id: string; api_key: string; message: string };
const answer = async (res: Response) => (await res.json()) as AdminAnswer;

const admin = (key: string | null, body: unknown) =>
  fetch(`${originOf(stack)}/_admin/organizations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    body: JSON.stringify(body),
  });

describe('organizations, each with its own API key', () => {
  it('POST /_admin/organizations needs the stack key and answers with an org id and a working key', async () => {
    expect((await admin(null, { name: 'nobody' })).status).toBe(401);
    expect((await admin('not-the-stack-key', { name: 'nobody' })).status).toBe(401);
    const missing = await admin(stack.config.apiKey, {});
    expect(missing.status).toBe(400);
    expect((await answer(missing)).message).toMatch(/^name: /);

    const created = await admin(stack.config.apiKey, { name: 'Acme Labs' });
    expect(created.status).toBe(201);
    const { org_id, api_key } = await answer(created);
    expect(org_id).toMatch(/^org-[a-z0-9-]{1,56}$/);
    expect(api_key).toEqual(expect.any(String));
    expect(api_key).not.toBe(stack.config.apiKey);
    // An organization's key is no admin key.
    expect((await admin(api_key, { name: 'escalation' })).status).toBe(401);

    const mine = await stack.fetch('/users/me/organizations', { key: api_key });
    expect(mine.status).toBe(200);
    const body = await mine.json();
    expect(body.organizations).toEqual([
      {
        id: org_id,
        name: 'Acme Labs',
        handle: expect.stringContaining(org_id),
        plan: expect.any(String),
        managed_by: 'console',
        created_at: expect.any(String),
        updated_at: expect.any(String),
        require_mfa: false,
      },
    ]);
    const one = await stack.fetch(`/organizations/${org_id}`, { key: api_key });
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual(body.organizations[0]);

    // The stack's own key belongs to the default organization, and sees only that one.
    const local = (await (await stack.fetch('/users/me/organizations')).json()).organizations;
    expect(local.map((o: { id: string }) => o.id)).toEqual(['org-local']);
    expect((await stack.fetch(`/organizations/${org_id}`)).status).toBe(404);
    expect((await stack.fetch('/organizations/org-local', { key: api_key })).status).toBe(404);
    expect((await stack.fetch('/organizations/org-local')).status).toBe(200);
    // A key nobody was given is refused.
    expect((await stack.fetch('/projects', { key: `${api_key}x` })).status).toBe(401);
  });

  it('two organizations’ keys reach only their own projects: 404 both ways on every project route and listing', async () => {
    const a = await createOrg(stack, 'a');
    const b = await createOrg(stack, 'b');
    const make = async (org: TestOrg) => {
      const { data } = await org.client.createProject({ project: { name: `of-${org.id}` } });
      await settleAs(org.client, data.project.id);
      expect(data.project.org_id).toBe(org.id);
      return data;
    };
    const pa = await make(a);
    const pb = await make(b);

    const routes = (p: typeof pa) => {
      const id = p.project.id;
      const br = p.branch.id;
      const ep = p.endpoints[0].id;
      const op = p.operations[0].id;
      return [
        ['GET', `/projects/${id}`],
        ['PATCH', `/projects/${id}`, { project: { name: 'taken' } }],
        ['GET', `/projects/${id}/branches`],
        ['GET', `/projects/${id}/branches/count`],
        ['POST', `/projects/${id}/branches`, { branch: { name: 'x' } }],
        ['GET', `/projects/${id}/branches/${br}`],
        ['GET', `/projects/${id}/branches/${br}/endpoints`],
        ['GET', `/projects/${id}/branches/${br}/roles`],
        ['GET', `/projects/${id}/branches/${br}/roles/neondb_owner/reveal_password`],
        ['POST', `/projects/${id}/branches/${br}/roles/neondb_owner/reset_password`],
        ['GET', `/projects/${id}/branches/${br}/databases`],
        ['GET', `/projects/${id}/branches/${br}/databases/neondb`],
        ['GET', `/projects/${id}/endpoints`],
        ['GET', `/projects/${id}/endpoints/${ep}`],
        ['POST', `/projects/${id}/endpoints/${ep}/suspend`],
        ['GET', `/projects/${id}/connection_uri?database_name=neondb&role_name=neondb_owner`],
        ['GET', `/projects/${id}/operations`],
        ['GET', `/projects/${id}/operations/${op}`],
        ['POST', `/projects/${id}/transfer_requests`, {}],
        ['DELETE', `/projects/${id}/branches/${br}`],
        ['DELETE', `/projects/${id}`],
      ] as const;
    };
    for (const [key, label, p] of [
      [a.key, "a's key on b's project", pb],
      [b.key, "b's key on a's project", pa],
      [stack.config.apiKey, "the stack's key on a's project", pa],
    ] as const) {
      for (const [method, path, body] of routes(p)) {
        const res = await stack.fetch(path, { method, key, body: body ? JSON.stringify(body) : undefined });
        expect(res.status, `${method} ${path}: ${label}`).toBe(404);
        expect((await res.json()).code).toBe('NOT_FOUND');
      }
    }
    // Nothing of it happened: the owner still has its project, its name and its password.
    expect((await a.client.getProject(pa.project.id)).data.project.name).toBe(`of-${a.id}`);
    expect((await a.client.getProjectBranchRolePassword(pa.project.id, pa.branch.id, 'neondb_owner')).data.password).toBe(
      pa.roles[0].password,
    );

    // Listings: each key lists its own projects only, and may not ask for another's org.
    const ids = async (key: string, path = '/projects') =>
      ((await (await stack.fetch(path, { key })).json()).projects as { id?: string; project_id?: string }[]).map(
        (p) => p.id ?? p.project_id,
      );
    expect(await ids(a.key)).toEqual([pa.project.id]);
    expect(await ids(b.key)).toEqual([pb.project.id]);
    expect(await ids(stack.config.apiKey)).not.toContain(pa.project.id);
    expect(await ids(stack.config.apiKey)).not.toContain(pb.project.id);
    expect((await stack.fetch(`/projects?org_id=${b.id}`, { key: a.key })).status).toBe(404);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const usage = `/consumption_history/v2/projects?from=${from}&to=${to}&granularity=hourly&metrics=compute_unit_seconds`;
    expect(await ids(a.key, usage)).toEqual([pa.project.id]);
    expect(await ids(b.key, `${usage}&project_ids=${pa.project.id},${pb.project.id}`)).toEqual([pb.project.id]);
    const branches = await stack.fetch(
      `/consumption_history/v2/branches?from=${from}&to=${to}&granularity=hourly&metrics=compute_unit_seconds&project_ids=${pa.project.id}`,
      { key: b.key },
    );
    expect((await branches.json()).branches).toEqual([]);
  });
});

describe('organizations across a restart', () => {
  it('keep their keys, stored as hashes only, and their projects', async () => {
    const first = await startTestStack();
    let second: TestStack | undefined;
    try {
      const org = await createOrg(first, 'lasting');
      const { data } = await org.client.createProject({ project: { name: 'kept' } });
      await settleAs(org.client, data.project.id);
      const meta = await first.cluster.connect('neon_local_meta');
      const stored = (await meta.query("SELECT data::text AS t FROM records WHERE kind = 'organization'")).rows.map((r) => r.t);
      await meta.end();
      expect(stored).toHaveLength(1);
      expect(stored[0]).toContain(org.id);
      expect(stored[0]).not.toContain(org.key);
      await first.stop(false);

      second = await startTestStack({ dataDir: first.config.dataDir });
      const again = await second.fetch(`/projects/${data.project.id}`, { key: org.key });
      expect(again.status).toBe(200);
      expect((await again.json()).project.org_id).toBe(org.id);
      expect((await second.fetch(`/organizations/${org.id}`, { key: org.key })).status).toBe(200);
      expect((await second.fetch(`/projects/${data.project.id}`)).status).toBe(404);
    } finally {
      await (second ?? first).stop(true);
    }
  });
});
