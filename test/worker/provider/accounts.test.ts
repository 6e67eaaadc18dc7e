import { describe, expect, it } from 'vitest';
import { Failure } from '../../../src/core/errors';
import { placeProject, providerAccount, providerAccounts } from '../../../src/neon/accounts';

const base = { NEON_API_URL: 'http://127.0.0.1:1/api/v2/', NEON_API_KEY: 'k-default' };

describe('providerAccounts', () => {
  it('defaults to the single account of NEON_API_URL and NEON_API_KEY', () => {
    expect(providerAccounts(base)).toEqual([{ id: 'default', url: 'http://127.0.0.1:1/api/v2', key: 'k-default' }]);
  });

  it('reads several accounts from NEON_ACCOUNTS', () => {
    const env = {
      ...base,
      NEON_ACCOUNTS: JSON.stringify([
        { id: 'a', url: 'https://one.example/api/v2', key: 'ka' },
        { id: 'b', url: 'https://two.example/api/v2/', key: 'kb' },
      ]),
    };
    expect(providerAccounts(env).map((a) => [a.id, a.url])).toEqual([
      ['a', 'https://one.example/api/v2'],
      ['b', 'https://two.example/api/v2'],
    ]);
    expect(providerAccount(env, 'b').key).toBe('kb');
    expect(() => providerAccount(env, 'c')).toThrow(/provider account "c" is not configured/);
  });

  it('rejects a malformed NEON_ACCOUNTS without echoing any key', () => {
    const bad = [
      'nope',
      '[]',
      JSON.stringify([{ id: 'a', url: 'ftp://x', key: 'secret-1' }]),
      JSON.stringify([{ id: 'a', url: 'https://x', key: '' }]),
      JSON.stringify([
        { id: 'a', url: 'https://x', key: 'secret-2' },
        { id: 'a', url: 'https://y', key: 'secret-3' },
      ]),
    ];
    for (const NEON_ACCOUNTS of bad) {
      let caught: unknown;
      try {
        providerAccounts({ ...base, NEON_ACCOUNTS });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(Failure);
      expect((caught as Failure).code).toBe('provider_misconfigured');
      expect((caught as Failure).message).not.toMatch(/secret/);
    }
  });
});

describe('placeProject', () => {
  const accounts = ['a', 'b', 'c'].map((id) => ({ id, url: `https://${id}.example`, key: id }));

  it('picks the least-loaded account, ties in configuration order', () => {
    expect(placeProject(accounts, { a: 5, b: 2, c: 2 }).id).toBe('b');
    expect(placeProject(accounts, { a: 1, b: 1 }).id).toBe('c');
    expect(placeProject(accounts, {}).id).toBe('a');
  });

  it('spreads evenly round-robin without load figures', () => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 30; i++) {
      const id = placeProject(accounts).id;
      counts[id] = (counts[id] ?? 0) + 1;
    }
    expect(counts).toEqual({ a: 10, b: 10, c: 10 });
  });
});
