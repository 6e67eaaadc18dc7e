/**
 * The Cloudflare client, loaded on first use. The SDK's module graph is large (seconds to load
 * in a fresh isolate: every cold start, and every Worker test file), and only accounts that wire
 * databases into Workers ever need it.
 */
import type { CloudflareApi, CloudflareOptions } from './client';

export async function connectCloudflare(
  env: { CLOUDFLARE_API_BASE_URL?: string },
  apiToken: string,
  opts: CloudflareOptions = {},
): Promise<CloudflareApi> {
  const { cloudflareApi } = await import('./client');
  return cloudflareApi(env, apiToken, opts);
}
