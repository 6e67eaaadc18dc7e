import { describe, expect, it } from 'vitest';
import { DEFAULT_ABUSE_THRESHOLDS, parseAbuseThresholds } from '../../src/core/policy/abuse-config';
import { DEFAULT_POLICY, createRateFor } from '../../src/core/policy/policy';

describe('DBLEASE_ABUSE_THRESHOLDS', () => {
  it('defaults to the documented thresholds', () => {
    expect(parseAbuseThresholds('')).toEqual({
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
  });

  it('overrides field by field, one level deep, without touching the defaults', () => {
    const t = parseAbuseThresholds('{"churn": {"throttle": 0.5}, "quiet_hours": 6, "enabled": false}');
    expect(t.churn).toEqual({ ...DEFAULT_ABUSE_THRESHOLDS.churn, throttle: 0.5 });
    expect(t.quiet_hours).toBe(6);
    expect(t.enabled).toBe(false);
    expect(DEFAULT_ABUSE_THRESHOLDS.churn.throttle).toBe(0.6);
  });

  it.each([
    ['{', /not valid JSON/],
    ['[]', /must be a JSON object/],
    ['{"churn_rate": 1}', /unknown field churn_rate/],
    ['{"churn": {"max": 1}}', /unknown field churn.max/],
    ['{"churn": {"throttle": 1.5}}', /churn.throttle must be a number in \(0, 1\]/],
    ['{"quiet_hours": 0}', /quiet_hours must be a number > 0/],
    ['{"enabled": "yes"}', /enabled must be true or false/],
    ['{"fan_out": {"suspend": 5}}', /fan_out.suspend must be at least fan_out.throttle/],
  ])('refuses %s loudly', (raw, message) => {
    expect(() => parseAbuseThresholds(raw)).toThrow(message);
  });
});

describe('the throttled create rate', () => {
  it("is the operator's fraction of the policy's rate and burst, never below one", () => {
    expect(createRateFor(DEFAULT_POLICY, 'throttled', 0.5)).toEqual({ perMinute: 30, burst: 10 });
    expect(createRateFor(DEFAULT_POLICY, 'throttled', 0.01)).toEqual({ perMinute: 1, burst: 1 });
    expect(createRateFor(DEFAULT_POLICY, 'ok', 0.5)).toEqual({ perMinute: 60, burst: 20 });
  });
});
