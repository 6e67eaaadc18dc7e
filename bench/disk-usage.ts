import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `du`: blocks allocated under a folder, a reflink's shared blocks counted in full. */
export async function duBytes(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sk', dir]);
  return Number(stdout.split(/\s/)[0]) * 1024;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(p)));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

/**
 * Bytes in extents no other file shares, from `filefrag -v` (the FIEMAP `shared` flag): what a
 * folder of reflink clones really costs the filesystem. Without reflinks nothing is shared and
 * this is what `du` says. Undefined where filefrag is missing (it is Linux's, in e2fsprogs).
 */
export async function unsharedBytes(dir: string): Promise<number | undefined> {
  if (process.platform !== 'linux') return undefined;
  const files = await filesUnder(dir);
  let total = 0;
  for (let i = 0; i < files.length; i += 200) {
    const { stdout } = await run('filefrag', ['-v', ...files.slice(i, i + 200)], {
      maxBuffer: 64 * 2 ** 20,
      env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
    }).catch(() => ({ stdout: undefined }));
    if (stdout === undefined) return undefined;
    let block = 4096;
    for (const line of stdout.split('\n')) {
      const size = /blocks of (\d+) bytes/.exec(line);
      if (size) block = Number(size[1]);
      // " 0:   0..  4:   24..  28:   5:   shared": logical first..last, physical, length, then the
      // expected block and flags. The logical range counts, as a delayed allocation's length is 0.
      const extent = /^\s*\d+:\s+(\d+)\.\.\s*(\d+):\s+\d+\.\.\s*\d+:\s+\d+:(.*)$/.exec(line);
      if (extent && !/shared/.test(extent[3])) total += (Number(extent[2]) - Number(extent[1]) + 1) * block;
    }
  }
  return total;
}
