/**
 * The account Durable Object: the single writer for everything about one account (ARCHITECTURE.md, "Where state lives").
 * Its typed RPC methods return `Result` values (errors as data, revived by the Worker with
 * `Failure.from`). Every admission decision happens in here, before any provider call.
 * Storage: durable-objects/SCHEMA.md.
 */
import { DurableObject } from 'cloudflare:workers';
import type { AccountPrincipal } from '../src/core/auth/principal';
import { hashSecret } from '../src/core/auth/tokens';
import { Sealer } from '../src/core/crypto/sealed';
import { Failure } from '../src/core/errors';
import { operatorConfig } from '../src/core/policy/operator-config';
import { providerActionRate } from '../src/core/policy/provider-action-rate';
import type { BucketRate } from '../src/core/policy/token-bucket';
import type { PolicyPatch } from '../src/core/policy/policy';
import { fail, ok, type Result } from '../src/core/result';
import * as settings from './account-settings';
import * as abuse from './abuse';
import { abuseThresholds, type AbuseThresholds } from '../src/core/policy/abuse-config';
import * as tokenStore from './account-tokens';
import * as migrationStore from './migration-store';
import { admitOrReplay, IDEMPOTENCY_WAIT_MS, type AdmitCreateInput, type AdmitResult } from './admission';
import { ensureProvisionedAccount, mintToken, openAccount } from './account-opening';
import * as sealed from './sealed-records';
import * as claims from './claims';
import { databaseDetail, dashboardStats } from './dashboard-stats';
import * as dashboardAuth from './dashboard-auth';
import { stopEverything, type StopCaller } from './account-stop';
import type { ClaimRequest } from './claims';
import type { ProviderNames } from '../src/core/naming';
import { chargeDelete, startRotation } from './provider-actions';
import { changeLease, keepLease, type DatabasePatch } from './lease-changes';
import * as registry from './registry';
import { listDatabases, type DatabasePage, type ListDatabasesFilter } from './registry-list';
import { StorageError, Store } from './store';
import { Lifecycle } from './lifecycle';
import * as bindingStore from './bindings-store';
import * as cfToken from './cloudflare-token';
import * as reconcileStore from './reconcile-store';
import { reseal } from './reseal';
import * as sessionStore from './sessions';
import { bookSpend } from './spend-book';
import type { SpendFigure } from '../src/neon/spend-figures';
import type { DatabaseRecord, TokenView } from './views';

export type { AdmitCreateInput, AdmitResult, ProviderNames, DatabasePatch, ListDatabasesFilter, DatabasePage, DatabaseRecord, TokenView };
export type { AccountView, AbuseState, EventPage } from './account-settings';
export type { StopReport } from './account-stop';
export type { ProviderFacts } from './registry';
export type { MigrationRecord, MigrationStep, NewMigration } from './migration-store';

export interface TokenCaller {
  id: string;
  max_database_ttl_seconds: number | null;
}

export class AccountDurableObject extends DurableObject<Env> {
  private readonly store: Store;
  private readonly lifecycle: Lifecycle;
  private startupError: unknown;
  /**
   * Whether this object holds an account. Until `createAccount` it has no schema and writes
   * nothing: a request naming an id dblease never issued must not cost storage.
   */
  private hasAccount = false;
  private sealer?: Promise<Sealer>;
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

  // ── account ────────────────────────────────────────────────────────────────────────────────

  async createAccount(input: { id: string; name: string }) {
    return this.rpc('createAccount', async () => {
      if (!this.hasAccount) {
        await this.store.upgradeSchema();
        this.hasAccount = true;
      }
      return openAccount(this.store, this.env, this.config(), input, Date.now());
    });
  }

  /** The account of a provisioned user: created on first sight, without an owner token. */
  async ensureAccount(input: { id: string; name: string; orchestrator: string }) {
    return this.rpc('ensureAccount', async () => {
      if (!this.hasAccount) {
        await this.store.upgradeSchema();
        this.hasAccount = true;
      }
      ensureProvisionedAccount(this.store, this.config(), input, Date.now());
      // Provisioning is refused to a suspended account (src/app/provisioning/service.ts): judge it first.
      this.judgeAbuse();
      return this.store.read('get account', (db) => settings.accountView(this.store, db, this.config(), Date.now()));
    });
  }

  /** Every live token a retired orchestrator minted here stops working. */
  async revokeTokensBy(createdBy: string) {
    return this.rpc('revokeTokensBy', () => tokenStore.revokeTokensBy(this.store, createdBy, Date.now()));
  }

