import type { Scope } from './tokens';

/** Who is calling, as established by one `authenticate` round trip to the account object. */
export interface AccountPrincipal {
  kind: 'account';
  account_id: string;
  token_id: string;
  scopes: Scope[];
  /** The token's own cap on database TTLs, if it has one. */
  max_database_ttl_seconds: number | null;
}

export interface OperatorPrincipal {
  kind: 'operator';
}

export type Principal = AccountPrincipal | OperatorPrincipal;
