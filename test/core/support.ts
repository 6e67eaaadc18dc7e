/** The HTTP status the error catalogue gives a failure (src/core/errors.ts): what the app will answer. */
import { ERRORS, type ErrorCode } from '../../src/core/errors';

export const statusOf = (failure: unknown) => ERRORS[(failure as { code: ErrorCode }).code].status;
