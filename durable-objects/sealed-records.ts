/**
 * The registry's sealed columns (durable-objects/SCHEMA.md): the database password and the
 * stored response of a create, sealed with the account's key ring (src/core/crypto/sealed.ts)
 * on the way in and opened on the way out. The context binds each value to its row.
 */
import type { Sealer } from '../src/core/crypto/sealed';
import * as registry from './registry';
import type { Store } from './store';
import { databaseRecord } from './views';

const passwordContext = (dbId: string) => `pw:${dbId}`;
export const responseContext = (dbId: string) => `idem:${dbId}`;

/** Step 4 of the saga: ready, with the password and the response (for replays) sealed. */
export async function completeCreate(
  store: Store,
  sealer: Sealer,
  dbId: string,
  facts: registry.ProviderFacts & { password: string },
  responseJson: string | undefined,
  now: number,
) {
  const { password, ...rest } = facts;
  const sealed = {
    password: await sealer.seal(password, passwordContext(dbId)),
    response: responseJson === undefined ? null : await sealer.seal(responseJson, responseContext(dbId)),
  };
  return registry.completeCreate(store, dbId, rest, sealed, now);
}

/** A rotated password for a ready database, sealed like the first. */
export async function storePassword(store: Store, sealer: Sealer, dbId: string, password: string, tokenId: string | null, now: number) {
  return registry.storePassword(store, dbId, await sealer.seal(password, passwordContext(dbId)), now, tokenId);
}

/** The record of `row`, with its password opened when asked for. */
export async function withPassword(sealer: () => Promise<Sealer>, row: ReturnType<typeof registry.getRow>, includePassword: boolean) {
  const password = includePassword && row.passwordSealed ? await (await sealer()).open(row.passwordSealed, passwordContext(row.id)) : null;
  return { database: databaseRecord(row), password };
}
