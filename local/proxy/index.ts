import http from 'node:http';
import net from 'node:net';
import type { LocalStackConfig } from '../config.js';
import type { ComputeGate, ProxyConnections } from '../hooks.js';
import { FOREIGN_HOST_MESSAGE, isLoopbackHost } from '../loopback-host.js';
import { loadServerTls, type ServerTls } from '../tls/index.js';
import { EndpointProxy, normaliseAddress } from './endpoint-proxy.js';
import { PasswordCheck } from './password-check.js';
import { CORS_HEADERS, NEON_HTTP_LIMITS, PREFLIGHT_HEADERS, handleSql, type HttpLimits } from './sql-over-http.js';
import { UpstreamPool } from './upstream-pool.js';
import { createRelay } from './ws-relay.js';

export { NEON_HTTP_LIMITS, type HttpLimits } from './sql-over-http.js';

export interface SqlProxy extends ProxyConnections {
  /** SQL over HTTP and the WebSocket relay. */
  httpPort: number;
  /** The endpoint proxy, on 127.0.0.1 and on every endpoint host. */
  pgPort: number;
  /** The certificate the endpoint proxy presents, and where its CA is. */
  tls: ServerTls;
  /** Piped sessions whose cancel key the proxy remembers (each is forgotten when its session ends). */
  readonly cancelKeys: number;
  close(): Promise<void>;
}

export interface SqlProxyOptions {
  config: LocalStackConfig;
  gate: ComputeGate;
  log: (line: string) => void;
  /** Defaults to Neon's (10 MiB request, 10 MB response). */
  httpLimits?: Partial<HttpLimits>;
  /** How long an HTTP upstream connection may sit idle before it is closed. */
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Bound on gate.ensureAwake before the client is told the compute is unavailable. */
  wakeTimeoutMs?: number;
  /** Defaults to the install's own, made on first start in `<dataDir>/tls/`. */
  tls?: ServerTls;
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startSqlProxy(opts: SqlProxyOptions): Promise<SqlProxy> {
  const { config, gate, log } = opts;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  const wakeTimeoutMs = opts.wakeTimeoutMs ?? 60_000;
  const tls = opts.tls ?? (await loadServerTls(config.dataDir));
  if (tls.made !== 'nothing')
    log(`TLS: ${tls.made === 'server' ? 'issued a new server certificate' : 'made a CA and a server certificate'} in ${tls.paths.dir}`);
  const proxy = new EndpointProxy({ gate, log, tls, connectTimeoutMs, wakeTimeoutMs });
  const pool = new UpstreamPool({ connectTimeoutMs, idleTimeoutMs: opts.idleTimeoutMs ?? 5_000, maxIdlePerKey: 8 });
  const passwords = new PasswordCheck();
  const limits: HttpLimits = { ...NEON_HTTP_LIMITS, ...opts.httpLimits };

  const tcpServer = (endpointHost: string | undefined) =>
    net.createServer((socket) => {
      socket.setNoDelay(true);
      // Which listener accepted the socket is what names the endpoint, as SNI does at Neon.
      const host = endpointHost === undefined ? undefined : normaliseAddress(socket.localAddress);
      void proxy.handle(socket, host);
    });

  const shared = tcpServer(undefined);
  const pgPort = await listen(shared, config.pgPort, '127.0.0.1');
  const endpoints = new Map<string, net.Server>();
  const endpointHosts = new Set<string>();

  const relay = createRelay({
    proxy,
    gate,
    pgPort: () => pgPort,
    endpointHosts: () => endpointHosts,
    allowedOrigins: config.allowedOrigins,
    log,
  });
  const httpServer = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://proxy.invalid').pathname;
    if (!isLoopbackHost(req.headers.host)) {
      // DNS rebinding: no CORS header either, so not even the refusal is readable cross-origin.
      res.writeHead(403, { 'Content-Type': 'text/plain', Connection: 'close' }).end(FOREIGN_HOST_MESSAGE);
      req.resume();
    } else if (req.method === 'OPTIONS') {
      res.writeHead(200, PREFLIGHT_HEADERS).end();
    } else if (path === '/sql' && req.method === 'POST') {
      handleSql(req, res, { gate, pool, passwords, limits, wakeTimeoutMs, log }).catch((err: Error) => {
        log(`sql over http: ${err.message}`);
        if (!res.headersSent) res.writeHead(500, CORS_HEADERS);
        res.end();
      });
    } else {
      const body = path === '/sql' ? 'use POST /sql' : 'not found';
      res.writeHead(path === '/sql' ? 405 : 404, { ...CORS_HEADERS, 'Content-Type': 'text/plain' }).end(body);
    }
  });
  httpServer.on('upgrade', (req, socket, head) => relay.onUpgrade(req, socket, head));
  let httpPort: number;
  try {
    httpPort = await listen(httpServer, config.proxyPort, config.host);
  } catch (err) {
    await closeServer(shared);
    throw err;
  }
  log(`SQL proxy: PostgreSQL on 127.0.0.1:${pgPort}, HTTP and WebSocket on ${config.host}:${httpPort}`);

  return {
    httpPort,
    pgPort,
    tls,
    get cancelKeys() {
      return proxy.cancelKeys.size;
    },
    async listenEndpoint(host) {
      if (endpoints.has(host)) return;
      const server = tcpServer(host);
      endpoints.set(host, server);
      try {
        await listen(server, pgPort, host);
      } catch (err) {
        endpoints.delete(host);
        throw err;
      }
      endpointHosts.add(host);
    },
    async stopEndpoint(host) {
      const server = endpoints.get(host);
      if (!server) return;
      endpoints.delete(host);
      endpointHosts.delete(host);
      // A stopped endpoint has no compute behind it: its open sessions end with it.
      proxy.endConnections(host);
      await closeServer(server);
    },
    releaseIdle: (compute, role) => pool.releaseIdle(compute, role),
    async close() {
      relay.close();
      proxy.endConnections();
      httpServer.closeAllConnections();
      await Promise.all([closeServer(shared), closeServer(httpServer), ...[...endpoints.values()].map(closeServer), pool.close()]);
      endpoints.clear();
      endpointHosts.clear();
    },
  };
}
