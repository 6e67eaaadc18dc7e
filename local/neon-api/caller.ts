import { AsyncLocalStorage } from 'node:async_hooks';

/** Who is asking: the organization whose API key authenticated the request. */
export interface Caller {
  orgId: string;
}

const current = new AsyncLocalStorage<Caller>();

/**
 * The auth middleware runs the rest of the request inside this, so the project lookup can
 * check ownership without every route handing the caller down by hand.
 */
export function runAs<T>(caller: Caller, work: () => T): T {
  return current.run(caller, work);
}

/** The caller's organization. Outside a request there is none, and that is a bug. */
export function callerOrg(): string {
  const caller = current.getStore();
  if (!caller) throw new Error('no authenticated caller: the project lookup ran outside a request');
  return caller.orgId;
}
