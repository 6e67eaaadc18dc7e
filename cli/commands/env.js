// @ts-check
import path from 'node:path';
import { requirePositionals } from '../args.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { writeDotenv } from '../dotenv.js';
import { databasePath } from './databases.js';

/** @typedef {import('../context.js').Command} Command */

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** @type {Command} */
export const env = {
  name: 'env',
  summary: 'write the connection strings into a .env file',
  usage: 'dblease env <db_id> [--file .env] [--key DATABASE_URL]',
  description:
    'Sets DATABASE_URL (pooled) and DATABASE_URL_UNPOOLED (direct, for migrations and long sessions), ' +
    "the names Neon's own integrations use. Other lines are left exactly as they were; a new file is created with mode 0600. " +
    'The token needs the databases:credentials scope.',
  options: {
    file: { type: 'string', value: 'path', help: 'the file to update (default .env)' },
    key: { type: 'string', value: 'NAME', help: 'variable for the pooled URL (default DATABASE_URL); the direct one is NAME_UNPOOLED' },
  },
  async run(ctx) {
    const [id] = requirePositionals(ctx.args.positionals, ['database id']);
    const key = /** @type {string | undefined} */ (ctx.args.values.key) ?? 'DATABASE_URL';
    if (!KEY.test(key)) throw usageError(`--key must be a variable name (letters, digits, _), got "${key}"`);
    const file = path.resolve(ctx.io.cwd, /** @type {string | undefined} */ (ctx.args.values.file) ?? '.env');

    const db = await ctx.client.request('GET', databasePath(id));
    if (!db?.connection?.pooled || !db?.connection?.direct) {
      throw new CliError(
        {
          type: 'forbidden',
          code: 'no_credentials',
          message: `the API returned no connection strings for ${id}; the token needs the databases:credentials scope`,
          details: { required_scope: 'databases:credentials' },
        },
        { exitCode: EXIT.auth },
      );
    }
    const entries = /** @type {[string, string][]} */ ([
      [key, db.connection.pooled],
      [`${key}_UNPOOLED`, db.connection.direct],
    ]);
    let created;
    try {
      ({ created } = await writeDotenv(file, entries));
    } catch (err) {
      const e = /** @type {NodeJS.ErrnoException} */ (err);
      // A file-system refusal (EACCES, EISDIR, ENOENT for the folder) is about the path given.
      if (e.code) throw usageError(`cannot write ${file}: ${e.code}`, { fields: [{ path: 'file', message: e.code }] });
      throw new CliError(
        { type: 'internal', code: 'dotenv_error', message: `cannot write ${file}: ${e.message}` },
        { exitCode: EXIT.other },
      );
    }
    const keys = entries.map(([k]) => k);
    // The values stay in the file: the point of `env` is to keep them off the terminal.
    ctx.print(
      { database_id: db.id ?? id, file, keys, created },
      `${created ? 'created' : 'updated'} ${path.relative(ctx.io.cwd, file) || file}: ${keys.join(', ')}\n`,
    );
  },
};
