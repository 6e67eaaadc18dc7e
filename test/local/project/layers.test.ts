/**
 * The layering rule of ARCHITECTURE.md, kept by dependency-cruiser (.dependency-cruiser.cjs):
 * core → Neon layer → Durable Objects / app, no cycles, the app reaching the objects by RPC only.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../../..');

describe('the layers', () => {
  it('hold: no import against the direction and no cycle', async () => {
    const bin = path.join(root, 'node_modules/.bin/depcruise');
    const { stdout } = await run(
      bin,
      ['src', 'durable-objects', 'local', 'cli', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'],
      {
        cwd: root,
        maxBuffer: 64 * 1024 * 1024,
      },
    ).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '{}' }));
    const report = JSON.parse(stdout) as {
      summary: { violations: { rule: { name: string }; from: string; to: string }[]; totalCruised: number };
    };
    expect(report.summary.totalCruised).toBeGreaterThan(100);
    expect(report.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });
});
