// @ts-check
import { requirePositionals } from '../args.js';
import { usageError } from '../errors.js';
import { databasePath } from './databases.js';

/** @typedef {import('../context.js').Command} Command */

/** @type {Command} */
export const bind = {
  name: 'bind',
  summary: 'write a database into a Cloudflare Worker (a secret, or a Hyperdrive config); removed with the lease',
  usage: 'dblease bind <db_id> --worker <script> [--hyperdrive] [--name DATABASE_URL] [--account <cloudflare account id>]',
  options: {
    worker: { type: 'string', value: 'script', help: 'the Worker (script name) to write into' },
    hyperdrive: { type: 'boolean', help: 'a Hyperdrive config bound in the Worker, instead of a secret' },
    name: { type: 'string', value: 'NAME', help: 'the secret or binding name (default DATABASE_URL; HYPERDRIVE with --hyperdrive)' },
    account: { type: 'string', value: 'id', help: 'the Cloudflare account id (default $CLOUDFLARE_ACCOUNT_ID)' },
    direct: { type: 'boolean', help: "the direct connection string instead of the pooler's (secrets only)" },
  },
  async run(ctx) {
    const [id] = requirePositionals(ctx.args.positionals, ['database id']);
    const { values } = ctx.args;
    const script = /** @type {string | undefined} */ (values.worker);
    const accountId = /** @type {string | undefined} */ (values.account) || ctx.io.env.CLOUDFLARE_ACCOUNT_ID;
    if (!script) throw usageError('bind needs --worker', { fields: [{ path: 'cloudflare.script_name', message: 'required' }] });
    if (!accountId)
      throw usageError('bind needs --account or $CLOUDFLARE_ACCOUNT_ID', {
        fields: [{ path: 'cloudflare.account_id', message: 'required' }],
      });
    const name = /** @type {string | undefined} */ (values.name);
    const body = values.hyperdrive
      ? { type: 'hyperdrive', cloudflare: { account_id: accountId, script_name: script }, ...(name ? { name } : {}) }
      : {
          type: 'worker_secret',
          cloudflare: { account_id: accountId, script_name: script },
          ...(name ? { name } : {}),
          pooled: !values.direct,
        };
    const b = await ctx.client.request('POST', `${databasePath(id)}/bindings`, { body });
    const what = b.type === 'hyperdrive' ? `Hyperdrive config ${b.hyperdrive_id} bound as ${b.name}` : `secret ${b.name}`;
    ctx.print(b, `${b.id}: ${what} in Worker ${script}; removed when ${id} goes\n`);
  },
};

/** @type {Command} */
export const unbind = {
  name: 'unbind',
  summary: 'take a binding out of its Cloudflare Worker',
  usage: 'dblease unbind <db_id> <bnd_id>',
  options: {},
  async run(ctx) {
    const [id, bindingId] = requirePositionals(ctx.args.positionals, ['database id', 'binding id']);
    const b = await ctx.client.request('DELETE', `${databasePath(id)}/bindings/${encodeURIComponent(bindingId)}`);
    ctx.print(b, `${b.id}: ${b.state}\n`);
  },
};
