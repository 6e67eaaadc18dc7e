import { describe, expect, it } from 'vitest';
import { ERRORS, Failure } from '../../src/core/errors';

describe('the error catalogue', () => {
  it('gives every code a status, a meaning and what to do', () => {
    for (const [code, entry] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^[a-z][a-z_]+$/);
      expect([400, 401, 402, 403, 404, 409, 410, 413, 422, 429, 500, 503]).toContain(entry.status);
      expect(entry.meaning.length, code).toBeGreaterThan(5);
      expect(entry.action.length, code).toBeGreaterThan(3);
    }
  });
  it('carries failures as plain data that round-trips', () => {
    const failure = new Failure('quota_exceeded', 'at most 2 active databases', { active: 2, max_active: 2 }, 30);
    const data = failure.toJSON();
    expect(JSON.parse(JSON.stringify(data))).toEqual(data);
    expect(Failure.from(data)).toMatchObject({ code: 'quota_exceeded', message: failure.message, retryAfter: 30 });
    expect(failure.isBug).toBe(false);
    expect(new Failure('internal', 'boom').isBug).toBe(true);
  });
});
