/**
 * An orchestrator's verification keys: registered inline, or fetched from its JWKS URL. A URL's
 * key set is fetched by jose (`createRemoteJWKSet`) and cached per isolate: reused for
 * `JWKS_CACHE.maxAgeMs`, re-fetched at once when an assertion names a key id it lacks (a
 * rotation), but not more often than `JWKS_CACHE.cooldownMs`. A URL that does not answer with a
 * key set is 503 `jwks_unavailable`: the assertion may be fine, the keys could not be had.
 */
import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTVerifyGetKey } from 'jose';
import { Failure, invalidFields } from '../../core/errors';
import type { Orchestrator } from '../../../durable-objects/directory';

/** Tests lower these; an operator need not. */
export const JWKS_CACHE = { maxAgeMs: 10 * 60_000, cooldownMs: 30_000, timeoutMs: 5_000 };

const remote = new Map<string, { set: JWTVerifyGetKey; cooldownMs: number }>();

/** `https:`, or `http:` on this machine's loopback (the local stack and tests). */
export function checkJwksUri(uri: string): URL {
  const url = new URL(uri);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw invalidFields([{ path: 'jwks_uri', message: 'must be an https URL' }]);
  }
  if (url.username || url.password) throw invalidFields([{ path: 'jwks_uri', message: 'must not carry credentials' }]);
  return url;
}

export function verificationKeys(orchestrator: Orchestrator): JWTVerifyGetKey {
  if (orchestrator.jwks_uri === null) return createLocalJWKSet(orchestrator.jwks as never);
  const cached = remote.get(orchestrator.jwks_uri);
  if (cached && cached.cooldownMs === JWKS_CACHE.cooldownMs) return cached.set;
  const set = createRemoteJWKSet(new URL(orchestrator.jwks_uri), {
    cacheMaxAge: JWKS_CACHE.maxAgeMs,
    cooldownDuration: JWKS_CACHE.cooldownMs,
    timeoutDuration: JWKS_CACHE.timeoutMs,
  });
  remote.set(orchestrator.jwks_uri, { set, cooldownMs: JWKS_CACHE.cooldownMs });
  return set;
}

/** A failure to get the key set (not a failure of the assertion), in words with no key material. */
export function keysUnavailable(err: unknown): Failure | null {
  const reason =
    err instanceof errors.JWKSTimeout
      ? 'timed out'
      : err instanceof errors.JWKSInvalid
        ? 'did not answer with a JSON Web Key Set'
        : err instanceof errors.JOSEError && err.code === 'ERR_JOSE_GENERIC'
          ? 'did not answer 200 with JSON'
          : // Anything but jose's own verdicts came from fetching the keys.
            err instanceof Error && !(err instanceof errors.JOSEError)
            ? 'could not be reached'
            : null;
  return reason === null ? null : new Failure('jwks_unavailable', `the orchestrator's JWKS URL ${reason}`, { reason }, 30);
}
