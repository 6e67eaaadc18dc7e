/**
 * Deleting a database (and with `cascade`, its branches, deepest first): `beginDelete` marks them
 * `deleting` (refusing live children without cascade, and kept ones always), then the provider
 * deletes (the project of a fresh database, which takes its branches with it; the branch of a
 * branch), then `completeDelete` releases each reservation.
 *
 * If the provider fails, the record stays `deleting` with the error and a next-attempt time,
 * and the answer is 202 Accepted + Retry-After: the agent's intent is durable, the quota slot is
 * already free, and cron's sweeper retries with back-off — there is nothing for the agent to redo.
 */
import type { DatabaseRecord } from '../../../durable-objects/account';
import type { AccountPrincipal } from '../../core/auth/principal';
import { remove } from '../../neon/remove';
import { unwrap } from '../../core/result';
import { ownAccount, needScope } from '../access';
import type { Deleted, WaitUntil } from './types';
import { toDatabase } from './view';
import { observeActivity } from './observe-activity';

const secondsUntil = (iso: string | null) => (iso ? Math.max(1, Math.ceil((Date.parse(iso) - Date.now()) / 1000)) : 5);

export async function deleteDatabase(
  env: Env,
  _ctx: WaitUntil,
  principal: AccountPrincipal,
  id: string,
  opts: { cascade?: boolean } = {},
): Promise<Deleted> {
  needScope(principal, 'databases:write');
  const stub = ownAccount(env, principal);
  // The account's provider-action bucket is charged in the same call (durable-objects/provider-actions.ts).
  const records = unwrap(
    await stub.beginDelete(id, { cascade: opts.cascade ?? false, token_id: principal.token_id, provider_action: true }),
  );
  const root = records[records.length - 1]!;
  if (root.state === 'deleted') return { database: toDatabase(root), status: 200 };
  // A fresh root's project holds every branch below it: one provider delete removes them all.
  // Otherwise branches go one by one, children first (the provider refuses a parent with children).
  const viaProject = root.kind === 'fresh' && root.provider.project_id !== null;
  const steps: { remove: DatabaseRecord; complete: DatabaseRecord[] }[] = viaProject
    ? [{ remove: root, complete: records }]
    : records.map((r) => ({ remove: r, complete: [r] }));
  // The last chance to learn whether anyone connected directly (the churn signal).
  await observeActivity(env, principal, records);
  let last = root;
  for (const step of steps) {
    try {
      await remove(env, principal.account_id, step.remove, { tenant: principal.account_id });
    } catch (err) {
      // Stop here: what is left stays `deleting` for the sweeper, which retries with back-off.
      const failed = unwrap(await stub.failDelete(step.remove.id, err instanceof Error ? err.message : String(err)));
      const current = failed.id === id ? failed : unwrap(await stub.getDatabase(id)).database;
      return { database: toDatabase(current), status: 202, retryAfter: secondsUntil(failed.next_attempt_at) };
    }
    for (const r of step.complete) last = unwrap(await stub.completeDelete(r.id));
  }
  return { database: toDatabase(last), status: 200 };
}
