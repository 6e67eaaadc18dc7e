/** Rotation's part for bindings (src/app/databases/existing.ts, rotateCredentials). */
import type { AccountPrincipal } from '../../core/auth/principal';
import { unwrap } from '../../core/result';
import { writeSecret } from '../../cloudflare/bindings';
import type { CloudflareApi } from '../../cloudflare/client';
import { ownAccount } from '../access';
import { cloudflareFor } from './cloudflare-access';

/**
 * After a rotation: every worker_secret binding of the database gets the new connection string.
 * One that cannot be written now stays `update_pending` (shown on the binding) and is written
 * again by reconciliation; the rotation itself has happened and is answered.
 */
export async function rewriteSecrets(env: Env, principal: AccountPrincipal, dbId: string, conn: { direct: string; pooled: string }) {
  const stub = ownAccount(env, principal);
  const stale = unwrap(await stub.bindingsToRewrite(dbId));
  if (stale.length === 0) return;
  let api: CloudflareApi;
  try {
    api = await cloudflareFor(env, principal);
  } catch (err) {
    for (const b of stale) await stub.noteSecretWritten(b.id, err instanceof Error ? err.message : String(err));
    return;
  }
  for (const b of stale) {
    try {
      await writeSecret(api, b, b.pooled ? conn.pooled : conn.direct);
      unwrap(await stub.noteSecretWritten(b.id));
    } catch (err) {
      await stub.noteSecretWritten(b.id, err instanceof Error ? err.message : String(err));
    }
  }
}
