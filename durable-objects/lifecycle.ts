/**
 * The account object's lifecycle engine: ONE alarm at the earliest deadline (expiry, session
 * lapse, delete retry, stale provisioning), a sweep that deletes what is overdue, and the
 * deadline index kept up to date so cron can find this account without listing accounts.
 *
 * The object calls the provider itself, from the alarm (never inside blockConcurrencyWhile):
 * it holds the records, so the state change and the provider call that justifies it stay in
 * one place; the alarm gives the sweep its own invocation, retried by the runtime if it dies;
 * and deletes are idempotent, so a sweep racing a user's delete is harmless. Every provider
 * call takes a background token from the shared budget, which is what paces a large sweep.
 */
import { eq } from 'drizzle-orm';
import { backgroundProviderOptions } from '../src/neon/budget-gate';
import { lifecycleConfig } from '../src/core/policy/lifecycle-config';
import { remove } from '../src/neon/remove';
import { mapLimit, shardOf } from '../src/core/schedule';
import type { PriceTable } from '../src/core/policy/cost';
import { DEFAULT_ACCOUNT_ID, neonClient } from '../src/neon/index';
import { fetchSpendFigures, type SpendSubject } from '../src/neon/spend-figures';
import { bookSpend } from './spend-book';
import { observeBeforeRemoval } from './abuse-observe';
import { sweepBindings } from './binding-sweep';
import { hasLiveBindings, nextBindingDeadline } from './bindings-store';
import { holdsCloudflareToken } from './cloudflare-token';
import type { Sealer } from '../src/core/crypto/sealed';
import { hasLive, nextDeadline, planSweep, type SweepItem } from './lifecycle-plan';
import * as registry from './registry';
import { account, idempotencyKeys } from './schema';
import type { Store } from './store';
import { transition } from './transitions';

/** Records per planning round, and provider deletes in flight at once per account. */
const ROUND_SIZE = 100;
const CONCURRENCY = 8;
/** Rounds per sweep: one per level of a branch tree (children first), with room to spare. */
const MAX_ROUNDS = 80;

export interface SweepReport {
  deleted: number;
  abandoned: number;
  failed: number;
  /** Bindings taken out of Cloudflare, and removals that failed (retried with back-off). */
  bindings_removed: number;
  bindings_failed: number;
  next_deadline: string | null;
}

