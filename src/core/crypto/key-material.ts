/**
 * Key material from Worker secrets. A key must be at least 32 random bytes, written as base64,
 * base64url or hex (`openssl rand -base64 32`). Anything shorter, or with the look of a
 * passphrase rather than random bytes, is a configuration error whose message names the secret
 * and what is wrong with it, never its value.
 */
import { Failure } from '../errors';

export const MIN_KEY_BYTES = 32;
/** 32 random bytes hold ~30 distinct values; fewer than 16 means they were not random. */
const MIN_DISTINCT_BYTES = 16;

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

function decode(text: string): Uint8Array | null {
  if (HEX.test(text)) return Uint8Array.from(text.match(/../g)!, (h) => parseInt(h, 16));
  if (!BASE64.test(text)) return null;
  try {
    const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

export const misconfigured = (message: string) => new Failure('misconfigured', message);

/** The key's bytes, or a `misconfigured` error naming `name` (the secret) and the problem. */
export function decodeKey(name: string, text: string): Uint8Array {
  const hint = `set it to at least ${MIN_KEY_BYTES} random bytes in base64 or hex, e.g. \`openssl rand -base64 32 | wrangler secret put ${name}\``;
  const bytes = decode(text.trim());
  if (!bytes) throw misconfigured(`the Worker secret ${name} is not base64 or hex; ${hint}`);
  if (bytes.byteLength < MIN_KEY_BYTES) {
    throw misconfigured(`the Worker secret ${name} decodes to ${bytes.byteLength} bytes, fewer than ${MIN_KEY_BYTES}; ${hint}`);
  }
  if (new Set(bytes).size < MIN_DISTINCT_BYTES) throw misconfigured(`the Worker secret ${name} does not look random; ${hint}`);
  return bytes;
}

/** A short public name of a key: the first 8 hex digits of SHA-256 over its bytes. */
export async function keyId(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest.slice(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
