/** The README's table of error codes is the catalogue of src/core/errors.ts, row for row. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../../src/core/errors';

describe('the README', () => {
  it('lists every error code with its status, meaning and what to do', () => {
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| (.+?) \| (.+?) \|$/gm)].map((m) => [m[1], Number(m[2]), m[3], m[4]]);
    expect(rows).toEqual(Object.entries(ERRORS).map(([code, e]) => [code, e.status, e.meaning, e.action]));
  });
});