  async getAccount() {
    return this.rpc('getAccount', () => {
      // A due decay is applied, so the state shown is current; a read never escalates.
      this.judgeAbuse({ escalate: false });
      return this.store.read('get account', (db) => settings.accountView(this.store, db, this.config(), Date.now()));
    });
  }

  async updatePolicy(patch: PolicyPatch, tokenId: string) {
    return this.rpc('updatePolicy', () => settings.updatePolicy(this.store, patch, this.config(), tokenId, Date.now()));
  }

  async setAbuseState(state: settings.AbuseState, reason: string) {
    return this.rpc('setAbuseState', () => settings.setAbuseState(this.store, state, reason, this.config(), Date.now()));
  }

  /** The operator's hand (README "Abuse"): clear to ok, or set a state; `pin` holds it against the detector. */
  async setAbuseByOperator(input: { state: settings.AbuseState; pin: boolean; reason: string }) {
    return this.rpc('setAbuseByOperator', () => {
      abuse.setAbuseByOperator(this.store, input, Date.now());
      return this.store.read('get account', (db) => settings.accountView(this.store, db, this.config(), Date.now()));
    });
  }

  /** The provider's last activity on databases about to be removed (src/neon/activity.ts). */
  async recordActivity(facts: abuse.ActivityFact[]) {
    return this.rpc('recordActivity', () => abuse.recordActivity(this.store, facts));
  }

  async listEvents(cursor?: string, limit = 50) {
    return this.rpc('listEvents', () => {
      this.requireAccount();
      return settings.listEvents(this.store, cursor, limit);
    });
  }

  // ── the owner dashboard's reads (durable-objects/dashboard-stats.ts) ─────────────────────────

  async dashboardStats() {
    return this.rpc('dashboardStats', () => {
      this.requireAccount();
      return dashboardStats(this.store, Date.now());
    });
  }

  async databaseDetail(dbId: string) {
    return this.rpc('databaseDetail', () => databaseDetail(this.store, dbId));
  }

  async listSessions() {
    return this.rpc('listSessions', () => sessionStore.listSessions(this.store, Date.now()));
  }

  // ── tokens ─────────────────────────────────────────────────────────────────────────────────

  async authenticate(secret: string): Promise<Result<AccountPrincipal>> {
    return this.rpc('authenticate', async () => {
      const hash = await hashSecret(secret);
      const row = this.store.read('account', (db) => db.query.account.findFirst().sync());
      if (!row) throw new Failure('invalid_token', 'missing or invalid bearer token');
      return tokenStore.authenticate(this.store, row.id, hash, Date.now());
    });
  }

  async createToken(input: tokenStore.NewToken, createdBy: string) {
    return this.rpc('createToken', () => mintToken(this.store, this.env, this.config(), input, createdBy, Date.now()));
  }

  async listTokens(): Promise<Result<TokenView[]>> {
    return this.rpc('listTokens', () => {
      this.requireAccount();
      return tokenStore.listTokens(this.store, Date.now());
    });
  }

  async revokeToken(tokenId: string, by: string): Promise<Result<TokenView>> {
    return this.rpc('revokeToken', () => tokenStore.revokeToken(this.store, tokenId, Date.now(), by));
  }

  // ── the owner dashboard's sign-in (durable-objects/dashboard-auth.ts) ────────────────────────

  async issueSignInCode(secret: string, issuedBy: string | null) {
    return this.rpc('issueSignInCode', async () => {
      this.requireAccount();
      return dashboardAuth.issueSignInCode(this.store, await hashSecret(secret), issuedBy, Date.now());
    });
  }

  async redeemSignInCode(code: string, sessionSecret: string) {
    return this.rpc('redeemSignInCode', async () => {
      const acct = this.requireAccount();
      return dashboardAuth.redeemSignInCode(this.store, acct.id, await hashSecret(code), await hashSecret(sessionSecret), Date.now());
    });
  }

  async openDashboardSession(principal: AccountPrincipal, sessionSecret: string) {
    return this.rpc('openDashboardSession', async () =>
      dashboardAuth.openSession(this.store, principal, await hashSecret(sessionSecret), Date.now()),
    );
  }

  async authenticateDashboard(sessionSecret: string) {
    return this.rpc('authenticateDashboard', async () => {
      const acct = this.requireAccount();
      return dashboardAuth.authenticateSession(this.store, acct.id, await hashSecret(sessionSecret), Date.now());
    });
  }

