import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { ConnectRefused, type ComputeAddress, type ComputeGate, type EndpointTarget } from '../hooks.js';
import type { ServerTls } from '../tls/index.js';
import { authenticateClient } from './client-auth.js';
import { SuperuserRefused, openComputeSession, type ComputeSession } from './compute-session.js';
import { CancelKeys, Refusal, sendCancel } from './compute-socket.js';
import { FrameReader } from './frames.js';
import { parseScramSecret } from './scram.js';
import { acceptTls, ALPN_POSTGRESQL } from './tls-upgrade.js';
import {
  NEWEST_MINOR,
  ProtocolViolation,
  TLS_HANDSHAKE_BYTE,
  errorResponse,
  negotiateProtocolVersion,
  parsePacket,
  takeEndpointOption,
  type FirstPacket,
} from './wire.js';

export interface EndpointProxyDeps {
  gate: ComputeGate;
  log: (line: string) => void;
  /** The install's certificate; without it every SSLRequest is answered 'N'. */
  tls?: ServerTls;
  connectTimeoutMs?: number;
  wakeTimeoutMs?: number;
}

/** How long a closing side may take to flush before it is cut. */
const CLOSE_GRACE_MS = 2_000;
const READ_ONLY = 'default_transaction_read_only';

/** gate.ensureAwake, bounded: a compute that never wakes must not hold the client forever. */
export function awaitAwake(gate: ComputeGate, endpointId: string, ms: number): Promise<ComputeAddress> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectRefused(`endpoint ${endpointId} did not become ready within ${ms / 1000} s`, '57P03')), ms);
  });
  return Promise.race([gate.ensureAwake(endpointId), timeout]).finally(() => clearTimeout(timer));
}

/** Asks the gate for a role's secret; a failure there is the compute's trouble, not a wrong password. */
export async function roleSecret(
  gate: ComputeGate,
  endpointId: string,
  role: string,
  log: (line: string) => void,
): Promise<string | undefined> {
  try {
    return await gate.roleSecret(endpointId, role);
  } catch (err) {
    if (err instanceof ConnectRefused) throw err;
    log(`endpoint proxy: reading a role of ${endpointId} failed: ${(err as Error).message}`);
    throw new Refusal('08006', 'could not read the role from the compute');
  }
}

/** Ends a stream politely so queued bytes (an ErrorResponse) reach the peer, then cuts it. */
function endGracefully(stream: Duplex): void {
  if (stream.destroyed) return;
  stream.end();
  const timer = setTimeout(() => stream.destroy(), CLOSE_GRACE_MS);
  timer.unref();
  stream.once('close', () => clearTimeout(timer));
}

/** The stream the client speaks on: the raw one, or the TLS socket over it once TLS is up. */
interface Conn {
  raw: Duplex;
  stream: Duplex;
  secure?: TLSSocket;
  reader: FrameReader;
}

/** `replication=…` asks for a walsender; a tenant never gets one ('false' and friends mean an ordinary session). */
const NOT_REPLICATION = new Set(['false', 'off', 'no', '0']);

/**
 * The PostgreSQL-protocol half of Neon's proxy: terminates TLS, authenticates the client with
 * SCRAM against the role's secret, and then pipes it to a trusted session on its endpoint's
 * compute. Takes any client byte stream: a TCP socket, or a WebSocket relayed in-process.
 */
