/** Registry records (what the account object holds) as the wire's `Database`, and connection strings. */
import type { DatabaseRecord } from '../../../durable-objects/account';
import { composeUri } from '../../neon/uri';
import type { Database } from '../schemas/databases';

export type Connection = NonNullable<Database['connection']>;

/** Direct and pooled URIs, built from parts so no extra provider call is needed to learn them. */
export function connection(parts: { host: string; role: string; password: string; database: string }): Connection {
  return {
    direct: composeUri(parts),
    pooled: composeUri({ ...parts, pooled: true }),
    host: parts.host,
    database: parts.database,
    role: parts.role,
  };
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
    anonymized: r.anonymized,
    created_at: r.created_at,
    ready_at: r.ready_at,
    expires_at: r.expires_at,
    deleted_at: r.deleted_at,
    reserved_usd: r.reserved_usd,
    spent_usd: r.spent_usd,
    ...(extra.connection ? { connection: extra.connection } : {}),
    ...(extra.timings ? { timings: extra.timings } : {}),
    ...(r.claim ? { claim: { id: r.claim.request_id, state: 'pending' as const, url: r.claim.url, expires_at: r.claim.expires_at } } : {}),
    last_error: r.last_error,
  };
}

/** `Server-Timing` from the `timings` object (`admit;dur=2, provider;dur=61, …`); the source is not a duration. */
export const serverTiming = (timings: Record<string, number | string>) =>
  Object.entries(timings)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .map(([name, ms]) => `${name};dur=${Math.round(ms)}`)
    .join(', ');
