import type { AccountPrincipal } from '../auth/principal';
import { ApiError } from '../errors';
import type { Deleted, WaitUntil } from './service';

export async function deleteDatabase(_env: Env, _ctx: WaitUntil, _p: AccountPrincipal, _id: string, _opts: { cascade?: boolean }): Promise<Deleted> {
  throw new ApiError('internal', 'not_implemented', 'deleteDatabase is not implemented yet');
}
