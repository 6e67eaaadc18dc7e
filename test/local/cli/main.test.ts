import { describe, expect, it } from 'vitest';
import { commandHelp, COMMANDS, main, mainHelp } from '../../../cli/main.js';
import { freePort } from '../../support/free-port';

/** Runs the CLI in-process with captured streams; nothing here reaches a server. */
async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env,
    cwd: process.cwd(),
  });
  return { code, stdout, stderr };
}

describe('help', () => {
  it('lists every command and the exit codes', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    for (const c of COMMANDS) expect(stdout).toContain(c.name);
    expect(stdout).toMatch(/Exit codes:[\s\S]*7 {2}conflict/);
    expect(stdout).toBe(mainHelp());
  });

  it('without arguments shows help and exits 2', async () => {
    expect((await run([])).code).toBe(2);
  });

  it('has a page per command, including session subcommands', async () => {
    const create = COMMANDS.find((c) => c.name === 'create')!;
    expect((await run(['create', '--help'])).stdout).toBe(commandHelp(create));
    expect((await run(['help', 'create'])).stdout).toBe(commandHelp(create));
    const sessions = await run(['session', '--help']);
    expect(sessions.code).toBe(0);
    expect(sessions.stdout).toMatch(/session start[\s\S]*session heartbeat[\s\S]*session end/);
    expect((await run(['session'])).code).toBe(2);
    const heartbeat = await run(['session', 'heartbeat', '--help']);
    expect(heartbeat.code).toBe(0);
    expect(heartbeat.stdout).toContain('dblease session heartbeat <ses_id>');
  });
});

describe('usage errors', () => {
  it.each([
    [['nope']],
    [['session', 'pause']],
    [['create', '--ttl', 'soon']],
    [['create', '--bogus']],
    [['rm']],
    [['rm', 'db_1', 'db_2']],
    [['sql', 'db_1']],
    [['sql', 'db_1', 'select 1', '--file', 'x.sql']],
    [['sql', 'db_1', 'select $1', '--params', '{"a":1}']],
    [['ls', '--state', 'sleeping']],
    [['ls', '--limit', '500']],
    [['extend', 'db_1']],
    [['env', 'db_1', '--key', 'bad-name']],
  ])('%j exits 2 with a JSON error under --json', async (argv) => {
    const plain = await run(argv, { DBLEASE_TOKEN: 't' });
    expect(plain.code).toBe(2);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toMatch(/^dblease: .+\n$/);

    const json = await run([...argv, '--json'], { DBLEASE_TOKEN: 't' });
    expect(json.code).toBe(2);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { type: 'invalid_request', code: 'usage' } });
  });

  it('a missing token exits 3 before any request', async () => {
    const { code, stdout } = await run(['ls', '--json']);
    expect(code).toBe(3);
    expect(JSON.parse(stdout).error.code).toBe('missing_token');
  });

  it('an unreachable server exits 6 and never prints the token', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const { code, stdout, stderr } = await run(['create', '--url', url, '--json'], { DBLEASE_TOKEN: 'tok-very-secret' });
    expect(code).toBe(6);
    expect(JSON.parse(stdout).error.details.idempotency_key).toMatch(/^[0-9a-f-]{36}$/);
    expect(stdout + stderr).not.toContain('tok-very-secret');
  });

  it('warns about a token over plain http to a remote host', async () => {
    const { stderr } = await run(['ls', '--url', 'http://192.0.2.1:1', '--timeout', '1s'], { DBLEASE_TOKEN: 't' });
    expect(stderr).toContain('warning: sending the token over plain http');
  });
});
