import { spawn } from 'node:child_process';

/**
 * Copies a folder with the system's `cp`, which clones each file with a reflink where the
 * filesystem can and copies it otherwise, keeping modes and owners. `into` copies the folder's
 * contents into an existing `to`. In an online copy a file may vanish while `cp` runs (a
 * temporary file, a recycled WAL segment): the backup protocol does not need it, so that alone
 * is not a failure.
 */
export async function cloneTree(from: string, to: string, opts: { into?: boolean } = {}): Promise<void> {
  const args = process.platform === 'darwin' ? ['-pRc'] : ['-a', '--reflink=auto'];
  const source = opts.into ? `${from}/.` : from;
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn('cp', [...args, source, to], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (c) => resolve({ code: c, stderr: err }));
  });
  const problems = stderr.split('\n').filter((l) => l.trim() && !/No such file or directory/.test(l));
  if (code !== 0 && (problems.length > 0 || !stderr)) throw new Error(`copying ${from} failed: ${problems[0] ?? `cp exited ${code}`}`);
}
