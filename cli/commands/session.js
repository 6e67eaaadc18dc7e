// @ts-check
import { parseDuration, parseLabels, requirePositionals } from '../args.js';
import { newIdempotencyKey } from '../client.js';
import { formatSession } from '../output.js';

/** @typedef {import('../context.js').Command} Command */

/** @param {string} id */
const sessionPath = (id) => `/v1/sessions/${encodeURIComponent(id)}`;

/** @type {Command} */
export const sessionStart = {
  name: 'session start',
  summary: 'start an agent session; databases bound to it go when it lapses',
  usage: 'dblease session start [--ttl 10m] [--label k=v]...',
  description:
    'Keep it alive with `dblease session heartbeat <id>` before it expires. Tip: export DBLEASE_SESSION=<id> and create/branch bind to it.',
  options: {
    ttl: { type: 'string', value: 'duration', help: 'how long it lives without a heartbeat' },
    label: { type: 'string', multiple: true, value: 'key=value', help: 'label the session (repeatable)' },
    'idempotency-key': { type: 'string', value: 'key', help: 'reuse the key a failed attempt printed' },
  },
  async run(ctx) {
    requirePositionals(ctx.args.positionals, []);
    /** @type {Record<string, unknown>} */
    const body = {};
    if (ctx.args.values.ttl !== undefined) body.ttl_seconds = parseDuration(/** @type {string} */ (ctx.args.values.ttl));
    const labels = parseLabels(/** @type {string[] | undefined} */ (ctx.args.values.label));
    if (labels) body.labels = labels;
    const key = /** @type {string | undefined} */ (ctx.args.values['idempotency-key']) || newIdempotencyKey();
    const session = await ctx.client.request('POST', '/v1/sessions', { body, idempotencyKey: key });
    ctx.print(session, formatSession(session, ctx.now()));
  },
};

/** @type {Command} */
export const sessionHeartbeat = {
  name: 'session heartbeat',
  summary: 'extend a session by its TTL (exit 4 if it already lapsed)',
  usage: 'dblease session heartbeat <ses_id>',
  options: {},
  async run(ctx) {
    const [id] = requirePositionals(ctx.args.positionals, ['session id']);
    const session = await ctx.client.request('POST', `${sessionPath(id)}/heartbeat`, { body: {} });
    ctx.print(session, formatSession(session, ctx.now()));
  },
};

/** @type {Command} */
export const sessionEnd = {
  name: 'session end',
  summary: 'end a session and release the databases bound to it',
  usage: 'dblease session end <ses_id>',
  options: {},
  async run(ctx) {
    const [id] = requirePositionals(ctx.args.positionals, ['session id']);
    const res = await ctx.spin(`ending ${id}`, () => ctx.client.request('DELETE', sessionPath(id)));
    const session = res ?? { id, object: 'session', state: 'ended' };
    ctx.print(session, `ended ${session.id ?? id}\n`);
  },
};
