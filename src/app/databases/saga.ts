/**
 * The create saga, for fresh databases and branches alike (ARCHITECTURE.md, "The path of a
 * create"). It reads top to bottom:
 *   1. admit: ONE round trip to the account object (idempotency, TTL, quota, rate, depth, spend,
 *      and the `provisioning` record with its reservation). With the warm pool on, a fresh
 *      create's claim happens in the same call, and so does its completion when nothing else is
 *      owed before the 201 (ARCHITECTURE.md, "The claim path"): then the saga ends here;
 *   2. provision: the provider resource (src/app/databases/provision.ts), or the pool's claim;
 *   3. wait ready: `select 1` with the new credentials, so a 201 means the database answers
 *      (a pool entry was proven by the pool, with the very credentials handed out);
 *   4. complete: ONE round trip that marks the record ready and seals the response for replays.
 * Undo, on any failure: the admission is rolled back (the reservation released, the idempotency
 * key freed), and whatever the provider holds is removed in the background by the one removal
 * path (src/neon/remove.ts), by id when known, else by the name the record gave it. A crash at
 * any point leaves a `provisioning` record the sweeper finishes the same way.
 */
import type { AdmitResult, PoolClaimed } from '../../../durable-objects/account';
import type { AccountPrincipal } from '../../core/auth/principal';
import { hasScope } from '../../core/auth/tokens';
import type { DatabaseRecord } from '../../core/contract';
import { Failure, invalidFields } from '../../core/errors';
import { sha256Hex } from '../../core/ids';
import { unwrap } from '../../core/result';
import { remove } from '../../neon/remove';
import { toFailure } from '../http/error-mapping';
import type { CreateBranch, CreateDatabase } from '../schemas/databases';
import { waitForSql } from '../sql/ready';
import { ownAccount, needScope, tokenCaller } from '../access';
import { fromPoolClaim, provisionBranch, provisionFresh, warmPoolEnabled, type Provisioned } from './provision';
import { applyMask, checkMask } from './mask';
import { checkBranchPoint, pointRefusal, type CheckedPoint } from './point-in-time';
import { connectionFor } from './existing';
import { applySeed, planSeed, seedLimits } from './seed';
import type { CreateOptions, Created, WaitUntil } from './types';
import { connection, serverTiming, toDatabase } from './view';

