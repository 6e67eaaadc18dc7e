/**
 * The admission half of the provisioning saga (step 1; ARCHITECTURE.md, "The path of a create"). It runs as ONE synchronous
 * storage transaction inside the account object, so concurrent creates are serialised: every
 * check sees the writes of the admissions before it. Nothing is written unless every check
 * passes, and then the `provisioning` record, its reservation, the idempotency key, the rate
 * buckets (creates, and provider actions) and the event are written together.
 */
import { and, eq, gte, lt, sql } from 'drizzle-orm';
import { Failure, notFound } from '../src/core/errors';
import { newId } from '../src/core/ids';
import { checkDepth, checkQuota, checkLimit, checkSpend, checkTtl, rateLimited } from '../src/core/policy/admission-checks';
import { leaseMaxCostMicroUsd, startOfMonth, usdToMicro, type PriceTable } from '../src/core/policy/cost';
import { createRateFor, type Policy } from '../src/core/policy/policy';
import { fullBucket, take, type BucketRate } from '../src/core/policy/token-bucket';
import { takeProviderAction } from './provider-actions';
import { account, databases, idempotencyKeys, rateBucket, sessions, tokens } from './schema';
import { requireActiveSession } from './sessions';
import type { Db, Store } from './store';
import { databaseRecord, type DatabaseRecord } from './views';
import { FRESH_DATABASE_NAME, providerNames, type ProviderNames } from '../src/core/naming';
import { enterProvisioning } from './transitions';
import type { Sealer } from '../src/core/crypto/sealed';
import { responseContext } from './sealed-records';

export const IDEMPOTENCY_TTL_MS = 24 * 3_600 * 1_000;
/** Longest a quota refusal tells an agent to wait before trying again. */
const MAX_QUOTA_RETRY_SECONDS = 3_600;

export interface AdmitCreateInput {
  token: { id: string; max_database_ttl_seconds: number | null };
  kind: 'fresh' | 'branch';
  parent_id?: string;
  /** Fresh databases only (default `default`); a branch is in its parent's region. */
  region?: string;
  ttl_seconds?: number;
  labels?: Record<string, string>;
  /** A branch masked with anonymisation rules before its credentials are handed out. */
  anonymized?: boolean;
  session_id?: string | null;
  idempotency_key?: string;
  /** Hash of the request (method, path, canonical body) that carried the idempotency key. */
  request_hash: string;
}

/** Names the provider resources must carry, so the reconciler can tie them to this record. */

export type Admission =
  | { outcome: 'admitted'; database: DatabaseRecord; provider_names: ProviderNames; parent: DatabaseRecord | null }
  | { outcome: 'replay'; database_id: string; response_sealed: string | null; database: DatabaseRecord }
  | { outcome: 'in_flight'; database_id: string };

/**
 * Keys are scoped to the token that sent them: another token sending the same key and body
 * makes its own database and never receives the first one's response (and password).
 */
const idempotencyKeyOf = (input: AdmitCreateInput) =>
  input.idempotency_key === undefined ? undefined : `${input.token.id}:${input.idempotency_key}`;

