import { describe, expect, it } from 'vitest';
import { constantTimeEqual, generateToken, hasScope, parseToken } from '../../../src/auth/tokens';
import { Sealer } from '../../../src/crypto/sealed';
import { ApiError } from '../../../src/errors';
import { newId } from '../../../src/ids';
import { DEVELOPMENT_OPERATOR_TOKEN, encryptionKeyMaterial, operatorToken } from '../../../src/secrets';

describe('development fallbacks for secrets', () => {
  it('apply only when DBLEASE_ENV is development', () => {
    expect(operatorToken({ DBLEASE_ENV: 'development' })).toBe(DEVELOPMENT_OPERATOR_TOKEN);
    for (const env of [{}, { DBLEASE_ENV: 'production' }, { DBLEASE_ENV: 'Development' }, { DBLEASE_ENV: 'production', DBLEASE_OPERATOR_TOKEN: '' }]) {
      expect(() => operatorToken(env), JSON.stringify(env)).toThrow(ApiError);
      expect(() => encryptionKeyMaterial(env)).toThrow(ApiError);
    }
  });
  it('never replace a secret that is set', () => {
    expect(operatorToken({ DBLEASE_ENV: 'development', DBLEASE_OPERATOR_TOKEN: 'real' })).toBe('real');
    expect(encryptionKeyMaterial({ DBLEASE_ENCRYPTION_KEY: 'k' })).toBe('k');
  });
});

describe('token strings', () => {
  it('round-trip dbl_<account>_<secret>, with 32 random bytes of secret', () => {
    const account = newId('acc');
    const { token, secret } = generateToken(account);
    expect(token).toMatch(/^dbl_acc_[0-9a-z]{20}_[A-Za-z0-9_-]{43}$/);
    expect(parseToken(token)).toEqual({ accountId: account, secret });
    expect(generateToken(account).secret).not.toBe(secret);
  });
  it('reject anything else', () => {
    const { token } = generateToken(newId('acc'));
    for (const bad of ['', 'dbl_', token.slice(0, -1), `${token}x`, token.replace('dbl_', 'dbx_'), `dbl_acc_short_${'a'.repeat(43)}`]) {
      expect(parseToken(bad), bad).toBeNull();
    }
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
  it('open only with the same key and context', async () => {
    const a = await Sealer.fromSecret('key-a');
    const sealed = await a.seal('hunter2', 'pw:db_1');
    expect(sealed).not.toContain('hunter2');
    expect(await a.open(sealed, 'pw:db_1')).toBe('hunter2');
    await expect(a.open(sealed, 'pw:db_2')).rejects.toThrow();
    await expect((await Sealer.fromSecret('key-b')).open(sealed, 'pw:db_1')).rejects.toThrow();
    expect(await a.seal('hunter2', 'pw:db_1')).not.toBe(sealed);
  });
});
