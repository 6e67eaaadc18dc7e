/**
 * Sealing of secrets at rest (database passwords, idempotent responses that carry credentials):
 * AES-256-GCM under a key derived with HKDF-SHA-256 from the `DBLEASE_ENCRYPTION_KEY` secret.
 *
 * A sealed value is `v2.<key id>.<iv>.<ciphertext>` (base64url). The key id (src/crypto/
 * key-material.ts) names the key that sealed it, so the key can be rotated: values open under
 * any key of the ring (the current one and `DBLEASE_ENCRYPTION_KEYS_PREVIOUS`), and new values
 * are always sealed under the current one (README, "Rotating keys"). The caller's `context`
 * (for example the database id) is bound as additional authenticated data, so a sealed value
 * copied into another row does not open there.
 *
 * `v1.<iv>.<ciphertext>` values, from before key ids, were sealed under a key derived from the
 * secret's text; they still open under any key of the ring, and re-sealing upgrades them.
 */
import { base64url, fromBase64url } from '../ids';
import { encryptionKeyMaterial, previousEncryptionKeys } from '../secrets';
import { decodeKey, keyId } from './key-material';

const VERSION = 'v2';
const SALT = new TextEncoder().encode('dblease/sealed/v2');
const LEGACY_SALT = new TextEncoder().encode('dblease/sealed/v1');

async function aesKey(material: Uint8Array, salt: Uint8Array): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', material, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info: new TextEncoder().encode('aes-gcm') },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

interface RingKey {
  id: string;
  key: CryptoKey;
  /** For `v1.` values: the key derived from the secret's text, as before key ids. */
  legacy: CryptoKey;
}

async function ringKey(name: string, text: string): Promise<RingKey> {
  const bytes = decodeKey(name, text);
  return { id: await keyId(bytes), key: await aesKey(bytes, SALT), legacy: await aesKey(new TextEncoder().encode(text), LEGACY_SALT) };
}

export class Sealer {
  private constructor(
    private readonly current: RingKey,
    private readonly previous: RingKey[],
  ) {}

  /** The ring of keys the Worker's secrets name; a malformed key fails here, naming its secret. */
  static async fromEnv(env: Parameters<typeof encryptionKeyMaterial>[0]): Promise<Sealer> {
    return Sealer.fromKeys(encryptionKeyMaterial(env), previousEncryptionKeys(env));
  }

  static async fromKeys(current: string, previous: string[] = []): Promise<Sealer> {
    return new Sealer(
      await ringKey('DBLEASE_ENCRYPTION_KEY', current),
      await Promise.all(previous.map((k) => ringKey('DBLEASE_ENCRYPTION_KEYS_PREVIOUS', k))),
    );
  }

  /** The id of the key new values are sealed under. */
  get keyId(): string {
    return this.current.id;
  }

  /** Whether a sealed value is under another key than the current one (a rotation re-seals it). */
  isStale(sealed: string): boolean {
    return !sealed.startsWith(`${VERSION}.${this.current.id}.`);
  }

  async seal(plaintext: string, context: string): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(context) },
      this.current.key,
      new TextEncoder().encode(plaintext),
    );
    return `${VERSION}.${this.current.id}.${base64url(iv)}.${base64url(new Uint8Array(ct))}`;
  }

  async open(sealed: string, context: string): Promise<string> {
    const parts = sealed.split('.');
    const ring = [this.current, ...this.previous];
    if (parts[0] === VERSION && parts.length === 4) {
      const [, id, iv, ct] = parts as [string, string, string, string];
      const key = ring.find((k) => k.id === id);
      if (!key) throw new Error(`sealed under key ${id}, which is not configured`);
      return decrypt(key.key, iv, ct, context);
    }
    if (parts[0] === 'v1' && parts.length === 3) {
      for (const key of ring) {
        try {
          return await decrypt(key.legacy, parts[1]!, parts[2]!, context);
        } catch {
          // Not this key: try the next.
        }
      }
      throw new Error('sealed (v1) under no configured key');
    }
    throw new Error('unrecognised sealed value');
  }
}

async function decrypt(key: CryptoKey, iv: string, ct: string, context: string): Promise<string> {
  const pt = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: fromBase64url(iv), additionalData: new TextEncoder().encode(context) },
    key,
    fromBase64url(ct),
  );
  return new TextDecoder().decode(pt);
}
