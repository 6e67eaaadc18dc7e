import { describe, expect, it } from 'vitest';
import { startSpinner, withSpinner } from '../../../cli/spinner.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stream = (isTTY: boolean) => {
  const out = { text: '', isTTY, write: (s: string) => (out.text += s) };
  return out;
};

describe('spinner', () => {
  it('draws nothing for work that ends before the delay', async () => {
    const tty = stream(true);
    expect(await withSpinner(tty, 'quick', true, async () => 42)).toBe(42);
    await sleep(40);
    expect(tty.text).toBe('');
  });

  it('draws after the delay and erases its line when stopped', async () => {
    const tty = stream(true);
    const spinner = startSpinner(tty, 'creating database', { delayMs: 10, intervalMs: 5 });
    await sleep(50);
    spinner.stop();
    expect(tty.text).toContain('creating database');
    expect(tty.text.endsWith('\r\x1b[2K')).toBe(true);
    const after = tty.text;
    await sleep(30);
    expect(tty.text).toBe(after);
  });

  it('stays silent when the stream is not a terminal or --json is on', async () => {
    const pipe = stream(false);
    const tty = stream(true);
    await withSpinner(pipe, 'x', true, () => sleep(350));
    await withSpinner(tty, 'x', false, () => sleep(350));
    expect(pipe.text + tty.text).toBe('');
  });

  it('clears itself when the work throws', async () => {
    const tty = stream(true);
    const spinner = startSpinner(tty, 'x', { delayMs: 1 });
    await sleep(20);
    spinner.stop();
    await expect(withSpinner(tty, 'x', true, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(tty.text.endsWith('\r\x1b[2K')).toBe(true);
  });
});
