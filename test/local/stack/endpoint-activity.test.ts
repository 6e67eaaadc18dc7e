import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type RunningStack } from '../support/local-stack';

/**
 * A direct connection must count as use (README "Abuse"): dblease learns it from the endpoint's
 * `last_active`, which the stack's proxies set when a client connection opens or closes, as
 * Neon's endpoint activity does. Here a plain `pg` client over the wire protocol, never dblease.
 */
let stack: RunningStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.dispose());

describe('endpoint activity', () => {
  it("moves an endpoint's last_active (and its project's compute_last_active_at) on a direct pg connection", async () => {
    const { data } = await stack.client.createProject({ project: { name: 'activity' } });
    const projectId = data.project.id;
    await stack.settle(projectId, data.operations);
    const endpointOf = async () => (await stack.client.listProjectEndpoints(projectId)).data.endpoints[0]!;
    const before = (await endpointOf()).last_active;

    const started = Date.now();
    const client = new pg.Client({ connectionString: data.connection_uris![0]!.connection_uri, connectionTimeoutMillis: 5_000 });
    client.on('error', () => {});
    await client.connect();
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    await client.end();

    const after = await endpointOf();
    expect(after.last_active).toBeTruthy();
    expect(after.last_active).not.toBe(before);
    expect(Date.parse(after.last_active!)).toBeGreaterThanOrEqual(started - 5);
    const project = (await stack.client.getProject(projectId)).data.project;
    expect(project.compute_last_active_at).toBe(after.last_active);
  });
});
