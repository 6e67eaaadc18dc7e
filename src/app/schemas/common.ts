import { z } from '@hono/zod-openapi';

/** The one error shape (ARCHITECTURE.md, "Errors"). */
export const errorSchema = z
  .object({
    error: z.object({
      type: z.string().openapi({ example: 'invalid_request' }),
      code: z.string().openapi({ example: 'invalid_field', description: 'One of components.schemas.ErrorCode.' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
      request_id: z.string(),
    }),
  })
  .openapi('Error');

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: errorSchema } } });

/** The error responses every authenticated route can give. */
export const commonErrors = {
  400: errorResponse('Bad input; `details.fields[]` names each field at fault.'),
  401: errorResponse('Missing, unknown, revoked or expired token.'),
  403: errorResponse('The token lacks the scope this route needs.'),
  404: errorResponse('No such resource in this account.'),
  500: errorResponse('Internal error (logged; quote the request id).'),
} as const;

export const conflictError = { 409: errorResponse('Conflict with the current state.') } as const;

export const bearerSecurity = [{ bearer: [] }];

export const cursorQuerySchema = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** An OpenAPI JSON body or response of `schema`. */
export const json = <T>(schema: T) => ({ content: { 'application/json': { schema } } });
