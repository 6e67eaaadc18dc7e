/** Listing the registry: newest first, filtered by state, labels and session, cursor-paginated. */
import { and, desc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import { invalidFields } from '../src/core/errors';
import { base64url, fromBase64url } from '../src/core/ids';
import { databases, type DatabaseState } from './schema';
import type { Store } from './store';
import { databaseRecord, type DatabaseRecord } from './views';

export interface ListDatabasesFilter {
  /** Default: every state but `deleted`. */
  states?: DatabaseState[];
  /** Every pair must match. */
  labels?: Record<string, string>;
  session_id?: string;
  cursor?: string;
  /** 1–100, default 50. */
  limit?: number;
}

export interface DatabasePage {
  databases: DatabaseRecord[];
  next_cursor: string | null;
}

const encodeCursor = (row: { createdAt: number; id: string }) => base64url(new TextEncoder().encode(`${row.createdAt}.${row.id}`));

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const [at, id] = new TextDecoder().decode(fromBase64url(cursor)).split('.');
    const createdAt = Number(at);
    if (Number.isSafeInteger(createdAt) && id && /^db_[0-9a-z]+$/.test(id)) return { createdAt, id };
  } catch {
    // fall through: reported as a bad field below
  }
  throw invalidFields([{ path: 'cursor', message: 'not a cursor returned by this list' }]);
}

/** A label key as a JSON path; double quotes are escaped so a key can never end the path. */
const labelPath = (key: string) => `$."${key.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function listDatabases(store: Store, filter: ListDatabasesFilter): DatabasePage {
  const limit = Math.min(100, Math.max(1, filter.limit ?? 50));
  const where: SQL[] = [];
  where.push(filter.states?.length ? inArray(databases.state, filter.states) : sql`${databases.state} <> 'deleted'`);
  for (const [key, value] of Object.entries(filter.labels ?? {})) {
    where.push(sql`json_extract(${databases.labels}, ${labelPath(key)}) = ${value}`);
  }
  if (filter.session_id !== undefined) where.push(eq(databases.sessionId, filter.session_id));
  if (filter.cursor !== undefined) {
    const c = decodeCursor(filter.cursor);
    where.push(or(lt(databases.createdAt, c.createdAt), and(eq(databases.createdAt, c.createdAt), lt(databases.id, c.id)))!);
  }
  const rows = store.read('list databases', (db) =>
    db
      .select()
      .from(databases)
      .where(and(...where))
      .orderBy(desc(databases.createdAt), desc(databases.id))
      .limit(limit + 1)
      .all(),
  );
  const page = rows.slice(0, limit);
  return {
    databases: page.map(databaseRecord),
    next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1]!) : null,
  };
}
