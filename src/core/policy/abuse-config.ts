/**
 * The operator's abuse thresholds, from the Worker var `DBLEASE_ABUSE_THRESHOLDS`: a JSON object
 * whose keys override the defaults below, one level deep (`{"churn": {"throttle": 0.5}}` keeps
 * every other churn field). The README's "Abuse" section explains each default and why.
 *
 * Like the other operator vars, a value that is not valid JSON of the right shape is a deployment
 * error: it fails loudly rather than falling back to thresholds the operator did not choose.
 */
import { Failure } from '../errors';

export interface AbuseThresholds {
  /** Off: no evaluation at all (the state only moves by the operator's hand). */
  enabled: boolean;
  /** The recent history the signals read: databases created in the last this many hours... */
  window_hours: number;
  /** ...at most this many of them, newest first (keeps an evaluation a bounded read). */
  max_history: number;
  /** A throttled or suspended account returns to ok this long after its last move, once no signal crosses a threshold. */
  quiet_hours: number;
  /** A throttled account's create rate (and burst), as a fraction of its policy's. */
  throttle_fraction: number;
  /** Share of ended databases never used. */
  churn: { min_ended: number; throttle: number; suspend: number; suspend_min_ended: number };
  /** Share of credential hand-outs (create, fetch, rotation) never followed by a use. */
  credentials_unused: { min_fetched: number; throttle: number; suspend: number; suspend_min_fetched: number };
  /** Creates in the last hour against the trailing baseline; volume alone never suspends. */
  velocity: { baseline_days: number; multiple: number; throttle_per_hour: number };
  /** Shallow, short-lived, never-used branches of one parent in the window. */
  fan_out: { short_lived_minutes: number; throttle: number; suspend: number };
}

export const DEFAULT_ABUSE_THRESHOLDS: Readonly<AbuseThresholds> = Object.freeze({
  enabled: true,
  window_hours: 24,
  max_history: 500,
  quiet_hours: 24,
  throttle_fraction: 0.25,
  churn: { min_ended: 10, throttle: 0.6, suspend: 0.8, suspend_min_ended: 20 },
  credentials_unused: { min_fetched: 10, throttle: 0.7, suspend: 0.9, suspend_min_fetched: 20 },
  velocity: { baseline_days: 7, multiple: 10, throttle_per_hour: 600 },
  fan_out: { short_lived_minutes: 60, throttle: 10, suspend: 25 },
});

const NAME = 'DBLEASE_ABUSE_THRESHOLDS';
const misconfigured = (message: string) => new Failure('misconfigured', `${NAME}: ${message}`);

/** Fields that are shares (0..1); every other number is a count or a duration (> 0). */
const SHARES = new Set([
  'throttle_fraction',
  'churn.throttle',
  'churn.suspend',
  'credentials_unused.throttle',
  'credentials_unused.suspend',
]);

function checkNumber(path: string, value: unknown): number {
  const share = SHARES.has(path);
  const ok = typeof value === 'number' && Number.isFinite(value) && value > 0 && (!share || value <= 1);
  if (!ok) throw misconfigured(`${path} must be ${share ? 'a number in (0, 1]' : 'a number > 0'}`);
  return value as number;
}

export function parseAbuseThresholds(raw: string | undefined): AbuseThresholds {
  const out = structuredClone(DEFAULT_ABUSE_THRESHOLDS) as AbuseThresholds;
  if (raw === undefined || raw.trim() === '') return out;
  let given: unknown;
  try {
    given = JSON.parse(raw);
  } catch {
    throw misconfigured('not valid JSON');
  }
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw misconfigured('must be a JSON object');
  const target = out as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(given)) {
    if (!(key in out)) throw misconfigured(`unknown field ${key}`);
    const current = target[key];
    if (typeof current === 'boolean') {
      if (typeof value !== 'boolean') throw misconfigured(`${key} must be true or false`);
      target[key] = value;
    } else if (typeof current === 'number') {
      target[key] = checkNumber(key, value);
    } else {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw misconfigured(`${key} must be an object`);
      const group = current as Record<string, number>;
      for (const [field, v] of Object.entries(value)) {
        if (!(field in group)) throw misconfigured(`unknown field ${key}.${field}`);
        group[field] = checkNumber(`${key}.${field}`, v);
      }
    }
  }
  // A suspension level below the throttle level would skip the warning step.
  for (const key of ['churn', 'credentials_unused', 'fan_out'] as const) {
    if (out[key].suspend < out[key].throttle) throw misconfigured(`${key}.suspend must be at least ${key}.throttle`);
  }
  return out;
}

let cached: { raw: string; thresholds: AbuseThresholds } | undefined;

/** Parsed once per isolate per distinct value. */
export function abuseThresholds(env: { DBLEASE_ABUSE_THRESHOLDS?: string }): AbuseThresholds {
  const raw = env.DBLEASE_ABUSE_THRESHOLDS ?? '';
  if (cached?.raw !== raw) cached = { raw, thresholds: parseAbuseThresholds(raw) };
  return cached.thresholds;
}
