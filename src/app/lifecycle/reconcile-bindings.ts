/**
 * Reconciliation of Cloudflare against the binding records (cron, with the provider's): for each
 * account the deadline index lists, what dblease wrote into Cloudflare accounts with that
 * account's token is listed, and what no live record accounts for is removed:
 * - a Worker secret whose (Cloudflare account, Worker, name) a binding of dblease's ever wrote,
 *   with no live binding holding that name now (a name dblease wrote is dblease's on that Worker);
 * - a Hyperdrive config named `dblease-<this account>-<binding>` whose binding is not live;
 * - a Worker's Hyperdrive binding to a config of a binding that is not live (a settings write
 *   racing the sweeper's can put one back: the settings are read and written whole).
 * Cloudflare is listed BEFORE the records are read: a bind inserts its record before it writes,
 * so anything a listing shows is either in the records read after it, or a leak.
 * Secrets a rotation could not rewrite (`update_pending`) are written again here too.
 */
import type { BindingRecord } from '../../../durable-objects/bindings-store';
import { writeSecret } from '../../cloudflare/bindings';
import type { CloudflareApi } from '../../cloudflare/client';
import { connectCloudflare } from '../../cloudflare/connect';
import { parseHyperdriveConfigName } from '../../cloudflare/naming';
import { unwrap } from '../../core/result';
import { mapLimit } from '../../core/schedule';
import { accountObject } from '../account-client';
import { connection } from '../databases/view';

export interface BindingReconcileReport {
  accounts_checked: number;
  leaks_removed: { account_id: string; kind: 'worker_secret' | 'hyperdrive'; cf_account_id: string; name: string }[];
  secrets_rewritten: number;
  errors: string[];
}

type Stub = ReturnType<typeof accountObject>;

export async function reconcileBindings(env: Env, accounts: string[]): Promise<BindingReconcileReport> {
  const report: BindingReconcileReport = { accounts_checked: 0, leaks_removed: [], secrets_rewritten: 0, errors: [] };
  await mapLimit(accounts, 4, async (accountId) => {
    try {
      await reconcileAccount(env, accountId, report);
    } catch (err) {
      report.errors.push(`${accountId} bindings: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  return report;
}

const key = (...parts: (string | null)[]) => JSON.stringify(parts);

async function reconcileAccount(env: Env, accountId: string, report: BindingReconcileReport) {
  const stub = accountObject(env, accountId);
  const before = unwrap(await stub.bindingInventory());
  if (before.targets.length === 0) return;
  const token = unwrap(await stub.openCloudflareToken());
  if (token === null) return;
  report.accounts_checked += 1;
  const api = await connectCloudflare(env, token);

  // 1. What Cloudflare holds, of the names dblease ever wrote.
  const secretTargets = [
    ...new Map(before.targets.filter((t) => t.type === 'worker_secret').map((t) => [key(t.cf_account_id, t.script_name), t])).values(),
  ];
  const seenSecrets: { cf: string; script: string; name: string }[] = [];
  for (const t of secretTargets) {
    const names = new Set(await api.secretNames(t.cf_account_id, t.script_name!));
    for (const w of before.targets) {
      if (w.type === 'worker_secret' && w.cf_account_id === t.cf_account_id && w.script_name === t.script_name && names.has(w.name)) {
        seenSecrets.push({ cf: w.cf_account_id, script: w.script_name!, name: w.name });
      }
    }
  }
  const seenConfigs: { cf: string; id: string; name: string; bindingId: string }[] = [];
  for (const cf of new Set(before.targets.filter((t) => t.type === 'hyperdrive').map((t) => t.cf_account_id))) {
    for (const c of await api.listHyperdrives(cf)) {
      const parsed = parseHyperdriveConfigName(c.name);
      if (parsed?.accountId === accountId) seenConfigs.push({ cf, id: c.id, name: c.name, bindingId: parsed.bindingId });
    }
  }

  const seenWorkerBindings: { cf: string; script: string; name: string; id: string }[] = [];
  const hyperdriveWorkers = before.targets.filter((t) => t.type === 'hyperdrive' && t.script_name !== null);
  for (const t of new Map(hyperdriveWorkers.map((t) => [key(t.cf_account_id, t.script_name), t])).values()) {
    for (const b of await api.hyperdriveBindings(t.cf_account_id, t.script_name!)) {
      seenWorkerBindings.push({ cf: t.cf_account_id, script: t.script_name!, ...b });
    }
  }

  // 2. The live records, read after the listing.
  const { live } = unwrap(await stub.bindingInventory());
  const liveSecrets = new Set(live.filter((b) => b.type === 'worker_secret').map((b) => key(b.cf_account_id, b.script_name, b.name)));
  const liveIds = new Set(live.map((b) => b.id));
  for (const s of seenSecrets) {
    if (liveSecrets.has(key(s.cf, s.script, s.name))) continue;
    await api.deleteSecret(s.cf, s.script, s.name);
    report.leaks_removed.push({ account_id: accountId, kind: 'worker_secret', cf_account_id: s.cf, name: `${s.script}/${s.name}` });
  }
  for (const c of seenConfigs) {
    if (liveIds.has(c.bindingId)) continue;
    await api.deleteHyperdrive(c.cf, c.id);
    report.leaks_removed.push({ account_id: accountId, kind: 'hyperdrive', cf_account_id: c.cf, name: c.name });
  }

  // Only configs dblease made for this account, whose binding is no longer live: never the owner's own.
  const liveConfigIds = new Set(live.flatMap((b) => (b.hyperdrive_id ? [b.hyperdrive_id] : [])));
  const deadConfigIds = new Set(
    before.targets.flatMap((t) => (t.hyperdrive_id && !liveConfigIds.has(t.hyperdrive_id) ? [t.hyperdrive_id] : [])),
  );
  for (const w of seenWorkerBindings) {
    if (!deadConfigIds.has(w.id)) continue;
    await api.unbindHyperdrive(w.cf, w.script, w.name, w.id);
    report.leaks_removed.push({ account_id: accountId, kind: 'hyperdrive', cf_account_id: w.cf, name: `${w.script}/${w.name}` });
  }

  // 3. Secrets still holding a password from before a rotation.
  for (const b of live.filter((x) => x.state === 'active' && x.update_pending)) await rewrite(stub, api, b, report);
}

async function rewrite(stub: Stub, api: CloudflareApi, b: BindingRecord, report: BindingReconcileReport) {
  const { database, password } = unwrap(await stub.getDatabase(b.database_id, { include_password: true }));
  if (database.state !== 'ready' || !database.host || password === null) return;
  const conn = connection({ host: database.host, role: database.role_name, password, database: database.database_name });
  try {
    await writeSecret(api, b, b.pooled ? conn.pooled : conn.direct);
    unwrap(await stub.noteSecretWritten(b.id));
    report.secrets_rewritten += 1;
  } catch (err) {
    await stub.noteSecretWritten(b.id, err instanceof Error ? err.message : String(err));
  }
}
