/**
 * The account Durable Object: the single writer for everything about one account (ARCHITECTURE.md, "Where state lives").
 * Its typed RPC methods return `Result` values (errors as data, revived by the Worker with
 * `Failure.from`). Every admission decision happens in here, before any provider call.
 * Storage: durable-objects/SCHEMA.md.
 */
import type { AccountPrincipal } from '../src/core/auth/principal';
import { hashSecret } from '../src/core/auth/tokens';
import { Failure } from '../src/core/errors';
import type { PolicyPatch } from '../src/core/policy/policy';
import { ok, type Result } from '../src/core/result';
import * as settings from './account-settings';
import * as abuse from './abuse';
import * as tokenStore from './account-tokens';
import type { AdmitCreateInput, AdmitResult } from './admission';
import { ensureProvisionedAccount, mintToken, openAccount } from './account-opening';
import { databaseDetail, dashboardStats } from './dashboard-stats';
import * as dashboardAuth from './dashboard-auth';
import { stopEverything, type StopCaller } from './account-stop';
import type { ProviderNames } from '../src/core/naming';
import type { DatabasePatch } from './lease-changes';
import type { DatabasePage, ListDatabasesFilter } from './registry-list';
import * as reconcileStore from './reconcile-store';
import { reseal } from './reseal';
import * as sessionStore from './sessions';
import { bookSpend } from './spend-book';
import type { SpendFigure } from '../src/neon/spend-figures';
import type { DatabaseRecord, TokenView } from './views';
import { AccountDatabasesRpc } from './account-databases';

export type { AdmitCreateInput, AdmitResult, ProviderNames, DatabasePatch, ListDatabasesFilter, DatabasePage, DatabaseRecord, TokenView };
export type { AccountView, AbuseState, EventPage } from './account-settings';
export type { StopReport } from './account-stop';
export type { ProviderFacts } from './registry';
export type { CreateAdmission, PoolClaimed, PoolClaimRequest } from './pool-claim';
export type { MigrationRecord, MigrationStep, NewMigration } from './migration-store';
export type { TokenCaller } from './account-object-base';

/**
 * The account object as the Worker binds it: the account, its tokens and sessions, the owner
 * dashboard's sign-in and reads, stop everything, and the lifecycle (the alarm, sweeps,
 * reconciliation); its databases' RPC is inherited (durable-objects/account-databases.ts).
 */
export class AccountDurableObject extends AccountDatabasesRpc {
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
}
