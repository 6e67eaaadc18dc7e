/**
 * The account Durable Object: the single writer for everything about one account (DESIGN §2).
 * Its typed RPC methods return `Result` values (errors as data, revived by the Worker with
 * `Failure.from`). Every admission decision happens in here, before any provider call.
 * Storage: durable-objects/SCHEMA.md.
 */
import { DurableObject } from 'cloudflare:workers';
import type { AccountPrincipal } from '../src/core/auth/principal';
import { accountTag } from '../src/core/auth/account-tag';
import { generateToken, hashSecret } from '../src/core/auth/tokens';
import { Sealer } from '../src/core/crypto/sealed';
import { Failure } from '../src/core/errors';
import { operatorConfig } from '../src/core/policy/operator-config';
import { providerActionRate } from '../src/core/policy/provider-action-rate';
import type { BucketRate } from '../src/core/policy/token-bucket';
import type { PolicyPatch } from '../src/core/policy/policy';
import { fail, ok, type Result } from '../src/core/result';
import * as settings from './account-settings';
import * as tokenStore from './account-tokens';
import * as migrationStore from './migration-store';
import { admit, type AdmitCreateInput } from './admission';
import type { ProviderNames } from '../src/core/naming';
import { chargeDelete, startRotation } from './provider-actions';
import { keepDatabase, updateDatabase, type DatabasePatch } from './lease';
import * as registry from './registry';
import { listDatabases, type DatabasePage, type ListDatabasesFilter } from './registry-list';
import { StorageError, Store } from './store';
import { Lifecycle } from './lifecycle';
import * as reconcileStore from './reconcile-store';
import { reseal } from './reseal';
import * as sessionStore from './sessions';
import { bookSpend } from './spend-book';
import type { SpendFigure } from '../src/neon/spend-figures';
import { databaseRecord, type DatabaseRecord, type TokenView } from './views';

export type { AdmitCreateInput, ProviderNames, DatabasePatch, ListDatabasesFilter, DatabasePage, DatabaseRecord, TokenView };
export type { AccountView, AbuseState, EventPage } from './account-settings';
export type { ProviderFacts } from './registry';
export type { MigrationRecord, MigrationStep, NewMigration } from './migration-store';

export type AdmitResult =
  | { outcome: 'admitted'; database: DatabaseRecord; provider_names: ProviderNames; parent: DatabaseRecord | null }
  /**
   * The same Idempotency-Key and request were admitted before: its record, and the response the
   * original create returned (JSON text, as given to `completeCreate`), replayed byte for byte.
   */
  | { outcome: 'replayed'; database: DatabaseRecord; response_json: string | null };

export interface TokenCaller {
  id: string;
  max_database_ttl_seconds: number | null;
}

