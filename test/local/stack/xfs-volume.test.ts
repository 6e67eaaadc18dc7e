import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { banner } from '../../../local/banner';
import { configFromEnv } from '../../../local/config';
import { startLocalStack, type LocalStack } from '../../../local/stack';
import { freePort } from '../../support/free-port';
import {
  isXfsSuperblock,
  mountAt,
  mountXfsImage,
  parseSize,
  planMount,
  survey,
  xfsImageFromEnv,
  XfsVolumeError,
  type VolumeFacts,
} from '../../../local/postgres/xfs-volume';

/**
 * The opt-in XFS data folder (DBLEASE_LOCAL_XFS_IMAGE). Formatting and mounting need root and
 * xfsprogs, which the suite does not assume: these tests cover the judgement (planMount) over
 * every situation, the facts it is given, and that a refusal comes before anything is run or
 * written. The mount itself is exercised by `npm run bench -- local-stack` where it can run.
 */
let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dblease-xfs-test-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('DBLEASE_LOCAL_XFS_IMAGE_SIZE', () => {
  it('reads binary units as truncate does, and names the variable when it cannot', () => {
    expect(parseSize('20G', 'X')).toBe(20 * 2 ** 30);
    expect(parseSize('512M', 'X')).toBe(512 * 2 ** 20);
    expect(parseSize('1.5T', 'X')).toBe(1.5 * 2 ** 40);
    expect(parseSize('8GiB', 'X')).toBe(8 * 2 ** 30);
    expect(parseSize(String(2 ** 31), 'X')).toBe(2 ** 31);
    expect(() => parseSize('lots', 'DBLEASE_LOCAL_XFS_IMAGE_SIZE')).toThrow(/DBLEASE_LOCAL_XFS_IMAGE_SIZE must be a size such as 20G/);
    expect(() => parseSize('100M', 'DBLEASE_LOCAL_XFS_IMAGE_SIZE')).toThrow(/at least 512M/);
  });

  it('is off unless DBLEASE_LOCAL_XFS_IMAGE is set; the path is made absolute and the size defaults to 20G', () => {
    expect(xfsImageFromEnv({ DBLEASE_LOCAL_XFS_IMAGE_SIZE: '8G' })).toBeUndefined();
    expect(configFromEnv({}).xfsImage).toBeUndefined();
    expect(configFromEnv({ DBLEASE_LOCAL_XFS_IMAGE: 'data.img' }).xfsImage).toEqual({
      image: path.resolve('data.img'),
      sizeBytes: 20 * 2 ** 30,
    });
    expect(xfsImageFromEnv({ DBLEASE_LOCAL_XFS_IMAGE: '/x.img', DBLEASE_LOCAL_XFS_IMAGE_SIZE: '4G' })?.sizeBytes).toBe(4 * 2 ** 30);
    expect(() => configFromEnv({ DBLEASE_LOCAL_XFS_IMAGE: '/x.img', DBLEASE_LOCAL_XFS_IMAGE_SIZE: 'big' })).toThrow(
      /DBLEASE_LOCAL_XFS_IMAGE_SIZE must be/,
    );
  });
});

describe('planMount', () => {
  const opt = { image: '/srv/dblease.img', sizeBytes: 2 ** 34 };
  const ready: VolumeFacts = { platform: 'linux', root: true, mkfsXfs: true, image: 'missing', dataDirEntries: 0 };
  const plan = (facts: Partial<VolumeFacts>) => planMount({ ...ready, ...facts }, opt, '/srv/data');
  const error = (facts: Partial<VolumeFacts>) => {
    const p = plan(facts);
    return 'error' in p ? p.error : undefined;
  };

  it('makes, formats and mounts a missing image; mounts an existing XFS one; adopts its own mount left by a killed stack', () => {
    expect(plan({})).toEqual({ makeImage: true, mount: true });
    expect(plan({ image: 'xfs', mkfsXfs: false })).toEqual({ makeImage: false, mount: true });
    expect(plan({ image: 'xfs', dataDirEntries: 5, mounted: { fstype: 'xfs', source: '/dev/loop0', ofThisImage: true } })).toEqual({
      makeImage: false,
      mount: false,
    });
  });

  it('refuses in one line, naming what to do: not Linux, not root, no mkfs.xfs', () => {
    expect(error({ platform: 'darwin' })).toMatch(/^DBLEASE_LOCAL_XFS_IMAGE is for Linux.*unset it$/);
    expect(error({ root: false })).toBe(
      'DBLEASE_LOCAL_XFS_IMAGE needs root, to format and loop-mount /srv/dblease.img: run the stack as root or unset it',
    );
    expect(error({ mkfsXfs: false })).toMatch(/^mkfs\.xfs is not installed.*: apt-get install xfsprogs$/);
    for (const e of [error({ platform: 'darwin' }), error({ root: false }), error({ mkfsXfs: false })]) expect(e).not.toMatch(/\n/);
  });

  it('never formats over a file that is not XFS, never hides a data folder with contents, never stacks on another mount', () => {
    expect(error({ image: 'other' })).toMatch(/\/srv\/dblease\.img exists and is not an XFS image; it is never formatted over/);
    expect(error({ dataDirEntries: 1 })).toMatch(/data folder \/srv\/data is not empty.*would hide what it holds/);
    expect(error({ mounted: { fstype: 'ext4', source: '/dev/sdb1', ofThisImage: false } })).toMatch(
      /\/srv\/data is already a mount point \(ext4 from \/dev\/sdb1\)/,
    );
    expect(error({ mounted: { fstype: 'xfs', source: '/dev/loop1', ofThisImage: false } })).toMatch(/already a mount point/);
  });
});

