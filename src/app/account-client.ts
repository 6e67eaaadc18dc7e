/** The Worker's handle on an account's Durable Object: one object per account id, no global lookup. */
export const accountObject = (env: Env, accountId: string) => env.ACCOUNT.get(env.ACCOUNT.idFromName(accountId));
