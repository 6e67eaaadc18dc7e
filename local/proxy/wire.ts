/**
 * PostgreSQL frontend/backend protocol pieces the proxies build and parse (protocol
 * documentation, "Message Formats"). Pure: buffers in, buffers out.
 */

/** Request codes a client may send in place of a StartupMessage. */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
export const PROTOCOL_3 = 196608;
/** The newest minor protocol version PostgreSQL 18 speaks (3.2: longer cancel keys). */
export const NEWEST_MINOR = 2;
/** PostgreSQL's own cap on a startup packet (MAX_STARTUP_PACKET_LENGTH). */
export const MAX_STARTUP_LENGTH = 10_000;
/** The first byte of a TLS handshake record: a client using direct TLS (`sslnegotiation=direct`). */
export const TLS_HANDSHAKE_BYTE = 0x16;

export type FirstPacket =
  | { kind: 'ssl' | 'gss' }
  | { kind: 'cancel'; raw: Buffer; processId: number; secretKey: Buffer }
  | { kind: 'startup'; protocol: number; params: Map<string, string> };

export class ProtocolViolation extends Error {}

/** Parses one untyped startup-phase packet (length word included). */
export function parsePacket(packet: Buffer): FirstPacket {
  const code = packet.readInt32BE(4);
  if (code === SSL_REQUEST) return { kind: 'ssl' };
  if (code === GSSENC_REQUEST) return { kind: 'gss' };
  if (code === CANCEL_REQUEST) {
    // Protocol 3.0 keys are 4 bytes; 3.2 allows up to 256.
    if (packet.length < 16 || packet.length > 12 + 256) throw new ProtocolViolation('invalid length of cancel request packet');
    return { kind: 'cancel', raw: packet, processId: packet.readInt32BE(8), secretKey: packet.subarray(12) };
  }
  if (code >> 16 !== 3) throw new ProtocolViolation(`unsupported frontend protocol ${code >> 16}.${code & 0xffff}`);
  const params = new Map<string, string>();
  let at = 8;
  while (at < packet.length && packet[at] !== 0) {
    const keyEnd = packet.indexOf(0, at);
    const valueEnd = keyEnd < 0 ? -1 : packet.indexOf(0, keyEnd + 1);
    if (valueEnd < 0) throw new ProtocolViolation('invalid startup packet layout');
    params.set(packet.toString('utf8', at, keyEnd), packet.toString('utf8', keyEnd + 1, valueEnd));
    at = valueEnd + 1;
  }
  return { kind: 'startup', protocol: code, params };
}

export function buildStartup(protocol: number, params: Map<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of params) parts.push(Buffer.from(`${key}\0${value}\0`, 'utf8'));
  parts.push(Buffer.from([0]));
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(protocol, 4);
  return Buffer.concat([head, body]);
}

/** A CancelRequest for one backend, as a client sends it on a fresh connection. */
export function cancelRequest(processId: number, secretKey: number | Buffer): Buffer {
  const key = typeof secretKey === 'number' ? Buffer.alloc(4) : secretKey;
  if (typeof secretKey === 'number') key.writeInt32BE(secretKey);
  const packet = Buffer.alloc(12 + key.length);
  packet.writeInt32BE(packet.length, 0);
  packet.writeInt32BE(CANCEL_REQUEST, 4);
  packet.writeInt32BE(processId, 8);
  key.copy(packet, 12);
  return packet;
}

/** One typed backend message: type byte, length, body. */
export function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

/** An ErrorResponse ('E') with the fields psql and pg print: severity, SQLSTATE, message. */
export function errorResponse(severity: 'FATAL' | 'ERROR', sqlState: string, text: string): Buffer {
  return message('E', Buffer.from(`S${severity}\0V${severity}\0C${sqlState}\0M${text}\0\0`, 'utf8'));
}

function authentication(code: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(code);
  return message('R', Buffer.concat([head, data]));
}

export const AUTH_OK = 0;
const AUTH_SASL = 10;
const AUTH_SASL_CONTINUE = 11;
const AUTH_SASL_FINAL = 12;

/** AuthenticationSASL: the mechanisms the server offers, best first. */
export function authenticationSasl(mechanisms: string[]): Buffer {
  return authentication(AUTH_SASL, Buffer.from(mechanisms.map((m) => `${m}\0`).join('') + '\0', 'utf8'));
}

export function authenticationSaslContinue(data: string): Buffer {
  return authentication(AUTH_SASL_CONTINUE, Buffer.from(data, 'utf8'));
}

export function authenticationSaslFinal(data: string): Buffer {
  return authentication(AUTH_SASL_FINAL, Buffer.from(data, 'utf8'));
}

/** The body of a SASLInitialResponse ('p'): the chosen mechanism and the client-first-message. */
export function parseSaslInitialResponse(body: Buffer): { mechanism: string; data: string } {
  const end = body.indexOf(0);
  if (end < 0 || body.length < end + 5) throw new ProtocolViolation('malformed SASLInitialResponse');
  const length = body.readInt32BE(end + 1);
  const data = body.subarray(end + 5);
  if (length !== data.length) throw new ProtocolViolation('malformed SASLInitialResponse');
  return { mechanism: body.toString('utf8', 0, end), data: data.toString('utf8') };
}

/** NegotiateProtocolVersion ('v'): the newest minor version served and the `_pq_.` options not understood. */
export function negotiateProtocolVersion(minor: number, unsupported: string[]): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(minor, 0);
  head.writeInt32BE(unsupported.length, 4);
  return message('v', Buffer.concat([head, ...unsupported.map((name) => Buffer.from(`${name}\0`, 'utf8'))]));
}

/** ParameterStatus ('S') body: name and value. */
export function parseParameterStatus(body: Buffer): { name: string; value: string } {
  const end = body.indexOf(0);
  return { name: body.toString('utf8', 0, end), value: body.toString('utf8', end + 1, body.length - 1) };
}

/**
 * Neon names the endpoint of a client without SNI in `options`: `endpoint=ep-…` (or
 * `--endpoint=ep-…`), possibly among `-c name=value` settings. Returns the id and the options
 * left for PostgreSQL, which would reject the unknown setting.
 */
export function takeEndpointOption(options: string | undefined): { endpointId?: string; remaining?: string } {
  if (options === undefined) return {};
  const tokens = options.split(/\s+/).filter(Boolean);
  let endpointId: string | undefined;
  const kept: string[] = [];
  for (const token of tokens) {
    const match = /^(?:--)?endpoint=(.+)$/.exec(token);
    if (!match) kept.push(token);
    else {
      endpointId = match[1];
      if (kept.at(-1) === '-c') kept.pop();
    }
  }
  if (endpointId === undefined) return { remaining: options };
  return { endpointId, remaining: kept.length ? kept.join(' ') : undefined };
}