export function admit(
  store: Store,
  input: AdmitCreateInput,
  ctx: { policy: Policy; prices: PriceTable; now: number; providerActions: BucketRate; throttleFraction?: number },
): Admission {
  const { policy, prices, now } = ctx;
  return store.write('admit create', (db) => {
    // 1. Idempotency: a key seen before answers from its record, never by creating again.
    db.delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, now)).run();
    const storedKey = idempotencyKeyOf(input);
    if (storedKey !== undefined) {
      const seen = db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, storedKey)).get();
      if (seen) {
        if (seen.requestHash !== input.request_hash) {
          throw new Failure('idempotency_key_reused', 'this Idempotency-Key was used with a different request', {
            idempotency_key: input.idempotency_key,
          });
        }
        const record = db.select().from(databases).where(eq(databases.id, seen.databaseId)).get();
        if (!record) throw new Error(`idempotency key ${seen.key} points at missing database ${seen.databaseId}`);
        if (record.state === 'provisioning') return { outcome: 'in_flight', database_id: record.id };
        return { outcome: 'replay', database_id: record.id, response_sealed: seen.responseSealed, database: databaseRecord(record) };
      }
    }

    const acct = db.select().from(account).get();
    if (!acct) throw notFound('account', 'for this token');
    if (acct.abuseState === 'suspended') {
      throw new Failure(
        'account_suspended',
        `this account is suspended: it cannot create databases (${acct.abuseReason ?? 'no reason given'})`,
        {
          reason: acct.abuseReason,
        },
      );
    }

    // A database may only join a session that is still active (durable-objects/sessions.ts).
    if (input.session_id) requireActiveSession(db, input.session_id, now);

    // 2. TTL.
    const ttl = checkTtl(input.ttl_seconds, policy, input.token.max_database_ttl_seconds);
    if (!ttl.ok) throw Failure.from(ttl.error);

    // 3. Active-database quota.
    const earliest = store.earliestExpiry(db);
    const retryAfter = earliest === null ? 60 : Math.min(MAX_QUOTA_RETRY_SECONDS, Math.max(1, Math.ceil((earliest - now) / 1000)));
    const quota = checkQuota(store.activeCount(db), policy, retryAfter);
    if (!quota.ok) throw Failure.from(quota.error);

    // 4. Create rate (the bucket is saved only if the create is admitted).
    const rate = createRateFor(policy, acct.abuseState, ctx.throttleFraction);
    const bucketRow = db.select().from(rateBucket).get();
    const taken = take(bucketRow ?? fullBucket(rate, now), rate, now);
    if (!taken.allowed) throw rateLimited(taken.retryAfterSeconds, rate);
    // 4b. The provider-action bucket: a create is an action at the provider like a rotation or
    // a delete (taken in this transaction, so undone if a later check refuses).
    takeProviderAction(db, ctx.providerActions, now);

    // 5. Parent and branch depth.
    let parent: typeof databases.$inferSelect | undefined;
    let depth = 0;
    if (input.kind === 'branch') {
      if (!input.parent_id) throw new Error('admitCreate: a branch needs parent_id');
      parent = db.select().from(databases).where(eq(databases.id, input.parent_id)).get();
      if (!parent || parent.state === 'deleted') throw notFound('database', input.parent_id);
      if (parent.state !== 'ready') {
        throw new Failure('parent_not_ready', `database ${parent.id} is ${parent.state}, not ready`, { state: parent.state });
      }
      const d = checkDepth(parent.depth, policy);
      if (!d.ok) throw Failure.from(d.error);
      depth = d.value;
    }

    // 6. Spend cap, with this lease's maximum cost.
    const cost = leaseMaxCostMicroUsd(ttl.value, prices);
    const month = store.spendRow(db, now);
    const spend = checkSpend({
      capMicroUsd: usdToMicro(policy.monthly_spend_cap_usd),
      spentMicroUsd: month.spentMicroUsd,
      reservedMicroUsd: month.reservedMicroUsd,
      requestedMicroUsd: cost,
    });
    if (!spend.ok) throw Failure.from(spend.error);
    // 7. The token's own monthly limit and the session's budget, below the cap.
    for (const limit of limitsOf(db, input, now)) {
      const check = checkLimit(limit.kind, { ...limit, requestedMicroUsd: cost });
      if (!check.ok) throw Failure.from(check.error);
    }

    // Admitted: write everything at once.
    const id = newId('db');
    const names = providerNames(acct.id, id, parent?.databaseName ?? FRESH_DATABASE_NAME);
    const row: typeof databases.$inferInsert = {
      id,
      state: 'provisioning',
      kind: input.kind,
      parentId: parent?.id ?? null,
      depth,
      region: parent?.region ?? input.region ?? 'default',
      roleName: names.role,
      databaseName: names.database,
      providerAccount: parent?.providerAccount ?? null,
      providerProjectId: parent?.providerProjectId ?? null,
      labels: input.labels ?? {},
      anonymized: input.anonymized ?? false,
      sessionId: input.session_id ?? null,
      tokenId: input.token.id,
      ttlSeconds: ttl.value,
      expiresAt: now + ttl.value * 1000,
      kept: false,
      reservedMicroUsd: cost,
      createdAt: now,
      deleteAttempts: 0,
    };
    enterProvisioning(store, db, { ...row, state: 'provisioning' }, now, {
      tokenId: input.token.id,
      data: { kind: input.kind, parent_id: parent?.id ?? null, ttl_seconds: ttl.value, reserved_micro_usd: cost },
    });
    store.adjustSpend(db, now, { reserved: cost });
    if (bucketRow) db.update(rateBucket).set(taken.state).where(eq(rateBucket.singleton, 1)).run();
    else
      db.insert(rateBucket)
        .values({ singleton: 1, ...taken.state })
        .run();
    if (storedKey !== undefined) {
      db.insert(idempotencyKeys)
        .values({
          key: storedKey,
          requestHash: input.request_hash,
          databaseId: id,
          responseSealed: null,
          createdAt: now,
          expiresAt: now + IDEMPOTENCY_TTL_MS,
        })
        .run();
    }
    const created = db.select().from(databases).where(eq(databases.id, id)).get()!;
    return {
      outcome: 'admitted',
      database: databaseRecord(created),
      provider_names: names,
      parent: parent ? databaseRecord(parent) : null,
    };
  });
}

