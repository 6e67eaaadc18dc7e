import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { banner } from './banner';
import { reportStartFailure, runLocalStack } from './main';
import type { LocalStack } from './stack';
import { workerSecrets, type WorkerSecrets } from './worker-secrets';

/**
 * `npm start`: the local stack, then the Worker under `wrangler dev` pointed at it, a
 * development account, and the minute cron that `wrangler dev` does not fire by itself.
 */
const WORKER_HOST = '127.0.0.1';
const WORKER_PORT = Number(process.env.DBLEASE_WORKER_PORT || 8787);
const WORKER_URL = `http://${WORKER_HOST}:${WORKER_PORT}`;
const CRON_EVERY_MS = 60_000;
/**
 * The warm pool `npm start` keeps (DBLEASE_WARM_POOL_SIZE overrides it; 0 turns it off): enough
 * that a burst of 50 concurrent creates is served from the pool, with room for the refill to
 * lag. Pool projects are local databases, so they cost a little disk; the first
 * LOCAL_WARM_POOL_AWAKE of them keep their compute (a postmaster, about 13 MiB PSS) running, so a
 * burst of 50 needs no wake (DBLEASE_WARM_POOL_AWAKE overrides it; 0 suspends them all).
 */
const LOCAL_WARM_POOL_SIZE = 60;
const LOCAL_WARM_POOL_AWAKE = 50;

function startWrangler(stack: LocalStack, workerSecrets: WorkerSecrets): ChildProcess {
  // Secrets reach `wrangler dev` through its environment (it reads required secrets from
  // process.env), plain vars through --var; all of them hidden in its binding table.
  const secrets = { NEON_API_KEY: stack.config.apiKey, ...workerSecrets };
  const vars = {
    NEON_API_URL: stack.urls.api,
    NEON_LOCAL_PROXY: `${stack.config.host}:${stack.config.proxyPort}`,
    DBLEASE_ENV: 'development',
    DBLEASE_WARM_POOL_SIZE: process.env.DBLEASE_WARM_POOL_SIZE || String(LOCAL_WARM_POOL_SIZE),
    DBLEASE_WARM_POOL_AWAKE: process.env.DBLEASE_WARM_POOL_AWAKE || String(LOCAL_WARM_POOL_AWAKE),
    // Bindings write into Workers through this Cloudflare API (a stand-in, say); unset: Cloudflare's own.
    ...(process.env.CLOUDFLARE_API_BASE_URL ? { CLOUDFLARE_API_BASE_URL: process.env.CLOUDFLARE_API_BASE_URL } : {}),
  };
  const args = ['dev', '--ip', WORKER_HOST, '--port', String(WORKER_PORT), '--test-scheduled', '--show-interactive-dev-session=false'];
  for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`);
  const child = spawn('wrangler', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Offline by design: no telemetry, and no fetch of the Request.cf sample from the internet.
    env: { ...process.env, ...secrets, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
  });
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) console.log(`[worker] ${line}`);
  };
  child.stdout!.on('data', forward);
  child.stderr!.on('data', forward);
  return child;
}

async function waitForWorker(child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${WORKER_URL}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the Worker did not answer ${WORKER_URL}/healthz within ${timeoutMs / 1000} s`);
}

/** Reuses the development account across restarts (wrangler dev keeps Durable Object state). */
async function developmentToken(dataDir: string, operatorToken: string): Promise<string | undefined> {
  const file = path.join(dataDir, 'dev-account.json');
  try {
    const saved = JSON.parse(await fs.readFile(file, 'utf8')) as { token: string };
    const res = await fetch(`${WORKER_URL}/v1/account`, { headers: { authorization: `Bearer ${saved.token}` } });
    if (res.ok) return saved.token;
  } catch {
    // none saved yet, or unreadable: make a new one
  }
  const res = await fetch(`${WORKER_URL}/v1/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'development' }),
  });
  if (!res.ok) return undefined;
  const created = (await res.json()) as { owner_token?: { token?: string } };
  const token = created.owner_token?.token;
  if (!token) return undefined;
  await fs.writeFile(file, JSON.stringify({ token }), { mode: 0o600 });
  return token;
}

function fireCron(): void {
  fetch(`${WORKER_URL}/__scheduled?cron=${encodeURIComponent('* * * * *')}`).catch((err) =>
    console.error(`[cron] could not reach the Worker: ${err instanceof Error ? err.message : err}`),
  );
}

function fireCronEveryMinute(): NodeJS.Timeout {
  return setInterval(fireCron, CRON_EVERY_MS);
}

async function main() {
  const stack = await runLocalStack();
  const secrets = await workerSecrets(stack.config.dataDir).catch(async (err: unknown) => {
    await stack.stop();
    throw err;
  });
  console.log(banner(stack));
  const wrangler = startWrangler(stack, secrets);
  const stop = () => {
    wrangler.kill('SIGINT');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  wrangler.on('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`wrangler dev exited with code ${code}`);
  });
  await waitForWorker(wrangler);
  // Once now, so the warm pool starts filling at start-up rather than a minute later.
  fireCron();
  fireCronEveryMinute().unref();
  const token = await developmentToken(stack.config.dataDir, secrets.DBLEASE_OPERATOR_TOKEN);
  console.log(`\ndblease Worker ready at ${WORKER_URL}  (GET ${WORKER_URL}/healthz)`);
  const poolSize = process.env.DBLEASE_WARM_POOL_SIZE || String(LOCAL_WARM_POOL_SIZE);
  const awake = process.env.DBLEASE_WARM_POOL_AWAKE || String(LOCAL_WARM_POOL_AWAKE);
  console.log(
    `warm pool: ${poolSize} per region, ${awake} of them awake, filling in the background (the operator's GET /healthz shows it)`,
  );
  if (token) {
    console.log(`development account token: ${token}`);
    console.log(`owner dashboard: ${WORKER_URL}/  (paste the token above into its Token field)`);
    console.log('first database:');
    console.log(
      `  curl -s -X POST ${WORKER_URL}/v1/databases -H "authorization: Bearer ${token}" -H 'content-type: application/json' -d '{"ttl_seconds":3600}'`,
    );
  }
}

main().catch(reportStartFailure);
