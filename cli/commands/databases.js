// @ts-check
import { parseDuration, parseLabels, requirePositionals } from '../args.js';
import { newIdempotencyKey } from '../client.js';
import { usageError } from '../errors.js';
import { anonymizeFromFile, seedFromFile } from './branching.js';
import { formatDatabase, formatDatabaseTable } from '../output.js';

/** @typedef {import('../context.js').Command} Command */
/** @typedef {import('../context.js').Context} Context */

const STATES = ['provisioning', 'ready', 'deleting', 'deleted', 'failed'];

/** Options shared by the commands that create a lease. */
/** @type {import('../args.js').OptionSpecs} */
const LEASE_OPTIONS = {
  ttl: { type: 'string', value: 'duration', help: 'lease length: 3600, 30m, 1h, 7d (default: the account policy, 1h)' },
  label: { type: 'string', multiple: true, value: 'key=value', help: 'label the database (repeatable)' },
  session: { type: 'string', value: 'ses_…', help: 'bind the lease to a session (default $DBLEASE_SESSION)' },
  'idempotency-key': { type: 'string', value: 'key', help: 'reuse the key a failed attempt printed, so a retry cannot create twice' },
};

/**
 * The body fields common to create and branch, from flags.
 * @param {Context} ctx
 */
function leaseBody(ctx) {
  const { values } = ctx.args;
  /** @type {Record<string, unknown>} */
  const body = {};
  if (values.ttl !== undefined) body.ttl_seconds = parseDuration(/** @type {string} */ (values.ttl));
  const labels = parseLabels(/** @type {string[] | undefined} */ (values.label));
  if (labels) body.labels = labels;
  // An agent can `export DBLEASE_SESSION=…` once and have every lease it creates bound to it.
  const session = /** @type {string | undefined} */ (values.session) || ctx.io.env.DBLEASE_SESSION;
  if (session) body.session_id = session;
  return body;
}

/** @param {string} id */
export function databasePath(id) {
  return `/v1/databases/${encodeURIComponent(id)}`;
}

/** @type {Command} */
export const create = {
  name: 'create',
  summary: 'create a fresh database and print its connection strings',
  usage: 'dblease create [--ttl 1h] [--label k=v]... [--session ses_…] [--region r] [--seed file.sql]',
  options: {
    ...LEASE_OPTIONS,
    region: { type: 'string', value: 'region', help: 'where to place it (default: the operator default)' },
    seed: {
      type: 'string',
      value: 'file.sql',
      help: 'run this SQL (at most 8,388,608 characters) in one transaction before it is returned',
    },
  },
  async run(ctx) {
    requirePositionals(ctx.args.positionals, []);
    const body = leaseBody(ctx);
    if (ctx.args.values.region) body.region = ctx.args.values.region;
    if (ctx.args.values.seed !== undefined) body.seed = await seedFromFile(ctx, /** @type {string} */ (ctx.args.values.seed));
    const key = /** @type {string | undefined} */ (ctx.args.values['idempotency-key']) || newIdempotencyKey();
    const db = await ctx.spin('creating database', () => ctx.client.request('POST', '/v1/databases', { body, idempotencyKey: key }));
    ctx.print(db, formatDatabase(db, ctx.now(), { withConnection: true }));
  },
};

/** @type {Command} */
export const branch = {
  name: 'branch',
  summary: 'create a copy-on-write branch of a database',
  usage: 'dblease branch <db_id> [--ttl 1h] [--label k=v]... [--session ses_…] [--at <time> | --lsn <X/Y>] [--anonymize rules.json]',
  options: {
    ...LEASE_OPTIONS,
    at: {
      type: 'string',
      value: 'time',
      help: "branch the parent as of this RFC 3339 instant (e.g. 2026-03-01T12:00:00Z), within the parent's history window",
    },
    lsn: { type: 'string', value: 'X/Y', help: 'branch the parent at this WAL position instead' },
    anonymize: {
      type: 'string',
      value: 'rules.json',
      help: 'mask columns before it is returned: a JSON array of {table, column, method} (null, fixed, hash, fake_email, fake_name, partial)',
    },
  },
  async run(ctx) {
    const [parent] = requirePositionals(ctx.args.positionals, ['parent database id']);
    const body = leaseBody(ctx);
    if (ctx.args.values.at !== undefined) body.at = ctx.args.values.at;
    if (ctx.args.values.lsn !== undefined) body.lsn = ctx.args.values.lsn;
    if (ctx.args.values.anonymize !== undefined)
      body.anonymize = await anonymizeFromFile(ctx, /** @type {string} */ (ctx.args.values.anonymize));
    const key = /** @type {string | undefined} */ (ctx.args.values['idempotency-key']) || newIdempotencyKey();
    const db = await ctx.spin(`branching ${parent}`, () =>
      ctx.client.request('POST', `${databasePath(parent)}/branches`, { body, idempotencyKey: key }),
    );
    ctx.print(db, formatDatabase(db, ctx.now(), { withConnection: true }));
  },
};

