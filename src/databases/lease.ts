import type { AccountPrincipal } from '../auth/principal';
import type { Scope } from '../auth/tokens';
import { ApiError } from '../errors';
import type { Database } from '../schemas/databases';
import type { DatabaseList, DatabasePatch, ListQuery } from './service';

const todo = (what: string): never => {
  throw new ApiError('internal', 'not_implemented', `${what} is not implemented yet`);
};
export const getDatabase = async (_e: Env, _p: AccountPrincipal, _id: string, _o: { credentials?: boolean }): Promise<Database> => todo('getDatabase');
export const listDatabases = async (_e: Env, _p: AccountPrincipal, _q: ListQuery): Promise<DatabaseList> => todo('listDatabases');
export const updateDatabase = async (_e: Env, _p: AccountPrincipal, _id: string, _patch: DatabasePatch): Promise<Database> => todo('updateDatabase');
export const keepDatabase = async (_e: Env, _p: AccountPrincipal, _id: string): Promise<Database> => todo('keepDatabase');
export const rotateCredentials = async (_e: Env, _p: AccountPrincipal, _id: string): Promise<Database> => todo('rotateCredentials');
export const connectionFor = async (_e: Env, _p: AccountPrincipal, _id: string, _s: Scope): Promise<{ uri: string; pooledUri: string; database: Database }> =>
  todo('connectionFor');
