/** Summary of one series of latencies, in milliseconds. */
export interface Summary {
  n: number;
  min: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile: the smallest sample with at least p% of samples at or below it. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    n: sorted.length,
    min: round(sorted[0]),
    median: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1]),
  };
}

/** Runs `task` `total` times with at most `concurrency` at once; returns each run's duration. */
export async function measure(total: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number[]> {
  const durations: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const started = performance.now();
      await task(i);
      durations.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return durations;
}

/** Runs `task` in waves of exactly `concurrency` simultaneous calls, `waves` times. */
export async function measureBursts(waves: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number[]> {
  const durations: number[] = [];
  for (let w = 0; w < waves; w++) {
    await Promise.all(
      Array.from({ length: concurrency }, async (_, j) => {
        const started = performance.now();
        await task(w * concurrency + j);
        durations.push(performance.now() - started);
      }),
    );
  }
  return durations;
}

export function table(rows: { name: string; summary: Summary }[]): string {
  const head = ['series', 'n', 'min', 'median', 'p95', 'p99', 'max'];
  const body = rows.map((r) => [
    r.name,
    ...[r.summary.n, r.summary.min, r.summary.median, r.summary.p95, r.summary.p99, r.summary.max].map(String),
  ]);
  return alignedTable(head, body);
}

/** A plain-text table: the first column left-aligned, the others right-aligned, a rule under the head. */
export function alignedTable(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
