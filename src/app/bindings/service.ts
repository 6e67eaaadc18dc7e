/**
 * THE bindings service (README, "Binding a database to a Worker"): a database written into a
 * Cloudflare Worker as a secret, or as a Hyperdrive config (optionally bound in the Worker).
 * HTTP, MCP and the service binding call these. Scopes:
 * - `createBinding`: `databases:write` and `databases:credentials` (it writes the password out);
 * - `listBindings`: `databases:read`; `removeBinding`: `databases:write`;
 * - `setCloudflareToken`: `owner`.
 *
 * The record is written first (`creating`), then Cloudflare, then `active`; a failed write
 * leaves the record `removing`, so whatever half happened at Cloudflare is taken out by the
 * sweeper. Removal is only ever the sweeper's (durable-objects/binding-sweep.ts).
 */
import type { BindingRecord } from '../../../durable-objects/bindings-store';
import type { AccountPrincipal } from '../../core/auth/principal';
import { unwrap } from '../../core/result';
import { createHyperdrive, writeSecret } from '../../cloudflare/bindings';
import type { CloudflareApi } from '../../cloudflare/client';
import { needScope, ownAccount } from '../access';
import { cloudflareFor } from './cloudflare-access';
import { connectionFor } from '../databases/existing';
import type { Binding, CreateBinding } from '../schemas/bindings';

export const toBinding = (r: BindingRecord): Binding => ({
  id: r.id,
  object: 'binding',
  database_id: r.database_id,
  type: r.type,
  state: r.state,
  cloudflare: { account_id: r.cf_account_id, script_name: r.script_name },
  name: r.name,
  pooled: r.pooled,
  hyperdrive_id: r.hyperdrive_id,
  hyperdrive_name: r.config_name,
  update_pending: r.update_pending,
  last_error: r.last_error,
  created_at: r.created_at,
  removed_at: r.removed_at,
});

/** Hyperdrive connects to the database directly (it pools itself), from the direct connection string. */
function originOf(uri: string) {
  const u = new URL(uri);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 5432,
    database: decodeURIComponent(u.pathname.slice(1)),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
}

export async function createBinding(env: Env, principal: AccountPrincipal, dbId: string, input: CreateBinding): Promise<Binding> {
  needScope(principal, 'databases:write');
  needScope(principal, 'databases:credentials');
  const api = await cloudflareFor(env, principal);
  const conn = await connectionFor(env, principal, dbId, { scope: 'databases:credentials' });
  const stub = ownAccount(env, principal);
  const record = unwrap(
    await stub.admitBinding({
      database_id: dbId,
      type: input.type,
      cf_account_id: input.cloudflare.account_id,
      script_name: input.cloudflare.script_name ?? null,
      name: input.name,
      pooled: input.type === 'worker_secret' ? input.pooled : false,
      token_id: principal.token_id,
    }),
  );
  try {
    if (record.type === 'worker_secret') {
      await writeSecret(api, record, record.pooled ? conn.pooledUri : conn.uri);
      return toBinding(unwrap(await stub.completeBinding(record.id, {})));
    }
    const id = await createHyperdrive(api, record, originOf(conn.uri));
    return toBinding(unwrap(await stub.completeBinding(record.id, { hyperdrive_id: id })));
  } catch (err) {
    // Whatever half happened at Cloudflare is the sweeper's to take out; the caller gets the cause.
    await stub.abandonBinding(record.id, err instanceof Error ? err.message : String(err)).catch(() => undefined);
    throw err;
  }
}

export async function listBindings(env: Env, principal: AccountPrincipal, dbId: string): Promise<{ data: Binding[] }> {
  needScope(principal, 'databases:read');
  return { data: unwrap(await ownAccount(env, principal).listBindings(dbId)).map(toBinding) };
}

/** Removal starts now and is finished by the account's sweeper within seconds (202: `removing`). */
export async function removeBinding(env: Env, principal: AccountPrincipal, dbId: string, bindingId: string): Promise<Binding> {
  needScope(principal, 'databases:write');
  return toBinding(unwrap(await ownAccount(env, principal).unbind(dbId, bindingId)));
}

export async function setCloudflareToken(env: Env, principal: AccountPrincipal, apiToken: string) {
  needScope(principal, 'owner');
  return unwrap(await ownAccount(env, principal).setCloudflareToken(apiToken, principal.token_id));
}
