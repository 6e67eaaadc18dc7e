import type http from 'node:http';
import type pg from 'pg';
import { ConnectRefused, type ComputeGate, type EndpointTarget } from '../hooks.js';
import { authFailed } from './client-auth.js';
import { Refusal } from './compute-socket.js';
import { awaitAwake, roleSecret } from './endpoint-proxy.js';
import type { PasswordCheck } from './password-check.js';
// One conversion for both SQL-over-HTTP implementations (this emulator and the Worker's endpoint).
import { neonFields, pgTextToJson } from '../../src/core/neon-json';
import { SuperuserSession, type UpstreamPool } from './upstream-pool.js';
import { takeEndpointOption } from './wire.js';

export interface HttpLimits {
  /** Larger request bodies get 413. Neon's proxy default is 10 MiB. */
  maxRequestBytes: number;
  /** Larger JSON responses get 507. Neon documents 10 MB for SQL over HTTP. */
  maxResponseBytes: number;
}

export const NEON_HTTP_LIMITS: HttpLimits = { maxRequestBytes: 10 * 1024 * 1024, maxResponseBytes: 10 * 1024 * 1024 };

export const CORS_HEADERS: Record<string, string> = { 'Access-Control-Allow-Origin': '*' };

export const PREFLIGHT_HEADERS: Record<string, string> = {
  ...CORS_HEADERS,
  'Access-Control-Allow-Methods': 'OPTIONS, POST',
  'Access-Control-Allow-Headers':
    'Authorization, Content-Type, Neon-Connection-String, Neon-Raw-Text-Output, Neon-Array-Mode, Neon-Pool-Opt-In, ' +
    'Neon-Batch-Read-Only, Neon-Batch-Isolation-Level, Neon-Batch-Deferrable',
  'Access-Control-Max-Age': '86400',
};

const ISOLATION: Record<string, string> = {
  ReadUncommitted: 'READ UNCOMMITTED',
  ReadCommitted: 'READ COMMITTED',
  RepeatableRead: 'REPEATABLE READ',
  Serializable: 'SERIALIZABLE',
};

const ERROR_FIELDS = [
  'severity',
  'code',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
] as const;

interface Query {
  query: string;
  params?: unknown[];
}

/** Answered as Neon's 400 error JSON, which the driver turns into a NeonDbError. */
class SqlHttpError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface SqlOverHttpDeps {
  gate: ComputeGate;
  pool: UpstreamPool;
  passwords: PasswordCheck;
  limits: HttpLimits;
  wakeTimeoutMs: number;
  log: (line: string) => void;
}

function send(res: http.ServerResponse, status: number, body: string, type = 'application/json'): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...CORS_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseQueries(body: Buffer): { queries: Query[]; batch: boolean } {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new SqlHttpError('request body is not valid JSON');
  }
  const valid = (q: unknown): q is Query =>
    typeof q === 'object' &&
    q !== null &&
    typeof (q as Query).query === 'string' &&
    ((q as Query).params === undefined || Array.isArray((q as Query).params));
  if (typeof json === 'object' && json !== null && Array.isArray((json as { queries?: unknown }).queries)) {
    const queries = (json as { queries: unknown[] }).queries;
    if (!queries.every(valid)) throw new SqlHttpError('each of "queries" needs a "query" string and optional "params" array');
    return { queries, batch: true };
  }
  if (!valid(json)) throw new SqlHttpError('request body needs a "query" string and optional "params" array, or "queries"');
  return { queries: [json], batch: false };
}

interface Route {
  target: EndpointTarget;
  user: string;
  database: string;
  password: string;
}

function route(header: string | undefined, gate: ComputeGate): Route {
  if (!header) throw new SqlHttpError('missing Neon-Connection-String header');
  let url: URL;
  try {
    url = new URL(header);
  } catch {
    throw new SqlHttpError('Neon-Connection-String is not a valid connection string');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new SqlHttpError('Neon-Connection-String must be a postgres:// or postgresql:// URL');
  }
  const user = decodeURIComponent(url.username);
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || user;
  if (!user || !url.hostname) throw new SqlHttpError('Neon-Connection-String needs a user and a host');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const { endpointId } = takeEndpointOption(url.searchParams.get('options') ?? undefined);
  const target = gate.resolve(host) ?? (endpointId !== undefined ? gate.resolve(endpointId) : undefined);
  if (!target) {
    throw new SqlHttpError(
      `The requested endpoint could not be found, or you don't have access to it. Please check the provided ID and try again.`,
      'XX000',
    );
  }
  return { target, user, database, password: decodeURIComponent(url.password) };
}

function beginStatement(headers: http.IncomingHttpHeaders): string {
  const modes: string[] = [];
  const isolation = headers['neon-batch-isolation-level'];
  if (typeof isolation === 'string' && isolation !== '') {
    const level = ISOLATION[isolation];
    if (!level) throw new SqlHttpError(`invalid Neon-Batch-Isolation-Level "${isolation}"`);
    modes.push(`ISOLATION LEVEL ${level}`);
  }
  if (headers['neon-batch-read-only'] === 'true') modes.push('READ ONLY');
  if (headers['neon-batch-deferrable'] === 'true') modes.push('DEFERRABLE');
  return modes.length ? `BEGIN ${modes.join(', ')}` : 'BEGIN';
}

