// @ts-check
import { readFileSync } from 'node:fs';
import { GLOBAL_OPTIONS, parseCommandArgs, resolveConfig } from './args.js';
import { Client } from './client.js';
import { CliError, EXIT, usageError } from './errors.js';
import { formatError, printJson } from './output.js';
import { withSpinner } from './spinner.js';
import { branch, claim, create, extend, get, keep, ls, rm } from './commands/databases.js';
import { bind, unbind } from './commands/bind.js';
import { reset, schema } from './commands/branching.js';
import { env } from './commands/env.js';
import { sessionEnd, sessionHeartbeat, sessionStart } from './commands/session.js';
import { sql } from './commands/sql.js';

/** @typedef {import('./context.js').Command} Command */
/** @typedef {import('./context.js').Context} Context */

/** @type {Command[]} */
export const COMMANDS = [
  create,
  branch,
  reset,
  schema,
  ls,
  get,
  rm,
  sql,
  keep,
  extend,
  claim,
  bind,
  unbind,
  env,
  sessionStart,
  sessionHeartbeat,
  sessionEnd,
];

export const EXIT_CODE_HELP = `Exit codes:
  0  ok
  1  anything else (a server error, an unexpected answer)
  2  bad input or usage (HTTP 400, or a flag or argument the CLI refused)
  3  authentication or permission (401, 403, no token)
  4  not found or gone (404, 410: e.g. a lapsed session)
  5  limits: spend cap (402), rate limit or quota (429; the wait is printed)
  6  provider trouble (503) or dblease unreachable (network error, timeout)
  7  conflict (409: children without --cascade, an idempotency key reused with another body)
`;

const VERSION = (() => {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

/**
 * @param {import('./args.js').OptionSpecs} specs
 * @param {[string, string][]} [extra] rows for flags that are not command options
 */
function optionLines(specs, extra = []) {
  const rows = Object.entries(specs).map(([name, spec]) => [`  --${name}${spec.value ? ` <${spec.value}>` : ''}`, spec.help]);
  rows.push(...extra.map(([flag, help]) => [`  ${flag}`, help]));
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, help]) => `${flag.padEnd(width)}  ${help}`).join('\n');
}

export function mainHelp() {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `dblease ${VERSION}: real Postgres databases, as leases

Usage: dblease <command> [options]   (dblease <command> --help for its options)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options for every command:
${optionLines(GLOBAL_OPTIONS, [['--version', 'print the version']])}

Environment: DBLEASE_URL, DBLEASE_TOKEN, DBLEASE_SESSION (default --session for create/branch).
With --json, stdout holds exactly one JSON document: the API's answer, or its error body
({"error":{type,code,message,details?,request_id}}, plus retry_after when it said to wait).

${EXIT_CODE_HELP}`;
}

/** @param {Command} command */
export function commandHelp(command) {
  return `${command.summary}

Usage: ${command.usage}
${command.description ? `\n${wrap(command.description, 90)}\n` : ''}
Options:
${optionLines({ ...command.options, ...GLOBAL_OPTIONS })}

${EXIT_CODE_HELP}`;
}

function sessionHelp() {
  const sessions = COMMANDS.filter((c) => c.name.startsWith('session '));
  const width = Math.max(...sessions.map((c) => c.name.length));
  return `Sessions: an agent's lease; databases bound to one go when it ends or lapses.

${sessions.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

dblease session <start|heartbeat|end> --help for their options.
`;
}

/** @param {string} text @param {number} width */
function wrap(text, width) {
  const lines = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) (lines.push(line), (line = word));
    else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

/**
 * Finds the command named by argv (`session` takes a second word) and the arguments after it.
 * @param {string[]} argv
 * @returns {{ command?: Command, rest: string[], name?: string }}
 */
export function findCommand(argv) {
  const [first, second] = argv;
  if (first === 'session') {
    const command = COMMANDS.find((c) => c.name === `session ${second}`);
    return { command, rest: argv.slice(2), name: second ? `session ${second}` : 'session' };
  }
  return { command: COMMANDS.find((c) => c.name === first), rest: argv.slice(1), name: first };
}

/**
 * @typedef {{
 *   stdout: import('./output.js').Stream,
 *   stderr: import('./output.js').Stream,
 *   env: Record<string, string | undefined>,
 *   cwd: string,
 *   readStdin?: () => Promise<string>,
 *   fetch?: typeof fetch,
 * }} Io
 */

/**
 * Runs the CLI and returns its exit code; never throws and never calls process.exit, so it
 * can be driven in-process as well as from the launcher.
 * @param {string[]} argv arguments after `dblease`
 * @param {Io} io
 * @returns {Promise<number>}
 */
export async function main(argv, io) {
  // --json is honoured even when parsing fails, so agents get a JSON error for bad flags too.
  const json = argv.includes('--json');
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      const topic = argv[0] === 'help' && argv.length > 1 ? findCommand(argv.slice(1)).command : undefined;
      io.stdout.write(topic ? commandHelp(topic) : mainHelp());
      return argv.length === 0 ? EXIT.usage : EXIT.ok;
    }
    if (argv[0] === '--version' || argv[0] === 'version') {
      io.stdout.write(`${VERSION}\n`);
      return EXIT.ok;
    }
    const { command, rest, name } = findCommand(argv);
    if (!command && argv[0] === 'session') {
      if (argv[1] === undefined || argv[1] === '--help' || argv[1] === '-h') {
        io.stdout.write(sessionHelp());
        return argv[1] === undefined ? EXIT.usage : EXIT.ok;
      }
      throw usageError(`unknown session command "${argv[1]}": use session start|heartbeat|end`);
    }
    if (!command) throw usageError(`unknown command "${name}"; see dblease --help`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    const args = parseCommandArgs(rest, command.options);
    const config = resolveConfig(args.values, io.env);
    // On stderr even with --json: stdout stays one JSON document, and this must not go unseen.
    if (config.insecure) io.stderr.write(`dblease: warning: sending the token over plain http to ${new URL(config.url).host}\n`);
    const client = new Client({
      url: config.url,
      token: config.token,
      timeoutMs: config.timeoutMs,
      userAgent: `dblease-cli/${VERSION}`,
      fetch: io.fetch,
    });
    /** @type {Context} */
    const ctx = {
      args,
      client,
      json,
      io: { stdout: io.stdout, stderr: io.stderr, cwd: io.cwd, env: io.env, readStdin: io.readStdin ?? (async () => '') },
      now: () => Date.now(),
      spin: (text, work) => withSpinner(io.stderr, text, !json, work),
      print: (value, human) => (json ? printJson(io.stdout, value) : io.stdout.write(human)),
    };
    await command.run(ctx);
    return EXIT.ok;
  } catch (err) {
    const failure =
      err instanceof CliError
        ? err
        : new CliError(
            { type: 'internal', code: 'cli_error', message: err instanceof Error ? err.message : String(err) },
            { exitCode: EXIT.other },
          );
    if (json) printJson(io.stdout, failure);
    else io.stderr.write(formatError(failure));
    return failure.exitCode;
  }
}
