import { z } from '@hono/zod-openapi';
import { PROVISIONABLE_SCOPES } from '../../core/catalog';

/** A public JWK of a supported kind: Ed25519 (`OKP`) or P-256 (`EC`). Strict, so a private part (`d`) is refused by name. */
export const publicJwk = z
  .object({
    kty: z.enum(['OKP', 'EC']),
    crv: z.enum(['Ed25519', 'P-256']),
    x: z.string().min(1).max(200),
    y: z.string().min(1).max(200).optional(),
    kid: z.string().min(1).max(200).optional(),
    alg: z.enum(['EdDSA', 'ES256']).optional(),
    use: z.literal('sig').optional(),
  })
  .strict()
  .refine((k) => (k.kty === 'OKP') === (k.crv === 'Ed25519') && (k.kty === 'EC') === (k.y !== undefined), {
    message: 'OKP keys are Ed25519 with x; EC keys are P-256 with x and y',
  });

export const jwksSchema = z.object({ keys: z.array(publicJwk).min(1).max(10) }).strict();

export const createOrchestratorSchema = z
  .object({
    name: z.string().min(1).max(100),
    jwks: jwksSchema.optional().openapi({ description: 'The public keys, inline (several allow rotation). Give this or jwks_uri.' }),
    jwks_uri: z.url().max(2_000).optional().openapi({
      description:
        'An https URL serving the JSON Web Key Set, fetched at registration (it must answer) and then cached; re-fetched when an assertion names an unknown kid. Give this or jwks.',
    }),
    max_monthly_spend_usd: z.number().positive().max(1_000_000).optional(),
    allowed_scopes: z
      .array(z.enum(PROVISIONABLE_SCOPES as [string, ...string[]]))
      .min(1)
      .optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if ((o.jwks === undefined) === (o.jwks_uri === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['jwks'], message: 'give exactly one of jwks and jwks_uri' });
    }
  })
  .openapi('CreateOrchestrator');

export const orchestratorSchema = z
  .object({
    id: z.string(),
    object: z.literal('orchestrator'),
    name: z.string(),
    jwks: z.object({ keys: z.array(z.record(z.string(), z.string())) }).nullable(),
    jwks_uri: z.string().nullable(),
    max_monthly_spend_usd: z.number().nullable(),
    allowed_scopes: z.array(z.string()),
    created_at: z.string(),
    retired_at: z.string().nullable(),
  })
  .openapi('Orchestrator');

export const orchestratorIdSchema = z.string().regex(/^orc_[0-9a-z]{20}$/, 'an orchestrator id (orc_…)');
export type CreateOrchestrator = z.infer<typeof createOrchestratorSchema>;
export type PublicJwk = z.infer<typeof publicJwk>;
