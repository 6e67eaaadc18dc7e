/** Helpers for the lifecycle tests: reaching into an account object, time travel, events. */
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { accountObject, call, type TestAccount } from '../support/api';

export const stubOf = (acct: { id: string }) => accountObject(acct.id);

/** Runs SQL inside the account object's storage (e.g. to move a deadline into the past). */
export async function accountSql(acct: { id: string }, query: string, ...args: unknown[]) {
  return runInDurableObject(stubOf(acct), (_instance, state) => state.storage.sql.exec(query, ...(args as SqlStorageValue[])).toArray());
}

/** Moves a database's expiry `ms` into the past without touching the object's alarm. */
export const expireNow = (acct: { id: string }, dbId: string, agoMs = 1_000) =>
  accountSql(acct, 'update databases set expires_at = ? where id = ?', Date.now() - agoMs, dbId);

export const alarmOf = (acct: { id: string }) => runInDurableObject(stubOf(acct), (_i, state) => state.storage.getAlarm());

/** Fires the object's alarm now (if one is set) and waits for its sweep. */
export async function fireAlarm(acct: { id: string }): Promise<boolean> {
  return runDurableObjectAlarm(stubOf(acct));
}

export async function dbState(token: string, id: string) {
  const res = await call(`/v1/databases/${id}`, { token });
  return (await res.json<any>()) as { state: string; last_error?: string | null; [k: string]: unknown };
}

export async function events(acct: TestAccount) {
  const out: any[] = [];
  for (let cursor: string | null = null; ;) {
    const res: Response = await call(`/v1/events?limit=200${cursor ? `&cursor=${cursor}` : ''}`, { token: acct.ownerToken });
    const page = await res.json<any>();
    out.push(...page.data);
    cursor = page.next_cursor;
    if (!cursor) return out;
  }
}

export const eventTypes = (all: any[], dbId: string) => all.filter((e) => e.database_id === dbId).map((e) => e.type);

export function indexShard(shard: number) {
  return env.DEADLINE_INDEX.get(env.DEADLINE_INDEX.idFromName(`shard-${shard}`));
}
