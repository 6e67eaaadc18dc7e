import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * The opt-in reflink data folder for Linux (`DBLEASE_LOCAL_XFS_IMAGE`): a sparse image file,
 * formatted XFS with reflinks once, loop-mounted on the data folder before the stack starts and
 * unmounted after it stops. Branches are then cloned in constant time whatever their size,
 * where an ext4 data folder copies every byte (README, "The local stack").
 *
 * `planMount` is the pure judgement (what to do, or the one line that says why not) over facts
 * that `survey` gathers; `mountXfsImage` carries the plan out.
 */

export interface XfsImageOption {
  /** Absolute path of the image file. */
  image: string;
  /** Its size when it is made (sparse: blocks are allocated as they are written). */
  sizeBytes: number;
}

/** A start-up problem with the image or its mount: reported in one line, like the others. */
export class XfsVolumeError extends Error {}

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
/** mkfs.xfs refuses filesystems under 300 MB; a data folder needs more anyway. */
const MIN_BYTES = 512 * 2 ** 20;

/** `20G`, `512M`, `1.5T`, or bytes; binary units, as truncate(1) reads them. */
export function parseSize(value: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(value.trim());
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2].toUpperCase()]) : NaN;
  if (!Number.isFinite(bytes)) throw new Error(`${name} must be a size such as 20G or 512M, got "${value}"`);
  if (bytes < MIN_BYTES) throw new Error(`${name} must be at least 512M (XFS needs room for its log), got "${value}"`);
  return bytes;
}

/** `DBLEASE_LOCAL_XFS_IMAGE` (and `DBLEASE_LOCAL_XFS_IMAGE_SIZE`, default 20G); unset means no volume. */
export function xfsImageFromEnv(env: NodeJS.ProcessEnv): XfsImageOption | undefined {
  const image = env.DBLEASE_LOCAL_XFS_IMAGE?.trim();
  if (!image) return undefined;
  return {
    image: path.resolve(image),
    sizeBytes: parseSize(env.DBLEASE_LOCAL_XFS_IMAGE_SIZE || '20G', 'DBLEASE_LOCAL_XFS_IMAGE_SIZE'),
  };
}

/** What the system and the disk look like before mounting. */
export interface VolumeFacts {
  platform: NodeJS.Platform;
  root: boolean;
  mkfsXfs: boolean;
  /** The image file: absent, an XFS filesystem, or something else (never formatted over). */
  image: 'missing' | 'xfs' | 'other';
  /** The data folder is already a mount point: of this image (a stack that was killed), or not. */
  mounted?: { fstype: string; source: string; ofThisImage: boolean };
  /** Entries in the data folder, which a mount would hide. */
  dataDirEntries: number;
}

export type MountPlan = { error: string } | { makeImage: boolean; mount: boolean };

export function planMount(facts: VolumeFacts, opt: XfsImageOption, dataDir: string): MountPlan {
  const { image } = opt;
  if (facts.platform !== 'linux') {
    return { error: 'DBLEASE_LOCAL_XFS_IMAGE is for Linux (elsewhere, e.g. on APFS, the data folder clones files already); unset it' };
  }
  if (!facts.root) {
    return { error: `DBLEASE_LOCAL_XFS_IMAGE needs root, to format and loop-mount ${image}: run the stack as root or unset it` };
  }
  if (facts.mounted?.ofThisImage) return { makeImage: false, mount: false };
  if (facts.mounted) {
    return {
      error: `data folder ${dataDir} is already a mount point (${facts.mounted.fstype} from ${facts.mounted.source}); unset DBLEASE_LOCAL_XFS_IMAGE or choose another DBLEASE_LOCAL_DATA`,
    };
  }
  if (facts.dataDirEntries > 0) {
    return {
      error: `data folder ${dataDir} is not empty, and mounting ${image} on it would hide what it holds: move its contents away or set DBLEASE_LOCAL_DATA to an empty folder`,
    };
  }
  if (facts.image === 'other') {
    return {
      error: `${image} exists and is not an XFS image; it is never formatted over: remove it or set DBLEASE_LOCAL_XFS_IMAGE to a new file`,
    };
  }
  if (facts.image === 'missing' && !facts.mkfsXfs) {
    return { error: `mkfs.xfs is not installed, and DBLEASE_LOCAL_XFS_IMAGE needs it to format ${image}: apt-get install xfsprogs` };
  }
  return { makeImage: facts.image === 'missing', mount: true };
}

/** The mount at exactly `dir` in /proc/self/mountinfo's text (the last one, if mounts are stacked). */
export function mountAt(mountinfo: string, dir: string): { fstype: string; source: string } | undefined {
  // Paths escape space, tab, newline and backslash as octal.
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  let found: { fstype: string; source: string } | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 5 || unescape(fields[4]) !== dir) continue;
    found = { fstype: fields[dash + 1], source: unescape(fields[dash + 2] ?? '') };
  }
  return found;
}

