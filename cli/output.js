// @ts-check
/**
 * What the CLI prints. With `--json` stdout carries exactly one JSON document (the API's
 * response, or its error body) so agents can parse it; without, people get short lines and
 * tables, and errors go to stderr.
 */

/**
 * @typedef {{ write(chunk: string): unknown, isTTY?: boolean }} Stream
 * @typedef {{ stdout: Stream, stderr: Stream }} Streams
 */

/** @param {Stream} stream @param {unknown} value */
export function printJson(stream, value) {
  stream.write(JSON.stringify(value, null, 2) + '\n');
}

/**
 * Left-aligned columns separated by two spaces; the header row is given like any other.
 * @param {string[][]} rows
 */
export function formatTable(rows) {
  if (rows.length === 0) return '';
  /** @type {number[]} */
  const widths = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return (
    rows
      .map((row) =>
        row
          .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i])))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/**
 * `in 59m`, `in 1d2h`, `3m ago`: how far an instant is from now, in at most two units.
 * @param {string | null | undefined} iso
 * @param {number} now milliseconds
 */
export function relativeTime(iso, now) {
  if (!iso) return '-';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const delta = Math.round((at - now) / 1000);
  const text = compactDuration(Math.abs(delta));
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

/** @param {number} seconds */
export function compactDuration(seconds) {
  const units = /** @type {[string, number][]} */ ([
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ]);
  const parts = [];
  let rest = seconds;
  for (const [name, size] of units) {
    if (rest >= size || (parts.length === 0 && size === 1)) {
      parts.push(`${Math.floor(rest / size)}${name}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join('');
}

/** @param {Record<string, string> | undefined} labels */
export function formatLabels(labels) {
  const entries = Object.entries(labels ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : '-';
}

/**
 * The expiry column: kept databases have none, finished ones show their state instead.
 * @param {any} db
 * @param {number} now
 */
function expiry(db, now) {
  if (db.kept) return 'kept';
  if (db.state === 'deleted' || db.state === 'failed') return '-';
  return relativeTime(db.expires_at, now);
}

/**
 * The `ls` table. Connection strings never appear here.
 * @param {any[]} databases
 * @param {number} now
 */
export function formatDatabaseTable(databases, now) {
  if (databases.length === 0) return 'no databases\n';
  const rows = [['ID', 'STATE', 'KIND', 'PARENT', 'EXPIRES', 'SESSION', 'LABELS']];
  for (const db of databases) {
    rows.push([db.id, db.state, db.kind, db.parent_id ?? '-', expiry(db, now), db.session_id ?? '-', formatLabels(db.labels)]);
  }
  return formatTable(rows);
}

/**
 * One database as `key  value` lines. `withConnection` is set only by commands whose point is
 * to hand out credentials (create, branch).
 * @param {any} db
 * @param {number} now
 * @param {{ withConnection?: boolean }} [opts]
 */
export function formatDatabase(db, now, opts = {}) {
  const rows = [
    ['id', db.id],
    ['state', db.state],
    ['kind', db.parent_id ? `${db.kind} of ${db.parent_id} (depth ${db.depth})` : db.kind],
    ['expires', db.kept ? 'never (kept)' : db.expires_at ? `${relativeTime(db.expires_at, now)} (${db.expires_at})` : '-'],
  ];
  if (db.session_id) rows.push(['session', db.session_id]);
  if (db.labels && Object.keys(db.labels).length) rows.push(['labels', formatLabels(db.labels)]);
  if (db.timings && typeof db.timings.total === 'number') rows.push(['took', `${Math.round(db.timings.total)} ms`]);
  if (db.last_error) rows.push(['error', db.last_error]);
  if (opts.withConnection && db.connection) {
    rows.push(['pooled', db.connection.pooled]);
    rows.push(['direct', db.connection.direct]);
  }
  return formatTable(rows);
}

/** @param {any} session @param {number} now */
export function formatSession(session, now) {
  const rows = [
    ['id', session.id],
    ['state', session.state],
    ['expires', `${relativeTime(session.expires_at, now)} (${session.expires_at})`],
  ];
  if (session.labels && Object.keys(session.labels).length) rows.push(['labels', formatLabels(session.labels)]);
  return formatTable(rows);
}

/** @param {unknown} value */
function cell(value) {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * One SQL-over-HTTP result (`{fields, rows, command, rowCount, rowAsArray}`) the way psql
 * would show it: a table when there are columns, then the command tag.
 * @param {any} result
 */
export function formatSqlResult(result) {
  const fields = /** @type {{ name: string }[]} */ (result.fields ?? []);
  let out = '';
  if (fields.length > 0) {
    const rows = [fields.map((f) => f.name)];
    for (const row of result.rows ?? []) {
      rows.push(fields.map((f, i) => cell(Array.isArray(row) ? row[i] : row[f.name])));
    }
    out += formatTable(rows);
  }
  const tag = [result.command, result.rowCount].filter((p) => p !== null && p !== undefined && p !== '').join(' ');
  if (tag) out += `${tag}\n`;
  return out;
}

/**
 * The one-line stderr form of a failure: the message (or, when the API names the fields at
 * fault, those fields), then the kind, the request id and any wait.
 * @param {import('./errors.js').CliError} err
 */
export function formatError(err) {
  const { error } = err;
  const fields = /** @type {{ path?: string, message?: string }[] | undefined} */ (error.details?.fields);
  let text = error.message;
  if (Array.isArray(fields) && fields.length > 0 && fields.every((f) => f && f.path)) {
    const named = fields.map((f) => `${f.path}: ${f.message ?? 'invalid'}`).join('; ');
    if (!fields.every((f) => text.includes(String(f.path)))) text = `${text} (${named})`;
  }
  const tags = [error.code];
  if (error.request_id) tags.push(`request ${error.request_id}`);
  let line = `dblease: ${text} [${tags.join(', ')}]`;
  if (err.retryAfter !== undefined) line += `; retry after ${err.retryAfter} s`;
  return line + '\n';
}
