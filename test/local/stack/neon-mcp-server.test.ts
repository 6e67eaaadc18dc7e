import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSqlUrl, redirectedSqlUrl } from '../../../local/neon-mcp/sql-redirect.mjs';
import { startStack, type RunningStack } from '../support/local-stack';

/**
 * Neon's own MCP server (`@neondatabase/mcp-server-neon`, unchanged) over stdio against the local
 * stack: its API calls go to NEON_API_HOST, and its SQL tools reach the stack's SQL-over-HTTP
 * proxy through the shipped preload (local/neon-mcp/preload.mjs).
 */
let stack: RunningStack;
let client: Client;
let projectId: string;
let stderr = '';

const SERVER = path.resolve('node_modules/@neondatabase/mcp-server-neon/dist/index.js');
const PRELOAD = path.resolve('local/neon-mcp/preload.mjs');

beforeAll(async () => {
  stack = await startStack();
  const { data } = await stack.client.createProject({ project: { name: 'via-mcp' } });
  projectId = data.project.id;
  await stack.settle(projectId, data.operations);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', PRELOAD, SERVER, 'start', stack.config.apiKey, '--no-analytics'],
    env: {
      ...getDefaultEnvironment(),
      NEON_API_HOST: stack.urls.api,
      DBLEASE_LOCAL_PROXY_URL: stack.urls.proxy,
      // An empty DSN turns its error reporting off: nothing leaves the machine.
      SENTRY_DSN: '',
    },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk) => (stderr += chunk));
  client = new Client({ name: 'dblease-test', version: '1.0.0' });
  await client.connect(transport);
});
afterAll(async () => {
  await client?.close();
  await stack?.dispose();
});

async function tool(name: string, params: Record<string, unknown>) {
  const result = (await client.callTool({ name, arguments: { params } })) as { isError?: boolean; content: { text: string }[] };
  expect(result.isError, `${name}: ${result.content[0]?.text} ${stderr}`).toBeFalsy();
  return result.content[0].text;
}

describe('Neon’s MCP server against the local stack', () => {
  it('lists the projects through the API and runs SQL through the proxy', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['list_projects', 'run_sql', 'run_sql_transaction', 'get_database_tables']));

    const projects = JSON.parse(await tool('list_projects', {})).projects;
    expect(projects.map((p: { id: string }) => p.id)).toEqual([projectId]);

    expect(JSON.parse(await tool('run_sql', { projectId, sql: 'select 1 as one' }))).toEqual([{ one: 1 }]);
  });

  it('runs a transaction and reads the tables it made', async () => {
    const statements = ['create table notes (id int primary key, body text)', "insert into notes values (1, 'hello')"];
    await tool('run_sql_transaction', { projectId, sqlStatements: statements });
    expect(JSON.parse(await tool('get_database_tables', { projectId }))).toContainEqual({
      table_schema: 'public',
      table_name: 'notes',
      table_type: 'BASE TABLE',
    });
    expect(JSON.parse(await tool('run_sql', { projectId, sql: 'select body from notes' }))).toEqual([{ body: 'hello' }]);
  });
});

describe('the preload’s redirect', () => {
  const sqlUrl = localSqlUrl('http://127.0.0.1:4444');
  const local = 'postgresql://neondb_owner:pw@127.1.0.7:55432/neondb';

  it('sends the driver’s SQL for a local database to the proxy, and nothing else', () => {
    expect(sqlUrl).toBe('http://127.0.0.1:4444/sql');
    // What the driver derives from 127.1.0.7: its first label swapped for "api".
    expect(redirectedSqlUrl('https://api.1.0.7/sql', local, sqlUrl)).toBe(sqlUrl);
    expect(redirectedSqlUrl('https://apiauth.1.0.7/sql', local, sqlUrl)).toBe(sqlUrl);
    expect(redirectedSqlUrl('https://api.localhost/sql', 'postgres://u:p@localhost:5432/db', sqlUrl)).toBe(sqlUrl);
    // A real Neon database stays on Neon, and other requests are not touched.
    const remote = 'postgresql://u:p@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb';
    expect(redirectedSqlUrl('https://api.us-east-2.aws.neon.tech/sql', remote, sqlUrl)).toBeUndefined();
    expect(redirectedSqlUrl('http://127.0.0.1:4100/api/v2/projects', local, sqlUrl)).toBeUndefined();
    expect(redirectedSqlUrl('https://api.1.0.7/sql', null, sqlUrl)).toBeUndefined();
    expect(redirectedSqlUrl('https://api.1.0.7/sql', 'not a uri', sqlUrl)).toBeUndefined();
  });

  it('refuses a proxy URL that is not a loopback http URL, as connection strings travel to it', () => {
    expect(() => localSqlUrl('http://10.0.0.5:4444')).toThrow('DBLEASE_LOCAL_PROXY_URL: must be a loopback address');
    expect(() => localSqlUrl('ftp://127.0.0.1')).toThrow('DBLEASE_LOCAL_PROXY_URL: must be an http:// URL');
    expect(() => localSqlUrl('127.0.0.1:4444')).toThrow('DBLEASE_LOCAL_PROXY_URL');
  });
});
