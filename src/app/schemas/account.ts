import { z } from '@hono/zod-openapi';
import { SCOPES } from '../../core/auth/tokens';
import { abuseSchema } from './abuse';
import { DEFAULT_POLICY, POLICY_FIELDS, POLICY_MINIMUM, isIntegerField, type PolicyField } from '../../core/policy/policy';

/**
 * The wire contract of accounts, tokens and events. Request schemas are strict: an unknown
 * field is a 400 naming it, never silently ignored.
 */

export const nameSchema = z.string().trim().min(1).max(100);

export const createAccountSchema = z.object({ name: nameSchema }).strict().openapi('CreateAccount');

const knob = (field: PolicyField) => {
  const base = isIntegerField(field) ? z.number().int() : z.number();
  return base
    .min(POLICY_MINIMUM[field])
    .nullable()
    .optional()
    .openapi({ description: `At most the operator's maximum; null resets it to that maximum. Default ${DEFAULT_POLICY[field]}.` });
};

export const policyPatchSchema = z
  .object(Object.fromEntries(POLICY_FIELDS.map((f) => [f, knob(f)])) as Record<PolicyField, ReturnType<typeof knob>>)
  .strict()
  .openapi('PolicyPatch');

export const policySchema = z
  .object(Object.fromEntries(POLICY_FIELDS.map((f) => [f, z.number()])) as Record<PolicyField, z.ZodNumber>)
  .openapi('Policy');

export const accountSchema = z
  .object({
    id: z.string().openapi({ example: 'acc_0123456789abcdefghij' }),
    name: z.string(),
    created_at: z.string(),
    abuse: abuseSchema,
    policy: policySchema,
    policy_maximum: policySchema,
    usage: z.object({
      active_databases: z.number().int(),
      month: z.string(),
      spent_usd: z.number(),
      reserved_usd: z.number(),
      cap_usd: z.number(),
      spent_micro_usd: z.number().int(),
      reserved_micro_usd: z.number().int(),
      cap_micro_usd: z.number().int(),
    }),
  })
  .openapi('Account');

export const scopeSchema = z.enum(SCOPES);

export const createTokenSchema = z
  .object({
    name: nameSchema,
    scopes: z.array(scopeSchema).min(1).max(SCOPES.length),
    expires_at: z.iso.datetime({ offset: true }).optional().openapi({ description: 'When the token stops working (future).' }),
    max_database_ttl_seconds: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: 'Cap on the TTL of databases this token creates.' }),
    monthly_spend_limit_usd: z
      .number()
      .positive()
      .max(1_000_000)
      .optional()
      .openapi({ description: "The token's own monthly spend limit, below the account's cap (402 token_spend_limit past it)." }),
  })
  .strict()
  .openapi('CreateToken');

export const tokenSchema = z
  .object({
    id: z.string().openapi({ example: 'tok_0123456789abcdefghij' }),
    name: z.string(),
    scopes: z.array(scopeSchema),
    expires_at: z.string().nullable(),
    max_database_ttl_seconds: z.number().int().nullable(),
    monthly_spend_limit_usd: z.number().nullable(),
    spent_this_month_usd: z.number().openapi({ description: 'Reserved and spent by the databases this token created this month (UTC).' }),
    created_at: z.string(),
    revoked_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
  })
  .openapi('Token');

export const newTokenSchema = tokenSchema
  .extend({ token: z.string().openapi({ description: 'The secret. Shown only in this response.', example: 'dbl_acc_…_<tag>_<secret>' }) })
  .openapi('NewToken');

export const createdAccountSchema = z.object({ account: accountSchema, owner_token: newTokenSchema }).openapi('CreatedAccount');

export const tokenIdParamSchema = z.object({ id: z.string().regex(/^tok_[0-9a-z]{20}$/, 'not a token id') });

export const eventSchema = z
  .object({
    id: z.string(),
    at: z.string(),
    type: z.string().openapi({ example: 'database.ready' }),
    database_id: z.string().nullable(),
    token_id: z.string().nullable(),
    data: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('Event');

export const eventListSchema = z.object({ data: z.array(eventSchema), next_cursor: z.string().nullable() }).openapi('EventList');
export type CreateToken = z.infer<typeof createTokenSchema>;

export const stopReportSchema = z
  .object({
    tokens_revoked: z.number().int(),
    sessions_ended: z.number().int(),
    dashboard_sessions_ended: z.number().int(),
    databases_deleting: z.number().int().openapi({ description: 'Moved to deleting now, plus those already on their way out.' }),
    databases_left: z
      .object({ kept: z.number().int(), claimed: z.number().int(), claim_pending: z.number().int(), provisioning: z.number().int() })
      .openapi({ description: 'What stop never deletes: kept ones (and their parents), claimed or being claimed, and creates in flight.' }),
  })
  .openapi('StopReport');