/** How long a retried create waits for the original (same Idempotency-Key) to finish. */
const IDEMPOTENCY_WAIT_MS = 10_000;
const IDEMPOTENCY_POLL_MS = 20;

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

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new Store(ctx.storage);
    this.lifecycle = new Lifecycle(ctx, env, this.store, () => this.config().prices);
    // Migrations run before any call is delivered, and only where an account exists (a read of
    // the catalogue writes nothing). A failure is kept and answered by every call (a logged
    // 500) instead of thrown here, where it would reset the object on every request.
    void ctx.blockConcurrencyWhile(async () => {
      try {
        this.hasAccount = this.store.initialised();
        if (this.hasAccount) await this.store.migrate();
      } catch (err) {
        this.startupError = err;
      }
    });
  }

  // ── account ────────────────────────────────────────────────────────────────────────────────

  async createAccount(input: { id: string; name: string }) {
    return this.rpc('createAccount', async () => {
      const tag = await accountTag(this.env, input.id);
      if (!this.hasAccount) {
        await this.store.migrate();
        this.hasAccount = true;
      }
      const { token, secret } = generateToken(input.id, tag);
      const hash = await hashSecret(secret);
      const now = Date.now();
      const created = this.store.write('create account', (db) => {
        settings.insertAccount(db, input.id, input.name, now);
        const view = tokenStore.insertToken(db, hash, { name: 'owner', scopes: ['owner'] }, now, null);
        this.store.appendEvent(db, now, 'account.created', { tokenId: view.id, data: { name: input.name } });
        return { account: settings.accountView(this.store, db, this.config(), now), owner_token: { ...view, token } };
      });
      return created;
    });
  }

  async getAccount() {
    return this.rpc('getAccount', () =>
      this.store.read('get account', (db) => settings.accountView(this.store, db, this.config(), Date.now())),
    );
  }

  async updatePolicy(patch: PolicyPatch, tokenId: string) {
    return this.rpc('updatePolicy', () => settings.updatePolicy(this.store, patch, this.config(), tokenId, Date.now()));
  }

  async setAbuseState(state: settings.AbuseState, reason: string) {
    return this.rpc('setAbuseState', () => settings.setAbuseState(this.store, state, reason, this.config(), Date.now()));
  }

  async listEvents(cursor?: string, limit = 50) {
    return this.rpc('listEvents', () => {
      this.requireAccount();
      return settings.listEvents(this.store, cursor, limit);
    });
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
    return this.rpc('createToken', async () => {
      const accountId = this.requireAccount().id;
      const { token, secret } = generateToken(accountId, await accountTag(this.env, accountId));
      const hash = await hashSecret(secret);
      const now = Date.now();
      return this.store.write('create token', (db) => {
        if (tokenStore.activeTokenCount(db) >= tokenStore.MAX_ACTIVE_TOKENS) {
          throw new Failure('token_limit', `an account may have at most ${tokenStore.MAX_ACTIVE_TOKENS} active tokens`);
        }
        const policy = settings.effectivePolicy(db, this.config());
        if (input.max_database_ttl_seconds != null && input.max_database_ttl_seconds > policy.max_ttl_seconds) {
          throw new Failure('invalid_field', `max_database_ttl_seconds exceeds the account's maximum TTL of ${policy.max_ttl_seconds}`, {
            fields: [
              { path: 'max_database_ttl_seconds', message: `exceeds the account's maximum TTL of ${policy.max_ttl_seconds} seconds` },
            ],
          });
        }
        const view = tokenStore.insertToken(db, hash, input, now, createdBy);
        this.store.appendEvent(db, now, 'token.created', {
          tokenId: createdBy,
          data: { created_token_id: view.id, name: view.name, scopes: view.scopes },
        });
        return { ...view, token };
      });
    });
  }

  async listTokens(): Promise<Result<TokenView[]>> {
    return this.rpc('listTokens', () => {
      this.requireAccount();
      return tokenStore.listTokens(this.store);
    });
  }

  async revokeToken(tokenId: string, by: string): Promise<Result<TokenView>> {
    return this.rpc('revokeToken', () => tokenStore.revokeToken(this.store, tokenId, Date.now(), by));
  }

  // ── databases: the provisioning saga and the registry ──────────────────────────────────────

  /** Step 1 of the saga. Order of checks: idempotency, TTL, quota, rate, depth, spend. */
  async admitCreate(input: AdmitCreateInput): Promise<Result<AdmitResult>> {
    return this.rpc('admitCreate', async () => {
      const deadline = Date.now() + this.idempotencyWaitMs;
      for (;;) {
        const now = Date.now();
        const policy = this.store.read('policy', (db) => settings.effectivePolicy(db, this.config()));
        const admission = admit(this.store, input, { policy, prices: this.config().prices, now, providerActions: this.actionRate() });
        if (admission.outcome === 'admitted') return admission;
        if (admission.outcome === 'replay') {
          const sealed = admission.response_sealed;
          const responseJson = sealed === null ? null : await (await this.getSealer()).open(sealed, `idem:${admission.database_id}`);
          return { outcome: 'replayed', database: admission.database, response_json: responseJson } satisfies AdmitResult;
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
    });
  }

  /**
   * Step 3 (success). `responseJson` is the create's response body (JSON text, it may hold
   * credentials: it is sealed); retries with the same Idempotency-Key get it back.
   */
  async completeCreate(dbId: string, facts: registry.ProviderFacts & { password: string }, responseJson?: string) {
    return this.rpc('completeCreate', async () => {
      const { password, ...rest } = facts;
      const sealer = await this.getSealer();
      const sealed = {
        password: await sealer.seal(password, `pw:${dbId}`),
        response: responseJson === undefined ? null : await sealer.seal(responseJson, `idem:${dbId}`),
      };
      return registry.completeCreate(this.store, dbId, rest, sealed, Date.now());
    });
  }

  /** Between steps 2 and 3: provider ids, noted as soon as they are known (see registry.ts). */
  async recordProviderFacts(dbId: string, facts: Partial<registry.ProviderFacts>) {
    return this.rpc('recordProviderFacts', () => registry.recordProviderFacts(this.store, dbId, facts));
  }

  /** A rotated password for a ready database, sealed like the first. */
  async storePassword(dbId: string, password: string, tokenId: string | null) {
    return this.rpc('storePassword', async () => {
      const sealed = await (await this.getSealer()).seal(password, `pw:${dbId}`);
      return registry.storePassword(this.store, dbId, sealed, Date.now(), tokenId);
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
    return this.rpc('completeDelete', () => registry.completeDelete(this.store, dbId, this.config().prices, Date.now()));
  }

  async listDatabases(filter: ListDatabasesFilter = {}): Promise<Result<DatabasePage>> {
    return this.rpc('listDatabases', () => listDatabases(this.store, filter));
  }

  /**
   * The record; with `include_password`, the database password too (routes check the credentials
   * scope); with `provider_action`, a rotation starts: a ready database takes a provider-action token.
   */
  async getDatabase(dbId: string, opts: { include_password?: boolean; provider_action?: boolean } = {}) {
    return this.rpc('getDatabase', async () => {
      const row = opts.provider_action
        ? startRotation(this.store, dbId, this.actionRate(), Date.now())
        : this.store.read('get database', (db) => registry.getRow(db, dbId));
      let password: string | null = null;
      if (opts.include_password && row.passwordSealed) password = await (await this.getSealer()).open(row.passwordSealed, `pw:${dbId}`);
      return { database: databaseRecord(row), password };
    });
  }

  async updateDatabase(dbId: string, patch: DatabasePatch, token: TokenCaller) {
    return this.rpc('updateDatabase', () => updateDatabase(this.store, dbId, patch, this.leaseContext(token)));
  }

  async keep(dbId: string, token: TokenCaller) {
    return this.rpc('keep', () => keepDatabase(this.store, dbId, this.leaseContext(token)));
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
    if (this.hasAccount && !this.startupError) await this.lifecycle.alarm();
  }
  /** Cron's poke: sweep now, in the alarm. */
  async pokeSweep() {
    return this.rpc('pokeSweep', () => this.lifecycle.poke());
  }
  /** Sweeps now and answers when done (tests, benchmarks, operators). */
  async sweepNow() {
    return this.rpc('sweepNow', () => this.lifecycle.sweep());
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
    return this.rpc('markGone', () => reconcileStore.markGone(this.store, ids, listedAfter, this.config().prices, Date.now()));
  }
  /** Books the provider's consumption figures against the records' reservations. */
  async bookSpend(figures: SpendFigure[]) {
    return this.rpc('bookSpend', () => bookSpend(this.store, figures, this.config().prices, Date.now()));
  }
  async noteOrphanDeleted(resource: reconcileStore.NamedResource) {
    return this.rpc('noteOrphanDeleted', () => reconcileStore.noteOrphanDeleted(this.store, resource, Date.now()));
  }

  // ── plumbing ───────────────────────────────────────────────────────────────────────────────

  private config() {
    return operatorConfig(this.env);
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
      if (!this.hasAccount && method !== 'createAccount') return fail(noAccount(method));
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
