/**
 * dblease as an MCP server over streamable HTTP, stateless: every POST builds a server for the
 * authenticated principal, answers it with plain JSON, and is done. Nothing is kept between
 * requests, so any isolate can answer any request and there is no session to expire.
 *
 * It uses the SDK's low-level `Server` rather than `McpServer` so that arguments are validated
 * here, with the same zod schemas and the same 400 `invalid_field` error (field paths included)
 * as the HTTP API, instead of the SDK's own unstructured validation message.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { Failure, invalidFields } from '../../core/errors';
import { fieldIssues } from '../http/errors';
import { databaseTools } from './database-tools';
import { sqlTools } from './sql-tools';
import { bindingTools } from './binding-tools';
import { branchingTools } from './branching-tools';
import { failure, success, type ToolContext, type ToolDef } from './tool';

export const TOOLS: ToolDef[] = [...databaseTools, ...branchingTools, ...sqlTools, ...bindingTools];
const BY_NAME = new Map(TOOLS.map((t) => [t.name, t]));

const INSTRUCTIONS =
  'dblease gives you real Postgres databases as leases. create_database (optionally with a seed) or branch_database (optionally anonymized) ' +
  'returns connection strings; run_sql runs SQL without a driver; reset_database takes a branch back to its parent; describe_schema and ' +
  'diff_schema read schemas. To change a schema safely: prepare_migration, read its schema_diff, rehearsal and verification, ' +
  'then apply_migration or discard_migration. Everything expires unless extended or kept; delete what you no longer need.';

/** The tool list is the same for every request: converted to JSON Schema once per isolate. */
let listed: Tool[] | undefined;
function toolList(): Tool[] {
  listed ??= TOOLS.map((t) => ({
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: z.toJSONSchema(t.input, { io: 'input', unrepresentable: 'any' }) as Tool['inputSchema'],
    annotations: { title: t.title, ...t.annotations },
  }));
  return listed;
}

async function callTool(tool: ToolContext, name: string, args: unknown) {
  const def = BY_NAME.get(name);
  if (!def) throw new Failure('tool_not_found', `no tool ${name}; see tools/list`);
  const parsed = def.input.safeParse(args ?? {});
  if (!parsed.success) throw invalidFields(fieldIssues(parsed.error, 'arguments'));
  return def.run(tool, parsed.data as never);
}

export function buildServer(tool: ToolContext): Server {
  const server = new Server({ name: 'dblease', version: '0.1.0' }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: toolList() }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    try {
      return success(await callTool(tool, request.params.name, request.params.arguments));
    } catch (err) {
      return failure(err, tool.requestId);
    }
  });
  return server;
}

/** Answers one MCP HTTP request for an authenticated principal. */
export async function handleMcp(request: Request, tool: ToolContext): Promise<Response> {
  const server = buildServer(tool);
  // No session ids (stateless) and JSON answers instead of an SSE stream: one request, one response.
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    await server.close();
  }
}