  async endDashboardSession(sessionId: string) {
    return this.rpc('endDashboardSession', () => dashboardAuth.endSession(this.store, sessionId, Date.now()));
  }

  /** "Stop everything" (durable-objects/account-stop.ts); the sweeper starts on the deletions at once. */
  async stopEverything(caller: StopCaller) {
    return this.rpc('stopEverything', async () => {
      const report = stopEverything(this.store, caller, Date.now());
      await this.lifecycle.poke();
      return report;
    });
  }

  // ── databases: the provisioning saga and the registry ──────────────────────────────────────

  /** Step 1 of the saga. Order of checks: idempotency, TTL, quota, rate, depth, spend. */
  async admitCreate(input: AdmitCreateInput): Promise<Result<AdmitResult>> {
    return this.rpc('admitCreate', () => {
      // The state this create meets is the one the account's history calls for now.
      this.judgeAbuse();
      return admitOrReplay(this.store, input, {
        policy: () => this.store.read('policy', (db) => settings.effectivePolicy(db, this.config())),
        throttleFraction: this.thresholds().throttle_fraction,
        prices: this.config().prices,
        providerActions: this.actionRate(),
        sealer: () => this.getSealer(),
        waitMs: this.idempotencyWaitMs,
      });
    });
  }

  /**
   * Step 3 (success). `responseJson` is the create's response body (JSON text, it may hold
   * credentials: it is sealed); retries with the same Idempotency-Key get it back.
   */
  async completeCreate(dbId: string, facts: registry.ProviderFacts & { password: string }, responseJson?: string) {
    return this.rpc('completeCreate', async () =>
      sealed.completeCreate(this.store, await this.getSealer(), dbId, facts, responseJson, Date.now()),
    );
  }

  /** Between steps 2 and 3: provider ids, noted as soon as they are known (see registry.ts). */
  async recordProviderFacts(dbId: string, facts: Partial<registry.ProviderFacts>) {
    return this.rpc('recordProviderFacts', () => registry.recordProviderFacts(this.store, dbId, facts));
  }

  /** A rotated password for a ready database, sealed like the first. */
  async storePassword(dbId: string, password: string, tokenId: string | null) {
    return this.rpc('storePassword', async () => {
      const record = await sealed.storePassword(this.store, await this.getSealer(), dbId, password, tokenId, Date.now());
      abuse.markCredentialsFetched(this.store, dbId, Date.now());
      return record;
    });
  }

  /** Step 3 (failure): roll back the admission. */
  async failCreate(dbId: string, reason: string) {
    return this.rpc('failCreate', () => registry.failCreate(this.store, dbId, reason, Date.now()));
  }

  /** With `provider_action`, the provider deletes that follow take the account's provider-action token. */
  async beginDelete(dbId: string, opts: { cascade?: boolean; token_id?: string | null; provider_action?: boolean } = {}) {
    return this.rpc('beginDelete', () => {
      const begin = () =>
        registry.beginDelete(this.store, dbId, { cascade: opts.cascade ?? false, tokenId: opts.token_id ?? null }, Date.now());
      return opts.provider_action ? chargeDelete(this.store, this.actionRate(), Date.now(), begin) : begin();
    });
  }

  async failDelete(dbId: string, reason: string) {
    return this.rpc('failDelete', () => registry.failDelete(this.store, dbId, reason, Date.now()));
  }

  async completeDelete(dbId: string) {
    return this.rpc('completeDelete', () => {
      const record = registry.completeDelete(this.store, dbId, this.config().prices, Date.now());
      this.judgeAbuseQuietly();
      return record;
    });
  }

  async listDatabases(filter: ListDatabasesFilter = {}): Promise<Result<DatabasePage>> {
    return this.rpc('listDatabases', () => listDatabases(this.store, filter));
  }

  /**
   * The record; with `include_password`, the database password too (routes check the credentials
   * scope); with `provider_action`, a rotation starts: a ready database takes a provider-action token.
   */
  async getDatabase(dbId: string, opts: { include_password?: boolean; provider_action?: boolean } = {}) {
    return this.rpc('getDatabase', () => {
      const row = opts.provider_action
        ? startRotation(this.store, dbId, this.actionRate(), Date.now())
        : this.store.read('get database', (db) => registry.getRow(db, dbId));
      if (opts.include_password === true) abuse.markCredentialsFetched(this.store, dbId, Date.now());
      return sealed.withPassword(() => this.getSealer(), row, opts.include_password === true);
    });
  }

