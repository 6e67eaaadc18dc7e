import { DurableObject } from 'cloudflare:workers';
import { Sealer } from '../src/core/crypto/sealed';
import { Failure } from '../src/core/errors';
import { fillPoolEntry, poolPasswordContext, type PoolEntry } from '../src/neon/pool-entry';
import { regionOfPool, shortId } from '../src/core/naming';
import { neonClient } from '../src/neon/index';
import { BACKGROUND, backgroundProviderOptions } from '../src/neon/budget-gate';
import { lifecycleConfig } from '../src/core/policy/lifecycle-config';
import { awakeTarget, deferredRefillAt, keepAwakeDueAt, nextPoolAlarm, retryDelayMs } from '../src/core/policy/warm-pool-schedule';
import { PoolStore, type PoolClaim } from './warm-pool-store';
import { cleanLegacy, cleanStranded, deleted, keepAwake, reprove, resealStale, type PoolUpkeep } from './warm-pool-upkeep';

export interface WarmPoolStatus {
  pool: string;
  available: number;
  filling: number;
  target: number;
  /** Entries (ready or filling) whose compute is kept running, and how many should be. */
  awake: number;
  awakeTarget: number;
  /** Consecutive failed fills; the next refill waits longer after each. */
  failures: number;
  lastError?: string;
  /**
   * Since this incarnation of the object started (counters live in memory: an evicted pool
   * starts them again, and `since` says from when): claims served, claims that found the pool
   * empty (the create went on demand), and fills finished in the last minute (the refill rate).
   */
  since: string;
  hits: number;
  misses: number;
  /** hits ÷ (hits + misses); null before the first claim. */
  hitRatio: number | null;
  fillsLastMinute: number;
}

/** Fills in flight per pool: enough to keep up with claims, few enough to stay far inside Neon's rate. */
export const FILL_CONCURRENCY = 2;
const MAX_TARGET = 1_000;
/**
 * How long an entry's proof (a `select 1` with its credentials) is trusted at claim time. Past
 * it the claim proves the entry again before handing it out (ARCHITECTURE.md, "The claim path").
 */
export const PROOF_MAX_AGE_MS = 10 * 60_000;
/** Old entries a claim tries to re-prove before it gives up and the create goes on demand. */
const MAX_REPROOFS = 3;

/**
 * The warm pool of one region (`idFromName(region)`): pre-provisioned fresh projects with the
 * agent role and database, credentials made and proven at fill time and kept sealed. Up to
 * DBLEASE_WARM_POOL_AWAKE of them keep their compute running, and the rest are suspended. `claim`
 * hands each entry out at most once (a single DELETE … RETURNING in a single-threaded object),
 * awake ones first. The object's one alarm does the rest (src/core/policy/warm-pool-schedule.ts):
 * it tops the pool back up once a burst of claims is over, at most FILL_CONCURRENCY projects at a
 * time, retries failed fills, and proves awake entries again before their computes would suspend.
 */
export class WarmPool extends DurableObject<Env> {
  private readonly store: PoolStore;
  /** Ids of fills this incarnation is running; `filling` rows outside it were stranded. */
  private readonly live = new Set<string>();
  private refilling: Promise<void> | undefined;
  private failures = 0;
  private lastError: string | undefined;
  private readonly since = Date.now();
  private hits = 0;
  private misses = 0;
  /** When recent fills finished, for the refill rate (the last minute's only). */
  private fillTimes: number[] = [];
  private sealer?: Promise<Sealer>;
  /** When the claims that left the pool short began, and when its refill is due. */
  private shortSince: number | undefined;
  private refillDueAt: number | undefined;
  private failedAt = 0;
  private alarmAt: number | null | undefined;
  /** Instance field so tests can age entries without waiting (see PROOF_MAX_AGE_MS). */
  proofMaxAgeMs = PROOF_MAX_AGE_MS;

