/**
 * Trusted orchestrators (the operator's): registered with their public keys, listed, retired.
 * Each key must import as a public verification key (jose), so a registration that could never
 * verify an assertion is refused at once, naming the key.
 */
import { importJWK } from 'jose';
import { PROVISIONABLE_SCOPES } from '../../core/catalog';
import { invalidFields } from '../../core/errors';
import { unwrap } from '../../core/result';
import { mapLimit } from '../../core/schedule';
import { accountObject } from '../account-client';
import type { CreateOrchestrator } from '../schemas/orchestrators';

export const directory = (env: Env) => env.DIRECTORY.get(env.DIRECTORY.idFromName('directory'));

export async function registerOrchestrator(env: Env, input: CreateOrchestrator) {
  for (const [i, key] of input.jwks.keys.entries()) {
    const alg = key.kty === 'OKP' ? 'EdDSA' : 'ES256';
    try {
      await importJWK(key, alg);
    } catch {
      throw invalidFields([{ path: `jwks.keys.${i}`, message: `not a valid ${key.crv} public key` }]);
    }
  }
  return unwrap(
    await directory(env).registerOrchestrator({
      name: input.name,
      // Only the public members, as registered (the schema refused private ones).
      jwks: {
        keys: input.jwks.keys.map(
          (k) => Object.fromEntries(Object.entries(k).filter(([, v]) => typeof v === 'string')) as Record<string, string>,
        ),
      },
      max_monthly_spend_usd: input.max_monthly_spend_usd ?? null,
      allowed_scopes: input.allowed_scopes ?? [...PROVISIONABLE_SCOPES],
    }),
  );
}

export async function listOrchestrators(env: Env) {
  return { data: await directory(env).listOrchestrators() };
}

/** Retires it: it can no longer provision, and every token it minted, in every account, stops working. */
export async function retireOrchestrator(env: Env, id: string) {
  const retired = unwrap(await directory(env).retireOrchestrator(id));
  await mapLimit(await directory(env).accountsOf(id), 4, async (accountId) =>
    unwrap(await accountObject(env, accountId).revokeTokensBy(id)),
  );
  return retired;
}
