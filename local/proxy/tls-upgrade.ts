import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { ServerTls } from '../tls/index.js';

/** The ALPN protocol PostgreSQL 17+ clients send, and require for direct TLS. */
export const ALPN_POSTGRESQL = 'postgresql';

/**
 * Runs the server side of a TLS handshake on a client stream: after answering an SSLRequest
 * with 'S', or at once for direct TLS (`sslnegotiation=direct`, whose ClientHello the proxy has
 * already read as `initial`). Works on any Duplex, so a WebSocket stream can carry TLS too.
 */
export function acceptTls(
  stream: Duplex,
  serverTls: ServerTls,
  opts: { direct: boolean; initial?: Buffer; timeoutMs: number },
): Promise<tls.TLSSocket> {
  if (opts.initial?.length) stream.unshift(opts.initial);
  const socket = new tls.TLSSocket(stream as never, {
    isServer: true,
    secureContext: serverTls.context,
    ALPNProtocols: [ALPN_POSTGRESQL],
  });
  const handshake = new Promise<tls.TLSSocket>((resolve, reject) => {
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      stream.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error('timeout waiting for the TLS handshake')), opts.timeoutMs);
    socket.once('error', fail);
    socket.once('secure', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.on('error', () => {
        // A reset after the handshake is routine; 'close' follows.
      });
      resolve(socket);
    });
  });
  return handshake;
}
