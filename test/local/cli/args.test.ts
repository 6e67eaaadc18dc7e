import { describe, expect, it } from 'vitest';
import { DEFAULT_URL, parseCommandArgs, parseDuration, parseLabels, resolveConfig } from '../../../cli/args.js';
import { CliError, EXIT } from '../../../cli/errors.js';

const usage = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(EXIT.usage);
    return (err as CliError).error;
  }
  throw new Error('expected a usage error');
};

describe('parseDuration', () => {
  it.each([
    ['3600', 3600],
    ['90s', 90],
    ['30m', 1800],
    ['1h', 3600],
    ['7d', 604800],
    ['1w', 604800],
    ['1h30m', 5400],
    [' 2H ', 7200],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['0', '-5', '1.5h', '1x', 'h', '', '0m', '1h 30m', '99999999999999999999'])('refuses %j', (text) => {
    const error = usage(() => parseDuration(text));
    expect(error.message).toContain('--ttl');
    expect(error.details).toEqual({ fields: [{ path: 'ttl', message: 'invalid duration' }] });
  });
});

describe('parseLabels', () => {
  it('turns repeated key=value into an object, keeping "=" in values', () => {
    expect(parseLabels(['task=fix-1', 'q=a=b', 'empty='])).toEqual({ task: 'fix-1', q: 'a=b', empty: '' });
    expect(parseLabels(undefined)).toBeUndefined();
    expect(parseLabels([])).toBeUndefined();
  });

  it('refuses items without a key and keys given twice', () => {
    expect(usage(() => parseLabels(['novalue'])).message).toContain('key=value');
    expect(usage(() => parseLabels(['=v'])).message).toContain('key=value');
    expect(usage(() => parseLabels(['a=1', 'a=2'])).message).toContain('given twice');
  });
});

describe('parseCommandArgs', () => {
  const specs = {
    param: { type: 'string' as const, multiple: true, help: '' },
    cascade: { type: 'boolean' as const, help: '' },
  };

  it('takes values that start with a dash for string options', () => {
    const { values, positionals } = parseCommandArgs(['db_1', 'select $1, $2', '--param', '-1', '--param=--x', '--json'], specs);
    expect(values.param).toEqual(['-1', '--x']);
    expect(values.json).toBe(true);
    expect(positionals).toEqual(['db_1', 'select $1, $2']);
  });

  it('knows the global options and -h', () => {
    const { values } = parseCommandArgs(['--url', 'http://x', '--token', 't', '-h', '--cascade'], specs);
    expect(values).toMatchObject({ url: 'http://x', token: 't', help: true, cascade: true });
  });

  it('treats everything after -- as positional', () => {
    expect(parseCommandArgs(['db_1', '--', '--cascade'], specs).positionals).toEqual(['db_1', '--cascade']);
  });

  it('refuses unknown flags and a missing value as usage errors', () => {
    expect(usage(() => parseCommandArgs(['--nope'], specs)).message).toMatch(/nope/);
    expect(usage(() => parseCommandArgs(['--url'], specs)).message).toMatch(/url/);
  });
});

describe('resolveConfig', () => {
  it('prefers flags over the environment over the default', () => {
    expect(resolveConfig({}, {})).toMatchObject({ url: DEFAULT_URL, token: undefined, timeoutMs: 60_000, insecure: false });
    expect(resolveConfig({}, { DBLEASE_URL: 'https://db.example/', DBLEASE_TOKEN: 'envtok' })).toMatchObject({
      url: 'https://db.example',
      token: 'envtok',
    });
    expect(
      resolveConfig({ url: 'http://localhost:9', token: 'flag', timeout: '5s' }, { DBLEASE_URL: 'https://x', DBLEASE_TOKEN: 'e' }),
    ).toMatchObject({
      url: 'http://localhost:9',
      token: 'flag',
      timeoutMs: 5000,
    });
  });

  it('flags plain http to a remote host, and refuses non-URLs', () => {
    expect(resolveConfig({ url: 'http://db.example' }, {}).insecure).toBe(true);
    expect(resolveConfig({ url: 'http://127.0.0.1:8787' }, {}).insecure).toBe(false);
    usage(() => resolveConfig({ url: 'not a url' }, {}));
    usage(() => resolveConfig({ url: 'ftp://x' }, {}));
  });
});