  /** What the upkeep steps (durable-objects/warm-pool-upkeep.ts) work with. */
  private readonly upkeep: PoolUpkeep;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new PoolStore(ctx.storage.sql);
    this.upkeep = {
      env,
      store: this.store,
      sealer: () => this.getSealer(),
      client: (account) => this.client(account),
      deleteInBackground: (entry) => this.deleteInBackground(entry),
    };
  }

  /** The pool's name, remembered so the alarm (which gets no arguments) knows its region. */
  private name(pool?: string): string {
    if (pool) {
      if (this.store.getMeta('pool') !== pool) this.store.setMeta('pool', pool);
      return pool;
    }
    return this.store.getMeta('pool') ?? this.ctx.id.name ?? 'default';
  }

  /**
   * The size to keep: an explicit `setTarget`, else `DBLEASE_WARM_POOL_SIZE` for the pools of
   * `DBLEASE_WARM_POOL_REGIONS` only. A pool nobody configured never fills itself.
   */
  private target(): number {
    const override = this.store.getMeta('target');
    const configured = lifecycleConfig(this.env).warmPoolRegions.includes(this.name());
    const raw = override ?? (configured ? (this.env as { DBLEASE_WARM_POOL_SIZE?: string }).DBLEASE_WARM_POOL_SIZE : undefined) ?? '0';
    const n = Number(raw);
    return Number.isInteger(n) && n > 0 ? Math.min(n, MAX_TARGET) : 0;
  }

  /**
   * How many entries keep their compute running: an explicit `setTarget`, else
   * DBLEASE_WARM_POOL_AWAKE; at most the target.
   */
  private awakeTarget(): number {
    const raw = this.store.getMeta('awake') ?? (this.env as { DBLEASE_WARM_POOL_AWAKE?: string }).DBLEASE_WARM_POOL_AWAKE;
    return awakeTarget(raw, this.target());
  }

  status(pool?: string): WarmPoolStatus {
    const now = Date.now();
    this.fillTimes = this.fillTimes.filter((t) => t > now - 60_000);
    const claims = this.hits + this.misses;
    return {
      pool: this.name(pool),
      available: this.store.count('ready'),
      filling: this.store.count('filling'),
      target: this.target(),
      awake: this.store.countAwake(),
      awakeTarget: this.awakeTarget(),
      failures: this.failures,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      since: new Date(this.since).toISOString(),
      hits: this.hits,
      misses: this.misses,
      hitRatio: claims === 0 ? null : Math.round((this.hits / claims) * 1000) / 1000,
      fillsLastMinute: this.fillTimes.length,
    };
  }

  /**
   * Sets this pool's size, overriding DBLEASE_WARM_POOL_SIZE, and if given how many of its
   * entries stay awake, overriding DBLEASE_WARM_POOL_AWAKE; null goes back to the variable.
   */
  setTarget(pool: string, target: number | null, awake?: number | null): WarmPoolStatus {
    for (const [field, value] of [
      ['target', target],
      ['awake', awake],
    ] as const) {
      if (value !== null && value !== undefined && (!Number.isInteger(value) || value < 0 || value > MAX_TARGET)) {
        throw new Failure('invalid_field', `${field} must be an integer from 0 to ${MAX_TARGET}`);
      }
    }
    this.name(pool);
    this.store.setMeta('target', target === null ? null : String(target));
    if (awake !== undefined) this.store.setMeta('awake', awake === null ? null : String(awake));
    this.kick();
    return this.status();
  }

  /**
   * One entry, never handed out before and never again, its password still sealed; null when
   * the pool is empty. The claimant (the database being created) is remembered with it for
   * CLAIM_MEMORY_MS. An entry proven longer than `proofMaxAgeMs` ago is proven again first (one
   * `select 1`); one that fails is dropped, its project deleted, and the next is tried.
   */
  async claim(pool: string, claimant?: { accountId: string; dbId: string }): Promise<PoolEntry | null> {
    this.name(pool);
    try {
      for (let tries = 0; tries < MAX_REPROOFS; tries++) {
        // Taken synchronously: no other claim can get this entry while it is re-proven.
        const entry = this.store.take(claimant);
        if (!entry) break;
        if (Date.now() - entry.provenAt <= this.proofMaxAgeMs) return this.served(entry);
        const provenAt = await reprove(this.upkeep, entry);
        if (provenAt !== null) return this.served({ ...entry, provenAt });
        this.store.forgetClaim(entry.projectId);
        this.deleteInBackground(entry);
      }
      this.misses += 1;
      return null;
    } finally {
      this.refillAfterClaims();
    }
  }

  /** Returns an entry whose claimer could not use it (its create failed before anything was handed out). */
  release(pool: string, entry: PoolEntry): void {
    this.name(pool);
    this.store.putBack(entry, Date.now());
  }

  /** An entry its claimer could not open (sealed under a key no longer configured): its project goes. */
  discard(pool: string, entry: PoolEntry): void {
    this.name(pool);
    this.store.forgetClaim(entry.projectId);
    this.deleteInBackground(entry);
  }

  /** Tops the pool up to its target and resolves when done (cron and tests call this). */
  refill(pool?: string): Promise<WarmPoolStatus> {
    this.name(pool);
    if (!this.refilling) {
      this.refilling = this.runRefill().finally(() => {
        this.refilling = undefined;
      });
    }
    return this.refilling.then(() => this.status());
  }

  /** Empties the pool and deletes its projects (operators' stop, and test clean-up). Sets the target to 0. */
  async drain(pool?: string): Promise<{ deleted: number }> {
    this.name(pool);
    this.store.setMeta('target', '0');
    await this.refilling;
    await cleanLegacy(this.upkeep);
    const taken: PoolEntry[] = [];
    for (let entry = this.store.take(); entry; entry = this.store.take()) taken.push(entry);
    let count = 0;
    for (const entry of taken) {
      // A project the provider would not delete now stays in the pool for the next drain.
      if (await deleted(neonClient(this.env, entry.accountId), entry.projectId)) count++;
      else this.store.putBack(entry, Date.now());
    }
    return { deleted: count };
  }

  /** Projects held or being built, for reconciliation of `dblease-pool-` projects. */
  projects(): { projectId: string; accountId: string; state: string }[] {
    return this.store.projects();
  }

  /**
   * Reconciliation's clean-up of a pool that is neither configured nor given a target by an
   * operator (left by requests before regions were an allow-list): empties it, deleting its
   * unclaimed projects. A configured or operator-sized pool is left as it is.
   */
  async retireIfStray(pool: string, configured: string[]): Promise<{ retired: boolean; deleted: number }> {
    const target = this.store.getMeta('target');
    if (configured.includes(pool) || (target !== undefined && target !== '0')) return { retired: false, deleted: 0 };
    return { retired: true, ...(await this.drain(pool)) };
  }

  /** Who claimed which project, recently: reconciliation's way to judge claimed pool projects. */
  claims(): PoolClaim[] {
    return this.store.claims();
  }

  /**
   * The one alarm: whatever is owed (a deferred refill, a retry, keep-awake proofs) is in
   * `refill`. A refill that claims have deferred further since the alarm was set, with nothing
   * else owed yet, only moves the alarm.
   */
  async alarm(): Promise<void> {
    this.alarmAt = undefined;
    const now = Date.now();
    const refillLater = this.refillDueAt !== undefined && this.refillDueAt > now;
    const otherOwed = [this.retryAt(), this.keepAwakeAt()].some((t) => t !== null && t <= now);
    if (refillLater && !otherOwed) return this.schedule();
    await this.refill();
  }

  private getSealer(): Promise<Sealer> {
    this.sealer ??= Sealer.fromEnv(this.env).catch((err) => {
      this.sealer = undefined;
      throw err;
    });
    return this.sealer;
  }

  private served(entry: PoolEntry): PoolEntry {
    this.hits += 1;
    return entry;
  }

  private deleteInBackground(entry: { accountId: string; projectId: string }): void {
    // A delete that fails leaves a `dblease-pool-` project nobody holds or claimed: reconciliation's orphan.
    this.ctx.waitUntil(
      this.client(entry.accountId)
        .deleteProject(entry.projectId)
        .catch(() => {}),
    );
  }

  /** Pool upkeep is background work: it must leave agents' creates their share of the budget. */
  private client(providerAccount: string) {
    return neonClient(this.env, providerAccount, backgroundProviderOptions(this.env, providerAccount));
  }

  private short(): boolean {
    return this.store.count('ready') + this.store.count('filling') < this.target();
  }

  /** Starts a refill in the background now if the pool is short (an operator's new target). */
  private kick(): void {
    if (this.refilling || !this.short()) return;
    this.ctx.waitUntil(this.refill().catch(() => {}));
  }

  /**
   * After a claim, a refill owed by a short pool waits for the burst of claims to end
   * (`deferredRefillAt`): the burst is served from what the pool holds, and its misses keep the
   * provider to themselves.
   */
  private refillAfterClaims(): void {
    if (this.refilling || !this.short()) return;
    const now = Date.now();
    this.shortSince ??= now;
    this.refillDueAt = deferredRefillAt(this.shortSince, now);
    // The alarm only ever moves sooner here: one set already fires first, finds the refill
    // deferred, and moves itself (`alarm`). So a burst of claims sets it about once a second.
    if (this.alarmAt === undefined || this.alarmAt === null || this.alarmAt > this.refillDueAt) this.ctx.waitUntil(this.schedule());
  }

  private retryAt(): number | null {
    return this.failures > 0 ? this.failedAt + retryDelayMs(this.failures) : null;
  }

  private keepAwakeAt(): number | null {
    return keepAwakeDueAt(this.store.oldestAwakeProof());
  }

  /** Sets the one alarm to the earliest thing owed (src/core/policy/warm-pool-schedule.ts). */
  private async schedule(): Promise<void> {
    const at = nextPoolAlarm([this.refillDueAt, this.retryAt(), this.keepAwakeAt()]);
    if (at === this.alarmAt) return;
    this.alarmAt = at;
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(at);
  }

  private async runRefill(): Promise<void> {
    this.shortSince = undefined;
    this.refillDueAt = undefined;
    try {
      await cleanStranded(this.upkeep, this.live);
      await cleanLegacy(this.upkeep);
      await resealStale(this.upkeep);
      await keepAwake(this.upkeep);
      await Promise.all(Array.from({ length: FILL_CONCURRENCY }, () => this.fillLoop()));
    } finally {
      await this.schedule();
    }
  }

  private async fillLoop(): Promise<void> {
    const region = regionOfPool(this.name());
    while (this.short()) {
      const id = shortId();
      // Decided as the fill starts, so fills running side by side do not both take the last awake place.
      const awake = this.store.countAwake() < this.awakeTarget();
      this.store.startFilling(id, Date.now(), awake);
      this.live.add(id);
      try {
        const { password, ...filled } = await fillPoolEntry(this.env, {
          id,
          pool: this.name(),
          regionId: region === 'default' ? undefined : region,
          load: this.store.loadByAccount(),
          gate: BACKGROUND,
          keepAwake: awake,
          onProject: (projectId, accountId) => this.store.noteProject(id, projectId, accountId),
        });
        // Sealed before it is written: the plain password never reaches storage.
        const passwordSealed = await (await this.getSealer()).seal(password, poolPasswordContext(filled));
        this.store.finishFilling({ ...filled, passwordSealed }, Date.now());
        this.fillTimes = [...this.fillTimes.filter((t) => t > Date.now() - 60_000), Date.now()];
        this.failures = 0;
        this.lastError = undefined;
      } catch (err) {
        this.store.forget(id);
        this.failures += 1;
        this.failedAt = Date.now();
        this.lastError = err instanceof Error ? err.message : String(err);
        return;
      } finally {
        this.live.delete(id);
      }
    }
  }
}