/** An XFS superblock starts with the magic `XFSB`. */
export function isXfsSuperblock(head: Buffer): boolean {
  return head.subarray(0, 4).toString('latin1') === 'XFSB';
}

async function imageState(image: string): Promise<VolumeFacts['image']> {
  const handle = await fs.open(image, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new XfsVolumeError(`cannot read ${image} (DBLEASE_LOCAL_XFS_IMAGE): ${err.message}`);
  });
  if (!handle) return 'missing';
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    return isXfsSuperblock(head) ? 'xfs' : 'other';
  } finally {
    await handle.close();
  }
}

async function onPath(program: string): Promise<boolean> {
  // Root's usual sbin folders too: a PATH without them is common under sudo and in containers.
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (
      await fs.access(path.join(dir, program), constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

/** Whether a loop device (`/dev/loop3`) is backed by `image`, from sysfs. */
async function loopBackedBy(source: string, image: string): Promise<boolean> {
  const m = /^\/dev\/(loop\d+)$/.exec(source);
  if (!m) return false;
  const backing = await fs.readFile(`/sys/block/${m[1]}/loop/backing_file`, 'utf8').catch(() => '');
  const real = await fs.realpath(image).catch(() => image);
  return backing.trim() === real;
}

export async function survey(opt: XfsImageOption, dataDir: string): Promise<VolumeFacts> {
  const linux = process.platform === 'linux';
  // mountinfo names the real path, which differs from dataDir's when a parent is a symlink.
  const real = await fs.realpath(dataDir).catch(() => dataDir);
  const mounted = linux ? mountAt(await fs.readFile('/proc/self/mountinfo', 'utf8').catch(() => ''), real) : undefined;
  return {
    platform: process.platform,
    root: process.getuid?.() === 0,
    mkfsXfs: await onPath('mkfs.xfs'),
    image: await imageState(opt.image),
    mounted: mounted && { ...mounted, ofThisImage: mounted.fstype === 'xfs' && (await loopBackedBy(mounted.source, opt.image)) },
    dataDirEntries: (await fs.readdir(dataDir).catch(() => [])).length,
  };
}

const run = promisify(execFile);

/** A failed program's last line of error output. */
function reason(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split('\n').at(-1)!.trim();
}

export interface XfsVolume {
  readonly image: string;
  readonly mountPoint: string;
  /** Unmounts the image (its loop device is freed with it); the data stays in the image. */
  unmount(): Promise<void>;
}

/** Makes (if missing), formats and mounts the image on `dataDir`; throws XfsVolumeError saying why not. */
export async function mountXfsImage(opt: XfsImageOption, dataDir: string, log: (line: string) => void): Promise<XfsVolume> {
  const plan = planMount(await survey(opt, dataDir), opt, dataDir);
  if ('error' in plan) throw new XfsVolumeError(plan.error);
  if (plan.makeImage) {
    await fs.mkdir(path.dirname(opt.image), { recursive: true });
    // 'wx': a file that appeared meanwhile is not truncated; the blocks stay unallocated (sparse).
    const handle = await fs.open(opt.image, 'wx', 0o600).catch((err: Error) => {
      throw new XfsVolumeError(`cannot create ${opt.image} (DBLEASE_LOCAL_XFS_IMAGE): ${err.message}`);
    });
    try {
      await handle.truncate(opt.sizeBytes);
    } finally {
      await handle.close();
    }
    try {
      await run('mkfs.xfs', ['-q', '-m', 'reflink=1', opt.image], { env: withSbin() });
    } catch (err) {
      // Left behind, a half-made image would read as "not XFS" and be refused next time.
      await fs.rm(opt.image, { force: true });
      throw new XfsVolumeError(`mkfs.xfs failed on ${opt.image}: ${reason(err)}`);
    }
    log(`made the XFS image ${opt.image} (${Math.round(opt.sizeBytes / 2 ** 30)} GiB, sparse, reflink=1)`);
  }
  if (plan.mount) {
    await fs.mkdir(dataDir, { recursive: true });
    try {
      await run('mount', ['-t', 'xfs', '-o', 'loop', opt.image, dataDir], { env: withSbin() });
    } catch (err) {
      throw new XfsVolumeError(`cannot loop-mount ${opt.image} on ${dataDir}: ${reason(err)}`);
    }
  }
  let unmounting: Promise<void> | undefined;
  return {
    image: opt.image,
    mountPoint: dataDir,
    unmount: () => (unmounting ??= unmount(dataDir, log)),
  };
}

function withSbin(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };
}

/**
 * A process that has just exited may hold the filesystem for a moment, so a busy unmount is
 * tried again; if it stays busy the mount is detached lazily (it goes once the last user does).
 */
async function unmount(dir: string, log: (line: string) => void): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      await run('umount', [dir], { env: withSbin() });
      return;
    } catch (err) {
      if (!/busy/i.test(reason(err))) throw new XfsVolumeError(`cannot unmount ${dir}: ${reason(err)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await run('umount', ['-l', dir], { env: withSbin() });
  log(`${dir} was busy; detached it lazily (it is unmounted once nothing uses it)`);
}
