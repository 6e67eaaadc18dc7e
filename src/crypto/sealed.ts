/**
 * Sealing of secrets at rest (database passwords, idempotent responses that carry credentials):
 * AES-256-GCM under a key derived with HKDF-SHA-256 from the `DBLEASE_ENCRYPTION_KEY` secret.
 *
 * A sealed value is `v1.<iv>.<ciphertext>` (base64url). The caller's `context` (for example the
 * database id) is bound as additional authenticated data, so a sealed value copied into another
 * row does not open there.
 */
import { base64url, fromBase64url } from '../ids';

const VERSION = 'v1';
const HKDF_SALT = new TextEncoder().encode('dblease/sealed/v1');

export class Sealer {
  private constructor(private readonly key: CryptoKey) {}

  static async fromSecret(secret: string): Promise<Sealer> {
    const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), 'HKDF', false, ['deriveKey']);
    const key = await crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: HKDF_SALT, info: new TextEncoder().encode('aes-gcm') },
      material,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt', 'decrypt'],
    );
    return new Sealer(key);
  }

  async seal(plaintext: string, context: string): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(context) },
      this.key,
      new TextEncoder().encode(plaintext),
    );
    return `${VERSION}.${base64url(iv)}.${base64url(new Uint8Array(ct))}`;
  }

  async open(sealed: string, context: string): Promise<string> {
    const [version, iv, ct] = sealed.split('.');
    if (version !== VERSION || !iv || !ct) throw new Error('unrecognised sealed value');
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64url(iv), additionalData: new TextEncoder().encode(context) },
      this.key,
      fromBase64url(ct),
    );
    return new TextDecoder().decode(pt);
  }
}
