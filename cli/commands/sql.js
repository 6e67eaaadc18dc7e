// @ts-check
import fs from 'node:fs/promises';
import path from 'node:path';
import { usageError } from '../errors.js';
import { formatSqlResult } from '../output.js';
import { splitSqlStatements } from '../sql-split.js';
import { databasePath } from './databases.js';

/** @typedef {import('../context.js').Command} Command */

/**
 * Parameters from `--param v` (text, Postgres casts them) or `--params '<json array>'` (typed,
 * for numbers, booleans, NULL and JSON values).
 * @param {Record<string, unknown>} values
 * @returns {unknown[] | undefined}
 */
export function sqlParams(values) {
  const texts = /** @type {string[] | undefined} */ (values.param);
  const json = /** @type {string | undefined} */ (values.params);
  if (texts && json !== undefined) throw usageError('give --param or --params, not both');
  if (texts) return texts;
  if (json === undefined) return undefined;
  let parsed;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw usageError('--params must be a JSON array', { fields: [{ path: 'params', message: 'not JSON' }] });
  }
  if (!Array.isArray(parsed)) throw usageError('--params must be a JSON array', { fields: [{ path: 'params', message: 'not an array' }] });
  return parsed;
}

/** @type {Command} */
export const sql = {
  name: 'sql',
  summary: 'run a query, or a .sql file as one transaction',
  usage: 'dblease sql <db_id> "<query>" [--param v]... | dblease sql <db_id> --file f.sql',
  description:
    'One query runs as given, with $1, $2… bound to --param (text) or --params (a JSON array). ' +
    'A --file (or --file - for stdin) is split at top-level semicolons and sent as one batch, ' +
    'which the database runs in a single transaction: all statements apply, or none do.',
  options: {
    param: { type: 'string', multiple: true, value: 'value', help: 'a text parameter for $1, $2… (repeatable)' },
    params: { type: 'string', value: 'json', help: 'parameters as a JSON array, e.g. \'[1,null,"x"]\'' },
    file: { type: 'string', value: 'path', help: 'run the statements in this file (- for stdin) as one transaction' },
  },
  async run(ctx) {
    const { values, positionals } = ctx.args;
    const file = /** @type {string | undefined} */ (values.file);
    const [id, query, extra] = positionals;
    if (!id) throw usageError('missing database id');
    if (extra !== undefined) throw usageError(`unexpected argument "${extra}" (quote the query as one argument)`);
    const params = sqlParams(values);

    /** @type {Record<string, unknown>} */
    let body;
    if (file !== undefined) {
      if (query !== undefined) throw usageError('give a query or --file, not both');
      if (params) throw usageError('--param/--params apply to a single query, not to --file');
      let text;
      try {
        text = file === '-' ? await ctx.io.readStdin() : await fs.readFile(path.resolve(ctx.io.cwd, file), 'utf8');
      } catch (err) {
        throw usageError(`cannot read ${file}: ${/** @type {NodeJS.ErrnoException} */ (err).code ?? err}`);
      }
      const statements = splitSqlStatements(text);
      if (statements.length === 0) throw usageError(`${file} has no SQL statements`);
      body = { queries: statements.map((q) => ({ query: q })) };
    } else {
      if (query === undefined || query.trim() === '') throw usageError('missing query (or --file)');
      body = { query, ...(params ? { params } : {}) };
    }

    const result = await ctx.spin('running SQL', () => ctx.client.request('POST', `${databasePath(id)}/sql`, { body }));
    const human = Array.isArray(result?.results) ? result.results.map(formatSqlResult).join('\n') : formatSqlResult(result);
    ctx.print(result, human);
  },
};
