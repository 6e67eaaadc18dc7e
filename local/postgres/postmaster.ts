import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ComputeAddress } from '../hooks';
import { binaries, postgresOsUser } from './binaries';

/** Every compute listens on this port number inside its own socket folder. */
export const COMPUTE_PORT = 5432;

export interface PostmasterOptions {
  /** The data directory (PGDATA). */
  pgdata: string;
  /** The compute's private Unix-socket folder; made 0700 and given to PostgreSQL's user. */
  socketDir: string;
  /** `-c name=value` settings on top of the data directory's postgresql.conf. */
  settings?: Record<string, string>;
  log?: (line: string) => void;
  /** How long a start may take (crash recovery of a big branch included). */
  startTimeoutMs?: number;
}

export interface Postmaster extends RunningPostgres {
  readonly address: ComputeAddress;
}

/** A start that failed, with PostgreSQL's own reason. */
export class PostmasterStartError extends Error {}

const READY = 'database system is ready to accept connections';

/** A folder only PostgreSQL's user can enter (its parents are made traversable as usual). */
export async function preparePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
  const { uid, gid } = await postgresOsUser();
  if (uid !== undefined && gid !== undefined) await fs.chown(dir, uid, gid);
}

/**
 * A postmaster left running on this data directory by a stack that was killed (its children
 * outlive it) would make the new start fail on the lock file: it is stopped first.
 */
export async function stopLeftover(pgdata: string): Promise<void> {
  const text = await fs.readFile(path.join(pgdata, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!alive() || (cmdline && !cmdline.includes(pgdata))) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 200 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
  if (alive()) process.kill(pid, 'SIGQUIT');
}

/** Starts `postgres -D pgdata` listening only on `socketDir`, and resolves once it is ready. */
export async function startPostmaster(opts: PostmasterOptions): Promise<Postmaster> {
  await stopLeftover(opts.pgdata);
  await preparePrivateDir(opts.socketDir);
  // A socket or lock file left by a killed run would stop the new one.
  for (const stale of [`.s.PGSQL.${COMPUTE_PORT}`, `.s.PGSQL.${COMPUTE_PORT}.lock`]) {
    await fs.rm(path.join(opts.socketDir, stale), { force: true });
  }
  const server = await runPostgres({
    pgdata: opts.pgdata,
    args: ['-p', String(COMPUTE_PORT), '-c', 'listen_addresses=', '-c', `unix_socket_directories=${opts.socketDir}`],
    settings: opts.settings,
    label: `compute ${path.basename(opts.socketDir)}`,
    log: opts.log,
    startTimeoutMs: opts.startTimeoutMs,
  });
  return { ...server, address: { socketDir: opts.socketDir, port: COMPUTE_PORT } };
}

export interface RunningPostgres {
  readonly pid: number;
  /** When it became ready to accept connections (ms since the epoch). */
  readonly readyAt: number;
  /** Milliseconds from spawn to ready: a compute's cold start. */
  readonly startMs: number;
  /** Resolves when the process has exited, for whatever reason. */
  readonly exited: Promise<void>;
  /** Fast shutdown (sessions are ended, a checkpoint is written); immediate if it hangs. */
  stop(): Promise<void>;
  /** Its last lines of output, for a start-up error worth reporting. */
  recentLog(): string[];
}

/**
 * Runs the `postgres` server program on a data directory (as PostgreSQL's own user when we are
 * root) and resolves once it accepts connections; rejects with its own reason otherwise.
 */
export async function runPostgres(opts: {
  pgdata: string;
  args: string[];
  settings?: Record<string, string>;
  label: string;
  log?: (line: string) => void;
  startTimeoutMs?: number;
}): Promise<RunningPostgres> {
  const { postgres } = await binaries();
  const owner = await postgresOsUser();
  const args = ['-D', opts.pgdata, ...opts.args];
  for (const [k, v] of Object.entries(opts.settings ?? {})) args.push('-c', `${k}=${v}`);
  const started = Date.now();
  const child: ChildProcess = spawn(postgres, args, {
    ...owner,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C', LC_ALL: 'C' },
  });
  const recent: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    let buffered = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        recent.push(line);
        if (recent.length > 30) recent.shift();
        if (line.includes(READY)) resolve();
        else if (/FATAL|PANIC/.test(line)) opts.log?.(`${opts.label}: ${line.replace(/^.*?(FATAL|PANIC)/, '$1')}`);
      }
    });
    child.once('error', (err) => reject(new PostmasterStartError(`cannot run PostgreSQL: ${err.message}`)));
    void exited.then(() => {
      const reason = recent.find((l) => /FATAL|PANIC|could not/.test(l)) ?? recent.at(-1) ?? 'no output';
      reject(new PostmasterStartError(`PostgreSQL exited while starting: ${reason.replace(/^.*?(FATAL|PANIC|LOG):\s*/, '')}`));
    });
  });
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new PostmasterStartError(`PostgreSQL did not become ready within ${timeoutMs / 1000} s`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    child.kill('SIGQUIT');
    await exited;
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const readyAt = Date.now();
  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid!,
    readyAt,
    startMs: readyAt - started,
    exited,
    recentLog: () => [...recent],
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGINT');
        const hung = setTimeout(() => child.kill('SIGQUIT'), 15_000);
        await exited;
        clearTimeout(hung);
      })();
      return stopping;
    },
  };
}
