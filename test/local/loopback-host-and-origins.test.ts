import { describe, expect, it } from 'vitest';
import { parseAllowedOrigins } from '../../local/config';
import { isLoopbackHost } from '../../local/loopback-host';

describe('isLoopbackHost (the DNS-rebinding check of every HTTP listener)', () => {
  it('accepts the loopback names, with or without a port', () => {
    for (const host of [
      '127.0.0.1',
      '127.0.0.1:4100',
      'localhost',
      'LocalHost:4444',
      '[::1]',
      '[::1]:4100',
      '127.1.0.7:55432',
      '127.255.255.254',
    ]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
  });

  it('refuses every other name, and malformed or missing ones', () => {
    for (const host of [
      undefined,
      '',
      'evil.example',
      'evil.example:4100',
      '127.0.0.1.nip.io',
      'localhost.evil.example',
      '10.0.0.1',
      '128.0.0.1',
      '127.0.0.256',
      '127.1',
      '0.0.0.0',
      '[::]',
      '[::2]:80',
      '::1',
      '127.0.0.1:',
      '127.0.0.1:0',
      '127.0.0.1:65536',
      '127.0.0.1:80:80',
      'user@127.0.0.1',
    ]) {
      expect(isLoopbackHost(host), String(host)).toBe(false);
    }
  });
});

describe('DBLEASE_LOCAL_ALLOWED_ORIGINS', () => {
  it('reads origins separated by commas or spaces, normalised', () => {
    expect(parseAllowedOrigins(undefined)).toEqual([]);
    expect(parseAllowedOrigins(' ')).toEqual([]);
    expect(parseAllowedOrigins('http://localhost:5173, https://App.Example.com/ http://[::1]:3000')).toEqual([
      'http://localhost:5173',
      'https://app.example.com',
      'http://[::1]:3000',
    ]);
  });

  it('names the variable and the bad entry for anything that is not an origin', () => {
    for (const bad of ['localhost:5173', 'http://localhost:5173/app', 'http://x?y=1', '*', 'null', 'file:///tmp']) {
      expect(() => parseAllowedOrigins(bad), bad).toThrow(
        `DBLEASE_LOCAL_ALLOWED_ORIGINS must be a list of origins like http://localhost:3000, got "${bad}"`,
      );
    }
  });
});
