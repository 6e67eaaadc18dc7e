import type { Duplex } from 'node:stream';

/** Request codes a client may send in place of a StartupMessage (PostgreSQL protocol §55.2). */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
/** PostgreSQL's own cap on a startup packet (MAX_STARTUP_PACKET_LENGTH). */
const MAX_STARTUP_LENGTH = 10_000;

export type FirstPacket =
  | { kind: 'ssl' | 'gss'; rest: Buffer }
  | { kind: 'cancel'; raw: Buffer; rest: Buffer }
  | { kind: 'startup'; raw: Buffer; protocol: number; params: Map<string, string>; rest: Buffer };

export class ProtocolViolation extends Error {}

function parsePacket(packet: Buffer, rest: Buffer): FirstPacket {
  const code = packet.readInt32BE(4);
  if (code === SSL_REQUEST) return { kind: 'ssl', rest };
  if (code === GSSENC_REQUEST) return { kind: 'gss', rest };
  if (code === CANCEL_REQUEST) return { kind: 'cancel', raw: packet, rest };
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
  return { kind: 'startup', raw: packet, protocol: code, params, rest };
}

/**
 * Reads one untyped startup-phase packet. The stream is left paused and whatever the client
 * sent after the packet (pipelined password or query messages) is handed back in `rest`, so
 * nothing is lost when the caller later pipes the stream onward.
 */
export function readFirstPacket(stream: Duplex, initial: Buffer = Buffer.alloc(0), timeoutMs = 30_000): Promise<FirstPacket> {
  return new Promise((resolve, reject) => {
    let buffered = initial;
    const cleanup = () => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onError);
      stream.pause();
    };
    const attempt = (): boolean => {
      if (buffered.length < 8) return false;
      const length = buffered.readInt32BE(0);
      if (length < 8 || length > MAX_STARTUP_LENGTH) {
        cleanup();
        reject(new ProtocolViolation('invalid length of startup packet'));
        return true;
      }
      if (buffered.length < length) return false;
      cleanup();
      try {
        resolve(parsePacket(buffered.subarray(0, length), buffered.subarray(length)));
      } catch (err) {
        reject(err);
      }
      return true;
    };
    const onData = (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : Buffer.from(chunk);
      attempt();
    };
    const onEnd = () => {
      cleanup();
      reject(new ProtocolViolation('connection closed before the startup packet'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    // A client that connects and says nothing must not hold a socket forever.
    const timer = setTimeout(() => {
      cleanup();
      reject(new ProtocolViolation('timeout waiting for the startup packet'));
    }, timeoutMs);
    if (attempt()) return;
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    stream.once('error', onError);
    stream.resume();
  });
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

export { PROTOCOL_3 };

/** A CancelRequest for one backend, as a client sends it on a fresh connection. */
export function cancelRequest(processId: number, secretKey: number): Buffer {
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(CANCEL_REQUEST, 4);
  packet.writeInt32BE(processId, 8);
  packet.writeInt32BE(secretKey, 12);
  return packet;
}

/** An ErrorResponse ('E') with the fields psql and pg print: severity, SQLSTATE, message. */
export function errorResponse(severity: 'FATAL' | 'ERROR', sqlState: string, message: string): Buffer {
  const fields = Buffer.from(`S${severity}\0V${severity}\0C${sqlState}\0M${message}\0\0`, 'utf8');
  const head = Buffer.alloc(5);
  head.write('E', 0, 'latin1');
  head.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
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
