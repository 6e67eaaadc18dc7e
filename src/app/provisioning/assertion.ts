/**
 * Verifying a provisioning assertion (docs/PROVISIONING.md): a compact JWS from a registered,
 * unretired orchestrator, verified with jose against its registered public keys (inline, or fetched
 * from its JWKS URL: src/app/orchestrators/keys.ts), for this
 * deployment's audience, valid for at most 300 s. Refusals are 401 `invalid_assertion` with the
 * reason in `details` (never key material); malformed claims are 400s naming the claim.
 */
import { decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import { ASSERTION_ALGORITHMS, ASSERTION_CLOCK_SKEW_SECONDS, ASSERTION_MAX_AGE_SECONDS, PROVISIONABLE_SCOPES } from '../../core/catalog';
import { Failure, invalidFields } from '../../core/errors';
import type { Orchestrator } from '../../../durable-objects/directory';
import { fieldIssues } from '../http/errors';
import { keysUnavailable, verificationKeys } from '../orchestrators/keys';

const invalid = (reason: string) => new Failure('invalid_assertion', `the assertion is not valid: ${reason}`, { reason });

/** The claims dblease reads, beyond the registered ones jose checks. */
const claimsSchema = z.object({
  sub: z.string().min(1).max(256),
  jti: z.string().min(1).max(256),
  email: z.string().email().max(320).optional(),
  email_verified: z.boolean().optional(),
  scopes: z
    .array(z.enum(PROVISIONABLE_SCOPES as [string, ...string[]]))
    .min(1)
    .optional(),
  monthly_spend_limit_usd: z.number().positive().max(1_000_000).optional(),
  token_ttl_seconds: z
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .optional(),
  labels: z.record(z.string().max(63), z.string().max(256)).optional(),
});
export type ProvisionClaims = z.infer<typeof claimsSchema> & { iss: string; exp: number; iat: number };

/** The issuer the assertion names, before anything is verified (to find its keys). */
export function issuerOf(assertion: string): string {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(assertion);
  } catch {
    throw invalidFields([{ path: 'assertion', message: 'not a compact JWS (header.payload.signature)' }]);
  }
  if (typeof claims.iss !== 'string' || claims.iss === '') throw invalid('no iss');
  return claims.iss;
}

export async function verifyAssertion(assertion: string, orchestrator: Orchestrator | null, audience: string): Promise<ProvisionClaims> {
  if (!orchestrator) throw invalid('unknown issuer');
  if (orchestrator.retired_at !== null) throw invalid('the orchestrator is retired');
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, verificationKeys(orchestrator), {
      issuer: orchestrator.id,
      audience,
      algorithms: [...ASSERTION_ALGORITHMS],
      clockTolerance: ASSERTION_CLOCK_SKEW_SECONDS,
      requiredClaims: ['iat', 'exp', 'jti', 'sub'],
    }));
  } catch (err) {
    throw keysUnavailable(err) ?? invalid(reasonOf(err));
  }
  const iat = payload.iat!;
  const exp = payload.exp!;
  if (exp - iat > ASSERTION_MAX_AGE_SECONDS) throw invalid(`exp is more than ${ASSERTION_MAX_AGE_SECONDS} s after iat`);
  if (iat > Date.now() / 1000 + ASSERTION_CLOCK_SKEW_SECONDS) throw invalid('iat is in the future');
  const parsed = claimsSchema.safeParse(payload);
  if (!parsed.success) throw invalidFields(fieldIssues(parsed.error, 'assertion').map((f) => ({ ...f, path: `assertion.${f.path}` })));
  return { ...parsed.data, iss: orchestrator.id, exp, iat };
}

/** jose's reason, in words an orchestrator's engineer can act on. */
function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed)
    return `claim ${err.claim} ${err.reason === 'missing' ? 'is missing' : 'is not accepted'}`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no registered key matches';
  if (err instanceof errors.JOSEAlgNotAllowed) return `algorithm not accepted (use ${ASSERTION_ALGORITHMS.join(' or ')})`;
  return 'malformed';
}