/** @type {Command} */
export const ls = {
  name: 'ls',
  summary: 'list databases',
  usage: 'dblease ls [--label k=v]... [--state s] [--session ses_…] [--limit n] [--all]',
  description:
    'The API filters by one label; further --label flags are applied to what it returns. ' +
    'Without --all one page is shown (and its next_cursor with --json); --all follows next_cursor to the end.',
  options: {
    label: { type: 'string', multiple: true, value: 'key=value', help: 'only databases with this label (repeatable: all must match)' },
    state: { type: 'string', value: 'state', help: `only databases in this state (${STATES.join(', ')})` },
    session: { type: 'string', value: 'ses_…', help: 'only databases bound to this session' },
    limit: { type: 'string', value: 'n', help: 'page size, 1-100 (default 50)' },
    cursor: { type: 'string', value: 'cursor', help: 'start from this next_cursor' },
    all: { type: 'boolean', help: 'follow next_cursor and list every page' },
  },
  async run(ctx) {
    requirePositionals(ctx.args.positionals, []);
    const { values } = ctx.args;
    const labels = parseLabels(/** @type {string[] | undefined} */ (values.label)) ?? {};
    const state = /** @type {string | undefined} */ (values.state);
    if (state !== undefined && !STATES.includes(state))
      throw usageError(`--state must be one of ${STATES.join(', ')}`, { fields: [{ path: 'state', message: 'unknown state' }] });
    let limit;
    if (values.limit !== undefined) {
      limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        throw usageError('--limit must be a whole number from 1 to 100', { fields: [{ path: 'limit', message: 'out of range' }] });
    }
    const [first] = Object.entries(labels);
    const query = {
      label: first ? `${first[0]}:${first[1]}` : undefined,
      state,
      session_id: /** @type {string | undefined} */ (values.session),
      limit,
      cursor: /** @type {string | undefined} */ (values.cursor),
    };
    const page = await ctx.spin('listing databases', async () => {
      let result = await ctx.client.request('GET', '/v1/databases', { query });
      if (!values.all) return result;
      const data = [...result.data];
      while (result.next_cursor) {
        result = await ctx.client.request('GET', '/v1/databases', { query: { ...query, cursor: result.next_cursor } });
        data.push(...result.data);
      }
      return { data, next_cursor: null };
    });
    const wanted = Object.entries(labels);
    const data = /** @type {any[]} */ (page.data).filter((db) => wanted.every(([k, v]) => db.labels?.[k] === v));
    const shown = { ...page, data };
    ctx.print(
      shown,
      formatDatabaseTable(data, ctx.now()) + (page.next_cursor ? `more: dblease ls --cursor ${page.next_cursor} (or --all)\n` : ''),
    );
  },
};

/** @type {Command} */
export const get = {
  name: 'get',
  summary: 'show one database',
  usage: 'dblease get <db_id>',
  description:
    'Connection strings are shown only with --json (and only if the token may see credentials); use `dblease env` to write them to a file.',
  options: {},
  async run(ctx) {
    const [id] = requirePositionals(ctx.args.positionals, ['database id']);
    const db = await ctx.client.request('GET', databasePath(id));
    ctx.print(db, formatDatabase(db, ctx.now()));
  },
};

/** @type {Command} */
export const rm = {
  name: 'rm',
  summary: 'delete a database (its branches too with --cascade)',
  usage: 'dblease rm <db_id> [--cascade]',
  options: {
    cascade: { type: 'boolean', help: 'also delete its branches (refused with 409 otherwise when it has any)' },
  },
  async run(ctx) {
    const [id] = requirePositionals(ctx.args.positionals, ['database id']);
    const cascade = Boolean(ctx.args.values.cascade);
    const res = await ctx.spin(`deleting ${id}`, () =>
      ctx.client.request('DELETE', databasePath(id), { query: cascade ? { cascade: 'true' } : {} }),
    );
    // A 204 has no body; say what happened in the same terms a body would.
    const result = res ?? { id, object: 'database', state: 'deleted' };
    ctx.print(result, `${result.state === 'deleting' ? 'deleting' : 'deleted'} ${result.id ?? id}\n`);
  },
};

/** @type {Command} */
export const keep = {
  name: 'keep',
  summary: 'keep a database past its expiry (until deleted)',
  usage: 'dblease keep <db_id>',
  options: {},
  async run(ctx) {
    const [id] = requirePositionals(ctx.args.positionals, ['database id']);
    const db = await ctx.client.request('POST', `${databasePath(id)}/keep`, { body: {} });
    ctx.print(db, `kept ${db?.id ?? id}: it will not expire; delete it with \`dblease rm ${db?.id ?? id}\`\n`);
  },
};

/** @type {Command} */
export const claim = {
  name: 'claim',
  summary: "move a fresh database into the user's own Neon account: prints the claim link",
  usage: 'dblease claim <db_id>',
  options: {},
  async run(ctx) {
    const [id] = requirePositionals(ctx.args.positionals, ['database id']);
    const res = await ctx.client.request('POST', `${databasePath(id)}/claim`, { body: {} });
    ctx.print(res, `${res.claim.url}\n(open it and accept with your Neon account before ${res.claim.expires_at})\n`);
  },
};

/** @type {Command} */
export const extend = {
  name: 'extend',
  summary: 'set a new lease length, counted from now',
  usage: 'dblease extend <db_id> --ttl 2h',
  options: { ttl: LEASE_OPTIONS.ttl },
  async run(ctx) {
    const [id] = requirePositionals(ctx.args.positionals, ['database id']);
    if (ctx.args.values.ttl === undefined)
      throw usageError('extend needs --ttl', { fields: [{ path: 'ttl_seconds', message: 'required' }] });
    const ttl = parseDuration(/** @type {string} */ (ctx.args.values.ttl));
    const db = await ctx.client.request('PATCH', databasePath(id), { body: { ttl_seconds: ttl } });
    ctx.print(db, formatDatabase(db, ctx.now()));
  },
};