  async changeLease(dbId: string, patch: DatabasePatch, token: TokenCaller) {
    return this.rpc('changeLease', () => changeLease(this.store, dbId, patch, this.leaseContext(token)));
  }

  async beginClaim(dbId: string, claim: ClaimRequest, tokenId: string | null) {
    return this.rpc('beginClaim', () => claims.beginClaim(this.store, dbId, claim, tokenId, Date.now()));
  }
  async completeClaim(dbId: string) {
    return this.rpc('completeClaim', () => claims.completeClaim(this.store, dbId, Date.now()));
  }
  async expireClaim(dbId: string) {
    return this.rpc('expireClaim', () => claims.expireClaim(this.store, dbId, Date.now()));
  }

  async keep(dbId: string, token: TokenCaller) {
    return this.rpc('keep', () => keepLease(this.store, dbId, this.leaseContext(token)));
  }

  // ── SQL use and migrations (src/app/sql/endpoint.ts, src/migrations/) ─────────────────────────

  /** SQL ran on the database through dblease: feeds the churn signal ("never used"). */
  async markUsed(dbId: string) {
    return this.rpc('markUsed', () => migrationStore.markUsed(this.store, dbId, Date.now()));
  }

  /** Before a migration's branch is taken: its replay, or room for it (migration_limit_exceeded). */
  async admitMigration(input: migrationStore.MigrationAdmission) {
    return this.rpc('admitMigration', () => migrationStore.admitMigration(this.store, input, Date.now()));
  }

  async recordMigration(input: migrationStore.NewMigration) {
    return this.rpc('recordMigration', () => migrationStore.insertMigration(this.store, input, Date.now()));
  }

  async getMigration(id: string) {
    return this.rpc('getMigration', () => migrationStore.getMigration(this.store, id));
  }

  async stepMigration(id: string, step: migrationStore.MigrationStep, tokenId: string | null) {
    return this.rpc('stepMigration', () => migrationStore.stepMigration(this.store, id, step, tokenId, Date.now()));
  }

  // ── lifecycle: sessions, the alarm, sweeps, reconciliation (durable-objects/lifecycle.ts) ──

  async createSession(input: sessionStore.NewSession, tokenId: string) {
    return this.rpc('createSession', () =>
      sessionStore.createSession(
        this.store,
        input,
        { ...this.leaseContext({ id: tokenId, max_database_ttl_seconds: null }), tokenId },
        this.sessionLimits,
      ),
    );
  }
  async heartbeatSession(id: string) {
    return this.rpc('heartbeatSession', () => sessionStore.heartbeat(this.store, id, Date.now()));
  }
  async endSession(id: string, tokenId: string | null) {
    return this.rpc('endSession', () => sessionStore.endSession(this.store, id, Date.now(), tokenId));
  }
  async getSession(id: string) {
    return this.rpc('getSession', () => sessionStore.getSession(this.store, id, Date.now()));
  }
  async alarm() {
    if (this.hasAccount && !this.startupError) {
      await this.lifecycle.alarm();
      this.judgeAbuseQuietly();
    }
  }
  /** Cron's poke: sweep now, in the alarm. */
  async pokeSweep() {
    return this.rpc('pokeSweep', () => this.lifecycle.poke());
  }
  /** Sweeps now and answers when done (tests, benchmarks, operators). */
  async sweepNow() {
    return this.rpc('sweepNow', async () => {
      const report = await this.lifecycle.sweep();
      this.judgeAbuseQuietly();
      return report;
    });
  }
  async reconcileInventory() {
    // No account here (yet): its names are not ours to judge, and asking must not create storage.
    if (!this.hasAccount && !this.startupError)
      return ok({ exists: false, records: [], branch_projects: [] } satisfies reconcileStore.Inventory);
    return this.rpc('reconcileInventory', () => reconcileStore.inventory(this.store));
  }
  async judgeResources(resources: reconcileStore.NamedResource[], graceMs: number) {
    return this.rpc('judgeResources', () => reconcileStore.judge(this.store, resources, Date.now(), graceMs));
  }
  /** After a key rotation: every sealed value under the current key (README, "Rotating keys"). */
  async reseal() {
    return this.rpc('reseal', async () => reseal(this.store, await this.getSealer(), Date.now()));
  }
  async markGone(ids: string[], listedAfter: number) {
    return this.rpc('markGone', () => {
      const gone = reconcileStore.markGone(this.store, ids, listedAfter, this.config().prices, Date.now());
      this.judgeAbuseQuietly();
      return gone;
    });
  }
  /** Books the provider's consumption figures against the records' reservations. */
  async bookSpend(figures: SpendFigure[]) {
    return this.rpc('bookSpend', () => bookSpend(this.store, figures, this.config().prices, Date.now()));
  }
  async noteOrphanDeleted(resource: reconcileStore.NamedResource) {
    return this.rpc('noteOrphanDeleted', () => reconcileStore.noteOrphanDeleted(this.store, resource, Date.now()));
  }

