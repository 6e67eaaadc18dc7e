import { describe, expect, it } from 'vitest';
import { constantTimeEqual, generateToken, hasScope, parseToken } from '../../../src/core/auth/tokens';
import { Sealer } from '../../../src/core/crypto/sealed';
import { Failure } from '../../../src/core/errors';
import { base64url, newId } from '../../../src/core/ids';
import { decodeKey } from '../../../src/core/crypto/key-material';
import { accountTag, verifyAccountTag } from '../../../src/core/auth/account-tag';
import {
  DEVELOPMENT_ENCRYPTION_KEY,
  DEVELOPMENT_OPERATOR_TOKEN,
  DEVELOPMENT_SIGNING_KEY,
  encryptionKeyMaterial,
  operatorToken,
} from '../../../src/core/secrets';

describe('development fallbacks for secrets', () => {
  it('apply only when DBLEASE_ENV is development', () => {
    expect(operatorToken({ DBLEASE_ENV: 'development' })).toBe(DEVELOPMENT_OPERATOR_TOKEN);
    for (const env of [
      {},
      { DBLEASE_ENV: 'production' },
      { DBLEASE_ENV: 'Development' },
      { DBLEASE_ENV: 'production', DBLEASE_OPERATOR_TOKEN: '' },
    ]) {
      expect(() => operatorToken(env), JSON.stringify(env)).toThrow(Failure);
      expect(() => encryptionKeyMaterial(env)).toThrow(Failure);
    }
  });
  it('never replace a secret that is set', () => {
    expect(operatorToken({ DBLEASE_ENV: 'development', DBLEASE_OPERATOR_TOKEN: 'real' })).toBe('real');
    expect(encryptionKeyMaterial({ DBLEASE_ENCRYPTION_KEY: 'k' })).toBe('k');
  });
  it('development keys are themselves valid keys', () => {
    expect(decodeKey('DBLEASE_ENCRYPTION_KEY', DEVELOPMENT_ENCRYPTION_KEY).byteLength).toBe(32);
    expect(decodeKey('DBLEASE_SIGNING_KEY', DEVELOPMENT_SIGNING_KEY).byteLength).toBe(32);
  });
});

describe('key material', () => {
  const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

  it('accepts 32 or more random bytes as base64, base64url or hex', () => {
    const bytes = random(32);
    for (const text of [b64(bytes), base64url(bytes), hex(bytes), hex(bytes).toUpperCase(), ` ${b64(bytes)}\n`]) {
      expect(decodeKey('K', text), text).toEqual(bytes);
    }
    expect(decodeKey('K', b64(random(64))).byteLength).toBe(64);
  });
  it('refuses short, non-random or undecodable keys with a message naming the secret, never its value', () => {
    const cases: [string, RegExp][] = [
      [b64(random(16)), /decodes to 16 bytes, fewer than 32/],
      ['dblease-dev-encryption-key-not-for-production', /not base64 or hex/],
      [b64(new Uint8Array(32).fill(7)), /does not look random/],
      ['', /not base64 or hex/],
    ];
    for (const [text, why] of cases) {
      let thrown: unknown;
      try {
        decodeKey('DBLEASE_ENCRYPTION_KEY', text);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, text).toBeInstanceOf(Failure);
      const err = thrown as Failure;
      expect(err.code).toBe('misconfigured');
      expect(err.message).toMatch(/DBLEASE_ENCRYPTION_KEY/);
      expect(err.message).toMatch(why);
      if (text) expect(err.message).not.toContain(text);
    }
  });
});

describe('token strings', () => {
  const tag = 'a'.repeat(32);
  it('round-trip dbl_<account>_<tag>_<secret>, with 32 random bytes of secret', () => {
    const account = newId('acc');
    const { token, secret } = generateToken(account, tag);
    expect(token).toMatch(/^dbl_acc_[0-9a-z]{20}_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    expect(parseToken(token)).toEqual({ accountId: account, tag, secret });
    expect(generateToken(account, tag).secret).not.toBe(secret);
  });
  it('reject anything else', () => {
    const { token } = generateToken(newId('acc'), tag);
    const untagged = token.replace(`_${tag}`, '');
    for (const bad of [
      '',
      'dbl_',
      token.slice(0, -1),
      `${token}x`,
      token.replace('dbl_', 'dbx_'),
      untagged,
      `dbl_acc_short_${tag}_${'a'.repeat(43)}`,
    ]) {
      expect(parseToken(bad), bad).toBeNull();
    }
  });
  it('account tags are an HMAC of the id under the signing key', async () => {
    const env = { DBLEASE_SIGNING_KEY: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))) };
    const other = { DBLEASE_SIGNING_KEY: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))) };
    const [a, b] = [newId('acc'), newId('acc')];
    const tagA = await accountTag(env, a);
    expect(tagA).toMatch(/^[0-9a-f]{32}$/);
    expect(await accountTag(env, a)).toBe(tagA);
    expect(await verifyAccountTag(env, a, tagA)).toBe(true);
    expect(await verifyAccountTag(env, b, tagA)).toBe(false);
    expect(await verifyAccountTag(other, a, tagA)).toBe(false);
  });
  it('owner implies every scope', () => {
    expect(hasScope(['owner'], 'sql')).toBe(true);
    expect(hasScope(['databases:read'], 'databases:write')).toBe(false);
  });
  it('compare in constant time (crypto.subtle.timingSafeEqual), unequal lengths simply false', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });
});

describe('sealed values', () => {
  const key = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

  it('open only with the same key and context', async () => {
    const a = await Sealer.fromKeys(key());
    const sealed = await a.seal('hunter2', 'pw:db_1');
    expect(sealed).not.toContain('hunter2');
    expect(sealed).toMatch(new RegExp(`^v2\\.${a.keyId}\\.`));
    expect(await a.open(sealed, 'pw:db_1')).toBe('hunter2');
    await expect(a.open(sealed, 'pw:db_2')).rejects.toThrow();
    await expect((await Sealer.fromKeys(key())).open(sealed, 'pw:db_1')).rejects.toThrow(/not configured/);
    expect(await a.seal('hunter2', 'pw:db_1')).not.toBe(sealed);
  });

  it('carry their key id, so a ring with the previous key opens them and re-seals under the new one', async () => {
    const [oldKey, newKey] = [key(), key()];
    const before = await Sealer.fromKeys(oldKey);
    const sealed = await before.seal('s3cret', 'pw:db_9');
    const ring = await Sealer.fromKeys(newKey, [oldKey]);
    expect(ring.keyId).not.toBe(before.keyId);
    expect(ring.isStale(sealed)).toBe(true);
    expect(await ring.open(sealed, 'pw:db_9')).toBe('s3cret');
    const resealed = await ring.seal(await ring.open(sealed, 'pw:db_9'), 'pw:db_9');
    expect(ring.isStale(resealed)).toBe(false);
    expect(await (await Sealer.fromKeys(newKey)).open(resealed, 'pw:db_9')).toBe('s3cret');
  });

  it('refuse keys that are not 32 random bytes, naming the secret', async () => {
    await expect(Sealer.fromKeys('short')).rejects.toThrow(/DBLEASE_ENCRYPTION_KEY/);
    await expect(Sealer.fromKeys(key(), ['short'])).rejects.toThrow(/DBLEASE_ENCRYPTION_KEYS_PREVIOUS/);
  });
});
