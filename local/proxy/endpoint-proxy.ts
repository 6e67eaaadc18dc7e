import net from 'node:net';
import type { Duplex } from 'node:stream';
import { ConnectRefused, type ComputeGate } from '../hooks.js';
import { buildStartup, errorResponse, readFirstPacket, takeEndpointOption, type FirstPacket } from './wire.js';

export interface EndpointProxyDeps {
  gate: ComputeGate;
  log: (line: string) => void;
  /** The real PostgreSQL, always on 127.0.0.1. */
  upstreamPort: number;
  connectTimeoutMs?: number;
  wakeTimeoutMs?: number;
}

/** Raised before piping starts; becomes one ErrorResponse to the client. */
class Refusal extends Error {
  constructor(
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}

/** How long a closing side may take to flush before it is cut. */
const CLOSE_GRACE_MS = 2_000;

function connectUpstream(port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Refusal('08006', 'timed out connecting to the compute'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.setNoDelay(true);
      resolve(socket);
    });
    const onError = (err: Error) => {
      clearTimeout(timer);
      reject(new Refusal('08006', `could not connect to the compute: ${err.message}`));
    };
    socket.once('error', onError);
  });
}

/** gate.ensureAwake, bounded: a compute that never wakes must not hold the client forever. */
export function awaitAwake(gate: ComputeGate, endpointId: string, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectRefused(`endpoint ${endpointId} did not become ready within ${ms / 1000} s`, '57P03')), ms);
  });
  return Promise.race([gate.ensureAwake(endpointId), timeout]).finally(() => clearTimeout(timer));
}

/** Ends a stream politely so queued bytes (an ErrorResponse) reach the peer, then cuts it. */
function endGracefully(stream: Duplex): void {
  if (stream.destroyed) return;
  stream.end();
  const timer = setTimeout(() => stream.destroy(), CLOSE_GRACE_MS);
  timer.unref();
  stream.once('close', () => clearTimeout(timer));
}

/**
 * The PostgreSQL-protocol half of Neon's proxy: routes one client byte stream (a TCP socket,
 * or a WebSocket relayed in-process) to the real PostgreSQL with physical names.
 */
export class EndpointProxy {
  /** Live client streams and the endpoint host they came in on (undefined: 127.0.0.1). */
  private readonly live = new Map<Duplex, string | undefined>();
  private readonly connectTimeoutMs: number;
  private readonly wakeTimeoutMs: number;

  constructor(private readonly deps: EndpointProxyDeps) {
    this.connectTimeoutMs = deps.connectTimeoutMs ?? 10_000;
    this.wakeTimeoutMs = deps.wakeTimeoutMs ?? 60_000;
  }

  /** `endpointHost` is the endpoint's loopback address, or undefined for the shared 127.0.0.1 entry. */
  async handle(client: Duplex, endpointHost: string | undefined): Promise<void> {
    this.live.set(client, endpointHost);
    client.once('close', () => this.live.delete(client));
    client.on('error', () => {
      // A reset by the client is routine; 'close' follows and does the accounting.
    });
    try {
      await this.route(client, endpointHost);
    } catch (err) {
      if (err instanceof Refusal || err instanceof ConnectRefused) {
        if (!client.destroyed) client.write(errorResponse('FATAL', err.sqlState, err.message));
      } else if (!client.destroyed) {
        // A client that hangs up mid-handshake (a port probe, a closed tab) is not news.
        this.deps.log(`endpoint proxy: ${(err as Error).message}`);
      }
      endGracefully(client);
    }
  }

  private async route(client: Duplex, endpointHost: string | undefined): Promise<void> {
    let packet: FirstPacket = await readFirstPacket(client);
    // libpq tries GSS then TLS before the startup packet; there is no encryption locally.
    for (let i = 0; packet.kind === 'ssl' || packet.kind === 'gss'; i++) {
      if (i > 2) throw new Refusal('08P01', 'too many encryption requests');
      client.write('N');
      packet = await readFirstPacket(client, packet.rest);
    }
    if (packet.kind === 'cancel') {
      // The cancel key came from the real backend through the pipe, so PostgreSQL can match it.
      const upstream = await connectUpstream(this.deps.upstreamPort, this.connectTimeoutMs);
      upstream.on('error', () => {});
      upstream.end(packet.raw);
      client.destroy();
      return;
    }
    if (packet.kind !== 'startup') throw new Refusal('08P01', 'expected a startup packet');

    const params = new Map(packet.params);
    const { endpointId, remaining } = takeEndpointOption(params.get('options'));
    if (endpointId !== undefined) {
      if (remaining === undefined) params.delete('options');
      else params.set('options', remaining);
    }
    // Every session is a tenant's session on one endpoint: a startup packet that names none
    // (the shared 127.0.0.1 address without `endpoint=`) is refused here and never reaches the
    // real cluster, where its user name would be taken as is (`postgres` is the superuser).
    if (endpointHost === undefined && endpointId === undefined) {
      throw new Refusal(
        'XX000',
        "Endpoint ID is not specified: connect to the endpoint's own address (its host) or pass options=endpoint=<endpoint-id>",
      );
    }
    const target = this.deps.gate.resolve(endpointHost ?? endpointId!);
    if (!target) {
      throw new Refusal(
        'XX000',
        `The requested endpoint could not be found, or you don't have access to it. Please check the provided ID and try again.`,
      );
    }

    const user = params.get('user');
    if (!user) throw new Refusal('28000', 'no PostgreSQL user name specified in startup packet');
    const database = params.get('database') || user;
    const role = target.role(user);
    // Neon's wording: the same answer as a wrong password, so role names cannot be probed.
    if (!role) throw new Refusal('28P01', `password authentication failed for user '${user}'`);
    const physicalDb = target.database(database);
    if (!physicalDb) throw new Refusal('3D000', `database "${database}" does not exist`);
    params.set('user', role);
    params.set('database', physicalDb);
    const startup = buildStartup(packet.protocol, params);
    await awaitAwake(this.deps.gate, target.endpointId, this.wakeTimeoutMs);
    if (client.destroyed) return;

    const upstream = await connectUpstream(this.deps.upstreamPort, this.connectTimeoutMs);
    if (client.destroyed) {
      upstream.destroy();
      return;
    }
    this.pipe(client, upstream, target.endpointId, Buffer.concat([startup, packet.rest]));
  }

  private pipe(client: Duplex, upstream: net.Socket, endpointId: string, first: Buffer): void {
    const { gate } = this.deps;
    gate.connectionOpened(endpointId);
    let closed = false;
    const onClose = (side: 'client' | 'upstream') => {
      if (!closed) {
        closed = true;
        gate.connectionClosed(endpointId);
      }
      // PostgreSQL's last words (a FATAL) must still reach the client; the client's last bytes
      // are a Terminate that PostgreSQL does not need.
      if (side === 'upstream') endGracefully(client);
      else upstream.destroy();
    };
    upstream.on('error', () => {});
    upstream.once('close', () => onClose('upstream'));
    client.once('close', () => onClose('client'));
    upstream.write(first);
    client.pipe(upstream);
    upstream.pipe(client);
    if (client.destroyed) onClose('client');
  }

  /** Ends every client stream that came in through one endpoint host (or all when undefined). */
  endConnections(host?: string): void {
    for (const [stream, via] of this.live) {
      if (host === undefined || via === host) stream.destroy();
    }
  }

  get size(): number {
    return this.live.size;
  }
}

export function normaliseAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
