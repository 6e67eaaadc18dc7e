/**
 * Claiming a fresh database into the user's own Neon account (docs/PROVISIONING.md, "Claim"):
 * a Neon project transfer request, noted on the record as a pending claim. The recipient accepts
 * at Neon with their own key or through the claim link; dblease notices on its next look (a GET
 * of the database, and reconciliation as the backstop) because the project is then gone from its
 * own provider account. The database and its branches become `claimed`.
 */
import type { AccountPrincipal } from '../../core/auth/principal';
import type { DatabaseRecord } from '../../core/contract';
import { notClaimable } from '../../core/errors';
import { unwrap } from '../../core/result';
import { DEFAULT_ACCOUNT_ID, neonClient, ProviderRequestError } from '../../neon/index';
import { needScope, ownAccount } from '../access';

/** How long a claim link stays valid: Neon's default for transfer requests. */
export const CLAIM_TTL_SECONDS = 86_400;

export interface ClaimView {
  id: string;
  state: 'pending';
  url: string;
  expires_at: string;
}

/** POST /v1/databases/:id/claim: `databases:write`, a ready fresh database; 202 with the claim link. */
export async function claimDatabase(env: Env, principal: AccountPrincipal, id: string): Promise<{ claim: ClaimView }> {
  needScope(principal, 'databases:write');
  const stub = ownAccount(env, principal);
  const { database } = unwrap(await stub.getDatabase(id));
  const projectId = database.provider.project_id;
  if (database.kind !== 'fresh' || database.state !== 'ready' || !projectId) {
    throw notClaimable(id, database.kind, database.state);
  }
  const client = neonClient(env, database.provider.account ?? DEFAULT_ACCOUNT_ID, { tenant: principal.account_id });
  const request = await client.createTransferRequest(projectId, CLAIM_TTL_SECONDS);
  const claimed = unwrap(
    await stub.beginClaim(
      id,
      { request_id: request.id, url: request.claim_url, expires_at: Date.parse(request.expires_at) },
      principal.token_id,
    ),
  );
  return { claim: { id: request.id, state: 'pending', url: claimed.claim!.url, expires_at: claimed.claim!.expires_at } };
}

/**
 * Looks at a database with a pending claim: expired, it is dropped; accepted (the project is no
 * longer in dblease's provider account), the database and its branches become `claimed`.
 */
export async function noticeClaim(env: Env, accountId: string, record: DatabaseRecord): Promise<DatabaseRecord> {
  if (!record.claim || record.state !== 'ready' || !record.provider.project_id) return record;
  const stub = env.ACCOUNT.get(env.ACCOUNT.idFromName(accountId));
  if (Date.parse(record.claim.expires_at) <= Date.now()) return unwrap(await stub.expireClaim(record.id));
  try {
    await neonClient(env, record.provider.account ?? DEFAULT_ACCOUNT_ID, { tenant: accountId }).getProject(record.provider.project_id);
    return record;
  } catch (err) {
    if (err instanceof ProviderRequestError && err.notFound) return unwrap(await stub.completeClaim(record.id));
    throw err;
  }
}
