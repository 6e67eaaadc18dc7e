/**
 * The account object's RPC for its databases (ARCHITECTURE.md, "The path of a create"): the
 * create saga's admit and complete, the registry, leases and claims, SQL use and migrations, and
 * the bindings into Cloudflare Workers. Each method delegates to its module in one `rpc` call.
 */
import type { Result } from '../src/core/result';
import * as settings from './account-settings';
import * as abuse from './abuse';
import * as migrationStore from './migration-store';
import { admitOrReplay, type AdmitCreateInput, type AdmitResult } from './admission';
import { claimFromPool, type CreateAdmission, type PoolClaimRequest } from './pool-claim';
import * as sealed from './sealed-records';
import * as claims from './claims';
import type { ClaimRequest } from './claims';
import { chargeDelete, startRotation } from './provider-actions';
import { changeLease, keepLease, type DatabasePatch } from './lease-changes';
import * as registry from './registry';
import { listDatabases, type DatabasePage, type ListDatabasesFilter } from './registry-list';
import * as bindingStore from './bindings-store';
import * as cfToken from './cloudflare-token';
import { AccountObjectBase, type TokenCaller } from './account-object-base';

export abstract class AccountDatabasesRpc extends AccountObjectBase {
  // ── databases: the provisioning saga and the registry ──────────────────────────────────────

  /**
   * Step 1 of the saga. Order of checks: idempotency, TTL, quota, rate, depth, spend. With
   * `poolClaim` (a fresh create, warm pool enabled), the admitted database is also claimed from
   * the pool here, and completed when the request allows it (durable-objects/pool-claim.ts):
   * admit, claim and complete in one round trip.
   */
  async admitCreate(input: AdmitCreateInput, poolClaim?: PoolClaimRequest): Promise<Result<CreateAdmission>> {
    return this.rpc('admitCreate', async (): Promise<CreateAdmission> => {
      const started = Date.now();
      // The state this create meets is the one the account's history calls for now.
      this.judgeAbuse();
      const admission: AdmitResult = await admitOrReplay(this.store, input, {
        policy: () => this.store.read('policy', (db) => settings.effectivePolicy(db, this.config())),
        throttleFraction: this.thresholds().throttle_fraction,
        prices: this.config().prices,
        providerActions: this.actionRate(),
        sealer: () => this.getSealer(),
        waitMs: this.idempotencyWaitMs,
      });
      if (admission.outcome !== 'admitted' || !poolClaim || input.kind !== 'fresh') return admission;
      const context = { accountId: this.requireAccount().id, admitMs: Date.now() - started };
      const claimed = await claimFromPool(this.env, this.store, () => this.getSealer(), admission, poolClaim, context);
      return { ...admission, claimed };
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
}
