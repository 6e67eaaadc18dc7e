import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig, type Plugin, type TestProjectInlineConfiguration } from 'vitest/config';
import { DEVELOPMENT_ENCRYPTION_KEY, DEVELOPMENT_SIGNING_KEY } from './src/core/development-keys.ts';

/**
 * drizzle's Durable Object migrations import `.sql` files. wrangler reads them as text through
 * its `[[rules]]`; vite ignores those rules, so this turns `.sql` into a string module here
 * (drizzle-team/drizzle-orm#4543).
 */
const sqlAsText = (): Plugin => ({
  name: 'dblease:sql-as-text',
  enforce: 'pre',
  transform(code, id) {
    if (id.endsWith('.sql')) return { code: `export default ${JSON.stringify(code)};`, map: null };
  },
});

/**
 * The secrets wrangler.toml requires, as the Worker under test gets them: wrangler reads them
 * from the environment while it loads the config (and warns about any missing). The keys are the
 * documented development values; the provider key is the test stack's, bound below.
 */
const TEST_SECRETS = {
  NEON_API_KEY: 'bound-from-the-test-stack',
  DBLEASE_OPERATOR_TOKEN: 'test-operator-token',
  DBLEASE_ENCRYPTION_KEY: DEVELOPMENT_ENCRYPTION_KEY,
  DBLEASE_SIGNING_KEY: DEVELOPMENT_SIGNING_KEY,
};
Object.assign(process.env, TEST_SECRETS);
// wrangler's own notes ("Using secrets defined in process.env") are not the suite's business.
process.env.WRANGLER_LOG ??= 'error';

/** The Worker inside workerd, against one real local stack started by the project's global setup. */
function workerProject(
  name: string,
  include: string[],
  exclude: string[],
  test: TestProjectInlineConfiguration['test'] = {},
): TestProjectInlineConfiguration {
  return {
    // Vite's warnings about third-party source maps are not the suite's business either.
    logLevel: 'error',
    plugins: [
      sqlAsText(),
      cloudflareTest(async ({ inject }) => ({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            NEON_API_URL: inject('neonApiUrl'),
            NEON_API_KEY: inject('neonApiKey'),
            NEON_LOCAL_PROXY: inject('localProxy'),
            // Bindings' Cloudflare API: the msw stand-in of test/worker/support/cloudflare-stand-in.ts.
            CLOUDFLARE_API_BASE_URL: 'https://cloudflare.stand-in.test/client/v4',
            // Development fallbacks on (the encryption key uses its documented development value);
            // the operator token is set explicitly so tests know it.
            DBLEASE_ENV: 'development',
            DBLEASE_OPERATOR_TOKEN: TEST_SECRETS.DBLEASE_OPERATOR_TOKEN,
            // Operator maxima high enough for the suites' bursts of creates; tests of the rate limit
            // lower their own account's rate, as an owner would.
            DBLEASE_POLICY_MAX: JSON.stringify({ creates_per_minute: 1_000_000, create_burst: 1_000_000 }),
            // Abuse detection off: the suites create many never-used databases on purpose. The abuse
            // tests give their own accounts the documented defaults (AccountDurableObject.abuseThresholds).
            DBLEASE_ABUSE_THRESHOLDS: JSON.stringify({ enabled: false }),
            // The provider budget as high as the stack's own limit; the budget tests lower
            // their object's limits (ProviderBudget.setLimits), as an operator would.
            DBLEASE_PROVIDER_RATE_PER_MINUTE: '1000000',
            DBLEASE_PROVIDER_BURST_PER_SECOND: '1000000',
            // Likewise the per-account provider-action bucket; its tests give their own
            // account object a rate of their own (AccountDurableObject.providerActionRate).
            DBLEASE_PROVIDER_ACTIONS_PER_MINUTE: '1000000',
            DBLEASE_PROVIDER_ACTION_BURST: '1000000',
            // The fault matrix hangs provider calls; a sweep gives up on one after this
            // (30 s in production), so its Durable Object can be evicted within the test.
            DBLEASE_BACKGROUND_REQUEST_TIMEOUT_SECONDS: '5',
          },
          // A second Worker bound to dblease's DbleaseBinding entrypoint, as a customer's Worker
          // would be; tests reach it through CONSUMER (test/worker/binding/). The Worker under
          // test runs as the pool's runner, so that is the name its binding points at.
          serviceBindings: { CONSUMER: 'consumer' },
          workers: [
            {
              name: 'consumer',
              modules: true,
              scriptPath: './test/worker/fixtures/consumer-worker.js',
              compatibilityDate: '2026-08-01',
              serviceBindings: { DBLEASE: { name: 'vitest-plugin-runner-worker', entrypoint: 'DbleaseBinding' } },
            },
          ],
        },
      })),
    ],
    test: {
      name,
      include,
      exclude,
      globalSetup: ['test/worker/global-setup.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      ...test,
    },
  };
}

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Test files mostly wait on real processes (PostgreSQL computes, workerd, the disk), so three
    // at a time on two cores; the Worker project keeps its files one at a time (below).
    maxWorkers: 3,
    // Passing tests print nothing; a failing test shows what it logged.
    silent: 'passed-only',
    projects: [
      {
        // The pure core (src/core): plain Node, no workerd, no PostgreSQL.
        test: { name: 'core', include: ['test/core/**/*.test.ts'], environment: 'node' },
      },
      {
        // The local stack and the CLI, as Node programs against real processes.
        test: {
          name: 'local',
          include: ['test/local/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      // One stack serves every file, and some files count every request it saw (its request stats,
      // the provider budget), which another file's traffic would add to: the Worker's files run
      // one at a time, beside the other projects' three.
      workerProject('worker', ['test/worker/**/*.test.ts'], [], { fileParallelism: false }),
    ],
  },
});
