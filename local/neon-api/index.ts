import type { Hono, MiddlewareHandler } from 'hono';
import type { LocalStackConfig } from '../config';
import type { ComputeGate, ProxyConnections } from '../hooks';
import type { Cluster } from '../postgres/cluster';
import { buildApp } from './app';
import { Branching } from './branching';
import { Compute } from './compute';
import type { Deps } from './context';
import { Operations } from './operations';
import { Organizations } from './organizations';
import { Computes } from './computes';
import { Physical } from './physical';
import { BranchStorage } from '../postgres/storage';
import { Provision } from './provision';
import { recover } from './recovery';
import { Store } from './store';
import { Transfers } from './transfers';
import { Usage } from './usage';

export { neonRoutes } from './app';

export interface NeonApi {
  gate: ComputeGate;
  /** The running postmasters and the branches' data directories (tests and benchmarks look). */
  computes: Computes;
  storage: BranchStorage;
  /** The control plane's records (read them; change them only through the API). */
  store: Store;
  /** The organizations and their keys (`POST /_admin/organizations` makes them). */
  orgs: Organizations;
  /** Serves `/api/v2/...`. */
  app: Hono;
  /** Stops timers and every compute, and persists consumption; the control cluster keeps running. */
  close(): Promise<void>;
}

const TICK_MS = 1000;
const FLUSH_EVERY_TICKS = 5;
const SAMPLE_EVERY_TICKS = 10;

export async function createNeonApi(opts: {
  config: LocalStackConfig;
  cluster: Cluster;
  proxy: ProxyConnections;
  /** Mounted after auth and before the routes (fault injection, rate limit). */
  middleware?: MiddlewareHandler[];
  /** The API server's origin, for claim links; asked each time, as the port is bound later. */
  apiOrigin?: () => string;
}): Promise<NeonApi> {
  const { config, cluster, proxy } = opts;
  const store = await Store.open(cluster);
  const storage = await BranchStorage.open(config.dataDir, config.log, config.templateSpares);
  const ops = new Operations(store);
  // The computes and the endpoint state machine need each other: eviction under the cap goes
  // through the endpoints' suspend, and every stop ends their compute time.
  let compute: Compute | undefined;
  let usage: Usage | undefined;
  const computes = new Computes({
    storage,
    dataDir: config.dataDir,
    maxRunning: config.maxComputes,
    log: config.log,
    evictable: (branchId) => compute?.evictable(branchId) ?? false,
    evict: (branchId) => compute!.evict(branchId),
    stopping: async (branchId) => {
      await usage?.sampleBranch(branchId);
      // The proxies' idle sessions to it would only fail on their next use.
      const address = computes.address(branchId);
      if (address) await proxy.releaseIdle(address);
    },
    stopped: (branchId) => {
      for (const ep of store.endpointsOfBranch(branchId)) usage?.stopped(ep.id);
    },
  });
  const physical = new Physical(computes);
  usage = new Usage(store, physical);
  compute = new Compute(config, store, ops, computes, physical, usage);
  const provision = new Provision(config, store, ops, compute, usage, proxy);
  const branching = new Branching(config, store, ops, storage, computes, physical, compute, provision);
  const orgs = new Organizations(config.apiKey, store);
  const transfers = new Transfers(store, opts.apiOrigin ?? (() => `http://${config.host}:${config.apiPort}`));
  const deps: Deps = {
    config,
    cluster,
    proxy,
    store,
    ops,
    storage,
    computes,
    physical,
    usage,
    compute,
    branching,
    provision,
    orgs,
    transfers,
  };

  await recover(deps);

  let ticks = 0;
  let running: Promise<void> | undefined;
  const tick = async () => {
    ticks += 1;
    usage!.accountOpen();
    await compute!.suspendIdle();
    await branching.expireDue();
    if (ticks % SAMPLE_EVERY_TICKS === 0) await usage!.sampleStorage();
    if (ticks % FLUSH_EVERY_TICKS === 0) await usage!.flush();
  };
  const timer = setInterval(() => {
    if (running) return;
    running = tick()
      .catch((err) => config.log(`neon-api: background tick failed: ${err.message}`))
      .finally(() => (running = undefined));
  }, TICK_MS);
  timer.unref();

  let closed = false;
  return {
    gate: compute.gate,
    computes,
    storage,
    store,
    orgs,
    app: buildApp(deps, opts.middleware),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await running;
      await computes.stopAll();
      await storage.close();
      usage!.accountOpen();
      await usage!.flush().catch(() => {});
      await store.close();
    },
  };
}
