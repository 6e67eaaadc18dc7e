import { z } from '@hono/zod-openapi';

/** The wire contract of abuse detection (README "Abuse"): the account's state and signals, and the operator's routes. */

export const abuseStateSchema = z.enum(['ok', 'throttled', 'suspended']);

const signalsSchema = z.object({
  churn: z.object({
    value: z.number().openapi({ description: 'Share of ended databases never used.' }),
    ended: z.number().int(),
    unused: z.number().int(),
  }),
  credentials_unused: z.object({
    value: z.number().openapi({ description: 'Share of credential hand-outs with no use after them.' }),
    fetched: z.number().int(),
    unused: z.number().int(),
  }),
  velocity: z.object({ creates_last_hour: z.number().int(), baseline_per_hour: z.number() }),
  fan_out: z.object({
    value: z.number().int().openapi({ description: 'Most short-lived, never-used branches of one parent.' }),
    parent_id: z.string().nullable(),
  }),
});

export const abuseSchema = z
  .object({
    state: abuseStateSchema,
    reason: z.string().nullable().openapi({ description: "The last move's reason." }),
    since: z.string().nullable(),
    pinned: z.boolean().openapi({ description: 'Set by the operator: the detector leaves the state alone, no decay.' }),
    signals: z
      .object({
        evaluated_at: z.string(),
        window_hours: z.number(),
        account: signalsSchema,
        tokens: z.array(signalsSchema.extend({ token_id: z.string(), level: abuseStateSchema })),
      })
      .nullable(),
    reasons: z.array(z.string()).openapi({ description: 'The signals over a threshold at the last evaluation.' }),
  })
  .openapi('AbuseState');

export const accountIdParamSchema = z.object({ id: z.string().regex(/^acc_[0-9a-z]{20}$/, 'not an account id') });

const reasonSchema = z.string().trim().min(1).max(500);

export const abuseClearSchema = z
  .object({
    pin: z.boolean().default(false).openapi({ description: 'Hold ok against the detector (no moves) until the next clear without pin.' }),
    reason: reasonSchema.optional(),
  })
  .strict()
  .openapi('AbuseClear');

export const abusePinSchema = z.object({ state: abuseStateSchema, reason: reasonSchema }).strict().openapi('AbusePin');
