import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { unstable_startWorker } from 'wrangler';
import type { LocalStack } from '../../local/stack';
import { freePort } from './free-port';

/** 32 random bytes in base64: what `openssl rand -base64 32` gives an operator. */
const randomKey = () => randomBytes(32).toString('base64');

export interface DevWorker {
  url: string;
  dispose(): Promise<void>;
}

/**
 * The real Worker, from wrangler.toml, under Wrangler's programmatic dev server (workerd), wired
 * to a local stack, with fresh Durable Object state in a temporary folder. `vars` add to or
 * override the plain vars; secrets get development values named after `name`.
 */
export async function startDevWorker(
  stack: LocalStack,
  opts: {
    name: string;
    operatorToken: string;
    vars?: Record<string, string>;
    /** Durable Object state to reuse (kept on dispose); a fresh temporary folder otherwise. */
    persist?: string;
  },
): Promise<DevWorker> {
  const persist = opts.persist ?? (await fs.mkdtemp(path.join(os.tmpdir(), `dblease-${opts.name}-do-`)));
  const plain = (value: string) => ({ type: 'plain_text' as const, value });
  const secret = (value: string) => ({ type: 'secret_text' as const, value });
  const vars: Record<string, string> = {
    NEON_API_URL: stack.urls.api,
    NEON_LOCAL_PROXY: `${stack.config.host}:${stack.config.proxyPort}`,
    DBLEASE_ENV: 'development',
    ...opts.vars,
  };
  const worker = await unstable_startWorker({
    config: path.resolve(import.meta.dirname, '../../wrangler.toml'),
    bindings: {
      ...Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, plain(v)])),
      NEON_API_KEY: secret(stack.config.apiKey),
      DBLEASE_OPERATOR_TOKEN: secret(opts.operatorToken),
      DBLEASE_ENCRYPTION_KEY: secret(randomKey()),
      DBLEASE_SIGNING_KEY: secret(randomKey()),
    },
    dev: { server: { hostname: '127.0.0.1', port: await freePort() }, inspector: false, watch: false, persist, logLevel: 'none' },
  });
  await worker.ready;
  return {
    url: (await worker.url).origin,
    async dispose() {
      await worker.dispose();
      if (!opts.persist) await fs.rm(persist, { recursive: true, force: true });
    },
  };
}
