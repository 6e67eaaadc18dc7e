/**
 * The account tag: an HMAC-SHA-256 over the account id under the `DBLEASE_SIGNING_KEY` secret,
 * carried in every token next to the id. The Worker checks it before it touches any Durable
 * Object, so a token for an account dblease never issued is refused without creating, waking
 * or storing anything: account ids in tokens cannot be forged or enumerated.
 */
import { decodeKey } from '../crypto/key-material';
import { signingKeyMaterial } from '../secrets';
import { constantTimeEqual } from './tokens';

/** 16 bytes of the MAC, as 32 lowercase hex digits. */
export const TAG_HEX_LENGTH = 32;
const CONTEXT = 'dblease/account-tag/v1:';

/** One imported key per secret value per isolate: importing costs more than the MAC. */
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(env: Parameters<typeof signingKeyMaterial>[0]): Promise<CryptoKey> {
  const text = signingKeyMaterial(env);
  let key = keys.get(text);
  if (!key) {
    const bytes = decodeKey('DBLEASE_SIGNING_KEY', text);
    key = crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    keys.set(text, key);
  }
  return key;
}

export async function accountTag(env: Parameters<typeof signingKeyMaterial>[0], accountId: string): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(env), new TextEncoder().encode(CONTEXT + accountId));
  return [...new Uint8Array(mac).slice(0, TAG_HEX_LENGTH / 2)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Whether `tag` is the account's tag, compared in constant time. */
export async function verifyAccountTag(env: Parameters<typeof signingKeyMaterial>[0], accountId: string, tag: string): Promise<boolean> {
  return constantTimeEqual(await accountTag(env, accountId), tag);
}
