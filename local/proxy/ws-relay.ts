import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { ComputeGate } from '../hooks.js';
import { FOREIGN_HOST_MESSAGE, isLoopbackHost } from '../loopback-host.js';
import type { EndpointProxy } from './endpoint-proxy.js';

export interface RelayDeps {
  proxy: EndpointProxy;
  gate: ComputeGate;
  /** The endpoint proxy's port, the only port an `address` may name. */
  pgPort: () => number;
  /** Endpoint hosts the endpoint proxy currently listens on. */
  endpointHosts: () => ReadonlySet<string>;
  /** Browser origins allowed to open the relay (DBLEASE_LOCAL_ALLOWED_ORIGINS). */
  allowedOrigins: readonly string[];
  log: (line: string) => void;
}

type Decision = { endpointHost: string | undefined } | { status: number; reason: string };

const SHARED_HOSTS = new Set(['127.0.0.1', 'localhost']);

function splitHostPort(address: string): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address);
  if (!match) return undefined;
  return { host: match[1], port: Number(match[2]) };
}

function originAllowed(origin: string, allowed: readonly string[]): boolean {
  let normalised: string;
  try {
    normalised = new URL(origin).origin;
  } catch {
    return false;
  }
  return normalised !== 'null' && allowed.includes(normalised);
}

/**
 * Decides where an upgrade goes without opening any connection: the relay only ever reaches
 * the endpoint proxy, in-process, so it cannot be used to reach anything else.
 */
function decide(req: http.IncomingMessage, deps: RelayDeps): Decision {
  if (!isLoopbackHost(req.headers.host)) return { status: 403, reason: FOREIGN_HOST_MESSAGE };
  // WebSockets are exempt from CORS: without this any page the developer opens could speak
  // the PostgreSQL protocol to the stack from their browser. Node's ws and workerd send no Origin.
  const origin = req.headers.origin;
  if (origin !== undefined && !originAllowed(origin, deps.allowedOrigins)) {
    return { status: 403, reason: `origin ${origin} may not open the relay; list it in DBLEASE_LOCAL_ALLOWED_ORIGINS` };
  }
  const url = new URL(req.url ?? '/', 'http://relay.invalid');
  if (url.pathname !== '/' && url.pathname !== '/v2' && url.pathname !== '') {
    return { status: 404, reason: `no WebSocket relay at ${url.pathname}; use /v2?address=host:port` };
  }
  const address = url.searchParams.get('address');
  if (address === null) {
    // The driver's default wsProxy names no address and relies on the Host, as Neon routes by SNI.
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    if (deps.endpointHosts().has(host) || deps.gate.resolve(host)) return { endpointHost: host };
    return { status: 400, reason: 'missing address=host:port query parameter' };
  }
  const parsed = splitHostPort(address);
  if (!parsed) return { status: 400, reason: `address must be host:port, got "${address}"` };
  if (parsed.port !== deps.pgPort()) {
    return { status: 403, reason: `address ${address} is not a database endpoint of this stack` };
  }
  if (SHARED_HOSTS.has(parsed.host)) return { endpointHost: undefined };
  if (deps.endpointHosts().has(parsed.host)) return { endpointHost: parsed.host };
  return { status: 403, reason: `address ${address} is not a database endpoint of this stack` };
}

function refuse(socket: Duplex, status: number, reason: string): void {
  const text = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  );
}

export interface Relay {
  onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

/** wsproxy-compatible relay for Pool/Client of @neondatabase/serverless. */
export function createRelay(deps: RelayDeps): Relay {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  return {
    onUpgrade(req, socket, head) {
      socket.on('error', () => {});
      const decision = decide(req, deps);
      if ('status' in decision) {
        deps.log(`ws relay: refused ${req.url}: ${decision.reason}`);
        refuse(socket, decision.status, decision.reason);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        // The stream carries binary frames both ways and propagates backpressure to the socket.
        const stream = createWebSocketStream(ws);
        void deps.proxy.handle(stream, decision.endpointHost);
      });
    },
    close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
