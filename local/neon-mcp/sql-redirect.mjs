/**
 * Neon's MCP server runs its SQL tools through `@neondatabase/serverless`'s `neon()`, which sends
 * each query to `https://api.<the host minus its first label>/sql`. For an endpoint of the local
 * stack, whose host is a loopback address such as `127.1.0.7`, that is `https://api.1.0.7/sql`:
 * a name that resolves nowhere. The local stack's proxy serves the same protocol over plain HTTP
 * and routes by the `Neon-Connection-String` header, so the request only needs a new URL.
 *
 * Plain JavaScript, as it runs under `node --import` in a process that has no TypeScript loader.
 */

/**
 * 127.x.y.z, localhost and ::1: the only hosts the local stack listens on.
 * @param {string} hostname
 * @returns {boolean}
 */
export function isLoopbackHost(hostname) {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The local `/sql` URL for a proxy origin such as the stack's `urls.proxy`. Only a loopback
 * origin is accepted: the requests carry connection strings with passwords in them.
 * @param {string} origin
 * @returns {string}
 */
export function localSqlUrl(origin) {
  let url;
  try {
    url = new URL(origin);
  } catch {
    throw new Error(`DBLEASE_LOCAL_PROXY_URL: not a URL: ${JSON.stringify(origin)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('DBLEASE_LOCAL_PROXY_URL: must be an http:// URL');
  if (!isLoopbackHost(url.hostname))
    throw new Error('DBLEASE_LOCAL_PROXY_URL: must be a loopback address, as the local stack listens only there');
  return new URL('/sql', url).href;
}

/**
 * Where to send one fetch: the local `/sql` URL when it is the driver's SQL-over-HTTP request for
 * a database of the local stack (a loopback host in its connection string), otherwise undefined
 * (the request goes where it was going: a real Neon database stays on Neon).
 * @param {string} requestUrl the URL the driver derived
 * @param {string | null | undefined} connectionString its `Neon-Connection-String` header
 * @param {string} sqlUrl from localSqlUrl
 * @returns {string | undefined}
 */
export function redirectedSqlUrl(requestUrl, connectionString, sqlUrl) {
  if (!connectionString || !/^https:\/\/api(auth)?\.[^/]+\/sql$/.test(requestUrl)) return undefined;
  let host;
  try {
    // WHATWG URL parses the authority of http: URLs only.
    host = new URL(connectionString.replace(/^postgres(ql)?:/, 'http:')).hostname;
  } catch {
    return undefined;
  }
  return isLoopbackHost(host) ? sqlUrl : undefined;
}
