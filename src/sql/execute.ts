/**
 * Runs an agent's query or batch on one database over SQL over HTTP (@neondatabase/serverless)
 * under the account's caps. Every request is ONE transaction whose first statement sets the
 * statement timeout locally, so the cap holds for exactly this request's statements and ends
 * with it. Results keep Neon's SQL-over-HTTP JSON shape.
 *
 * The row and byte caps are checked on the answer: it is refused whole, never cut short. A
 * refused answer does not undo writes that already committed, which the error says.
 */
import type { FullQueryResults } from '@neondatabase/serverless';
import { sqlOverHttp, type SqlEnv } from './driver';
import { responseTooLarge, rowLimitExceeded, sqlFailure, type SqlLimits } from './failures';
import { neonJsonTypes } from './values';

export type IsolationLevel = 'read_uncommitted' | 'read_committed' | 'repeatable_read' | 'serializable';

export interface SqlStatement {
  query: string;
  params?: unknown[];
}

export interface SqlOptions {
  /** Rows as arrays in field order (Neon's `Neon-Array-Mode`). */
  array_mode?: boolean;
  /** Batches only. */
  isolation_level?: IsolationLevel;
  read_only?: boolean;
}

export type SqlRequest = (SqlStatement & Pick<SqlOptions, 'array_mode'>) | ({ queries: SqlStatement[] } & SqlOptions);

/** One statement's result, as Neon's SQL over HTTP returns it. */
export interface SqlResult {
  fields: { name: string; dataTypeID: number; tableID: number; columnID: number; dataTypeSize: number; dataTypeModifier: number; format: string }[];
  rows: unknown[];
  command: string;
  rowCount: number | null;
  rowAsArray: boolean;
}

export type SqlResponse = SqlResult | { results: SqlResult[] };

const DRIVER_ISOLATION = {
  read_uncommitted: 'ReadUncommitted',
  read_committed: 'ReadCommitted',
  repeatable_read: 'RepeatableRead',
  serializable: 'Serializable',
} as const;

/** How long past the statement timeout the client waits before giving up on the server. */
const CLIENT_GRACE_MS = 5_000;

const byteLength = (text: string) => new TextEncoder().encode(text).byteLength;

function shape(result: FullQueryResults<boolean>): SqlResult {
  return {
    fields: result.fields.map((f) => ({
      name: f.name,
      dataTypeID: f.dataTypeID,
      tableID: f.tableID,
      columnID: f.columnID,
      dataTypeSize: f.dataTypeSize,
      dataTypeModifier: f.dataTypeModifier,
      format: String(f.format),
    })),
    rows: result.rows as unknown[],
    command: result.command,
    rowCount: result.rowCount ?? null,
    rowAsArray: result.rowAsArray,
  };
}

/** The response, or a cap error: rows counted across the whole batch, bytes as serialized. */
export function enforceCaps(response: SqlResponse, limits: SqlLimits): { body: string } {
  const results = 'results' in response ? response.results : [response];
  const rows = results.reduce((n, r) => n + r.rows.length, 0);
  if (rows > limits.maxRows) throw rowLimitExceeded(limits, rows);
  const body = JSON.stringify(response);
  const bytes = byteLength(body);
  if (bytes > limits.maxBytes) throw responseTooLarge(limits, bytes);
  return { body };
}

/** Runs the request; the answer is Neon's JSON, already serialized and within the caps. */
export async function executeSql(env: SqlEnv, uri: string, request: SqlRequest, limits: SqlLimits): Promise<{ response: SqlResponse; body: string }> {
  const batch = 'queries' in request;
  const statements = batch ? request.queries : [request];
  const sql = sqlOverHttp(env, uri);
  let results: FullQueryResults<boolean>[];
  try {
    results = await sql.transaction(
      (tx) => [
        // set_config(…, true) is SET LOCAL: it ends with this transaction, whatever the statements do.
        tx.query(`select set_config('statement_timeout', $1, true)`, [String(limits.statementTimeoutMs)]),
        ...statements.map((s) => tx.query(s.query, s.params ?? [])),
      ],
      {
        fullResults: true,
        arrayMode: request.array_mode ?? false,
        types: neonJsonTypes,
        ...(batch && request.isolation_level ? { isolationLevel: DRIVER_ISOLATION[request.isolation_level] } : {}),
        ...(batch && request.read_only ? { readOnly: true } : {}),
        fetchOptions: { signal: AbortSignal.timeout(limits.statementTimeoutMs + CLIENT_GRACE_MS) },
      },
    );
  } catch (err) {
    throw sqlFailure(err, limits);
  }
  const shaped = results.slice(1).map(shape);
  const response: SqlResponse = batch ? { results: shaped } : shaped[0]!;
  return { response, ...enforceCaps(response, limits) };
}