  // ── bindings into Cloudflare Workers (durable-objects/bindings-store.ts) ───────────────────

  async setCloudflareToken(token: string, tokenId: string | null) {
    return this.rpc('setCloudflareToken', async () => cfToken.setToken(this.store, await this.getSealer(), token, tokenId, Date.now()));
  }
  /** Opened for the app's own calls to Cloudflare; never part of an answer. */
  async openCloudflareToken() {
    return this.rpc('openCloudflareToken', async () => cfToken.openToken(this.store, await this.getSealer()));
  }
  async admitBinding(input: bindingStore.NewBinding) {
    return this.rpc('admitBinding', () => bindingStore.admitBinding(this.store, this.requireAccount().id, input, Date.now()));
  }
  async completeBinding(id: string, facts: { hyperdrive_id?: string | null }) {
    return this.rpc('completeBinding', () => bindingStore.completeBinding(this.store, id, facts, Date.now()));
  }
  async abandonBinding(id: string, reason: string) {
    return this.rpc('abandonBinding', () => bindingStore.abandonBinding(this.store, id, reason, Date.now()));
  }
  async unbind(dbId: string, id: string) {
    return this.rpc('unbind', () => bindingStore.beginUnbind(this.store, dbId, id, Date.now()));
  }
  async listBindings(dbId: string) {
    return this.rpc('listBindings', () => bindingStore.listBindings(this.store, dbId));
  }
  /** A rotation's worker_secret bindings, marked pending until `noteSecretWritten`. */
  async bindingsToRewrite(dbId: string) {
    return this.rpc('bindingsToRewrite', () => bindingStore.markSecretsStale(this.store, dbId));
  }
  async noteSecretWritten(id: string, error?: string) {
    return this.rpc('noteSecretWritten', () => bindingStore.noteSecretWritten(this.store, id, Date.now(), error));
  }
  async bindingInventory() {
    return this.rpc('bindingInventory', () => bindingStore.bindingInventory(this.store));
  }

  // ── plumbing ───────────────────────────────────────────────────────────────────────────────

  private config() {
    return operatorConfig(this.env);
  }

  private thresholds(): AbuseThresholds {
    return this.abuseThresholds ?? abuseThresholds(this.env);
  }

  /** Abuse evaluation (durable-objects/abuse.ts): a bounded read and at most one move. */
  private judgeAbuse(opts: { escalate?: boolean } = {}) {
    abuse.evaluateAbuse(this.store, this.thresholds(), Date.now(), opts);
  }

  /** After databases ended: the end already happened, so a failure here is logged, never answered. */
  private judgeAbuseQuietly() {
    try {
      this.judgeAbuse();
    } catch (err) {
      console.error(JSON.stringify({ at: 'account-object', method: 'evaluateAbuse', error: describe(err) }));
    }
  }

  private actionRate(): BucketRate {
    return this.providerActionRate ?? providerActionRate(this.env);
  }

  private leaseContext(token: TokenCaller) {
    const policy = this.store.read('policy', (db) => settings.effectivePolicy(db, this.config()));
    return { policy, prices: this.config().prices, now: Date.now(), token };
  }

  private requireAccount() {
    return this.store.read('account', (db) => settings.accountRow(db));
  }

  private getSealer(): Promise<Sealer> {
    this.sealer ??= Sealer.fromEnv(this.env).catch((err) => {
      this.sealer = undefined;
      throw err;
    });
    return this.sealer;
  }

  /** Runs one RPC: failures become data; a bug is logged and answered as a bare 500. */
  private async rpc<T>(method: string, fn: () => T | Promise<T>): Promise<Result<T>> {
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
const noAccount = (method: string) =>
  method === 'authenticate'
    ? new Failure('invalid_token', 'missing or invalid bearer token')
    : new Failure('account_not_found', 'no such account');

const describe = (err: unknown) =>
  err instanceof Error
    ? { name: err.name, message: err.message, cause: err.cause instanceof Error ? err.cause.message : undefined }
    : String(err);
