import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { adminRoutes } from './admin';
import type { LocalStackConfig } from './config';
import { FaultInjector } from './faults';
import { ConnectRefused, type ComputeGate } from './hooks';
import { loopbackHostOnly } from './loopback-host';
import { generalError } from './neon-error';
import { createNeonApi, type NeonApi } from './neon-api/index';
import { startCluster, type Cluster } from './postgres/cluster';
import { mountXfsImage } from './postgres/xfs-volume';
import { startSqlProxy, type SqlProxy } from './proxy/index';
import { RateLimiter } from './rate-limit';
import { RequestStats } from './request-stats';

export interface LocalStack {
  /** The configuration in force, with the ports actually bound. */
  config: LocalStackConfig;
  urls: {
    /** Neon API v2 base, e.g. http://127.0.0.1:4100/api/v2 */
    api: string;
    /** SQL over HTTP (`POST /sql`) and the WebSocket relay (`/v2?address=`). */
    proxy: string;
  };
  cluster: Cluster;
  api: NeonApi;
  proxy: SqlProxy;
  faults: FaultInjector;
  limiter: RateLimiter;
  stats: RequestStats;
  stop(): Promise<void>;
}

function listen(app: Hono, host: string, port: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(server));
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `API port ${host}:${port} is already in use; stop what holds it or set DBLEASE_LOCAL_API_PORT`
            : `cannot listen on ${host}:${port}: ${err.message}`,
        ),
      ),
    );
  });
}

/**
 * Starts the whole local stack in this process: PostgreSQL, the SQL proxies, and the
 * Neon-compatible API with its fault injection, rate limit and counters in front.
 */
export async function startLocalStack(base: LocalStackConfig): Promise<LocalStack> {
  // The opt-in XFS volume is mounted before anything writes to the data folder, and unmounted last.
  const volume = base.xfsImage && (await mountXfsImage(base.xfsImage, base.dataDir, base.log));
  const cluster = await startCluster({
    dataDir: base.dataDir,
    host: base.host,
    port: base.pgInternalPort,
    log: base.log,
  }).catch(async (err) => {
    await volume?.unmount().catch(() => {});
    throw err;
  });
  const stopping: (() => Promise<unknown>)[] = [...(volume ? [() => volume.unmount()] : []), () => cluster.stop()];
  const stopAll = async () => {
    for (const stop of stopping.reverse()) await stop().catch(() => {});
  };

  try {
    // The proxies and the control plane need each other; the proxies start first (the API
    // opens a listener per existing endpoint at start-up) and reach the gate once it exists.
    let api: NeonApi | undefined;
    const gate: ComputeGate = {
      resolve: (host) => api?.gate.resolve(host),
      ensureAwake: (id) => (api ? api.gate.ensureAwake(id) : Promise.reject(new ConnectRefused('the local stack is starting', '57P03'))),
      roleSecret: (id, role) => (api ? api.gate.roleSecret(id, role) : Promise.resolve(undefined)),
      connectionOpened: (id) => api?.gate.connectionOpened(id),
      connectionClosed: (id) => api?.gate.connectionClosed(id),
    };
    const proxy = await startSqlProxy({ config: base, gate, log: base.log });
    stopping.push(() => proxy.close());
    const config: LocalStackConfig = { ...base, pgPort: proxy.pgPort, proxyPort: proxy.httpPort };

    const faults = new FaultInjector();
    faults.add(config.faults);
    const limiter = new RateLimiter(config.rateLimit);
    const stats = new RequestStats();
    // Claim links name the API port, which is known once the server listens below.
    let apiOrigin = `http://${config.host}:${config.apiPort}`;
    api = await createNeonApi({
      config,
      cluster,
      proxy,
      apiOrigin: () => apiOrigin,
      middleware: [stats.middleware(), limiter.middleware(), faults.middleware('/api/v2')],
    });
    stopping.push(() => api!.close());

    const app = new Hono()
      // Before auth and everything else: a rebound browser page gets nothing, not even a 401.
      .use('*', loopbackHostOnly())
      .route(
        '/',
        new Hono()
          .use('/_admin/*', bearerAuth({ token: config.apiKey }))
          .route('/_admin', adminRoutes({ faults, limiter, stats, orgs: api.orgs })),
      )
      .get('/healthz', (c) => c.json({ ok: true }))
      .route('/', api.app)
      // Only the outermost app's notFound runs: unknown paths and methods anywhere on the port.
      .notFound((c) => generalError(c, 404, `no route for ${c.req.method} ${c.req.path}`, 'NOT_FOUND'));
    const server = await listen(app, config.host, config.apiPort);
    stopping.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        }),
    );
    const apiPort = (server.address() as AddressInfo).port;
    apiOrigin = `http://${config.host}:${apiPort}`;
    const finalConfig = { ...config, apiPort };
    return {
      config: finalConfig,
      urls: { api: `http://${config.host}:${apiPort}/api/v2`, proxy: `http://${config.host}:${proxy.httpPort}` },
      cluster,
      api,
      proxy,
      faults,
      limiter,
      stats,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
