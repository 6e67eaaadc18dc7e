/**
 * `POST /mcp`: the MCP endpoint (streamable HTTP, stateless), with dblease bearer tokens. A
 * missing or bad token is a 401 with `WWW-Authenticate: Bearer`, which MCP clients look for.
 * GET (a server-initiated stream) and DELETE (ending a session) have nothing to do statelessly.
 */
import { Hono } from 'hono';
import { authenticateToken } from '../http/auth';
import { Failure, unauthenticated } from '../../core/errors';
import { errorResponse, toFailure, wireError } from '../http/error-mapping';
import type { AppEnv } from '../http/context';

const CHALLENGE = 'Bearer realm="dblease"';

export const mcp = new Hono<AppEnv>()
  .post('/', async (c) => {
    const match = c.req.header('authorization')?.match(/^Bearer\s+(\S+)\s*$/i);
    let principal;
    try {
      if (!match) throw unauthenticated();
      principal = await authenticateToken(c.env, match[1]!);
    } catch (err) {
      const failure = toFailure(err);
      if (wireError(failure).status !== 401) throw err;
      const res = errorResponse(failure, c.get('requestId'));
      res.headers.set('www-authenticate', `${CHALLENGE}, error="invalid_token", error_description="${failure.message.replace(/"/g, "'")}"`);
      return res;
    }
    // Loaded on first use: the MCP SDK is a large module graph that HTTP-only isolates never need.
    const { handleMcp } = await import('../mcp/server');
    return handleMcp(c.req.raw, { env: c.env, ctx: c.executionCtx, principal, requestId: c.get('requestId') });
  })
  .on(['GET', 'DELETE'], '/', (c) => {
    // 405 is what the MCP transport spec asks for here (clients then skip the stream); the body keeps dblease's shape.
    const err = new Failure('method_not_allowed', 'this MCP server is stateless: POST JSON-RPC messages to /mcp');
    const res = errorResponse(err, c.get('requestId'));
    return new Response(res.body, { status: 405, headers: { 'content-type': 'application/json', allow: 'POST' } });
  });
