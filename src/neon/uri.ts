/**
 * Connection strings without and with their password. The warm pool keeps only the first kind:
 * a pool entry's password is stored sealed, apart from its strings (src/neon/pool-entry.ts).
 */
export function withoutPassword(uri: string): string {
  const url = new URL(uri);
  url.password = '';
  return url.toString();
}

export function withPassword(uri: string, password: string): string {
  const url = new URL(uri);
  url.password = encodeURIComponent(password);
  return url.toString();
}

/** Loopback hosts are the local stack's endpoints, which speak plain TCP. */
const LOOPBACK = /^(127\.|localhost\b|\[::1\])/;

/**
 * Neon's pooled host is the endpoint host with `-pooler` after the endpoint id
 * (`ep-x-123.region.aws.neon.tech` → `ep-x-123-pooler.region…`). Hosts that are not Neon
 * endpoint names (the local stack's `127.1.0.7:55432`) have no separate pooler.
 */
export function poolerHost(host: string): string {
  const [first, ...rest] = host.split('.');
  if (!first?.startsWith('ep-') || first.endsWith('-pooler')) return host;
  return [`${first}-pooler`, ...rest].join('.');
}

/**
 * A connection string from its known parts, as the provider's `connection_uri` would give it:
 * composing it saves a provider request per string, and the parts (the endpoint's host, the
 * role and its password, the database) are all in the answers of the calls that made them.
 */
export function composeUri(parts: { host: string; role: string; password: string; database: string; pooled?: boolean }): string {
  const auth = `${encodeURIComponent(parts.role)}:${encodeURIComponent(parts.password)}`;
  const host = parts.pooled ? poolerHost(parts.host) : parts.host;
  const query = LOOPBACK.test(parts.host) ? '' : '?sslmode=require';
  return `postgresql://${auth}@${host}/${encodeURIComponent(parts.database)}${query}`;
}