function shapeResult(result: pg.QueryResult<unknown[]>, arrayMode: boolean, rawText: boolean): object {
  const fields = neonFields(result.fields);
  const convert = (value: unknown, i: number) => (rawText ? value : pgTextToJson(value as string | null, fields[i].dataTypeID));
  const rows = result.rows.map((row) =>
    arrayMode ? row.map(convert) : Object.fromEntries(row.map((v, i) => [fields[i].name, convert(v, i)])),
  );
  return { command: result.command, fields, rowAsArray: arrayMode, rowCount: result.rowCount, rows };
}

function errorJson(err: unknown): string {
  const source = err as Record<string, unknown>;
  const out: Record<string, unknown> = { message: err instanceof Error ? err.message : String(err) };
  for (const key of ERROR_FIELDS) if (source[key] !== undefined) out[key] = source[key];
  return JSON.stringify(out);
}

function runQuery(client: pg.Client, q: Query): Promise<pg.QueryResult<unknown[]>> {
  // Neon runs every query with the extended protocol, so one request is one statement.
  return client.query({ text: q.query, values: q.params ?? [], rowMode: 'array', queryMode: 'extended' } as pg.QueryArrayConfig);
}

/** POST /sql, as `neon()` of @neondatabase/serverless calls it. */
export async function handleSql(req: http.IncomingMessage, res: http.ServerResponse, deps: SqlOverHttpDeps): Promise<void> {
  const { limits, gate, pool } = deps;
  // A client that hangs up before its answer (an aborted fetch, a closed tab, a timeout) must
  // not leave its statement running for nobody: PostgreSQL does not notice a vanished client
  // while a query runs, so the backend is sent a CancelRequest and the connection is not pooled.
  let hungUp = false;
  let lease: Awaited<ReturnType<UpstreamPool['acquire']>> | undefined;
  let reusable = true;
  res.once('close', () => {
    if (res.writableFinished) return;
    hungUp = true;
    if (lease) {
      reusable = false;
      void lease.cancel();
    }
  });
  const body = await readBody(req, limits.maxRequestBytes);
  if (body === 'too-large') {
    res.setHeader('Connection', 'close');
    send(res, 413, `request is too large (max is ${limits.maxRequestBytes} bytes)`, 'text/plain');
    req.resume();
    return;
  }
  let opened: string | undefined;
  try {
    const { queries, batch } = parseQueries(body);
    const routed = route(req.headers['neon-connection-string'] as string | undefined, gate);
    const arrayMode = req.headers['neon-array-mode'] === 'true';
    const rawText = req.headers['neon-raw-text-output'] === 'true';
    const begin = batch ? beginStatement(req.headers) : '';
    const { endpointId, readOnly } = routed.target;
    const compute = await awaitAwake(gate, endpointId, deps.wakeTimeoutMs);
    // The compute trusts the proxy, so the password is checked here, against the role's secret.
    const secret = await roleSecret(gate, endpointId, routed.user, deps.log);
    if (!(await deps.passwords.verify(routed.user, secret, routed.password))) throw authFailed(routed.user);
    if (hungUp) return;
    try {
      lease = await pool.acquire({ compute, role: routed.user, database: routed.database, readOnly });
    } catch (err) {
      reusable = false;
      if (err instanceof SuperuserSession) {
        deps.log(`sql over http: refused a superuser session on a compute (the gate handed out a superuser's secret)`);
        throw authFailed(routed.user);
      }
      const e = err as { code?: string; message: string };
      // PostgreSQL's own refusal (an unknown database, too many connections) goes to the client as it is.
      if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) throw err;
      throw new SqlHttpError(`could not connect to the compute: ${e.message}`, '08006');
    }
    // Gone while waiting for a connection: nothing was sent, so the connection is still clean.
    if (hungUp) return;
    gate.connectionOpened(endpointId);
    opened = endpointId;
    const client = lease.client;
    let payload: object;
    if (!batch) {
      payload = shapeResult(await runQuery(client, queries[0]), arrayMode, rawText);
    } else {
      const results: object[] = [];
      await client.query(begin);
      try {
        for (const q of queries) {
          if (hungUp) throw new SqlHttpError('the client closed the connection', '57014');
          results.push(shapeResult(await runQuery(client, q), arrayMode, rawText));
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          reusable = false;
        });
        throw err;
      }
      payload = { results };
    }
    const json = JSON.stringify(payload);
    if (Buffer.byteLength(json) > limits.maxResponseBytes) {
      send(res, 507, `response is too large (max is ${limits.maxResponseBytes} bytes)`, 'text/plain');
      return;
    }
    send(res, 200, json);
  } catch (err) {
    if (err instanceof ConnectRefused || err instanceof Refusal) {
      send(res, 400, JSON.stringify({ message: err.message, code: err.sqlState }));
    } else if (err instanceof SqlHttpError) {
      send(res, 400, JSON.stringify(err.code ? { message: err.message, code: err.code } : { message: err.message }));
    } else if (typeof (err as { code?: unknown }).code === 'string' && (err as { severity?: unknown }).severity) {
      send(res, 400, errorJson(err));
    } else {
      reusable = false;
      deps.log(`sql over http: ${(err as Error).message}`);
      send(res, 400, JSON.stringify({ message: (err as Error).message, code: '08006' }));
    }
  } finally {
    lease?.release(reusable);
    if (opened !== undefined) gate.connectionClosed(opened);
  }
}
