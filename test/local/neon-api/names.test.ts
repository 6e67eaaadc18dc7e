import { describe, expect, it } from 'vitest';
import { endpointIp } from '../../../local/neon-api/names';

describe('endpointIp', () => {
  it('gives every endpoint its own loopback address, past the first 254', () => {
    expect([1, 254, 255, 508, 509].map(endpointIp)).toEqual(['127.1.0.1', '127.1.0.254', '127.1.1.1', '127.1.1.254', '127.1.2.1']);
    expect(endpointIp(254 * 256 + 1)).toBe('127.2.0.1');
    const seen = new Set(Array.from({ length: 3_000 }, (_, i) => endpointIp(i + 1)));
    expect(seen.size).toBe(3_000);
    expect([...seen].some((ip) => ip === '127.0.0.1' || /\.(0|255)$/.test(ip))).toBe(false);
  });
});