describe('the facts', () => {
  it('finds the mount at exactly a folder in mountinfo, unescaping spaces, the last of stacked mounts', () => {
    const info = [
      '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      '45 22 7:0 / /srv/my\\040data rw,relatime - xfs /dev/loop0 rw,inode64',
      '46 22 7:1 / /srv/data/sub rw - xfs /dev/loop1 rw',
      '47 45 7:2 / /srv/my\\040data rw - xfs /dev/loop2 rw',
    ].join('\n');
    expect(mountAt(info, '/srv/my data')).toEqual({ fstype: 'xfs', source: '/dev/loop2' });
    expect(mountAt(info, '/srv/data')).toBeUndefined();
    expect(mountAt(info, '/')).toEqual({ fstype: 'ext4', source: '/dev/vda' });
  });

  it('tells an XFS image by its superblock, and counts what the data folder holds', async () => {
    expect(isXfsSuperblock(Buffer.from('XFSB\0\0\x10\0'))).toBe(true);
    expect(isXfsSuperblock(Buffer.from('\x53\xef'))).toBe(false);
    const xfs = path.join(dir, 'xfs.img');
    const other = path.join(dir, 'other.img');
    await fs.writeFile(xfs, Buffer.concat([Buffer.from('XFSB'), Buffer.alloc(512)]));
    await fs.writeFile(other, 'my thesis, chapter 1');
    const data = await fs.mkdtemp(path.join(dir, 'data-'));
    await fs.writeFile(path.join(data, 'keep'), '');
    const facts = (image: string) => survey({ image, sizeBytes: 2 ** 30 }, data);
    expect((await facts(xfs)).image).toBe('xfs');
    expect((await facts(other)).image).toBe('other');
    const missing = await facts(path.join(dir, 'none.img'));
    expect(missing).toMatchObject({ image: 'missing', dataDirEntries: 1, platform: process.platform, root: process.getuid?.() === 0 });
    expect(missing.mounted).toBeUndefined();
  });
});

describe('a refusal comes first', () => {
  it('leaves a file that is not XFS as it was, and the stack writes nothing to its data folder', async () => {
    const image = path.join(dir, 'precious.img');
    await fs.writeFile(image, 'my thesis, chapter 2');
    const data = await fs.mkdtemp(path.join(dir, 'stack-'));
    await expect(mountXfsImage({ image, sizeBytes: 2 ** 30 }, data, () => {})).rejects.toBeInstanceOf(XfsVolumeError);
    // Free ports, so that a regression which starts PostgreSQL anyway collides with nothing.
    const ports = { pgPort: 0, pgInternalPort: await freePort(), apiPort: 0, proxyPort: 0 };
    const config = configFromEnv({ DBLEASE_LOCAL_XFS_IMAGE: image, DBLEASE_LOCAL_DATA: data }, { ...ports, log: () => {} });
    await expect(startLocalStack(config)).rejects.toBeInstanceOf(XfsVolumeError);
    expect(await fs.readFile(image, 'utf8')).toBe('my thesis, chapter 2');
    expect(await fs.readdir(data)).toEqual([]);
  });
});

describe('the banner', () => {
  it("says whether branches are reflink clones, from the storage's start-up probe", () => {
    // banner() renders only these parts of a running stack.
    const stack = (reflink: boolean) =>
      ({
        config: configFromEnv({}),
        urls: { api: 'http://127.0.0.1:4100/api/v2', proxy: 'http://127.0.0.1:4444' },
        api: { storage: { reflink } },
      }) as unknown as LocalStack;
    expect(banner(stack(true))).toMatch(/^ {2}Storage {6}branches are reflink clones \(copy-on-write\)/m);
    expect(banner(stack(false))).toMatch(/^ {2}Storage {6}no reflinks on this filesystem: branches are full copies/m);
  });
});
