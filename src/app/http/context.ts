import type { AccountPrincipal } from '../../core/auth/principal';

/** The Hono environment of every dblease route. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    /** Set by `accountAuth()`. */
    principal: AccountPrincipal;
  };
}
