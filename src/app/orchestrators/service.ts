/**
 * Trusted orchestrators (the operator's): registered with their public keys (inline, or a JWKS
 * URL: src/app/orchestrators/keys.ts), listed, retired. Each key must import as a public
 * verification key (jose), so a registration that could never verify an assertion is refused at
 * once, naming the key.
 */
import { importJWK } from 'jose';
import { PROVISIONABLE_SCOPES } from '../../core/catalog';
import { Failure, invalidFields } from '../../core/errors';
import { unwrap } from '../../core/result';
import { mapLimit } from '../../core/schedule';
import { accountObject } from '../account-client';
import { jwksSchema, type CreateOrchestrator, type PublicJwk } from '../schemas/orchestrators';
import { checkJwksUri, JWKS_CACHE } from './keys';

export const directory = (env: Env) => env.DIRECTORY.get(env.DIRECTORY.idFromName('directory'));

/** Each key must import as a public verification key; `path` names where it came from. */
async function checkKeys(keys: PublicJwk[], path: string) {
  for (const [i, key] of keys.entries()) {
    const alg = key.kty === 'OKP' ? 'EdDSA' : 'ES256';
    try {
      await importJWK(key, alg);
    } catch {
      throw invalidFields([{ path: `${path}.${i}`, message: `not a valid ${key.crv} public key` }]);
    }
  }
}

/** A JWKS URL must answer now, with keys dblease can verify with: a registration that could never work is refused. */
async function checkRemoteKeys(uri: string) {
  const refuse = (message: string) => invalidFields([{ path: 'jwks_uri', message }]);
  let body: unknown;
  try {
    const res = await fetch(checkJwksUri(uri), {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(JWKS_CACHE.timeoutMs),
    });
    if (!res.ok) throw refuse(`answered ${res.status}, not 200`);
    body = await res.json();
  } catch (err) {
    if (err instanceof Failure) throw err;
    throw refuse('did not answer with JSON');
  }
  const parsed = jwksSchema.safeParse(body);
  if (!parsed.success) throw refuse('did not answer with a JSON Web Key Set of public Ed25519 or P-256 keys');
  await checkKeys(parsed.data.keys, 'jwks_uri.keys');
}

export async function registerOrchestrator(env: Env, input: CreateOrchestrator) {
  if (input.jwks) await checkKeys(input.jwks.keys, 'jwks.keys');
  if (input.jwks_uri) await checkRemoteKeys(input.jwks_uri);
  return unwrap(
    await directory(env).registerOrchestrator({
      name: input.name,
      // Only the public members, as registered (the schema refused private ones).
      jwks: input.jwks
        ? {
            keys: input.jwks.keys.map(
              (k) => Object.fromEntries(Object.entries(k).filter(([, v]) => typeof v === 'string')) as Record<string, string>,
            ),
          }
        : null,
      jwks_uri: input.jwks_uri ?? null,
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
