import { describe, expect, it } from 'vitest';
import { Failure } from '../../src/core/errors';
import { operatorConfig, parsePolicyMaxima, parsePrices } from '../../src/core/policy/operator-config';
import { DEFAULT_POLICY, applyPolicyPatch, createRateFor, resolvePolicy } from '../../src/core/policy/policy';
import { DEFAULT_PRICES } from '../../src/core/policy/cost';
import { statusOf } from './support';

describe('policy defaults', () => {
  it('are the documented values', () => {
    expect(DEFAULT_POLICY).toEqual({
      default_ttl_seconds: 3600,
      max_ttl_seconds: 604800,
      max_active_databases: 50,
      creates_per_minute: 60,
      create_burst: 20,
      max_branch_depth: 64,
      monthly_spend_cap_usd: 20,
      sql_statement_timeout_ms: 10_000,
      sql_max_rows: 10_000,
      sql_max_bytes: 10 * 1024 * 1024,
    });
  });
});

describe('resolvePolicy', () => {
  it('starts at the maxima and applies lower overrides', () => {
    expect(resolvePolicy({}, DEFAULT_POLICY)).toEqual(DEFAULT_POLICY);
    expect(resolvePolicy({ max_active_databases: 5 }, DEFAULT_POLICY).max_active_databases).toBe(5);
  });
  it('clamps an override that a later, lower maximum undercuts', () => {
    const maxima = { ...DEFAULT_POLICY, max_active_databases: 10 };
    expect(resolvePolicy({ max_active_databases: 40 }, maxima).max_active_databases).toBe(10);
  });
  it('lowers the default TTL with the max TTL', () => {
    expect(resolvePolicy({ max_ttl_seconds: 600 }, DEFAULT_POLICY).default_ttl_seconds).toBe(600);
  });
});

describe('applyPolicyPatch', () => {
  const patch = (p: Parameters<typeof applyPolicyPatch>[1], current = {}) => applyPolicyPatch(current, p, DEFAULT_POLICY);

  it('accepts values up to and including the maximum', () => {
    expect(patch({ max_active_databases: 50 })).toEqual({ ok: true, overrides: { max_active_databases: 50 } });
    expect(patch({ monthly_spend_cap_usd: 12.5 })).toEqual({ ok: true, overrides: { monthly_spend_cap_usd: 12.5 } });
  });
  it('refuses one above the maximum, naming the field', () => {
    const r = patch({ max_active_databases: 51, create_burst: 5 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toEqual(['max_active_databases']);
  });
  it('refuses values below the minimum and fractions of integer knobs', () => {
    for (const bad of [
      { max_active_databases: 0 },
      { creates_per_minute: -1 },
      { max_ttl_seconds: 1.5 },
      { monthly_spend_cap_usd: -0.01 },
    ]) {
      const r = patch(bad);
      expect(r.ok, JSON.stringify(bad)).toBe(false);
      if (!r.ok) expect(r.issues[0]!.path).toBe(Object.keys(bad)[0]);
    }
    expect(patch({ max_branch_depth: 0 }).ok).toBe(true);
    expect(patch({ monthly_spend_cap_usd: 0 }).ok).toBe(true);
  });
  it('null removes an override (back to the maximum)', () => {
    expect(patch({ max_active_databases: null }, { max_active_databases: 3, create_burst: 2 })).toEqual({
      ok: true,
      overrides: { create_burst: 2 },
    });
  });
  it('refuses a default TTL above the (new) max TTL', () => {
    const r = patch({ max_ttl_seconds: 600, default_ttl_seconds: 601 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toEqual(['default_ttl_seconds']);
    expect(patch({ max_ttl_seconds: 600, default_ttl_seconds: 600 }).ok).toBe(true);
  });
  it('refuses unknown knobs', () => {
    const r = patch({ nope: 1 } as never);
    expect(r.ok).toBe(false);
  });
});

describe('throttled accounts', () => {
  it('create at a quarter of the rate, never below one', () => {
    expect(createRateFor(DEFAULT_POLICY, 'ok')).toEqual({ perMinute: 60, burst: 20 });
    expect(createRateFor(DEFAULT_POLICY, 'throttled')).toEqual({ perMinute: 15, burst: 5 });
    expect(createRateFor({ ...DEFAULT_POLICY, creates_per_minute: 2, create_burst: 1 }, 'throttled')).toEqual({ perMinute: 1, burst: 1 });
  });
});

describe('operator configuration vars', () => {
  it('default to the documented values and prices', () => {
    expect(parsePolicyMaxima(undefined)).toEqual(DEFAULT_POLICY);
    expect(parsePolicyMaxima('')).toEqual(DEFAULT_POLICY);
    expect(parsePrices('')).toEqual(DEFAULT_PRICES);
  });
  it('override named knobs only', () => {
    expect(parsePolicyMaxima('{"max_active_databases":200}')).toEqual({ ...DEFAULT_POLICY, max_active_databases: 200 });
    expect(parsePrices('{"per_database_usd":0.01}')).toEqual({ ...DEFAULT_PRICES, per_database_usd: 0.01 });
  });
  it('fail loudly (500 misconfigured) on a bad var rather than fall back', () => {
    for (const raw of ['{', '[]', '{"max_active_databases":"many"}', '{"unknown_knob":1}', '{"max_ttl_seconds":0}']) {
      expect(() => parsePolicyMaxima(raw), raw).toThrow(Failure);
      try {
        parsePolicyMaxima(raw);
      } catch (e) {
        expect(statusOf(e)).toBe(500);
        expect((e as Failure).code).toBe('misconfigured');
      }
    }
    expect(() => parsePrices('{"compute_unit_hour_usd":-1}')).toThrow(Failure);
  });
  it('caches per distinct var values', () => {
    const a = operatorConfig({ DBLEASE_POLICY_MAX: '{"max_branch_depth":3}' });
    expect(a.maxima.max_branch_depth).toBe(3);
    expect(operatorConfig({ DBLEASE_POLICY_MAX: '' }).maxima.max_branch_depth).toBe(64);
  });
});
