/** Registry records (what the account object holds) as the wire's `Database`, and connection strings. */
import type { DatabaseRecord } from '../../../durable-objects/account';
import type { Database } from '../schemas/databases';

export type Connection = NonNullable<Database['connection']>;

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

/** Direct and pooled URIs, built from parts so no extra provider call is needed to learn them. */
export function connection(parts: { host: string; role: string; password: string; database: string }): Connection {
  const auth = `${encodeURIComponent(parts.role)}:${encodeURIComponent(parts.password)}`;
  const query = LOOPBACK.test(parts.host) ? '' : '?sslmode=require';
  const uri = (host: string) => `postgresql://${auth}@${host}/${encodeURIComponent(parts.database)}${query}`;
  return { direct: uri(parts.host), pooled: uri(poolerHost(parts.host)), host: parts.host, database: parts.database, role: parts.role };
}

export function toDatabase(r: DatabaseRecord, extra: { connection?: Connection; timings?: Database['timings'] } = {}): Database {
  return {
    id: r.id,
    object: 'database',
    state: r.state,
    kind: r.kind,
    parent_id: r.parent_id,
    depth: r.depth,
    region: r.region,
    labels: r.labels,
    session_id: r.session_id,
    kept: r.kept,
    created_at: r.created_at,
    ready_at: r.ready_at,
    expires_at: r.expires_at,
    deleted_at: r.deleted_at,
    reserved_usd: r.reserved_usd,
    spent_usd: r.spent_usd,
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    ...(extra.connection ? { connection: extra.connection } : {}),
    ...(extra.timings ? { timings: extra.timings } : {}),
    ...(r.claim ? { claim: { id: r.claim.request_id, state: 'pending' as const, url: r.claim.url, expires_at: r.claim.expires_at } } : {}),
    last_error: r.last_error,
  };
}

/** `Server-Timing` from the `timings` object (`admit;dur=2, provider;dur=61, …`). */
export const serverTiming = (timings: Record<string, number>) =>
  Object.entries(timings)
    .map(([name, ms]) => `${name};dur=${Math.round(ms)}`)
    .join(', ');