/** What is asked for: a fresh database in a region, or a branch of a parent. */
export type CreateRequest =
  { kind: 'fresh'; region: string; body: CreateDatabase } | { kind: 'branch'; parentId: string; body: CreateBranch };

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export async function runCreate(
  env: Env,
  ctx: WaitUntil,
  principal: AccountPrincipal,
  request: CreateRequest,
  opts: CreateOptions = {},
): Promise<Created> {
  needScope(principal, 'databases:write');
  if (opts.idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(opts.idempotencyKey)) {
    throw invalidFields([{ path: 'Idempotency-Key', message: 'must be 1-255 printable ASCII characters' }]);
  }
  const started = Date.now();
  const stub = ownAccount(env, principal);
  const tenant = principal.account_id;
  // A seed is checked (and `seed.from` read) before anything is admitted: a refusal costs nothing.
  const seed = request.kind === 'fresh' ? request.body.seed : undefined;
  const anonymize = request.kind === 'branch' ? request.body.anonymize : undefined;
  const seedLimit = seed || anonymize ? await seedLimits(env, principal) : undefined;
  const seedPlan = seed ? await planSeed(env, principal, seed, seedLimit!) : undefined;
  // A branch's point in time is checked against the parent's history window before admission too.
  const point =
    request.kind === 'branch'
      ? await checkBranchPoint(env, request.body, async () => unwrap(await stub.getDatabase(request.parentId)).database)
      : undefined;
  if (anonymize && request.kind === 'branch') {
    const parent = await connectionFor(env, principal, request.parentId, { scope: 'databases:read' });
    await checkMask(env, parent.uri, anonymize.rules, seedLimit!);
  }

  // 1. Admit (and claim from the warm pool, and complete if nothing else is owed before the 201).
  const poolClaim =
    request.kind === 'fresh' && warmPoolEnabled(env)
      ? { pool: request.region, complete: seedPlan === undefined && opts.idempotencyKey === undefined }
      : undefined;
  const admission = unwrap(
    await stub.admitCreate(
      {
        token: tokenCaller(principal),
        kind: request.kind,
        parent_id: request.kind === 'branch' ? request.parentId : undefined,
        region: request.kind === 'fresh' ? request.region : undefined,
        ttl_seconds: request.body.ttl_seconds,
        labels: request.body.labels,
        anonymized: anonymize !== undefined,
        session_id: request.body.session_id ?? null,
        idempotency_key: opts.idempotencyKey,
        request_hash: await requestHash(request),
      },
      poolClaim,
    ),
  );
  const admittedAt = Date.now();
  if (admission.outcome === 'replayed') return replay(admission, admittedAt - started);
  const id = admission.database.id;
  const claimed = admission.claimed ?? null;
  if (claimed?.completed) return completedFromPool(principal, { ...claimed, completed: claimed.completed }, started);

  let made: Provisioned | undefined;
  try {
    // 2. Provision (a pool claim was made at admission; null means the pool had none).
    made =
      request.kind === 'branch'
        ? await provisionBranch(env, tenant, admission, point!.point)
        : claimed
          ? fromPoolClaim(claimed)
          : await provisionFresh(env, tenant, admission);
    const provisionedAt = Date.now();

    // 3. Wait until it answers, with the credentials the agent gets (the pool proved its entry).
    const { host, role_name: role, database_name: name } = made.facts;
    const conn = connection({ host, role, password: made.password, database: name });
    if (made.source !== 'pool') {
      await waitForSql(env, conn.direct).catch((err: unknown) => {
        throw err instanceof Failure
          ? err
          : new Failure('provider_unavailable', `the new database did not accept its credentials: ${(err as Error).message}`, undefined, 5);
      });
    }
    // 3b. Seed it, so a 201 means the seed is in (a failure is undone like any other).
    if (seedPlan) await applySeed(env, conn.direct, seedPlan, seedLimit!);
    // 3c. Mask an anonymised branch before anyone has its credentials (src/app/databases/mask.ts).
    if (anonymize) await applyMask(env, conn.direct, anonymize.rules, seedLimit!);
    const readyAt = Date.now();

    // 4. Complete. Only a token that may see credentials gets them; any other fetches them later, if granted.
    const timings = {
      admit: admittedAt - started,
      provider: provisionedAt - admittedAt,
      ready: readyAt - provisionedAt,
      total: readyAt - started,
      // A pool miss is visible here: the create went on demand.
      source: made.source,
    };
    const record = { ...admission.database, state: 'ready' as const, ready_at: new Date(readyAt).toISOString() };
    const database = toDatabase(record, { connection: hasScope(principal.scopes, 'databases:credentials') ? conn : undefined, timings });
    const facts = { ...made.facts, password: made.password };
    const json = JSON.stringify(database);
    // completeCreate is idempotent, so a lost reply is safely asked again once.
    const complete = async () => unwrap(await stub.completeCreate(id, facts, json));
    await complete().catch((err) => (err instanceof Failure ? Promise.reject(err) : complete()));
    return { database, status: 201, serverTiming: serverTiming({ ...timings, complete: Date.now() - readyAt }) };
  } catch (err) {
    // Undo. If even the roll-back fails, the record stays `provisioning`: the sweeper's case.
    const failure = pointRefusal(env, err, point, Date.now()) ?? toFailure(err);
    const rolledBack = await stub.failCreate(id, failure.message).catch(() => null);
    const completed = rolledBack && !rolledBack.ok && rolledBack.error.details?.state === 'ready';
    if (!completed) ctx.waitUntil(remove(env, tenant, withFacts(admission.database, made), { tenant }).catch(() => {}));
    // A bug travels on as itself, so the one error handler logs where it came from.
    throw failure.isBug ? err : failure;
  }
}

/**
 * A create the account object completed together with its warm-pool claim: nothing is left but
 * the answer. `ready` is 0: the pool proved the entry with these credentials before handing it over.
 */
function completedFromPool(principal: AccountPrincipal, claimed: PoolClaimed & { completed: DatabaseRecord }, started: number): Created {
  const { host, role_name: role, database_name: name } = claimed.facts;
  const conn = connection({ host, role, password: claimed.password, database: name });
  const total = Date.now() - started;
  const { claim, complete } = claimed.timings;
  const timings = { admit: Math.max(0, total - claim - complete), provider: claim, ready: 0, total, source: 'pool' as const };
  const database = toDatabase(claimed.completed, {
    connection: hasScope(principal.scopes, 'databases:credentials') ? conn : undefined,
    timings,
  });
  return { database, status: 201, serverTiming: serverTiming({ ...timings, complete }) };
}

/** The same Idempotency-Key and body were admitted before: the original response, byte for byte. */
function replay(admission: Extract<AdmitResult, { outcome: 'replayed' }>, admitMs: number): Created {
  const database = admission.response_json ? JSON.parse(admission.response_json) : toDatabase(admission.database);
  return { database, status: 200, serverTiming: serverTiming({ admit: admitMs }) };
}

/** The record with what the provider step made, for the undo to find it by id. */
const withFacts = (record: DatabaseRecord, made: Provisioned | undefined): DatabaseRecord =>
  made
    ? {
        ...record,
        provider: {
          account: made.facts.provider_account,
          project_id: made.facts.project_id,
          branch_id: made.facts.branch_id,
          endpoint_id: made.facts.endpoint_id,
        },
      }
    : record;

/** JSON with object keys sorted at every level, so equal bodies hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export const requestHash = (request: CreateRequest) =>
  sha256Hex(`${request.kind} ${request.kind === 'branch' ? request.parentId : ''} ${canonicalJson(request.body)}`);
