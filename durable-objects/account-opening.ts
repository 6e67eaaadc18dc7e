/**
 * What mints secrets inside the account object: the account itself with its owner token, and
 * every later token. The secret is shown once, in the answer; only its SHA-256 is stored, and
 * the account id it carries is signed with the account tag (src/core/auth/account-tag.ts).
 */
import { accountTag } from '../src/core/auth/account-tag';
import { generateToken, hashSecret } from '../src/core/auth/tokens';
import { Failure } from '../src/core/errors';
import type { OperatorConfig } from '../src/core/policy/operator-config';
import * as settings from './account-settings';
import * as tokenStore from './account-tokens';
import { account } from './schema';
import type { Store } from './store';

type KeyEnv = Parameters<typeof accountTag>[0];

async function newSecret(env: KeyEnv, accountId: string) {
  const { token, secret } = generateToken(accountId, await accountTag(env, accountId));
  return { token, hash: await hashSecret(secret) };
}

/** The account row, its owner token and the `account.created` event, in one transaction. */
export async function openAccount(store: Store, env: KeyEnv, config: OperatorConfig, input: { id: string; name: string }, now: number) {
  const { token, hash } = await newSecret(env, input.id);
  return store.write('create account', (db) => {
    settings.insertAccount(db, input.id, input.name, now);
    const view = tokenStore.insertToken(db, hash, { name: 'owner', scopes: ['owner'] }, now, null);
    store.appendEvent(db, now, 'account.created', { tokenId: view.id, data: { name: input.name } });
    return { account: settings.accountView(store, db, config, now), owner_token: { ...view, token } };
  });
}

/**
 * An account for a user an orchestrator vouched for: created the first time (no owner token: the
 * agent gets its own token, the human signs in later), found every time after. Idempotent.
 */
export function ensureProvisionedAccount(
  store: Store,
  config: OperatorConfig,
  input: { id: string; name: string; orchestrator: string },
  now: number,
) {
  return store.write('ensure account', (db) => {
    if (!db.select().from(account).get()) {
      settings.insertAccount(db, input.id, input.name, now);
      store.appendEvent(db, now, 'account.created', { data: { name: input.name, provisioned_by: input.orchestrator } });
    }
    return settings.accountView(store, db, config, now);
  });
}

/** A new token within the account's limits: at most MAX_ACTIVE_TOKENS, no TTL cap above the policy's. */
export async function mintToken(
  store: Store,
  env: KeyEnv,
  config: OperatorConfig,
  input: tokenStore.NewToken,
  createdBy: string,
  now: number,
) {
  const accountId = store.read('account', (db) => settings.accountRow(db)).id;
  const { token, hash } = await newSecret(env, accountId);
  return store.write('create token', (db) => {
    if (tokenStore.activeTokenCount(db) >= tokenStore.MAX_ACTIVE_TOKENS) {
      throw new Failure('token_limit', `an account may have at most ${tokenStore.MAX_ACTIVE_TOKENS} active tokens`);
    }
    const policy = settings.effectivePolicy(db, config);
    if (input.max_database_ttl_seconds != null && input.max_database_ttl_seconds > policy.max_ttl_seconds) {
      throw new Failure('invalid_field', `max_database_ttl_seconds exceeds the account's maximum TTL of ${policy.max_ttl_seconds}`, {
        fields: [{ path: 'max_database_ttl_seconds', message: `exceeds the account's maximum TTL of ${policy.max_ttl_seconds} seconds` }],
      });
    }
    const view = tokenStore.insertToken(db, hash, input, now, createdBy);
    // A token an orchestrator provisioned is the audit trail of that provisioning.
    const provisioned = createdBy.startsWith('orc_');
    store.appendEvent(db, now, provisioned ? 'account.provisioned' : 'token.created', {
      tokenId: provisioned ? null : createdBy,
      data: { created_token_id: view.id, name: view.name, scopes: view.scopes, ...(provisioned ? { orchestrator: createdBy } : {}) },
    });
    return { ...view, token };
  });
}
