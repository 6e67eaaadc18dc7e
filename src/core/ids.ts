/**
 * Identifiers: `<prefix>_<20 chars of [0-9a-z]>` (the wire contract's `db_…`, `ses_…` shape).
 * The random part is lowercase alphanumeric so ids are safe in token strings
 * (`dbl_<accountId>_<secret>`), provider resource names and Postgres role names.
 */
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const RANDOM_CHARS = 20; // ~103 bits

export type IdPrefix = 'acc' | 'tok' | 'db' | 'req' | 'mig' | 'ses' | 'orc' | 'bnd' | 'dsh' | 'sic';

export function newId(prefix: IdPrefix): string {
  // 252 is the largest multiple of 36 below 256: rejecting bytes above it keeps characters uniform.
  let out = '';
  while (out.length < RANDOM_CHARS) {
    for (const byte of crypto.getRandomValues(new Uint8Array(32))) {
      if (byte < 252 && out.length < RANDOM_CHARS) out += ALPHABET[byte % 36];
    }
  }
  return `${prefix}_${out}`;
}

export const ACCOUNT_ID_PATTERN = /^acc_[0-9a-z]{20}$/;

export function base64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64url(text: string): Uint8Array {
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