export class Lifecycle {
  private sweeping: Promise<SweepReport> | undefined;
  /** The alarm this incarnation set; undefined = unknown (set it again). */
  private alarmAt: number | null | undefined;
  private published: { dueAt: number | null; live: boolean } | undefined;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly store: Store,
    private readonly prices: () => PriceTable,
    private readonly sealer: () => Promise<Sealer>,
  ) {}

  private config() {
    return lifecycleConfig(this.env);
  }

  private accountId(): string | null {
    return this.store.read('account id', (db) => db.select({ id: account.id }).from(account).get()?.id ?? null);
  }

  /**
   * Puts the alarm at the earliest deadline and tells the index when it moved. Called after
   * every RPC (cheap: a few indexed MIN queries, and storage/RPC only when something changed).
   */
  async reschedule(opts: { awaitPublish?: boolean } = {}): Promise<number | null> {
    const accountId = this.accountId();
    if (accountId === null) return null;
    const grace = this.config().provisioningGraceMs;
    const { dueAt, live } = this.store.read('next deadline', (db) => {
      const times = [nextDeadline(db, { provisioningGraceMs: grace }), nextBindingDeadline(db)].filter((t) => t !== null);
      return { dueAt: times.length ? Math.min(...times) : null, live: hasLive(db) || hasLiveBindings(db) || holdsCloudflareToken(db) };
    });
    if (dueAt !== this.alarmAt) {
      if (dueAt === null) await this.ctx.storage.deleteAlarm();
      // Overdue work reports its deadline as 0 ("now"); an alarm in the past fires at once.
      else await this.ctx.storage.setAlarm(Math.max(dueAt, Date.now()));
      this.alarmAt = dueAt;
    }
    const publishing = this.publish(accountId, dueAt, live);
    if (opts.awaitPublish) await publishing;
    else this.ctx.waitUntil(publishing);
    return dueAt;
  }

  private async publish(accountId: string, dueAt: number | null, live: boolean): Promise<void> {
    if (this.published && this.published.dueAt === dueAt && this.published.live === live) return;
    this.published = { dueAt, live };
    const ns = this.env.DEADLINE_INDEX;
    try {
      await ns.get(ns.idFromName(`shard-${shardOf(accountId, this.config().shards)}`)).publish(accountId, dueAt, live);
    } catch (err) {
      // Forget it so the next reschedule tries again; the alarm does not depend on the index.
      this.published = undefined;
      console.error(JSON.stringify({ at: 'deadline-index', account: accountId, error: err instanceof Error ? err.message : String(err) }));
    }
  }

  /** The alarm: the runtime clears it when it fires, so forget what was set, then sweep. */
  async alarm(): Promise<void> {
    this.alarmAt = undefined;
    await this.sweep();
  }

  /** Cron's poke: the sweep runs in the alarm (its own invocation, retried if it dies), now. */
  async poke(): Promise<void> {
    await this.ctx.storage.setAlarm(Date.now());
    this.alarmAt = undefined;
  }

  /** One sweep at a time per object; concurrent callers share it. */
  sweep(): Promise<SweepReport> {
    this.sweeping ??= this.runSweep().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async runSweep(): Promise<SweepReport> {
    const report: SweepReport = { deleted: 0, abandoned: 0, failed: 0, bindings_removed: 0, bindings_failed: 0, next_deadline: null };
    const accountId = this.accountId();
    if (accountId === null) return report;
    const grace = this.config().provisioningGraceMs;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const items = planSweep(this.store, Date.now(), { provisioningGraceMs: grace, limit: ROUND_SIZE });
      if (items.length === 0) break;
      await this.bookFinalSpend(items);
      // The last chance to learn whether anyone connected directly (the churn signal).
      await observeBeforeRemoval(
        this.env,
        this.store,
        items.map((i) => i.record),
      );
      // Deepest first: a parent is never planned with a live child, but siblings at several
      // depths can be, and a child's delete must not overlap its parent's.
      for (const depth of [...new Set(items.map((i) => i.record.depth))].sort((a, b) => b - a)) {
        await mapLimit(
          items.filter((i) => i.record.depth === depth),
          CONCURRENCY,
          (item) => this.remove(accountId, item, report),
        );
      }
    }
    // After the deletes, which retire their databases' bindings: those go in this same sweep.
    const bound = await sweepBindings(this.store, this.env, this.sealer, this.config().backgroundRequestTimeoutMs);
    report.bindings_removed = bound.removed;
    report.bindings_failed = bound.failed;
    const next = await this.reschedule({ awaitPublish: true });
    report.next_deadline = next === null ? null : new Date(next).toISOString();
    return report;
  }

  /**
   * The provider's figures for the ready records about to go, booked: once a resource is deleted
   * its consumption can no longer be asked for. One request per 100 records per provider account,
   * on the background budget; if it fails, the delete books an estimate instead (never more than
   * the reservation), so clean-up never waits on it.
   */
  private async bookFinalSpend(items: SweepItem[]): Promise<void> {
    const byAccount = new Map<string, SpendSubject[]>();
    for (const { record: r } of items) {
      if (r.ready_at === null || !r.provider.project_id || !r.provider.branch_id) continue;
      const pa = r.provider.account ?? DEFAULT_ACCOUNT_ID;
      byAccount.set(pa, [
        ...(byAccount.get(pa) ?? []),
        { id: r.id, project_id: r.provider.project_id, branch_id: r.provider.branch_id, since: Date.parse(r.created_at) },
      ]);
    }
    for (const [pa, subjects] of byAccount) {
      try {
        const client = neonClient(this.env, pa, backgroundProviderOptions(this.env, pa));
        bookSpend(this.store, await fetchSpendFigures(client, subjects, Date.now()), this.prices(), Date.now());
      } catch (err) {
        console.error(JSON.stringify({ at: 'sweep.spend', provider_account: pa, error: err instanceof Error ? err.message : String(err) }));
      }
    }
  }

  private async remove(accountId: string, item: SweepItem, report: SweepReport): Promise<void> {
    const { record } = item;
    const providerAccount = record.provider.account ?? DEFAULT_ACCOUNT_ID;
    try {
      await remove(this.env, accountId, record, backgroundProviderOptions(this.env, providerAccount));
    } catch (err) {
      registry.failDelete(this.store, record.id, err instanceof Error ? err.message : String(err), Date.now());
      report.failed += 1;
      return;
    }
    if (record.ready_at === null) {
      abandonCreate(this.store, record.id, item.reason, Date.now());
      report.abandoned += 1;
    } else {
      registry.completeDelete(this.store, record.id, this.prices(), Date.now());
      report.deleted += 1;
    }
  }
}

/**
 * A create that never became ready, whose provider resource is now gone: `failed`, its
 * reservation released and its idempotency key freed (so the agent's retry can run again).
 */
function abandonCreate(store: Store, id: string, reason: string, now: number): void {
  store.write('abandon create', (db) => {
    const row = registry.getRow(db, id);
    if (row.state !== 'deleting') return;
    const fields = { reservedMicroUsd: 0, nextAttemptAt: null, passwordSealed: null, lastError: `abandoned: ${reason}` };
    transition(store, db, row, 'failed', fields, now, { data: { reason: `create abandoned (${reason}); provider resource removed` } });
    store.adjustSpend(db, now, { reserved: -row.reservedMicroUsd });
    db.delete(idempotencyKeys).where(eq(idempotencyKeys.databaseId, id)).run();
  });
}
