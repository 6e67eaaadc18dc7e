/**
 * Bounds on a SQL request's parameters, checked before anything reaches the database. Arrays and
 * objects nest (arrays become PostgreSQL arrays, objects JSON), and the driver serializes them
 * recursively, so a parameter nested ten thousand levels deep would overflow the stack as a 500;
 * huge counts and strings would hold the request in memory. Each bound is a 400 naming the
 * parameter at fault. The walk is iterative, and stops at the first fault, so checking is cheap
 * whatever the input.
 */
import type { FieldIssue } from '../../core/errors';
import type { SqlRequest } from './execute';

export const PARAM_LIMITS = Object.freeze({
  /** PostgreSQL's own limit on one statement's parameters (the protocol counts them in 16 bits). */
  maxParams: 65_535,
  /** Levels of nesting in one parameter; PostgreSQL arrays have at most 6 dimensions. */
  maxDepth: 32,
  /** Characters in one string (a key or a value), as for one query's text. */
  maxStringChars: 1_000_000,
  /** Values (at any depth, keys included) across all of a request's parameters. */
  maxValues: 1_000_000,
  /** Characters across all of a request's parameter strings. */
  maxTotalChars: 10_000_000,
});

/** The first fault in the request's parameters, or none. */
export function paramIssues(request: SqlRequest, limits = PARAM_LIMITS): FieldIssue[] {
  const statements =
    'queries' in request
      ? request.queries.map((q, i) => ({ params: q.params, path: `queries.${i}.params` }))
      : [{ params: request.params, path: 'params' }];
  let values = 0;
  let chars = 0;
  for (const { params, path } of statements) {
    if (params === undefined) continue;
    if (params.length > limits.maxParams)
      return [{ path, message: `at most ${limits.maxParams} parameters per statement, got ${params.length}` }];
    for (let p = 0; p < params.length; p++) {
      const at = `${path}.${p}`;
      const stack: [unknown, number][] = [[params[p], 1]];
      while (stack.length > 0) {
        const [value, depth] = stack.pop()!;
        if (++values > limits.maxValues)
          return [{ path: at, message: `the request's parameters hold more than ${limits.maxValues} values in all` }];
        if (typeof value === 'string') {
          if (value.length > limits.maxStringChars)
            return [{ path: at, message: `a string longer than ${limits.maxStringChars} characters` }];
          chars += value.length;
          if (chars > limits.maxTotalChars)
            return [{ path: at, message: `the request's parameter strings hold more than ${limits.maxTotalChars} characters in all` }];
          continue;
        }
        if (value === null || typeof value !== 'object') continue;
        if (depth > limits.maxDepth) return [{ path: at, message: `nested deeper than ${limits.maxDepth} levels` }];
        const children = Array.isArray(value) ? (value as unknown[]) : Object.entries(value as Record<string, unknown>).flat();
        for (const child of children) stack.push([child, depth + 1]);
      }
    }
  }
  return [];
}
