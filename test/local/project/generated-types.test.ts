/** worker-configuration.d.ts is what `wrangler types` makes of wrangler.toml today: regenerate it with `npm run cf-typegen`. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../../..');

describe('the generated Env types', () => {
  it('match wrangler.toml', async () => {
    const bin = path.join(root, 'node_modules/.bin/wrangler');
    const result = await run(bin, ['types', '--include-runtime=false', '--check'], {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
    }).then(
      () => 'up to date',
      (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
    expect(result, 'worker-configuration.d.ts is stale: run `npm run cf-typegen`').toBe('up to date');
  });
});
