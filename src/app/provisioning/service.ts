/**
 * `POST /v1/provision` (docs/PROVISIONING.md): a registered orchestrator vouches for a user with
 * a signed assertion; dblease finds or creates that user's account and mints a new agent token,
 * with the scopes asked for within what the orchestrator may grant, a monthly spend limit within
 * the orchestrator's and the account's, and an expiry.
 */
import { accountTag } from '../../core/auth/account-tag';
import { generateCredential } from '../../core/auth/tokens';
import { Failure } from '../../core/errors';
import { unwrap } from '../../core/result';
import { accountObject } from '../account-client';
import { directory } from '../orchestrators/service';
import { issuerOf, verifyAssertion } from './assertion';

/** A provisioned token lives a day unless the assertion asks otherwise (at most 30 days). */
export const DEFAULT_TOKEN_TTL_SECONDS = 86_400;

/**
 * `audience` is the deployment's public base URL (the catalog's); the one-time dashboard link is
 * under it.
 */
export async function provision(env: Env, audience: string, assertion: string) {
  const dir = directory(env);
  const iss = issuerOf(assertion);
  const orchestrator = await dir.orchestrator(iss);
  const claims = await verifyAssertion(assertion, orchestrator, audience);
  // Kept while the assertion could be valid: its exp, plus the skew allowed.
  unwrap(await dir.admitAssertion(claims.iss, claims.jti, (claims.exp + 60) * 1000));

  const { account_id: accountId, created } = await dir.accountFor(claims.iss, claims.sub);
  const stub = accountObject(env, accountId);
  const account = unwrap(
    await stub.ensureAccount({ id: accountId, name: (claims.email ?? claims.sub).slice(0, 100), orchestrator: claims.iss }),
  );
  // A suspended account gets no new agent tokens either (README "Abuse").
  if (account.abuse.state === 'suspended') {
    throw new Failure(
      'account_suspended',
      `this account is suspended: it cannot be provisioned (${account.abuse.reason ?? 'no reason given'})`,
      {
        reason: account.abuse.reason,
      },
    );
  }

  const allowed = orchestrator!.allowed_scopes;
  const scopes = (claims.scopes ?? allowed).filter((s) => allowed.includes(s));
  const limits = [claims.monthly_spend_limit_usd, orchestrator!.max_monthly_spend_usd ?? undefined, account.policy.monthly_spend_cap_usd];
  const limit = Math.min(...limits.filter((l): l is number => l !== undefined));
  const ttl = claims.token_ttl_seconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  const minted = unwrap(
    await stub.createToken(
      {
        name: `${orchestrator!.name}: ${claims.sub}`.slice(0, 100),
        scopes: scopes as never,
        expires_at: Date.now() + ttl * 1000,
        monthly_spend_limit_usd: limit,
      },
      claims.iss,
    ),
  );
  // The human's way in: a one-time code for the dashboard (15 minutes, once), never the token.
  const code = generateCredential('signInCode', accountId, await accountTag(env, accountId));
  unwrap(await stub.issueSignInCode(code.secret, claims.iss));
  return {
    status: created ? (201 as const) : (200 as const),
    body: {
      account: { id: account.id, name: account.name },
      token: {
        id: minted.id,
        token: minted.token,
        scopes: minted.scopes,
        monthly_spend_limit_usd: minted.monthly_spend_limit_usd,
        expires_at: minted.expires_at,
      },
      created,
      dashboard_url: `${audience}/signin/link?code=${code.token}`,
    },
  };
}
