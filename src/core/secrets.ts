/**
 * The Worker's secrets, with development fallbacks that are used ONLY when the `DBLEASE_ENV`
 * var is exactly `development` (set by `npm start`, `.dev.vars` and the tests). Anywhere else a
 * missing secret is a configuration error: requests fail with a logged 500 instead of running
 * with a publicly known value.
 *
 * - `DBLEASE_OPERATOR_TOKEN`: the operator's bearer token.
 * - `DBLEASE_ENCRYPTION_KEY`: seals credentials at rest (src/core/crypto/sealed.ts); with
 *   `DBLEASE_ENCRYPTION_KEYS_PREVIOUS` (comma-separated, optional) during a rotation.
 * - `DBLEASE_SIGNING_KEY`: signs the account id inside every token (src/core/auth/account-tag.ts).
 * Keys are at least 32 random bytes in base64 or hex (src/core/crypto/key-material.ts).
 */
import { misconfigured } from './crypto/key-material';

/** Documented development values (README, "Security"). Never valid in production. */
export const DEVELOPMENT_OPERATOR_TOKEN = 'dblease-dev-operator-token';
export { DEVELOPMENT_ENCRYPTION_KEY, DEVELOPMENT_SIGNING_KEY } from './development-keys';
import { DEVELOPMENT_ENCRYPTION_KEY, DEVELOPMENT_SIGNING_KEY } from './development-keys';

type SecretName = 'DBLEASE_OPERATOR_TOKEN' | 'DBLEASE_ENCRYPTION_KEY' | 'DBLEASE_SIGNING_KEY';
type SecretEnv = { DBLEASE_ENV?: string; DBLEASE_ENCRYPTION_KEYS_PREVIOUS?: string } & { [K in SecretName]?: string };

export const isDevelopment = (env: SecretEnv) => env.DBLEASE_ENV === 'development';

function resolve(env: SecretEnv, name: SecretName, fallback: string): string {
  const value = env[name];
  if (typeof value === 'string' && value.length > 0) return value;
  if (isDevelopment(env)) return fallback;
  throw misconfigured(`the Worker secret ${name} is not set`);
}

export const operatorToken = (env: SecretEnv) => resolve(env, 'DBLEASE_OPERATOR_TOKEN', DEVELOPMENT_OPERATOR_TOKEN);
export const encryptionKeyMaterial = (env: SecretEnv) => resolve(env, 'DBLEASE_ENCRYPTION_KEY', DEVELOPMENT_ENCRYPTION_KEY);
export const signingKeyMaterial = (env: SecretEnv) => resolve(env, 'DBLEASE_SIGNING_KEY', DEVELOPMENT_SIGNING_KEY);

/** Keys that sealed values may still be under while a rotation re-seals them (README, "Rotating keys"). */
export const previousEncryptionKeys = (env: SecretEnv) =>
  (env.DBLEASE_ENCRYPTION_KEYS_PREVIOUS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
