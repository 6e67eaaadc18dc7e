/**
 * The provisioning saga of DESIGN §2, shared by fresh databases and branches:
 *   1. `admitCreate` (ONE round trip: idempotency, TTL, quota, rate, depth, spend, and the
 *      `provisioning` record), 2. the provider calls, 3. `select 1` with the new credentials,
 *   4. `completeCreate` (ONE round trip; it also stores the response for idempotent replays).
 * A 201 therefore means the database answered a query. Provider ids are noted on the record as
 * soon as they are known (off the critical path), and resource names carry the account and
 * database ids, so a crash at any point leaves a `provisioning` record the sweeper can finish.
 * On failure: the admission is rolled back (`failCreate` releases the reservation and the
 * idempotency key), whatever was half-made is deleted in the background, and the agent gets the
 * error (provider trouble: 503 + Retry-After).
 */
import type { AdmitResult, ProviderFacts } from '../../durable-objects/account';
import type { AccountPrincipal } from '../auth/principal';
import { hasScope } from '../auth/tokens';
import { ApiError, invalidFields, providerUnavailable } from '../errors';
import { sha256Hex } from '../ids';
import { ProviderOperationError, ProviderRequestError } from '../provider/index';
import { unwrap } from '../rpc';
import { waitForSql } from '../sql/ready';
import { accountOf, needScope, tokenCaller } from './access';
import type { CreateOptions, Created, WaitUntil } from './service';
import { connection, serverTiming, toDatabase } from './view';

export type Admitted = Extract<AdmitResult, { outcome: 'admitted' }>;

/** What the provider step made. */
export interface Provisioned {
  facts: ProviderFacts & { role_name: string; database_name: string };
  password: string;
}

export interface ProvisionHooks {
  /** Notes provider ids on the record without waiting for it. */
  note(facts: Partial<ProviderFacts>): void;
  /** What to run to undo the provider work if a later step fails (the latest call wins). */
  undoWith(undo: () => Promise<unknown>): void;
}

export interface SagaSpec {
  kind: 'fresh' | 'branch';
  parentId?: string;
  /** The validated request body (hashed for idempotency, and the lease's fields). */
  body: { ttl_seconds?: number; labels?: Record<string, string>; session_id?: string; region?: string };
  region?: string;
  provision(admitted: Admitted, hooks: ProvisionHooks): Promise<Provisioned>;
  /** A provider refusal that is the caller's fault (e.g. an unknown region), as a 400. */
  refusal?(err: ProviderRequestError): ApiError | undefined;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

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

export const requestHash = (spec: Pick<SagaSpec, 'kind' | 'parentId' | 'body'>) =>
  sha256Hex(`${spec.kind} ${spec.parentId ?? ''} ${canonicalJson(spec.body)}`);

/** Provider and readiness failures are 503s; a refusal that is the caller's fault is kept; bugs stay bugs (500). */
function asApiError(err: unknown, spec: SagaSpec): unknown {
  if (err instanceof ApiError) return err;
  if (err instanceof ProviderRequestError)
    return spec.refusal?.(err) ?? providerUnavailable(`the database provider refused: ${err.message}`);
  if (err instanceof ProviderOperationError) return providerUnavailable(err.message);
  const sqlState = (err as { code?: unknown } | null)?.code;
  if (typeof sqlState === 'string' || (err instanceof Error && err.name === 'NeonDbError')) {
    return providerUnavailable(`the new database did not accept its credentials: ${(err as Error).message}`);
  }
  return err;
}

export async function runCreateSaga(
  env: Env,
  ctx: WaitUntil,
  principal: AccountPrincipal,
  spec: SagaSpec,
  opts: CreateOptions,
): Promise<Created> {
  needScope(principal, 'databases:write');
  if (opts.idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(opts.idempotencyKey)) {
    throw invalidFields([{ path: 'Idempotency-Key', message: 'must be 1-255 printable ASCII characters' }]);
  }
  const started = Date.now();
  const stub = accountOf(env, principal);
  const admission = unwrap(
    await stub.admitCreate({
      token: tokenCaller(principal),
      kind: spec.kind,
      parent_id: spec.parentId,
      region: spec.region,
      ttl_seconds: spec.body.ttl_seconds,
      labels: spec.body.labels,
      session_id: spec.body.session_id ?? null,
      idempotency_key: opts.idempotencyKey,
      request_hash: await requestHash(spec),
    }),
  );
  const admittedAt = Date.now();
  if (admission.outcome === 'replayed') {
    const database = admission.response_json ? JSON.parse(admission.response_json) : toDatabase(admission.database);
    return { database, status: 200, serverTiming: serverTiming({ admit: admittedAt - started }) };
  }

  const id = admission.database.id;
  let undo: (() => Promise<unknown>) | undefined;
  const hooks: ProvisionHooks = {
    note: (facts) => ctx.waitUntil(stub.recordProviderFacts(id, facts).catch(() => {})),
    undoWith: (fn) => (undo = fn),
  };
  try {
    const made = await spec.provision(admission, hooks);
    const provisionedAt = Date.now();
    const conn = connection({
      host: made.facts.host,
      role: made.facts.role_name,
      password: made.password,
      database: made.facts.database_name,
    });
    await waitForSql(env, conn.direct);
    const readyAt = Date.now();
    const timings = {
      admit: admittedAt - started,
      provider: provisionedAt - admittedAt,
      ready: readyAt - provisionedAt,
      total: readyAt - started,
    };
    const record = { ...admission.database, state: 'ready' as const, ready_at: new Date(readyAt).toISOString() };
    // Only a token that may see credentials gets them; any other fetches them later, if granted.
    const shown = hasScope(principal.scopes, 'databases:credentials') ? conn : undefined;
    const database = toDatabase(record, { connection: shown, timings });
    const facts = { ...made.facts, password: made.password };
    const json = JSON.stringify(database);
    // completeCreate is idempotent, so a lost reply is safely asked again once.
    const complete = async () => unwrap(await stub.completeCreate(id, facts, json));
    await complete().catch((err) => (err instanceof ApiError ? Promise.reject(err) : complete()));
    return { database, status: 201, serverTiming: serverTiming({ ...timings, complete: Date.now() - readyAt }) };
  } catch (err) {
    const failure = asApiError(err, spec);
    const reason = failure instanceof Error ? failure.message : String(failure);
    // If even this fails, the record stays `provisioning` with its provider ids: the sweeper's case.
    const rolledBack = await stub.failCreate(id, reason).catch(() => null);
    const isReady = rolledBack && !rolledBack.ok && rolledBack.error.details?.state === 'ready';
    if (undo && !isReady) ctx.waitUntil(undo().catch(() => {}));
    throw failure;
  }
}
