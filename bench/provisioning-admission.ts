/**
 * Admission exactness (a target of the README's "Benchmarks"): 1,000 concurrent creates through the Worker's HTTP API across
 * 20 accounts with small limits — half capped by the active-database quota, half by the spend
 * cap — counting every 201 beyond an account's limit as an over-admission. The admitted creates
 * are real databases (5 per account, 100 in all); the refused ones never reach the provider.
 */
import { api, benchAccount } from './provisioning-setup';

const ACCOUNTS = 20;
const PER_ACCOUNT = 50;
const LIMIT = 5;
/** Default prices: an hour's lease reserves this much (src/core/policy/cost.ts); the cap fits LIMIT and a half. */
const TTL = 3_600;

/** `settle` waits until the provider is ready for the admitted creates (bench/provisioning-setup.ts). */
export async function benchAdmission(url: string, settle: () => Promise<void> = async () => {}) {
  const probe = await benchAccount(url);
  const created = await api(url, probe, 'POST', '/v1/databases', { ttl_seconds: TTL });
  const leaseUsd = created.json.reserved_usd as number;
  const accounts = await Promise.all(
    Array.from({ length: ACCOUNTS }, (_, i) =>
      benchAccount(url, i % 2 === 0 ? { max_active_databases: LIMIT } : { monthly_spend_cap_usd: leaseUsd * (LIMIT + 0.5) }),
    ),
  );
  await settle();
  const statuses = await Promise.all(
    accounts.flatMap((token, a) =>
      Array.from({ length: PER_ACCOUNT }, async () => {
        const res = await api(url, token, 'POST', '/v1/databases', { ttl_seconds: TTL });
        return { a, status: res.status, error: res.status >= 500 ? String(res.json?.error?.message ?? '') : undefined };
      }),
    ),
  );
  const admittedBy = new Array<number>(ACCOUNTS).fill(0);
  for (const s of statuses) if (s.status === 201) admittedBy[s.a]! += 1;
  const unexpected = statuses.filter((s) => ![201, 402, 429].includes(s.status));
  const byStatus: Record<string, number> = {};
  for (const s of unexpected) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  return {
    method: 'HTTP through the Worker, real databases for the admitted creates',
    accounts: ACCOUNTS,
    requests: statuses.length,
    admitted: admittedBy.reduce((x, y) => x + y, 0),
    over_admissions: admittedBy.reduce((sum, n) => sum + Math.max(0, n - LIMIT), 0),
    under_admissions: admittedBy.reduce((sum, n) => sum + Math.max(0, LIMIT - n), 0),
    unexpected_statuses: unexpected.length,
    ...(unexpected.length ? { unexpected_by_status: byStatus, first_error: unexpected.find((s) => s.error)?.error } : {}),
  };
}
