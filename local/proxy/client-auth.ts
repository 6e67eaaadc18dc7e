import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { Refusal } from './compute-socket.js';
import type { FrameReader } from './frames.js';
import { ScramProtocolError, ScramServer, mockSecret, type ScramSecret } from './scram.js';
import { authenticationSasl, authenticationSaslContinue, authenticationSaslFinal, parseSaslInitialResponse } from './wire.js';

/** Salts of mock secrets for unknown roles: stable within a process, unguessable outside it. */
const MOCK_KEY = crypto.randomBytes(32);

/** Neon's wording for every failed login, whatever the cause, so role names cannot be probed. */
export function authFailed(user: string): Refusal {
  return new Refusal('28P01', `password authentication failed for user '${user}'`);
}

/**
 * The tls-server-end-point channel binding data (RFC 5929) of a TLS connection: the hash of
 * the certificate this server presented on it. The stack's certificates are signed with
 * SHA-256, so the hash is SHA-256 (RFC 5929 keeps the signature's hash, MD5 and SHA-1 aside).
 */
export function endPointBinding(socket: TLSSocket): Buffer | undefined {
  const cert = socket.getCertificate();
  const raw = cert && 'raw' in cert ? cert.raw : undefined;
  return raw ? crypto.createHash('sha256').update(raw).digest() : undefined;
}

async function saslResponse(reader: FrameReader): Promise<Buffer> {
  const { type, body } = await reader.message();
  if (type !== 'p') throw new Refusal('08P01', `expected SASL response, got message type ${JSON.stringify(type)}`);
  return body;
}

/**
 * Authenticates a client with SCRAM-SHA-256 against a role's secret, as PostgreSQL would, up
 * to and including AuthenticationSASLFinal; the compute answers AuthenticationOk itself. An
 * unknown role (`secret` undefined) runs the same exchange against a mock secret and fails at
 * the same point with the same message. `tls` is the client's TLS socket when it has one: only
 * then is SCRAM-SHA-256-PLUS offered.
 */
export async function authenticateClient(opts: {
  client: Duplex;
  reader: FrameReader;
  user: string;
  secret: ScramSecret | undefined;
  tls?: TLSSocket;
}): Promise<void> {
  const { client, reader, user } = opts;
  const server = new ScramServer(opts.secret ?? mockSecret(user, MOCK_KEY), opts.tls ? endPointBinding(opts.tls) : undefined);
  try {
    client.write(authenticationSasl(server.mechanisms()));
    const { mechanism, data } = parseSaslInitialResponse(await saslResponse(reader));
    client.write(authenticationSaslContinue(server.start(mechanism, data)));
    const result = server.finish((await saslResponse(reader)).toString('utf8'));
    if (!result.ok || !opts.secret) throw authFailed(user);
    client.write(authenticationSaslFinal(result.serverFinal));
  } catch (err) {
    throw err instanceof ScramProtocolError ? new Refusal('08P01', err.message) : err;
  }
}
