/** Wire schemas of bindings into Cloudflare Workers (README, "Binding a database to a Worker"). */
import { z } from '@hono/zod-openapi';
import { databaseIdSchema } from './databases';

/** Cloudflare's own shapes: a 32-hex account id; Worker names of lowercase letters, digits, `-` and `_`. */
const cfAccountId = z.string().regex(/^[0-9a-f]{32}$/, 'a Cloudflare account id: 32 hex digits');
const scriptName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a Worker name: lowercase letters, digits, - and _, at most 63');
/** A binding name is a JavaScript identifier in the Worker's `env`. */
const bindingName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a name like DATABASE_URL: letters, digits and _');

export const bindingIdSchema = z
  .string()
  .regex(/^bnd_[a-z0-9]{20}$/, 'not a bnd_ id')
  .openapi({ example: 'bnd_0a1b2c3d4e5f6g7h8i9j' });
export const bindingParams = z.object({ id: databaseIdSchema, bid: bindingIdSchema });

export const createBindingSchema = z
  .discriminatedUnion('type', [
    z
      .object({
        type: z.literal('worker_secret'),
        cloudflare: z.object({ account_id: cfAccountId, script_name: scriptName }).strict(),
        name: bindingName.default('DATABASE_URL'),
        pooled: z.boolean().default(true).openapi({ description: "The pooler's connection string (default), or the direct one." }),
      })
      .strict(),
    z
      .object({
        type: z.literal('hyperdrive'),
        cloudflare: z
          .object({ account_id: cfAccountId, script_name: scriptName.optional().openapi({ description: 'Also bind it in this Worker.' }) })
          .strict(),
        name: bindingName.default('HYPERDRIVE'),
      })
      .strict(),
  ])
  .openapi('CreateBinding');
export type CreateBinding = z.infer<typeof createBindingSchema>;

export const bindingSchema = z
  .object({
    id: z.string(),
    object: z.literal('binding'),
    database_id: z.string(),
    type: z.enum(['worker_secret', 'hyperdrive']),
    state: z.enum(['creating', 'active', 'removing', 'removed']).openapi({
      description: '`removing`: dblease is taking it out of Cloudflare (retried until done); `removed`: gone from Cloudflare.',
    }),
    cloudflare: z.object({ account_id: z.string(), script_name: z.string().nullable() }),
    name: z.string(),
    pooled: z.boolean(),
    hyperdrive_id: z.string().nullable(),
    hyperdrive_name: z.string().nullable(),
    update_pending: z.boolean().openapi({ description: 'A rotation could not write the new password yet (see last_error).' }),
    last_error: z.string().nullable(),
    created_at: z.string(),
    removed_at: z.string().nullable(),
  })
  .openapi('Binding');
export type Binding = z.infer<typeof bindingSchema>;

export const bindingListSchema = z.object({ data: z.array(bindingSchema) }).openapi('BindingList');

export const cloudflareTokenSchema = z
  .object({
    api_token: z
      .string()
      .regex(/^[A-Za-z0-9_-]{20,200}$/, 'a Cloudflare API token')
      .openapi({ description: 'Scoped to Workers Scripts: Edit and Hyperdrive: Edit. Stored sealed, never returned.' }),
  })
  .strict()
  .openapi('CloudflareToken');

export const cloudflareTokenStatusSchema = z
  .object({ configured: z.boolean(), updated_at: z.string().nullable() })
  .openapi('CloudflareTokenStatus');