export class EndpointProxy {
  /** Live client streams and the endpoint host they came in on (undefined: 127.0.0.1). */
  private readonly live = new Map<Duplex, string | undefined>();
  readonly cancelKeys = new CancelKeys();
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
    const conn: Conn = { raw: client, stream: client, reader: new FrameReader(client) };
    try {
      await this.route(conn, endpointHost);
    } catch (err) {
      const refusal =
        err instanceof Refusal || err instanceof ConnectRefused
          ? err
          : err instanceof ProtocolViolation
            ? new Refusal('08P01', err.message)
            : undefined;
      if (err instanceof SuperuserRefused) {
        this.deps.log(`endpoint proxy: refused a superuser session on a compute (the gate handed out a superuser's secret)`);
      }
      if (refusal && !conn.stream.destroyed) conn.stream.write(errorResponse('FATAL', refusal.sqlState, refusal.message));
      else if (!refusal && !conn.stream.destroyed) this.deps.log(`endpoint proxy: ${(err as Error).message}`);
      endGracefully(conn.stream);
    }
  }

  private async startTls(conn: Conn, direct: boolean): Promise<void> {
    const secure = await acceptTls(conn.raw, this.deps.tls!, { direct, initial: conn.reader.release(), timeoutMs: this.connectTimeoutMs });
    secure.once('close', () => conn.raw.destroy());
    Object.assign(conn, { stream: secure, secure, reader: new FrameReader(secure) });
    // PostgreSQL insists on ALPN for direct TLS, so a client cannot be confused about what it reached.
    if (direct && secure.alpnProtocol !== ALPN_POSTGRESQL) {
      throw new Refusal('08P01', `direct TLS connection without ALPN protocol "${ALPN_POSTGRESQL}"`);
    }
  }

  private async route(conn: Conn, endpointHost: string | undefined): Promise<void> {
    // PostgreSQL 17+ clients may start TLS at once (sslnegotiation=direct) instead of asking.
    if (this.deps.tls && (await conn.reader.peek()) === TLS_HANDSHAKE_BYTE) await this.startTls(conn, true);
    let packet: FirstPacket = parsePacket(await conn.reader.packet());
    // libpq may ask for GSS encryption, then TLS, before the startup packet.
    for (let i = 0; packet.kind === 'ssl' || packet.kind === 'gss'; i++) {
      if (i > 2) throw new Refusal('08P01', 'too many encryption requests');
      if (packet.kind === 'ssl' && this.deps.tls && !conn.secure) {
        // Bytes sent after the request and before the answer would be read as if encrypted (CVE-2021-23214).
        if (conn.reader.pending) throw new Refusal('08P01', 'received unencrypted data after SSL request');
        conn.raw.write('S');
        await this.startTls(conn, false);
      } else {
        conn.stream.write('N');
      }
      packet = parsePacket(await conn.reader.packet());
    }
    if (packet.kind === 'cancel') {
      // The key came from the compute through a piped session, so only that compute hears it.
      const compute = this.cancelKeys.find(packet.processId, packet.secretKey);
      if (compute) await sendCancel(compute, packet.raw, this.connectTimeoutMs);
      conn.stream.destroy();
      return;
    }
    if (packet.kind !== 'startup') throw new Refusal('08P01', 'expected a startup packet');
    await this.startSession(conn, endpointHost, packet.protocol, new Map(packet.params));
  }

  private resolveTarget(params: Map<string, string>, endpointHost: string | undefined): EndpointTarget {
    const { endpointId, remaining } = takeEndpointOption(params.get('options'));
    if (endpointId !== undefined) {
      if (remaining === undefined) params.delete('options');
      else params.set('options', remaining);
    }
    // Every session is a tenant's session on one endpoint: a startup packet that names none
    // (the shared 127.0.0.1 address without `endpoint=`) is refused here.
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
    return target;
  }

  private async startSession(conn: Conn, endpointHost: string | undefined, requested: number, params: Map<string, string>): Promise<void> {
    const { gate, log } = this.deps;
    // Newer minor versions and `_pq_.` options are negotiated down here, before authentication,
    // where clients expect NegotiateProtocolVersion; the compute then gets what it understands.
    const minor = Math.min(requested & 0xffff, NEWEST_MINOR);
    const unsupported = [...params.keys()].filter((key) => key.startsWith('_pq_.'));
    if (minor !== (requested & 0xffff) || unsupported.length) {
      conn.stream.write(negotiateProtocolVersion(minor, unsupported));
      for (const key of unsupported) params.delete(key);
    }
    const replication = params.get('replication');
    if (replication !== undefined && !NOT_REPLICATION.has(replication.toLowerCase())) {
      throw new Refusal('28000', 'replication connections are not available through the endpoint proxy');
    }
    const target = this.resolveTarget(params, endpointHost);
    const user = params.get('user');
    if (!user) throw new Refusal('28000', 'no PostgreSQL user name specified in startup packet');

    const compute = await awaitAwake(gate, target.endpointId, this.wakeTimeoutMs);
    if (conn.stream.destroyed) return;
    const secret = parseScramSecret(await roleSecret(gate, target.endpointId, user, log));
    await authenticateClient({ client: conn.stream, reader: conn.reader, user, secret, tls: conn.secure });
    if (target.readOnly) {
      // As a startup parameter it is applied after `options`, so a client's own `-c` cannot undo it.
      params.set(READ_ONLY, 'on');
      params.set('options', `${params.get('options') ?? ''} -c ${READ_ONLY}=on`.trim());
    }
    const session = await openComputeSession({ compute, protocol: (3 << 16) | minor, params, user, timeoutMs: this.connectTimeoutMs });
    if (conn.stream.destroyed) {
      session.socket.destroy();
      return;
    }
    this.pipe(conn.stream, session, compute, target.endpointId, conn.reader.release());
  }

  private pipe(client: Duplex, session: ComputeSession, compute: ComputeAddress, endpointId: string, pending: Buffer): void {
    const { gate } = this.deps;
    const upstream = session.socket;
    gate.connectionOpened(endpointId);
    const forget = session.backendKey ? this.cancelKeys.add(session.backendKey.processId, session.backendKey.secretKey, compute) : () => {};
    let closed = false;
    const onClose = (side: 'client' | 'upstream') => {
      if (!closed) {
        closed = true;
        forget();
        gate.connectionClosed(endpointId);
      }
      // PostgreSQL's last words (a FATAL) must still reach the client; the client's last bytes
      // are a Terminate that PostgreSQL does not need.
      if (side === 'upstream') endGracefully(client);
      else upstream.destroy();
    };
    upstream.once('close', () => onClose('upstream'));
    client.once('close', () => onClose('client'));
    client.write(Buffer.concat([session.greeting, session.rest]));
    if (pending.length) upstream.write(pending);
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
