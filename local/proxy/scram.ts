import crypto from 'node:crypto';
import { promisify } from 'node:util';

/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL's server side speaks it, against a role's
 * stored secret (`pg_authid.rolpassword`). Pure: no I/O, node:crypto only. The endpoint proxy
 * drives it over the wire protocol; SQL over HTTP uses `verifyPassword` on a plaintext password.
 */

export const SCRAM = 'SCRAM-SHA-256';
export const SCRAM_PLUS = 'SCRAM-SHA-256-PLUS';
/** The one channel binding type PostgreSQL supports (RFC 5929). */
export const TLS_SERVER_END_POINT = 'tls-server-end-point';
const KEY_LENGTH = 32;
const DEFAULT_ITERATIONS = 4096;

export interface ScramSecret {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** A malformed or inconsistent exchange: PostgreSQL answers these with 08P01. */
export class ScramProtocolError extends Error {}

const B64 = '[A-Za-z0-9+/]+={0,2}';
const SECRET = new RegExp(`^SCRAM-SHA-256\\$(\\d{1,7}):(${B64})\\$(${B64}):(${B64})$`);

/** Parses `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`; undefined for anything else (md5, none). */
export function parseScramSecret(text: string | undefined): ScramSecret | undefined {
  const match = text === undefined ? null : SECRET.exec(text);
  if (!match) return undefined;
  const secret = {
    iterations: Number(match[1]),
    salt: Buffer.from(match[2], 'base64'),
    storedKey: Buffer.from(match[3], 'base64'),
    serverKey: Buffer.from(match[4], 'base64'),
  };
  if (secret.iterations < 1 || secret.salt.length === 0) return undefined;
  if (secret.storedKey.length !== KEY_LENGTH || secret.serverKey.length !== KEY_LENGTH) return undefined;
  return secret;
}

const hmac = (key: Buffer, text: string | Buffer) => crypto.createHmac('sha256', key).update(text).digest();
const sha256 = (data: Buffer) => crypto.createHash('sha256').update(data).digest();

function keysFromSalted(salted: Buffer): { storedKey: Buffer; serverKey: Buffer } {
  return { storedKey: sha256(hmac(salted, 'Client Key')), serverKey: hmac(salted, 'Server Key') };
}

/** The stored form of a password, as PostgreSQL would make it (tests and fixtures). */
export function scramSecret(password: string, salt = crypto.randomBytes(16), iterations = DEFAULT_ITERATIONS): string {
  const salted = crypto.pbkdf2Sync(saslPrep(password), salt, iterations, KEY_LENGTH, 'sha256');
  const { storedKey, serverKey } = keysFromSalted(salted);
  return `${SCRAM}$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * A secret no proof matches, for a role that does not exist or may not log in: the exchange
 * then runs to its end and fails like a wrong password, so role names cannot be probed. The
 * salt is derived from the name with a per-process key, so asking twice shows the same salt,
 * as a real role's would.
 */
export function mockSecret(user: string, key: Buffer): ScramSecret {
  return {
    iterations: DEFAULT_ITERATIONS,
    salt: hmac(key, `salt\0${user}`).subarray(0, 16),
    storedKey: crypto.randomBytes(KEY_LENGTH),
    serverKey: crypto.randomBytes(KEY_LENGTH),
  };
}

// RFC 3454 table C.1.2 (non-ASCII spaces, mapped to SPACE) and B.1 (mapped to nothing).
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;
// eslint-disable-next-line no-misleading-character-class
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;
// Prohibited output (RFC 4013 §2.3), the common part: controls, private use, surrogates, non-characters.
const PROHIBITED = /[\u0000-\u001F\u007F-\u009F\uE000-\uF8FF\uFFF9-\uFFFF]|\p{Cs}/u;

/**
 * SASLprep (RFC 4013) of a password, as PostgreSQL applies it before hashing: ASCII passwords
 * (every password the API makes) are left alone; others are mapped and NFKC-normalised. Like
 * PostgreSQL, a password SASLprep refuses is used as it is. The bidirectional-text rule is not
 * checked, so a few exotic right-to-left passwords may hash differently from the server.
 */
export function saslPrep(password: string): string {
  if (/^[\x00-\x7F]*$/.test(password)) return password;
  const prepped = password.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC');
  return PROHIBITED.test(prepped) || prepped === '' ? password : prepped;
}

const pbkdf2 = promisify(crypto.pbkdf2);

/** Checks a plaintext password against a secret (constant-time on StoredKey); PBKDF2 runs off the event loop. */
export async function verifyPassword(secret: ScramSecret, password: string): Promise<boolean> {
  const salted = await pbkdf2(saslPrep(password), secret.salt, secret.iterations, KEY_LENGTH, 'sha256');
  return crypto.timingSafeEqual(keysFromSalted(salted).storedKey, secret.storedKey);
}

/** A SCRAM attribute list `a=…,b=…` in order; values may contain '=' but never ','. */
function attributes(text: string): [string, string][] {
  return text.split(',').map((part) => {
    if (!/^[A-Za-z]=/.test(part)) throw new ScramProtocolError(`malformed SCRAM message: "${part.slice(0, 20)}"`);
    return [part[0], part.slice(2)];
  });
}

const PRINTABLE_NONCE = /^[\x21-\x2B\x2D-\x7E]+$/;

export interface ClientFirst {
  /** `n` no channel binding, `y` client could but thinks the server cannot, `p` binding used. */
  cbind: 'n' | 'y' | 'p';
  cbName?: string;
  /** `gs2-header` as sent (e.g. `n,,`), echoed back base64 in the final message. */
  gs2Header: string;
  bare: string;
  nonce: string;
}

export function parseClientFirst(message: string): ClientFirst {
  const match = /^(n|y|p=([A-Za-z0-9.-]+)),([^,]*),(.*)$/s.exec(message);
  if (!match) throw new ScramProtocolError('malformed SCRAM message: unexpected channel-binding flag');
  if (match[3] !== '') throw new ScramProtocolError('client uses authorization identity, but it is not supported');
  const bare = match[4];
  const attrs = attributes(bare);
  if (attrs[0]?.[0] === 'm') throw new ScramProtocolError('client requires an unsupported SCRAM extension');
  if (attrs[0]?.[0] !== 'n' || attrs[1]?.[0] !== 'r') throw new ScramProtocolError('malformed SCRAM message: expected n= then r=');
  const nonce = attrs[1][1];
  if (!PRINTABLE_NONCE.test(nonce)) throw new ScramProtocolError('malformed SCRAM message: invalid nonce');
  const cbind = match[1].startsWith('p=') ? 'p' : (match[1] as 'n' | 'y');
  return { cbind, cbName: match[2], gs2Header: `${match[1]},,`, bare, nonce };
}

/**
 * The server side of one exchange. `channelBinding` is the tls-server-end-point data (the hash
 * of the server certificate) when the client came over TLS, and only then is PLUS offered.
 */
export class ScramServer {
  private first?: ClientFirst;
  private serverFirst?: string;
  private nonce?: string;

  constructor(
    private readonly secret: ScramSecret,
    private readonly channelBinding?: Buffer,
    private readonly serverNonce = crypto.randomBytes(18).toString('base64'),
  ) {}

  /** The mechanisms to offer, best first; never PLUS without TLS. */
  mechanisms(): string[] {
    return this.channelBinding ? [SCRAM_PLUS, SCRAM] : [SCRAM];
  }

  /** Takes the SASLInitialResponse; returns server-first-message. */
  start(mechanism: string, clientFirst: string): string {
    if (!this.mechanisms().includes(mechanism)) throw new ScramProtocolError(`client selected an invalid SASL authentication mechanism`);
    const first = parseClientFirst(clientFirst);
    if (mechanism === SCRAM_PLUS) {
      if (first.cbind !== 'p' || first.cbName !== TLS_SERVER_END_POINT) {
        throw new ScramProtocolError(`channel binding type must be ${TLS_SERVER_END_POINT} with ${SCRAM_PLUS}`);
      }
    } else if (first.cbind === 'p') {
      throw new ScramProtocolError('channel binding requested without SCRAM-SHA-256-PLUS');
    } else if (first.cbind === 'y' && this.channelBinding) {
      // The client would bind but believes the server cannot: PLUS was offered, so someone
      // between us removed it (RFC 5802 §6, a downgrade).
      throw new ScramProtocolError('SCRAM channel binding negotiation error');
    }
    this.first = first;
    this.nonce = first.nonce + this.serverNonce;
    this.serverFirst = `r=${this.nonce},s=${this.secret.salt.toString('base64')},i=${this.secret.iterations}`;
    return this.serverFirst;
  }

  /**
   * Takes client-final-message. `ok` is false for a wrong password (or a mock secret); a
   * malformed message or a mismatched nonce or binding throws.
   */
  finish(clientFinal: string): { ok: true; serverFinal: string } | { ok: false } {
    const { first, serverFirst, nonce } = this;
    if (!first || !serverFirst || !nonce) throw new ScramProtocolError('SCRAM final message before the first');
    const at = clientFinal.lastIndexOf(',p=');
    if (at < 0) throw new ScramProtocolError('malformed SCRAM message: no proof');
    const withoutProof = clientFinal.slice(0, at);
    const proof = Buffer.from(clientFinal.slice(at + 3), 'base64');
    const attrs = attributes(withoutProof);
    if (attrs[0]?.[0] !== 'c' || attrs[1]?.[0] !== 'r') throw new ScramProtocolError('malformed SCRAM message: expected c= then r=');
    const binding = Buffer.from(first.gs2Header, 'utf8');
    const expected = first.cbind === 'p' ? Buffer.concat([binding, this.channelBinding!]) : binding;
    if (!crypto.timingSafeEqual(sha256(Buffer.from(attrs[0][1], 'base64')), sha256(expected))) {
      throw new ScramProtocolError('SCRAM channel binding check failed');
    }
    if (attrs[1][1] !== nonce) throw new ScramProtocolError('SCRAM nonce mismatch');
    if (proof.length !== KEY_LENGTH) throw new ScramProtocolError('malformed SCRAM message: invalid proof length');
    const authMessage = `${first.bare},${serverFirst},${withoutProof}`;
    const signature = hmac(this.secret.storedKey, authMessage);
    const clientKey = Buffer.alloc(KEY_LENGTH);
    for (let i = 0; i < KEY_LENGTH; i++) clientKey[i] = proof[i] ^ signature[i];
    if (!crypto.timingSafeEqual(sha256(clientKey), this.secret.storedKey)) return { ok: false };
    return { ok: true, serverFinal: `v=${hmac(this.secret.serverKey, authMessage).toString('base64')}` };
  }
}
