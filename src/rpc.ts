/**
 * How results cross the Durable Object RPC boundary. RPC keeps only an Error's message, so
 * failures travel as data (`ApiError.toJSON()`) and are revived on the Worker side.
 */
import { ApiError, type ErrorBody, type FieldIssue } from './errors';

/**
 * JSON data as RPC types see it (they turn `unknown` into `unknown`, and a recursive JSON type
 * into "excessively deep" errors): objects nested two levels, which event data never exceeds.
 */
export type JsonLeaf = string | number | boolean | null;
export type JsonData = Record<string, JsonLeaf | JsonLeaf[] | Record<string, JsonLeaf | JsonLeaf[]>>;

/**
 * `ErrorBody` as it crosses RPC, with `details` spelled out: RPC's type mapping drops a union
 * member holding `unknown`, which would erase the `{ ok: false }` branch of every result.
 */
export type ErrorDetails = Record<string, JsonLeaf | JsonLeaf[] | FieldIssue[] | Record<string, JsonLeaf>>;
export type RpcError = Omit<ErrorBody, 'details'> & { details?: ErrorDetails; retry_after?: number };
export type Result<T> = { ok: true; value: T } | { ok: false; error: RpcError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (error: ApiError): Result<never> => ({ ok: false, error: error.toJSON() as RpcError });

/** The value, or the revived `ApiError` thrown (and so answered by the app's one `onError`). */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw ApiError.from(result.error as ErrorBody);
}
