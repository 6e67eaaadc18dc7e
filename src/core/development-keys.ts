/**
 * The documented development values of the Worker's keys (README, "Security"): used only where
 * `DBLEASE_ENV` is `development` and the secret is unset (src/core/secrets.ts), and by the test
 * configuration. Never valid in production. No imports, so configuration files can read it.
 */
export const DEVELOPMENT_ENCRYPTION_KEY = 'kOPM10ckQmUXD4zsMiIUU2iHW6VREYOMIHdKKCUV5Aw=';
export const DEVELOPMENT_SIGNING_KEY = 'G6V9IdYLbHlo6kZVLd0oirg0WZ+q9Ou8Z0fFtq7B6UQ=';
