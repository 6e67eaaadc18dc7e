import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mergeDotenv, quoteValue, writeDotenv } from '../../../cli/dotenv.js';

const URL_POOLED = 'postgresql://u:p%40ss@ep-1-pooler.local:5432/db?sslmode=require';
const URL_DIRECT = 'postgresql://u:p%40ss@ep-1.local:5432/db?sslmode=require';
const entries: [string, string][] = [
  ['DATABASE_URL', URL_POOLED],
  ['DATABASE_URL_UNPOOLED', URL_DIRECT],
];

describe('quoteValue', () => {
  it('leaves shell-safe values bare', () => {
    expect(quoteValue('postgresql://u:p@h:5432/db')).toBe('postgresql://u:p@h:5432/db');
    expect(quoteValue('')).toBe('');
  });

  it('single-quotes values with characters a shell or dotenv would interpret', () => {
    expect(quoteValue(URL_POOLED)).toBe(`'${URL_POOLED}'`);
    expect(quoteValue('a#b')).toBe("'a#b'");
    expect(quoteValue('$HOME and `x`')).toBe("'$HOME and `x`'");
  });

  it('falls back to double quotes for a single quote, and refuses what no reader agrees on', () => {
    expect(quoteValue("it's #1")).toBe(`"it's #1"`);
    for (const value of [`it's "y"`, "it's $x", "it's `x`", "it's \\", 'a\nb', 'a\rb']) expect(() => quoteValue(value)).toThrow();
  });
});

describe('mergeDotenv', () => {
  it('creates content for an empty file', () => {
    expect(mergeDotenv('', entries)).toBe(`DATABASE_URL='${URL_POOLED}'\nDATABASE_URL_UNPOOLED='${URL_DIRECT}'\n`);
  });

  it('replaces the assignments in place and keeps every other line byte for byte', () => {
    const before = [
      '# app settings',
      'API_KEY="keep me"   # trailing comment',
      '',
      '  export DATABASE_URL=postgres://old',
      '#DATABASE_URL=commented-out stays',
      'DATABASE_URL_EXTRA=untouched',
      'OTHER=1',
    ].join('\n');
    const after = mergeDotenv(before, entries);
    expect(after.split('\n')).toEqual([
      '# app settings',
      'API_KEY="keep me"   # trailing comment',
      '',
      `  export DATABASE_URL='${URL_POOLED}'`,
      '#DATABASE_URL=commented-out stays',
      'DATABASE_URL_EXTRA=untouched',
      'OTHER=1',
      `DATABASE_URL_UNPOOLED='${URL_DIRECT}'`,
      '',
    ]);
  });

  it('keeps CRLF line endings, per line, and uses CRLF for appended lines', () => {
    const before = 'A=1\r\nDATABASE_URL=old\r\nB=2\r\n';
    expect(mergeDotenv(before, entries)).toBe(`A=1\r\nDATABASE_URL='${URL_POOLED}'\r\nB=2\r\nDATABASE_URL_UNPOOLED='${URL_DIRECT}'\r\n`);
  });

  it('adds a newline before appending to a file without a final one, and leaves it off when replacing the last line', () => {
    expect(mergeDotenv('A=1', [['K', 'v']])).toBe('A=1\nK=v\n');
    expect(mergeDotenv('A=1\nK=old', [['K', 'v']])).toBe('A=1\nK=v');
  });

  it('replaces every assignment of a key, so no later line overrides the new value', () => {
    expect(mergeDotenv('K=1\nX=2\nK=3\n', [['K', 'new']])).toBe('K=new\nX=2\nK=new\n');
  });

  it('replaces a quoted value that spans lines as one assignment', () => {
    const before = 'A=1\nK="line one\nline two"\nB=2\n';
    expect(mergeDotenv(before, [['K', 'v']])).toBe('A=1\nK=v\nB=2\n');
  });

  it('takes only the first line when a quote never closes', () => {
    expect(mergeDotenv('K="open\nB=2\n', [['K', 'v']])).toBe('K=v\nB=2\n');
  });

  it('is a no-op when the values are already there', () => {
    const once = mergeDotenv('A=1\n', entries);
    expect(mergeDotenv(once, entries)).toBe(once);
  });
});

describe('writeDotenv', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-dotenv-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('creates a missing file with mode 0600', async () => {
    const file = path.join(dir, '.env');
    expect(await writeDotenv(file, entries)).toEqual({ created: true });
    expect(await fs.readFile(file, 'utf8')).toBe(mergeDotenv('', entries));
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it('updates an existing file in place, keeping its mode', async () => {
    const file = path.join(dir, '.env');
    await fs.writeFile(file, '# mine\nDATABASE_URL=old\n', { mode: 0o640 });
    await fs.chmod(file, 0o640);
    expect(await writeDotenv(file, entries)).toEqual({ created: false });
    expect(await fs.readFile(file, 'utf8')).toBe(`# mine\nDATABASE_URL='${URL_POOLED}'\nDATABASE_URL_UNPOOLED='${URL_DIRECT}'\n`);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o640);
  });

  it('writes values that Node reads back exactly', async () => {
    const file = path.join(dir, '.env');
    const tricky = "p'ss #x";
    await writeDotenv(file, [...entries, ['TRICKY', tricky]]);
    const parsed = (await import('node:util')).parseEnv(await fs.readFile(file, 'utf8'));
    expect(parsed).toMatchObject({ DATABASE_URL: URL_POOLED, DATABASE_URL_UNPOOLED: URL_DIRECT, TRICKY: tricky });
    // …and so does a POSIX shell sourcing the file.
    const { execFileSync } = await import('node:child_process');
    const echoed = execFileSync('sh', ['-c', `set -a; . "${file}"; printf '%s\\n' "$DATABASE_URL" "$TRICKY"`], { encoding: 'utf8' });
    expect(echoed).toBe(`${URL_POOLED}\n${tricky}\n`);
  });
});
