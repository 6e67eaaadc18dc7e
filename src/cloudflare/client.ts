/**
 * The Cloudflare API as dblease uses it: a Worker's secrets, Hyperdrive configs, and a Worker's
 * bindings in its settings. Every call goes through the official SDK (only the three resources
 * used are bundled), at `CLOUDFLARE_API_BASE_URL`, with the owner's API token. The SDK's own
 * retries are off: an interactive call answers 503 at once, and background work is retried
 * with back-off by the account object's sweeper, which owns the record of what is left to do.
 */
import { createClient } from 'cloudflare/tree-shakable';
import { APIConnectionError, APIError } from 'cloudflare/core/error';
import { BaseConfigs } from 'cloudflare/resources/hyperdrive/configs';
import { BaseSecrets } from 'cloudflare/resources/workers/scripts/secrets';
import { BaseScriptAndVersionSettings } from 'cloudflare/resources/workers/scripts/script-and-version-settings';
import { CloudflareRequestError, CloudflareUnavailable } from './errors';

export const DEFAULT_CLOUDFLARE_API_BASE_URL = 'https://api.cloudflare.com/client/v4';

export interface CloudflareOptions {
  /** Per request; a call that gets no answer by then is unavailable (retried later in the background). */
  timeoutMs?: number;
}

export interface HyperdriveOrigin {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

type Binding = { type: string; name: string; id?: string };

export type CloudflareApi = ReturnType<typeof cloudflareApi>;

export function cloudflareApi(env: { CLOUDFLARE_API_BASE_URL?: string }, apiToken: string, opts: CloudflareOptions = {}) {
  const client = createClient({
    apiToken,
    baseURL: env.CLOUDFLARE_API_BASE_URL || DEFAULT_CLOUDFLARE_API_BASE_URL,
    maxRetries: 0,
    timeout: opts.timeoutMs ?? 15_000,
    resources: [BaseSecrets, BaseConfigs, BaseScriptAndVersionSettings],
  });
  const secrets = client.workers.scripts.secrets;
  const configs = client.hyperdrive.configs;
  const settings = client.workers.scripts.scriptAndVersionSettings;

  /** A Worker's bindings, with every one but those `drop` picks kept as they are (`inherit`), and `add` added. */
  async function replaceBinding(accountId: string, script: string, drop: (b: Binding) => boolean, add?: Binding) {
    const current = ((await settings.get(script, { account_id: accountId })).bindings ?? []) as Binding[];
    const kept = current.filter((b) => !drop(b)).map((b) => ({ type: 'inherit' as const, name: b.name }));
    const bindings = add ? [...kept, add] : kept;
    if (!add && kept.length === current.length) return; // nothing of ours there: no new version
    // The `settings` part is one JSON document (as wrangler sends it); the SDK would otherwise
    // spread an object into bracketed form fields.
    const part = new File([JSON.stringify({ bindings })], 'settings.json', { type: 'application/json' });
    await settings.edit(script, { account_id: accountId, settings: part as never });
  }

  return {
    putSecret: (accountId: string, script: string, name: string, text: string) =>
      call('PUT worker secret', () => secrets.update(script, { account_id: accountId, name, text, type: 'secret_text' })),
    /** Idempotent: a secret (or Worker) already gone is done. */
    deleteSecret: (accountId: string, script: string, name: string) =>
      gone(call('DELETE worker secret', () => secrets.delete(name, { account_id: accountId, script_name: script }))),
    /** The names of a Worker's secrets; [] when the Worker is gone. */
    secretNames: async (accountId: string, script: string): Promise<string[]> => {
      try {
        return await call('LIST worker secrets', async () => {
          const names: string[] = [];
          for await (const s of secrets.list(script, { account_id: accountId })) names.push(s.name);
          return names;
        });
      } catch (err) {
        if (err instanceof CloudflareRequestError && err.notFound) return [];
        throw err;
      }
    },
    createHyperdrive: (accountId: string, name: string, origin: HyperdriveOrigin) =>
      call('POST hyperdrive config', async () => {
        const created = await configs.create({ account_id: accountId, name, origin: { ...origin, scheme: 'postgres' } });
        return created.id;
      }),
    deleteHyperdrive: (accountId: string, id: string) =>
      gone(call('DELETE hyperdrive config', () => configs.delete(id, { account_id: accountId }))),
    /** Every Hyperdrive config of the Cloudflare account (all pages), by id and name. */
    listHyperdrives: (accountId: string) =>
      call('LIST hyperdrive configs', async () => {
        const out: { id: string; name: string }[] = [];
        for await (const c of configs.list({ account_id: accountId })) out.push({ id: c.id, name: c.name });
        return out;
      }),
    /** The Hyperdrive bindings in a Worker's settings, by name and config id; [] when the Worker is gone. */
    hyperdriveBindings: async (accountId: string, script: string): Promise<{ name: string; id: string }[]> => {
      try {
        return await call('GET worker settings', async () => {
          const current = ((await settings.get(script, { account_id: accountId })).bindings ?? []) as Binding[];
          return current.flatMap((b) => (b.type === 'hyperdrive' && 'id' in b ? [{ name: b.name, id: String(b.id) }] : []));
        });
      } catch (err) {
        if (err instanceof CloudflareRequestError && err.notFound) return [];
        throw err;
      }
    },
    bindHyperdrive: (accountId: string, script: string, name: string, id: string) =>
      call('PATCH worker settings', () => replaceBinding(accountId, script, (b) => b.name === name, { type: 'hyperdrive', name, id })),
    /** Idempotent: a Worker gone, or without the binding, is done. Another config bound under the name since is left alone. */
    unbindHyperdrive: (accountId: string, script: string, name: string, id: string | null) =>
      gone(
        call('PATCH worker settings', () =>
          replaceBinding(accountId, script, (b) => b.name === name && b.type === 'hyperdrive' && (id === null || b.id === id)),
        ),
      ),
  };
}

/** The SDK's errors as this layer's two kinds; messages are Cloudflare's, never the request. */
async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof APIConnectionError) throw new CloudflareUnavailable(`${operation}: no answer from Cloudflare (${err.message})`);
    if (err instanceof APIError && err.status !== undefined) {
      const retryAfter = Number(err.headers?.get('retry-after'));
      if (err.status === 429 || err.status >= 500) {
        throw new CloudflareUnavailable(`${operation}: Cloudflare answered ${err.status}`, retryAfter > 0 ? retryAfter : 5);
      }
      throw new CloudflareRequestError(err.status, messagesOf(err.error), operation);
    }
    throw err;
  }
}

async function gone(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CloudflareRequestError && err.notFound) return;
    throw err;
  }
}

function messagesOf(body: unknown): string {
  const errors = (body as { errors?: { code?: number; message?: string }[] } | undefined)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return 'no message';
  return errors
    .map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim())
    .join('; ')
    .slice(0, 500);
}
