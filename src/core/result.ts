/**
 * Results as they cross the Durable Object RPC boundary: plain data, never a class to revive.
 * A failure is a `DomainError` (src/core/errors.ts); `unwrap` turns it back into a thrown
 * `Failure` on the caller's side, for the app's one error mapping.
 */
import { Failure, type DomainError } from './errors';

export type { ErrorDetails, JsonLeaf } from './errors';
import type { JsonLeaf } from './errors';

/**
 * JSON data as RPC types see it (they turn `unknown` into `unknown`, and a recursive JSON type
 * into "excessively deep" errors): objects nested two levels, which event data never exceeds.
 */
export type JsonData = Record<string, JsonLeaf | JsonLeaf[] | Record<string, JsonLeaf | JsonLeaf[]>>;

/** What crosses RPC when a call fails. */
export type RpcError = DomainError;
export type Result<T, E = DomainError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (failure: Failure): Result<never> => ({ ok: false, error: failure.toJSON() });

/** The value, or the failure thrown as a `Failure` (and so answered by the app's one `onError`). */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw Failure.from(result.error);
}
