import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { configFromEnv, type LocalStackConfig } from '../../local/config';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { freePort } from './free-port';

export interface ThrowawayStack extends LocalStack {
  dataDir: string;
  /** Stops the stack and removes its data folder. */
  dispose(): Promise<void>;
}

/**
 * The whole local stack, as `npm run local` composes it, on free ports and a fresh temporary
 * folder, for tests and benchmarks. Neon's 429 is lifted unless `overrides.rateLimit` says
 * otherwise: suites and benchmarks burst far above it, and tests of the 429 lower it.
 */
export async function startThrowawayStack(overrides: Partial<LocalStackConfig> = {}, prefix = 'dblease-'): Promise<ThrowawayStack> {
  const dataDir = overrides.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
  const stack = await startLocalStack(
    configFromEnv(
      {},
      {
        dataDir,
        pgPort: 0,
        pgInternalPort: await freePort(),
        apiPort: 0,
        proxyPort: 0,
        rateLimit: { perMinute: 1_000_000, perSecondPerRoute: 1_000_000 },
        // Most test files make a few projects and branches: two clones ready, not a pool to copy and delete.
        templateSpares: 2,
        log: () => {},
        ...overrides,
      },
    ),
  );
  return {
    ...stack,
    dataDir,
    async dispose() {
      await stack.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
