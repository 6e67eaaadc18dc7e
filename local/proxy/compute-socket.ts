import net from 'node:net';
import path from 'node:path';
import type { ComputeAddress } from '../hooks.js';

/** The Unix socket a compute listens on: `<socketDir>/.s.PGSQL.<port>`, as libpq names it. */
export function socketPath(compute: ComputeAddress): string {
  return path.join(compute.socketDir, `.s.PGSQL.${compute.port}`);
}

/** One string per compute, for maps keyed by compute. */
export function computeKey(compute: ComputeAddress): string {
  return `${compute.socketDir}\0${compute.port}`;
}

/** Raised before piping starts; becomes one ErrorResponse (or one HTTP 400) for the client. */
export class Refusal extends Error {
  constructor(
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}

/** Opens a connection to a compute's private socket, bounded by `timeoutMs`. */
export function connectCompute(compute: ComputeAddress, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path: socketPath(compute) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Refusal('08006', 'timed out connecting to the compute'));
    }, timeoutMs);
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // The socket path names the stack's private folders; the client gets the reason only.
      reject(new Refusal('08006', `could not connect to the compute (${err.code ?? err.message})`));
    };
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
    socket.once('error', onError);
  });
}

/**
 * Delivers a CancelRequest to one compute. PostgreSQL closes the connection once it has read
 * it and sends no answer; a compute that is gone makes the cancel a no-op, as it would be.
 */
export function sendCancel(compute: ComputeAddress, packet: Buffer, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ path: socketPath(compute) });
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    socket.once('connect', () => socket.end(packet));
    socket.once('close', done);
    socket.once('error', done);
  });
}

/**
 * Which compute issued which cancel key (BackendKeyData) to a session piped through the proxy,
 * so a CancelRequest, which arrives on a fresh connection naming no endpoint, reaches that
 * compute and no other. Keys are compared whole: 4 bytes in protocol 3.0, up to 256 in 3.2.
 */
export class CancelKeys {
  private readonly keys = new Map<string, ComputeAddress>();

  private static id(processId: number, secretKey: Buffer): string {
    return `${processId}:${secretKey.toString('hex')}`;
  }

  /** Remembers a session's key; the returned function forgets it when the session ends. */
  add(processId: number, secretKey: Buffer, compute: ComputeAddress): () => void {
    const id = CancelKeys.id(processId, secretKey);
    this.keys.set(id, compute);
    return () => {
      if (this.keys.get(id) === compute) this.keys.delete(id);
    };
  }

  find(processId: number, secretKey: Buffer): ComputeAddress | undefined {
    return this.keys.get(CancelKeys.id(processId, secretKey));
  }

  get size(): number {
    return this.keys.size;
  }
}
