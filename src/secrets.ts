/**
 * The Worker's secrets, with development fallbacks that are used ONLY when the `DBLEASE_ENV`
 * var is exactly `development` (set by `npm start`, `.dev.vars` and the tests). Anywhere else a
 * missing secret is a configuration error: requests fail with a logged 500 instead of running
 * with a publicly known value.
 */
import { ApiError } from './errors';

/** Documented development values (README, "Running locally"). Never valid in production. */
export const DEVELOPMENT_OPERATOR_TOKEN = 'dblease-dev-operator-token';
export const DEVELOPMENT_ENCRYPTION_KEY = 'dblease-dev-encryption-key-not-for-production';

type SecretEnv = { DBLEASE_ENV?: string; DBLEASE_OPERATOR_TOKEN?: string; DBLEASE_ENCRYPTION_KEY?: string };

export const isDevelopment = (env: SecretEnv) => env.DBLEASE_ENV === 'development';

function resolve(env: SecretEnv, name: 'DBLEASE_OPERATOR_TOKEN' | 'DBLEASE_ENCRYPTION_KEY', fallback: string): string {
  const value = env[name];
  if (typeof value === 'string' && value.length > 0) return value;
  if (isDevelopment(env)) return fallback;
  throw new ApiError('internal', 'misconfigured', `the Worker secret ${name} is not set`);
}

export const operatorToken = (env: SecretEnv) => resolve(env, 'DBLEASE_OPERATOR_TOKEN', DEVELOPMENT_OPERATOR_TOKEN);
export const encryptionKeyMaterial = (env: SecretEnv) =>
  resolve(env, 'DBLEASE_ENCRYPTION_KEY', DEVELOPMENT_ENCRYPTION_KEY);
