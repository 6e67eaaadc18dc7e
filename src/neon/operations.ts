import type { Operation, OperationResponse } from '@neondatabase/api-client';
import { ProviderUnavailable } from './errors';
import type { ProviderAccount } from './accounts';
import { pollDelay } from './backoff';
import { ProviderOperationError } from './errors';
import { path, providerCall, type ProviderOptions } from './http';

const DONE = new Set(['finished', 'skipped']);
const FAILED = new Set(['failed', 'error', 'cancelled', 'cancelling']);

/** Throws ProviderOperationError if the operation ended badly; true when it is over. */
function settled(op: Operation): boolean {
  const status: string = op.status;
  if (DONE.has(status)) return true;
  if (FAILED.has(status)) throw new ProviderOperationError(op.project_id, op.id, String(op.action), status, op.error);
  return false;
}

/**
 * Waits until every operation a mutation started has finished, looking at each with short,
 * growing intervals (backoff.ts `pollDelay`), for at most `operationTimeoutMs` in all. An
 * operation that fails raises ProviderOperationError; one that never ends in time raises
 * `ProviderUnavailable`. Operations are looked at one after another: Neon runs a project's
 * operations in sequence, so by the time the first is done the rest usually are too.
 */
export async function waitForOperations(
  account: ProviderAccount,
  projectId: string,
  operations: readonly Operation[] | undefined,
  options: ProviderOptions,
): Promise<void> {
  const started = Date.now();
  for (const first of operations ?? []) {
    let op = first;
    for (let look = 0; !settled(op); look++) {
      const remaining = options.operationTimeoutMs - (Date.now() - started);
      const delay = pollDelay(look);
      if (remaining <= delay) {
        throw new ProviderUnavailable(
          `the database provider's ${String(op.action)} operation was still ${String(op.status)} after ${options.operationTimeoutMs} ms`,
          5,
        );
      }
      await options.sleep(delay);
      const res = await providerCall<OperationResponse>(
        account,
        {
          method: 'GET',
          path: path`/projects/${projectId}/operations/${op.id}`,
          route: 'GET /projects/:project_id/operations/:operation_id',
        },
        { ...options, budgetMs: Math.max(1, Math.min(options.budgetMs, remaining - delay)) },
      );
      op = res.operation;
    }
  }
}
