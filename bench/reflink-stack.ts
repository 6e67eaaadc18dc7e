import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mountAt, planMount, survey } from '../local/postgres/xfs-volume';
import { startThrowawayStack, type ThrowawayStack } from '../test/support/throwaway-stack';

/** The filesystem a folder is on (Linux: its mount in /proc/self/mountinfo). */
export async function filesystemOf(dir: string): Promise<string> {
  if (process.platform !== 'linux') return `${os.type()} (filesystem not read)`;
  const info = await fs.readFile('/proc/self/mountinfo', 'utf8');
  for (let d = await fs.realpath(dir); ; d = path.dirname(d)) {
    const mount = mountAt(info, d);
    if (mount) return mount.fstype;
    if (d === path.dirname(d)) return 'unknown';
  }
}

/** Big enough for a 1 GB parent, its WAL and the template; sparse, so only what is written is used. */
const IMAGE_BYTES = 8 * 2 ** 30;

/**
 * A second throw-away stack whose data folder is a fresh XFS image with reflinks, mounted the
 * way DBLEASE_LOCAL_XFS_IMAGE does it; or the one line saying why there cannot be one here.
 */
export async function startReflinkStack(): Promise<{ stack: ThrowawayStack; dispose(): Promise<void> } | { unavailable: string }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-bench-xfs-'));
  const option = { image: path.join(root, 'volume.img'), sizeBytes: IMAGE_BYTES };
  const dataDir = path.join(root, 'data');
  await fs.mkdir(dataDir);
  const plan = planMount(await survey(option, dataDir), option, dataDir);
  if ('error' in plan) {
    await fs.rm(root, { recursive: true, force: true });
    return { unavailable: plan.error };
  }
  const stack = await startThrowawayStack({ dataDir, xfsImage: option }).catch(async (err) => {
    await fs.rm(root, { recursive: true, force: true });
    throw err;
  });
  return {
    stack,
    async dispose() {
      await stack.dispose();
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}
