import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { configFromEnv } from '../../local/config';
import { startLocalStack } from '../../local/stack';
import { freePort } from '../support/free-port';

/**
 * Starts one real local stack (embedded PostgreSQL, Neon-compatible API, SQL proxies) for the
 * Worker tests, on free ports and a throw-away data folder, and hands its addresses to the
 * Worker through `provide`/`inject`.
 */
export default async function setup(project: TestProject) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-worker-test-'));
  const stack = await startLocalStack(
    configFromEnv(
      {},
      {
        dataDir,
        pgPort: 0,
        pgInternalPort: await freePort(),
        apiPort: 0,
        proxyPort: 0,
        // The suite creates in bursts far above Neon's per-account limit; tests of the 429
        // path lower it through the admin API.
        rateLimit: { perMinute: 1_000_000, perSecondPerRoute: 1_000_000 },
        log: () => {},
      },
    ),
  );
  project.provide('neonApiUrl', stack.urls.api);
  project.provide('neonApiKey', stack.config.apiKey);
  project.provide('localProxy', `${stack.config.host}:${stack.config.proxyPort}`);
  return async () => {
    await stack.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  interface ProvidedContext {
    neonApiUrl: string;
    neonApiKey: string;
    localProxy: string;
  }
}