/** What admitCreate answers: a new record, or the replay of an earlier create with the same key and body. */
export type AdmitResult =
  | { outcome: 'admitted'; database: DatabaseRecord; provider_names: ProviderNames; parent: DatabaseRecord | null }
  /**
   * The same Idempotency-Key and request were admitted before: its record, and the response the
   * original create returned (JSON text, as given to `completeCreate`), replayed byte for byte.
   */
  | { outcome: 'replayed'; database: DatabaseRecord; response_json: string | null };

/** How long a retried create waits for the original (same Idempotency-Key) to finish. */
export const IDEMPOTENCY_WAIT_MS = 10_000;
const IDEMPOTENCY_POLL_MS = 20;

/**
 * Step 1 of the saga. Order of checks: idempotency, TTL, quota, rate, depth, spend. A retry of a
 * create still in flight waits for it (bounded), then gets its response, opened from its seal.
 */
export async function admitOrReplay(
  store: Store,
  input: AdmitCreateInput,
  ctx: {
    policy: () => Policy;
    prices: PriceTable;
    providerActions: BucketRate;
    sealer: () => Promise<Sealer>;
    waitMs: number;
    throttleFraction?: number;
  },
): Promise<AdmitResult> {
  const deadline = Date.now() + ctx.waitMs;
  for (;;) {
    const now = Date.now();
    const admission = admit(store, input, {
      policy: ctx.policy(),
      prices: ctx.prices,
      now,
      providerActions: ctx.providerActions,
      throttleFraction: ctx.throttleFraction,
    });
    if (admission.outcome === 'admitted') return admission;
    if (admission.outcome === 'replay') {
      const sealed = admission.response_sealed;
      const responseJson = sealed === null ? null : await (await ctx.sealer()).open(sealed, responseContext(admission.database_id));
      return { outcome: 'replayed', database: admission.database, response_json: responseJson };
    }
    if (now >= deadline) {
      throw new Failure(
        'idempotency_in_progress',
        'a request with this Idempotency-Key is still in progress',
        { database_id: admission.database_id },
        1,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, IDEMPOTENCY_POLL_MS));
  }
}

/**
 * The limits below the cap that this create must fit: the token's month (what the databases it
 * created this UTC month hold, reserved and spent) and the session's budget (what the databases
 * bound to the session hold). Read in the admission's transaction, so they are exact under
 * concurrency like the cap.
 */
function limitsOf(db: Db, input: AdmitCreateInput, now: number) {
  const out: { kind: 'token' | 'session'; limitMicroUsd: number; usedMicroUsd: number }[] = [];
  const held = sql<number>`coalesce(sum(${databases.reservedMicroUsd} + ${databases.spentMicroUsd}), 0)`;
  const token = db.select({ limit: tokens.monthlySpendLimitMicroUsd }).from(tokens).where(eq(tokens.id, input.token.id)).get();
  if (token?.limit != null) {
    const used = db
      .select({ n: held })
      .from(databases)
      .where(and(eq(databases.tokenId, input.token.id), gte(databases.createdAt, startOfMonth(now))))
      .get();
    out.push({ kind: 'token', limitMicroUsd: token.limit, usedMicroUsd: used?.n ?? 0 });
  }
  if (input.session_id) {
    const session = db.select({ limit: sessions.spendLimitMicroUsd }).from(sessions).where(eq(sessions.id, input.session_id)).get();
    if (session?.limit != null) {
      const used = db.select({ n: held }).from(databases).where(eq(databases.sessionId, input.session_id)).get();
      out.push({ kind: 'session', limitMicroUsd: session.limit, usedMicroUsd: used?.n ?? 0 });
    }
  }
  return out;
}
