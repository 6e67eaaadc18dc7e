import type net from 'node:net';
import type { ComputeAddress } from '../hooks.js';
import { authFailed } from './client-auth.js';
import { Refusal, connectCompute } from './compute-socket.js';
import { FrameReader } from './frames.js';
import { AUTH_OK, buildStartup, parseParameterStatus } from './wire.js';

export interface ComputeSession {
  socket: net.Socket;
  /** The compute's answer to the startup packet, up to ReadyForQuery or its ErrorResponse, to pass on. */
  greeting: Buffer;
  /** Bytes after the greeting (none, in practice), to pass on after it. */
  rest: Buffer;
  /** BackendKeyData, for routing a later CancelRequest; absent if the compute refused the session. */
  backendKey?: { processId: number; secretKey: Buffer };
}

/** The compute started a superuser's session: refused as a failed login, and worth a log line (the gate let it through). */
export class SuperuserRefused extends Refusal {}

/** A startup answer can carry many ParameterStatus messages, never a large one. */
const MAX_GREETING_MESSAGE = 1 << 20;

/**
 * Opens a trusted session on a compute for a client the proxy has authenticated: sends the
 * startup packet on the compute's private socket and reads its answer before any of it reaches
 * the client. Two checks hold even if the gate were wrong: the compute must trust the proxy
 * (any request for a password is refused, never relayed) and the session must not be a
 * superuser's (PostgreSQL reports `is_superuser` at start).
 */
export async function openComputeSession(opts: {
  compute: ComputeAddress;
  protocol: number;
  params: Map<string, string>;
  user: string;
  timeoutMs: number;
}): Promise<ComputeSession> {
  const socket = await connectCompute(opts.compute, opts.timeoutMs);
  socket.setNoDelay(true);
  socket.on('error', () => {
    // Reported through the reader or, once piping, by 'close'.
  });
  try {
    socket.write(buildStartup(opts.protocol, opts.params));
    const reader = new FrameReader(socket, undefined, opts.timeoutMs);
    const frames: Buffer[] = [];
    let backendKey: ComputeSession['backendKey'];
    for (;;) {
      const { type, body, frame } = await reader.message(MAX_GREETING_MESSAGE);
      if (type === 'R' && body.readInt32BE(0) !== AUTH_OK) {
        throw new Refusal('08006', 'the compute asked the proxy for a password; it must trust the proxy on its private socket');
      }
      if (type === 'S') {
        const { name, value } = parseParameterStatus(body);
        if (name === 'is_superuser' && value === 'on') throw new SuperuserRefused('28P01', authFailed(opts.user).message);
      }
      if (type === 'K') backendKey = { processId: body.readInt32BE(0), secretKey: Buffer.from(body.subarray(4)) };
      frames.push(frame);
      if (type === 'E') return { socket, greeting: Buffer.concat(frames), rest: reader.release() };
      if (type === 'Z') return { socket, greeting: Buffer.concat(frames), rest: reader.release(), backendKey };
    }
  } catch (err) {
    socket.destroy();
    if (err instanceof Refusal) throw err;
    throw new Refusal('08006', `the compute did not start the session: ${(err as Error).message}`);
  }
}
