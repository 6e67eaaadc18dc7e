import type { AccountPrincipal } from '../auth/principal';
import { ApiError } from '../errors';
import type { CreateBranch } from '../schemas/databases';
import type { CreateOptions, Created, WaitUntil } from './service';

export async function branchDatabase(_env: Env, _ctx: WaitUntil, _p: AccountPrincipal, _parent: string, _input: CreateBranch, _opts: CreateOptions): Promise<Created> {
  throw new ApiError('internal', 'not_implemented', 'branchDatabase is not implemented yet');
}
