import type { AccountPrincipal } from '../auth/principal';
import { ApiError } from '../errors';
import type { CreateDatabase } from '../schemas/databases';
import type { CreateOptions, Created, WaitUntil } from './service';

export async function createDatabase(_env: Env, _ctx: WaitUntil, _p: AccountPrincipal, _input: CreateDatabase, _opts: CreateOptions): Promise<Created> {
  throw new ApiError('internal', 'not_implemented', 'createDatabase is not implemented yet');
}
