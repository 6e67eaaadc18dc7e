/** One database with its timeline and children, for the dashboard's database page (`databases:read`). */
import type { AccountPrincipal } from '../../core/auth/principal';
import { unwrap } from '../../core/result';
import type { Database } from '../schemas/databases';
import { needScope, ownAccount } from '../access';
import { getDatabase } from './existing';
import { toDatabase } from './view';
import type { EventView } from '../../core/contract';

export interface DatabaseDetail {
  database: Database;
  events: EventView[];
  children: Database[];
}

export async function databaseDetail(env: Env, principal: AccountPrincipal, id: string): Promise<DatabaseDetail> {
  needScope(principal, 'databases:read');
  // getDatabase first: an unknown or another account's id is 404 there, and a pending claim is settled.
  const database = await getDatabase(env, principal, id);
  const detail = unwrap(await ownAccount(env, principal).databaseDetail(id));
  return { database, events: detail.events, children: detail.children.map((r) => toDatabase(r)) };
}
