/**
 * `node --import ./local/neon-mcp/preload.mjs <Neon's MCP server>`: points the serverless driver's
 * SQL over HTTP at the local stack's proxy (why: sql-redirect.mjs). It wraps the global `fetch`,
 * which the driver calls for every query, rather than importing the driver: the MCP server has its
 * own copy of it, and patching another copy's `neonConfig` would change nothing.
 *
 * DBLEASE_LOCAL_PROXY_URL is the proxy's origin (default `http://127.0.0.1:4444`, the stack's
 * default). Everything else (the Neon API, any non-local host) passes through untouched.
 */
import { localSqlUrl, redirectedSqlUrl } from './sql-redirect.mjs';

const sqlUrl = localSqlUrl(process.env.DBLEASE_LOCAL_PROXY_URL || 'http://127.0.0.1:4444');
const upstream = globalThis.fetch;

/**
 * @param {string | URL | Request} input
 * @param {RequestInit} [init]
 * @returns {Promise<Response>}
 */
globalThis.fetch = function fetchViaLocalStack(input, init) {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  const target = redirectedSqlUrl(url, headers.get('neon-connection-string'), sqlUrl);
  if (!target) return upstream(input, init);
  // A Request carries its own method and body; re-issue it at the new URL with both.
  return input instanceof Request ? upstream(new Request(target, input), init) : upstream(target, init);
};
