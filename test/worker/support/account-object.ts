/** Helpers for RPC tests of the account Durable Object through real `env.ACCOUNT` stubs. */
import type { AdmitCreateInput } from '../../../durable-objects/account';
import { newId } from '../../../src/core/ids';
import type { PolicyPatch } from '../../../src/core/policy/policy';
import { unwrap, type RpcError } from '../../../src/core/result';
import { accountObject } from './api';

export async function newAccountObject(policy?: PolicyPatch) {
  const id = newId('acc');
  const stub = accountObject(id);
  const created = unwrap(await stub.createAccount({ id, name: 'rpc test' }));
  if (policy) unwrap(await stub.updatePolicy(policy, created.owner_token.id));
  return { id, stub, ownerTokenId: created.owner_token.id, ownerToken: created.owner_token.token };
}

export const admitInput = (over: Partial<AdmitCreateInput> = {}): AdmitCreateInput => ({
  token: { id: 'tok_00000000000000000000', max_database_ttl_seconds: null },
  kind: 'fresh',
  request_hash: 'hash-1',
  ...over,
});

export const providerFacts = (password = 'pw-very-secret') => ({
  provider_account: 'local',
  project_id: 'proj-1',
  branch_id: 'br-1',
  endpoint_id: 'ep-1',
  host: 'ep-1.local',
  password,
});

/** The error of a result that must have failed. */
export function errorOf(result: { ok: boolean }): RpcError {
  if (result.ok) throw new Error(`expected an error result, got ${JSON.stringify(result)}`);
  return (result as unknown as { error: RpcError }).error;
}
