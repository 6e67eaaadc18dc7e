/**
 * The provisioning curve's measurements: create + first query through the Worker at each
 * concurrency level, every concurrent create on an account of its own (as agents of many users
 * would), or all on one account (the per-account object's serialisation), from the warm pool or
 * on demand. Each sample also keeps the 201 alone (before the first query) and the Worker's own
 * `timings`, so the output can say where the time went.
 */
import type { LocalStack } from '../local/stack';
import { api, benchAccount, OPERATOR_TOKEN, providerSettled, selectOne, type BenchWorker } from './provisioning-setup';
import { summarize, type Summary } from './stats';

export const LEVELS = [1, 5, 10, 25, 50, 100];

export interface LevelResult {
  concurrency: number;
  total: Summary;
  /** The 201 alone, without the first query. */
  request: Summary;
  /** The Worker's median ms per step, and how many creates each source served. */
  steps: Record<string, number>;
  sources: Record<string, number>;
  failures: number;
  firstError?: string;
}

/** Accounts to spread creates over: one per concurrent create at the highest level. */
export async function benchAccounts(url: string, n: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < n; i += 20) {
    tokens.push(...(await Promise.all(Array.from({ length: Math.min(20, n - i) }, () => benchAccount(url)))));
  }
  return tokens;
}

/** Waves per level: about `runs` samples in all, at least one wave. */
export const wavesFor = (runs: number, concurrency: number) => Math.max(1, Math.round(runs / concurrency));

/** One create + first query: its total, its 201 alone, and the Worker's own `timings`. */
export interface CreateSample {
  total: number;
  request: number;
  timings: Record<string, number | string>;
}

/** A create through the Worker, then `select 1` over the string it returned; throws if either fails. */
export async function sampleCreate(worker: { url: string }, token: string): Promise<CreateSample> {
  const started = performance.now();
  const res = await api(worker.url, token, 'POST', '/v1/databases', {});
  const answered = performance.now();
  if (res.status !== 201) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.json?.error ?? res.json)}`);
  await selectOne(res.json.connection.direct);
  return { total: performance.now() - started, request: answered - started, timings: res.json.timings };
}

/** Collects samples (and failures) of one level, and sums them up as a LevelResult. */
export class LevelSamples {
  private readonly samples: CreateSample[] = [];
  private failures = 0;
  private firstError: string | undefined;

  constructor(readonly concurrency: number) {}

  async take(work: () => Promise<CreateSample>): Promise<void> {
    try {
      this.samples.push(await work());
    } catch (err) {
      this.failures += 1;
      this.firstError ??= err instanceof Error ? err.message : String(err);
    }
  }

  result(): LevelResult {
    const steps: Record<string, number[]> = {};
    const sources: Record<string, number> = {};
    for (const s of this.samples) {
      for (const [k, v] of Object.entries(s.timings)) {
        if (typeof v === 'number') (steps[k] ??= []).push(v);
        else sources[v] = (sources[v] ?? 0) + 1;
      }
    }
    return {
      concurrency: this.concurrency,
      total: summarize(this.samples.map((s) => s.total)),
      request: summarize(this.samples.map((s) => s.request)),
      steps: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, summarize(v).median])),
      sources,
      failures: this.failures,
      ...(this.firstError ? { firstError: this.firstError } : {}),
    };
  }
}

/**
 * One level: `waves` waves of exactly `concurrency` simultaneous creates, create `j` of a wave on
 * `tokens[j % tokens.length]` (one token: all on one account). `beforeWave` lets the warm-pool
 * series wait for its pool to be full again, so each wave measures claims, not refills.
 */
export async function measureLevel(
  worker: BenchWorker,
  tokens: string[],
  concurrency: number,
  waves: number,
  beforeWave: () => Promise<void> = async () => {},
): Promise<LevelResult> {
  const level = new LevelSamples(concurrency);
  for (let w = 0; w < waves; w++) {
    await beforeWave();
    await Promise.all(Array.from({ length: concurrency }, (_, j) => level.take(() => sampleCreate(worker, tokens[j % tokens.length]!))));
  }
  return level.result();
}

/** One authenticated `GET /v1/account`, ms: the round trip a claim is compared with. */
async function timeAccountGet(worker: { url: string }, token: string): Promise<number> {
  const started = performance.now();
  const res = await api(worker.url, token, 'GET', '/v1/account');
  if (res.status !== 200) throw new Error(`GET /v1/account answered ${res.status}`);
  return performance.now() - started;
}

/** `runs` authenticated `GET /v1/account` one after another. */
export async function measureAccountGet(worker: { url: string }, token: string, runs: number): Promise<Summary> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeAccountGet(worker, token));
  return summarize(times);
}

/**
 * A warm-pool curve of one Worker: each wave on a full pool and a settled provider. Before each
 * create of the level alone, one `GET /v1/account` on the same settled machine, so the claim and
 * the round trip it is compared with meet the same conditions (a GET during the pool's refill
 * would look slower and flatter the ratio).
 */
export async function measurePoolCurve(
  worker: BenchWorker,
  stack: LocalStack,
  tokens: string[],
  runs: number,
  log: (level: LevelResult) => void,
): Promise<{ levels: LevelResult[]; accountGet: Summary }> {
  const gets: number[] = [];
  const levels: LevelResult[] = [];
  for (const c of LEVELS) {
    const r = await measureLevel(worker, tokens, c, wavesFor(runs, c), async () => {
      await settledPool(worker, stack, c);
      if (c === 1) gets.push(await timeAccountGet(worker, tokens[0]!));
    });
    levels.push(r);
    log(r);
  }
  return { levels, accountGet: summarize(gets) };
}

/** The operator's view of the pools (`GET /healthz`). */
export async function poolHealth(worker: BenchWorker, operatorToken: string): Promise<Record<string, unknown>[]> {
  const res = await api(worker.url, operatorToken, 'GET', '/healthz');
  return (res.json?.pools ?? []) as Record<string, unknown>[];
}

/**
 * Waits (at most `timeoutMs`) until the region's pool is full, holding at least `need` entries
 * with no fill in flight, so a wave measures claims and not the refill of the wave before (the
 * pool defers its refill until a burst of claims is over; src/core/policy/warm-pool-schedule.ts).
 */
export async function waitForPool(worker: BenchWorker, operatorToken: string, need: number, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [pool] = await poolHealth(worker, operatorToken);
    const size = Number(pool?.size ?? 0);
    const full =
      size >= need && size >= Number(pool?.target ?? 0) && Number((pool?.refill as { in_flight?: number })?.in_flight ?? 1) === 0;
    if (full) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the warm pool did not fill to ${need} entries within ${timeoutMs / 1000} s`);
}

/** Before a warm-pool wave: the pool full again, and the provider done copying spares for its fills. */
export async function settledPool(worker: BenchWorker, stack: LocalStack, need: number): Promise<void> {
  await waitForPool(worker, OPERATOR_TOKEN, need);
  await providerSettled(stack);
}
