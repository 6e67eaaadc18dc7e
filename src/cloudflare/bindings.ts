/**
 * What one binding is at Cloudflare, written and removed. Both are idempotent, so the sweeper
 * may run a removal again after a timeout whose outcome it never saw: a secret or config that is
 * already gone counts as removed, and a Hyperdrive config whose id was never learned (its create
 * timed out) is found by its name, which dblease chose (src/cloudflare/naming.ts).
 */
import type { CloudflareApi, HyperdriveOrigin } from './client';
import { CloudflareRequestError } from './errors';

/** Cloudflare's documented Hyperdrive limit on paid plans (configs per account); free plans have fewer, and say so. */
export const HYPERDRIVE_CONFIG_LIMIT = 25;

export interface BindingTarget {
  type: 'worker_secret' | 'hyperdrive';
  cf_account_id: string;
  script_name: string | null;
  /** The secret's name, or the Hyperdrive binding's name in the Worker. */
  name: string;
  config_name: string | null;
  hyperdrive_id: string | null;
}

/** The Hyperdrive limit, from dblease's count or from Cloudflare's own refusal. */
export class HyperdriveLimitReached extends Error {
  constructor(
    readonly limit: number,
    readonly count: number | null,
  ) {
    super(`the Cloudflare account holds ${count ?? 'the most'} Hyperdrive configs; the limit is ${limit}`);
    this.name = 'HyperdriveLimitReached';
  }
}

const mentionsLimit = (err: unknown) => err instanceof CloudflareRequestError && /limit|maximum|quota/i.test(err.cloudflareMessage);

/** Writes the secret (a rotation writes it again). */
export async function writeSecret(api: CloudflareApi, t: BindingTarget, connectionString: string): Promise<void> {
  await api.putSecret(t.cf_account_id, t.script_name!, t.name, connectionString);
}

/** Creates the config (after checking the limit) and binds it to the Worker when one is named; returns its id. */
export async function createHyperdrive(api: CloudflareApi, t: BindingTarget, origin: HyperdriveOrigin): Promise<string> {
  const existing = await api.listHyperdrives(t.cf_account_id);
  const mine = existing.find((c) => c.name === t.config_name);
  if (!mine && existing.length >= HYPERDRIVE_CONFIG_LIMIT) throw new HyperdriveLimitReached(HYPERDRIVE_CONFIG_LIMIT, existing.length);
  let id = mine?.id;
  if (!id) {
    try {
      id = await api.createHyperdrive(t.cf_account_id, t.config_name!, origin);
    } catch (err) {
      if (mentionsLimit(err)) throw new HyperdriveLimitReached(HYPERDRIVE_CONFIG_LIMIT, null);
      throw err;
    }
  }
  if (t.script_name) await api.bindHyperdrive(t.cf_account_id, t.script_name, t.name, id);
  return id;
}

/** Takes the binding out of Cloudflare: the secret, or the Worker's binding and then the config. */
export async function removeAtCloudflare(api: CloudflareApi, t: BindingTarget): Promise<void> {
  if (t.type === 'worker_secret') {
    await api.deleteSecret(t.cf_account_id, t.script_name!, t.name);
    return;
  }
  if (t.script_name) await api.unbindHyperdrive(t.cf_account_id, t.script_name, t.name, t.hyperdrive_id);
  const ids = t.hyperdrive_id
    ? [t.hyperdrive_id]
    : (await api.listHyperdrives(t.cf_account_id)).filter((c) => c.name === t.config_name).map((c) => c.id);
  for (const id of ids) await api.deleteHyperdrive(t.cf_account_id, id);
}
