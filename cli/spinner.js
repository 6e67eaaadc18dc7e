// @ts-check
/**
 * A spinner on stderr for work that takes more than a moment. It never touches stdout (which
 * may be piped or parsed), stays silent when stderr is not a terminal or `--json` is on, and
 * waits before drawing so fast calls do not flicker.
 */

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * @param {{ write(chunk: string): unknown, isTTY?: boolean }} stream
 * @param {string} text
 * @param {{ enabled?: boolean, delayMs?: number, intervalMs?: number }} [opts]
 * @returns {{ stop(): void }}
 */
export function startSpinner(stream, text, opts = {}) {
  const enabled = opts.enabled ?? Boolean(stream.isTTY);
  if (!enabled) return { stop() {} };
  let frame = 0;
  let drawn = false;
  /** @type {NodeJS.Timeout | undefined} */
  let ticker;
  const draw = () => {
    drawn = true;
    stream.write(`\r${FRAMES[frame++ % FRAMES.length]} ${text}`);
  };
  const delay = setTimeout(() => {
    draw();
    ticker = setInterval(draw, opts.intervalMs ?? 80);
    ticker.unref();
  }, opts.delayMs ?? 300);
  // A spinner must never keep the process alive on its own.
  delay.unref();
  return {
    stop() {
      clearTimeout(delay);
      if (ticker) clearInterval(ticker);
      // Erase the line so the result (or error) starts at column 0.
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}

/**
 * Runs `work` under a spinner and always clears it, whether the work succeeds or throws.
 * @template T
 * @param {{ write(chunk: string): unknown, isTTY?: boolean }} stream
 * @param {string} text
 * @param {boolean} enabled
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function withSpinner(stream, text, enabled, work) {
  const spinner = startSpinner(stream, text, { enabled: enabled && Boolean(stream.isTTY) });
  try {
    return await work();
  } finally {
    spinner.stop();
  }
}
