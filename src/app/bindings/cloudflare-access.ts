/** The caller's account's Cloudflare client, built from the owner's sealed API token. */
import type { AccountPrincipal } from '../../core/auth/principal';
import { Failure } from '../../core/errors';
import { unwrap } from '../../core/result';
import type { CloudflareApi } from '../../cloudflare/client';
import { connectCloudflare } from '../../cloudflare/connect';
import { ownAccount } from '../access';

/** The account's Cloudflare client, or 409 `cloudflare_token_missing`. */
export async function cloudflareFor(env: Env, principal: AccountPrincipal): Promise<CloudflareApi> {
  const token = unwrap(await ownAccount(env, principal).openCloudflareToken());
  if (token === null) {
    throw new Failure(
      'cloudflare_token_missing',
      'this account has no Cloudflare API token: the owner sets one with PUT /v1/account/cloudflare',
    );
  }
  return connectCloudflare(env, token);
}
