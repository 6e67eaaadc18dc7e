import { createApiClient, type Api } from '@neondatabase/api-client';
import type { TestStack } from './neon-stack';

export interface TestOrg {
  id: string;
  key: string;
  /** `@neondatabase/api-client` with this organization's key. */
  client: Api<unknown>;
}

/** The API port's origin (`http://127.0.0.1:<port>`), for `/_admin` and `/claim`. */
export const originOf = (stack: TestStack) => stack.baseURL.replace(/\/api\/v2$/, '');

/** `POST /_admin/organizations` with the stack's key. */
export async function createOrg(stack: TestStack, name: string): Promise<TestOrg> {
  const res = await fetch(`${originOf(stack)}/_admin/organizations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.config.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`creating organization ${name}: ${res.status} ${await res.text()}`);
  const { org_id, api_key } = (await res.json()) as { org_id: string; api_key: string };
  return { id: org_id, key: api_key, client: createApiClient({ apiKey: api_key, baseURL: stack.baseURL }) };
}

/** Polls a project's operations, with the owner's key, until none is scheduling or running. */
export async function settleAs(client: Api<unknown>, projectId: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { data } = await client.listProjectOperations({ projectId, limit: 1000 });
    if (!data.operations.some((o) => o.status === 'running' || o.status === 'scheduling')) return;
    if (Date.now() > deadline) throw new Error(`operations still running on ${projectId}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
