// @ts-check
/**
 * Working on branches from the CLI: `dblease reset`, `dblease schema [--diff]`, and the files
 * behind `dblease create --seed` and `dblease branch --anonymize` (read here, checked against
 * the API's own caps so a too-large file fails before anything is sent).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { requirePositionals } from '../args.js';
import { CliError, usageError } from '../errors.js';
import { formatDatabase } from '../output.js';

/** @typedef {import('../context.js').Command} Command */
/** @typedef {import('../context.js').Context} Context */

/** Not databases.js's helper: that module imports the file readers here. @param {string} id */
const databasePath = (id) => `/v1/databases/${encodeURIComponent(id)}`;

/** The API's cap on seed.sql, in characters (src/app/schemas/databases.ts MAX_SEED_SQL). */
export const MAX_SEED_CHARS = 8 * 1024 * 1024;

/**
 * Reads a file named on the command line; a missing or unreadable file is a usage error naming the flag.
 * @param {Context} ctx
 * @param {string} flag
 * @param {string} file
 * @param {number} maxBytes refuse larger files before reading them
 */
async function readArgFile(ctx, flag, file, maxBytes) {
  const full = path.resolve(ctx.io.cwd, file);
  try {
    const { size } = await fs.stat(full);
    if (size > maxBytes)
      throw usageError(`${flag} ${file} is ${size.toLocaleString('en')} bytes; the API takes at most ${maxBytes.toLocaleString('en')}`);
    return await fs.readFile(full, 'utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw usageError(`cannot read ${flag} ${file}: ${/** @type {NodeJS.ErrnoException} */ (err).code ?? err}`);
  }
}

/**
 * `--seed file.sql` as the create body's `seed: {sql}`: the whole file, applied in one transaction before the 201.
 * @param {Context} ctx
 * @param {string} file
 */
export async function seedFromFile(ctx, file) {
  // UTF-8 takes at most 4 bytes a character: anything larger cannot be under the cap.
  const sql = await readArgFile(ctx, '--seed', file, MAX_SEED_CHARS * 4);
  const field = (/** @type {string} */ message) => ({ fields: [{ path: 'seed.sql', message }] });
  if (sql.length > MAX_SEED_CHARS)
    throw usageError(`--seed ${file} is ${sql.length.toLocaleString('en')} characters; the API takes at most 8,388,608`, field('too long'));
  if (!sql.trim()) throw usageError(`--seed ${file} is empty`, field('empty'));
  return { sql };
}

/**
 * `--anonymize rules.json` as the branch body's `anonymize`: a JSON array of rules, or `{"rules": [...]}`.
 * The API checks each rule against the parent's schema.
 * @param {Context} ctx
 * @param {string} file
 */
export async function anonymizeFromFile(ctx, file) {
  const text = await readArgFile(ctx, '--anonymize', file, 1024 * 1024);
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw usageError(`--anonymize ${file} is not JSON`, { fields: [{ path: 'anonymize', message: 'not JSON' }] });
  }
  return Array.isArray(parsed) ? { rules: parsed } : parsed;
}

/** @type {Command} */
export const reset = {
  name: 'reset',
  summary: "reset a branch to its parent's current state, or as of --at (same connection strings)",
  usage: 'dblease reset <db_id> [--at <time>]',
  description:
    "Everything written on the branch is gone and it holds its parent's current data (with --at, the parent's data as of then); its id, host, role, password and " +
    'connection strings stay, and sessions open on it are ended. Refused (exit 7) for a fresh database and for a branch with branches of its own.',
  options: {
    at: { type: 'string', value: 'time', help: 'the parent as of this RFC 3339 instant, within its history window' },
  },
  async run(ctx) {
    const [id] = requirePositionals(ctx.args.positionals, ['database id']);
    const at = /** @type {string | undefined} */ (ctx.args.values.at);
    const body = at === undefined ? {} : { at };
    const db = await ctx.spin(`resetting ${id}`, () => ctx.client.request('POST', `${databasePath(id)}/reset`, { body }));
    const to = at === undefined ? `its parent ${db.parent_id}` : `its parent ${db.parent_id} as of ${at}`;
    ctx.print(db, `reset ${db.id} to ${to}; its connection strings are unchanged\n${formatDatabase(db, ctx.now())}`);
  },
};

/** @type {Command} */
export const schema = {
  name: 'schema',
  summary: "print a database's schema as DDL, or its diff against another",
  usage: 'dblease schema <db_id> [--diff <other db_id>]',
  description:
    'Without --diff: the DDL that rebuilds the schema (tables, keys, indexes, enums, views), ordered and stable; --json adds the ' +
    'structured description and its fingerprint. With --diff: what <db_id> has that the other has not (added, +), and back (removed, -).',
  options: { diff: { type: 'string', value: 'db_id', help: 'compare against this database (it is the "before")' } },
  async run(ctx) {
    const [id] = requirePositionals(ctx.args.positionals, ['database id']);
    const against = /** @type {string | undefined} */ (ctx.args.values.diff);
    if (against === undefined) {
      const described = await ctx.client.request('GET', `${databasePath(id)}/schema`);
      ctx.print(described, described.ddl.map((/** @type {string} */ s) => `${s};\n`).join(''));
      return;
    }
    const diff = await ctx.client.request('GET', `${databasePath(id)}/schema/diff`, { query: { against } });
    ctx.print(diff, formatDiff(diff));
  },
};

/**
 * A schema diff as lines: `+` added, `-` removed, `~` changed.
 * @param {any} diff
 */
export function formatDiff(diff) {
  if (!diff.changed) return `no schema differences between ${diff.database_id} and ${diff.against}\n`;
  const lines = [];
  for (const t of diff.tables.added) lines.push(`+ ${t.kind ?? 'table'} ${t.name}`);
  for (const t of diff.tables.removed) lines.push(`- ${t.kind ?? 'table'} ${t.name}`);
  for (const t of diff.tables.changed) {
    lines.push(`~ ${t.name}`);
    for (const [what, keyed] of [
      ['column', t.columns],
      ['index', t.indexes],
      ['constraint', t.constraints],
    ]) {
      for (const e of keyed.added) lines.push(`  + ${what} ${e.name}${what === 'column' ? ` ${e.value.type}` : ''}`);
      for (const e of keyed.removed) lines.push(`  - ${what} ${e.name}`);
      for (const e of keyed.changed) lines.push(`  ~ ${what} ${e.name}`);
    }
  }
  for (const e of diff.enums.added) lines.push(`+ enum ${e.name}`);
  for (const e of diff.enums.removed) lines.push(`- enum ${e.name}`);
  for (const e of diff.enums.changed) lines.push(`~ enum ${e.name}`);
  return `${lines.join('\n')}\n`;
}
