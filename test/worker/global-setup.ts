import type { TestProject } from 'vitest/node';
import { startJwksHost } from '../support/jwks-host';
import { startThrowawayStack } from '../support/throwaway-stack';

/**
 * Starts one real local stack (embedded PostgreSQL, Neon-compatible API, SQL proxies) for the
 * Worker tests, on free ports and a throw-away data folder, and hands its addresses to the
 * Worker through `provide`/`inject`.
 */
export default async function setup(project: TestProject) {
  // Bursts of up to 50 concurrent creates are served from template clones made ahead of them.
  const stack = await startThrowawayStack({ templateSpares: 60 }, 'dblease-worker-test-');
  project.provide('neonApiUrl', stack.urls.api);
  project.provide('neonApiKey', stack.config.apiKey);
  project.provide('localProxy', `${stack.config.host}:${stack.config.proxyPort}`);
  const jwksHost = await startJwksHost();
  project.provide('jwksHost', jwksHost.url);
  return async () => {
    await jwksHost.close();
    await stack.dispose();
  };
}

declare module 'vitest' {
  interface ProvidedContext {
    neonApiUrl: string;
    neonApiKey: string;
    localProxy: string;
    /** An orchestrator's JWKS host (test/support/jwks-host.ts). */
    jwksHost: string;
  }
}
