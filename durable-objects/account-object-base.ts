/**
 * What every part of the account Durable Object stands on (ARCHITECTURE.md, "Where state lives"):
 * its storage and lifecycle, the one `rpc` wrapper that turns failures into `Result` data and
 * keeps the one alarm on the earliest deadline, and the operator's configuration. The RPC
 * methods themselves are in durable-objects/account-databases.ts (a database's records, SQL use,
 * migrations, bindings) and durable-objects/account.ts (the account, its tokens, sessions,
 * dashboard and lifecycle), which the Worker binds as one class.
 */
import { DurableObject } from 'cloudflare:workers';
import { Sealer } from '../src/core/crypto/sealed';
import { Failure } from '../src/core/errors';
import { operatorConfig } from '../src/core/policy/operator-config';
import { providerActionRate } from '../src/core/policy/provider-action-rate';
import type { BucketRate } from '../src/core/policy/token-bucket';
import { fail, ok, type Result } from '../src/core/result';
import * as settings from './account-settings';
import * as abuse from './abuse';
import { abuseThresholds, type AbuseThresholds } from '../src/core/policy/abuse-config';
import { IDEMPOTENCY_WAIT_MS } from './admission';
import { StorageError, Store } from './store';
import { Lifecycle } from './lifecycle';
import * as sessionStore from './sessions';

export interface TokenCaller {
  id: string;
  max_database_ttl_seconds: number | null;
}

export abstract class AccountObjectBase extends DurableObject<Env> {
  protected readonly store: Store;
  protected readonly lifecycle: Lifecycle;
  protected startupError: unknown;
  /**
   * Whether this object holds an account. Until `createAccount` it has no schema and writes
   * nothing: a request naming an id dblease never issued must not cost storage.
   */
  protected hasAccount = false;
  protected sealer?: Promise<Sealer>;
  /** Instance field so tests can shorten the wait. */
  idempotencyWaitMs = IDEMPOTENCY_WAIT_MS;
  /** Instance field so tests can lower the caps (durable-objects/SCHEMA.md). */
  sessionLimits = sessionStore.SESSION_LIMITS;
  /** Instance field so tests can give one account its own provider-action rate (else the operator's vars). */
  providerActionRate?: BucketRate;
  /** Instance field so tests can give one account its own abuse thresholds (else DBLEASE_ABUSE_THRESHOLDS). */
  abuseThresholds?: AbuseThresholds;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new Store(ctx.storage);
    this.lifecycle = new Lifecycle(
      ctx,
      env,
      this.store,
      () => this.config().prices,
      () => this.getSealer(),
    );
    // Migrations run before any call is delivered, and only where an account exists (a read of
    // the catalogue writes nothing). A failure is kept and answered by every call (a logged
    // 500) instead of thrown here, where it would reset the object on every request.
    void ctx.blockConcurrencyWhile(async () => {
      try {
        this.hasAccount = this.store.initialised();
        if (this.hasAccount) await this.store.upgradeSchema();
      } catch (err) {
        this.startupError = err;
      }
    });
  }

  // ── plumbing ───────────────────────────────────────────────────────────────────────────────

  protected config() {
    return operatorConfig(this.env);
  }

  protected thresholds(): AbuseThresholds {
    return this.abuseThresholds ?? abuseThresholds(this.env);
  }

  /** Abuse evaluation (durable-objects/abuse.ts): a bounded read and at most one move. */
  protected judgeAbuse(opts: { escalate?: boolean } = {}) {
    abuse.evaluateAbuse(this.store, this.thresholds(), Date.now(), opts);
  }

  /** After databases ended: the end already happened, so a failure here is logged, never answered. */
  protected judgeAbuseQuietly() {
    try {
      this.judgeAbuse();
    } catch (err) {
      console.error(JSON.stringify({ at: 'account-object', method: 'evaluateAbuse', error: describe(err) }));
    }
  }

  protected actionRate(): BucketRate {
    return this.providerActionRate ?? providerActionRate(this.env);
  }

  protected leaseContext(token: TokenCaller) {
    const policy = this.store.read('policy', (db) => settings.effectivePolicy(db, this.config()));
    return { policy, prices: this.config().prices, now: Date.now(), token };
  }

  protected requireAccount() {
    return this.store.read('account', (db) => settings.accountRow(db));
  }

  protected getSealer(): Promise<Sealer> {
    this.sealer ??= Sealer.fromEnv(this.env).catch((err) => {
      this.sealer = undefined;
      throw err;
    });
    return this.sealer;
  }

  /** Runs one RPC: failures become data; a bug is logged and answered as a bare 500. */
  protected async rpc<T>(method: string, fn: () => T | Promise<T>): Promise<Result<T>> {
    try {
      if (this.startupError) throw new StorageError('startup', this.startupError);
      if (!this.hasAccount && method !== 'createAccount' && method !== 'ensureAccount') return fail(noAccount(method));
      return ok(await fn());
    } catch (err) {
      if (err instanceof Failure && !err.isBug) return fail(err);
      console.error(JSON.stringify({ at: 'account-object', method, error: describe(err) }));
      if (err instanceof Failure) return fail(err);
      return fail(new Failure(err instanceof StorageError ? 'storage_error' : 'internal', 'internal error'));
    } finally {
      // Any call may move a deadline (a create, a keep, a failed delete, a session): keep the
      // one alarm and the deadline index on the earliest. Cheap when nothing moved.
      if (!this.startupError && this.hasAccount) {
        await this.lifecycle
          .reschedule()
          .catch((err) => console.error(JSON.stringify({ at: 'account-object', method: 'reschedule', error: describe(err) })));
      }
    }
  }
}

/** What an object without an account answers: 401 to authentication, 404 to everything else. */
export const noAccount = (method: string) =>
  method === 'authenticate'
    ? new Failure('invalid_token', 'missing or invalid bearer token')
    : new Failure('account_not_found', 'no such account');

export const describe = (err: unknown) =>
  err instanceof Error
    ? { name: err.name, message: err.message, cause: err.cause instanceof Error ? err.cause.message : undefined }
    : String(err);
