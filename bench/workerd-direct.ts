/**
 * The real Worker as production runs it, without Wrangler: the bundle `wrangler deploy --dry-run`
 * builds (what `wrangler deploy` would upload), served by workerd itself from a generated config,
 * one socket straight to the Worker. Under Wrangler's dev server (test/support/dev-worker.ts)
 * every request also passes Wrangler's proxy worker and Miniflare's entry worker inside the same
 * workerd; the difference between the two is harness time, not product time.
 *
 * The config mirrors wrangler.toml (read with Wrangler's own reader): the vars, the Durable
 * Object bindings with SQLite storage on a local disk, the compatibility date and flags, and an
 * outbound network that may reach the local stack on loopback. Cron triggers are not run: the
 * warm pool fills on its first claim, as under the dev server.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { unstable_readConfig } from 'wrangler';
import { freePort } from '../test/support/free-port';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The very workerd binary Wrangler runs (wrangler → miniflare → workerd), not a second copy. */
const workerdBinary: string = (() => {
  const fromWrangler = createRequire(createRequire(import.meta.url).resolve('wrangler'));
  return createRequire(fromWrangler.resolve('miniflare'))('workerd').default;
})();

export interface DirectWorker {
  url: string;
  /** The workerd process, for CPU and memory readings. */
  pid: number;
  /** The port of workerd's DevTools inspector, when asked for (bench/cpu-profile.ts). */
  inspectorPort?: number;
  /** The bundle it serves, to say which source file a profiled line came from. */
  bundleFile: string;
  dispose(): Promise<void>;
}

export interface StackAddresses {
  apiUrl: string;
  apiKey: string;
  /** `host:port` of the stack's SQL proxies. */
  proxy: string;
}

let bundled: Promise<string> | undefined;

/**
 * workerd processes still running: a benchmark stopped by a signal kills them on its way out,
 * so no Worker outlives the run (a `finally` does not run when a signal ends the process).
 */
const running = new Set<ChildProcess>();
let reaping = false;
function reapOnExit(): void {
  if (reaping) return;
  reaping = true;
  const reap = () => {
    for (const child of running) child.kill('SIGKILL');
  };
  process.once('exit', reap);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      reap();
      process.kill(process.pid, signal);
    });
  }
}

/**
 * Builds the deployable bundle once per process (a dry-run deploy writes it and uploads nothing),
 * into the git-ignored .wrangler/ folder, replacing the last run's.
 */
export function buildBundle(): Promise<string> {
  bundled ??= (async () => {
    const out = path.join(ROOT, '.wrangler', 'bench-bundle');
    await fs.rm(out, { recursive: true, force: true });
    await promisify(execFile)('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', out], { cwd: ROOT, maxBuffer: 64 << 20 });
    return out;
  })();
  return bundled;
}

/** A capnp text string literal (JSON's escapes are capnp's for what appears here). */
const str = (s: string) => JSON.stringify(s);

async function configText(dir: string, bundle: string, port: number, storage: string, bindings: Record<string, string>): Promise<string> {
  const cfg = unstable_readConfig({ config: path.join(ROOT, 'wrangler.toml') });
  const files = (await fs.readdir(bundle)).filter((f) => f.endsWith('.sql'));
  // capnp resolves `embed` paths relative to the config file.
  const embed = (f: string) => `embed ${str(path.relative(dir, path.join(bundle, f)))}`;
  const modules = [`(name = "index.js", esModule = ${embed('index.js')})`, ...files.map((f) => `(name = ${str(f)}, text = ${embed(f)})`)];
  const objects: { name: string; class_name: string }[] = cfg.durable_objects.bindings;
  const textBindings = Object.entries({ ...(cfg.vars as Record<string, string>), ...bindings }).map(
    ([k, v]) => `(name = ${str(k)}, text = ${str(String(v))})`,
  );
  const objectBindings = objects.map((o) => `(name = ${str(o.name)}, durableObjectNamespace = (className = ${str(o.class_name)}))`);
  const namespaces = objects.map(
    (o) => `(className = ${str(o.class_name)}, uniqueKey = ${str(`dblease-${o.class_name}`)}, enableSql = true)`,
  );
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .dblease),
    (name = "storage", disk = (path = ${str(storage)}, writable = true)),
    (name = "net", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = ${str(`127.0.0.1:${port}`)}, http = (), service = "main")],
);
const dblease :Workerd.Worker = (
  modules = [${modules.join(', ')}],
  compatibilityDate = ${str(cfg.compatibility_date!)},
  compatibilityFlags = [${(cfg.compatibility_flags ?? []).map(str).join(', ')}],
  bindings = [${[...textBindings, ...objectBindings].join(', ')}],
  durableObjectNamespaces = [${namespaces.join(', ')}],
  durableObjectStorage = (localDisk = "storage"),
  globalOutbound = "net",
);
`;
}

async function waitUntilServing(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`workerd exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.arrayBuffer().then(() => true),
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`workerd did not serve ${url} within ${timeoutMs} ms`);
}

/** Durable Object state and the secrets that open it, to restart a Worker where another stopped. */
export interface WorkerState {
  dir: string;
  encryptionKey: string;
  signingKey: string;
}

/** 32 random bytes in base64, as an operator makes a key. */
const randomKey = () => randomBytes(32).toString('base64');

/** A folder and fresh random secrets for `persist`; the caller removes the folder. */
export async function newWorkerState(): Promise<WorkerState> {
  return { dir: await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-workerd-state-')), encryptionKey: randomKey(), signingKey: randomKey() };
}

/**
 * The Worker under workerd alone, wired to the stack at `stack`: with `persist`, on that state
 * (kept on dispose), else on fresh state with fresh random secrets. `vars` add to or override
 * wrangler.toml's.
 */
export async function startDirectWorker(
  stack: StackAddresses,
  opts: { operatorToken: string; vars?: Record<string, string>; persist?: WorkerState; inspect?: boolean },
): Promise<DirectWorker> {
  const bundle = await buildBundle();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-workerd-'));
  const state = opts.persist ?? { dir: path.join(dir, 'state'), encryptionKey: randomKey(), signingKey: randomKey() };
  const storage = path.join(state.dir, 'do');
  await fs.mkdir(storage, { recursive: true });
  const port = await freePort();
  const config = await configText(dir, bundle, port, storage, {
    NEON_API_URL: stack.apiUrl,
    NEON_LOCAL_PROXY: stack.proxy,
    DBLEASE_ENV: 'development',
    ...opts.vars,
    NEON_API_KEY: stack.apiKey,
    DBLEASE_OPERATOR_TOKEN: opts.operatorToken,
    DBLEASE_ENCRYPTION_KEY: state.encryptionKey,
    DBLEASE_SIGNING_KEY: state.signingKey,
  });
  const file = path.join(dir, 'config.capnp');
  await fs.writeFile(file, config);
  // The config names the secrets: only its owner may read it, and it goes with the folder.
  await fs.chmod(file, 0o600);
  reapOnExit();
  const inspectorPort = opts.inspect ? await freePort() : undefined;
  const args = ['serve', file, '--experimental', ...(inspectorPort ? [`--inspector-addr=127.0.0.1:${inspectorPort}`] : [])];
  const child = spawn(workerdBinary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4_000);
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(url, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}: ${stderr}`);
  }
  return {
    url,
    pid: child.pid!,
    inspectorPort,
    bundleFile: path.join(bundle, 'index.js'),
    async dispose() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
