/** `POST /v1/provision`: an orchestrator's signed assertion in, an agent token out (docs/PROVISIONING.md). */
import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, newApp } from '../http/openapi';
import { provision as runProvision } from '../provisioning/service';
import { commonErrors, conflictError, json } from '../schemas/common';
import { publicBase } from './catalog';

const provisioned = z
  .object({
    account: z.object({ id: z.string(), name: z.string() }),
    token: z.object({
      id: z.string(),
      token: z.string().openapi({ description: 'The agent token. Shown only in this response.' }),
      scopes: z.array(z.string()),
      monthly_spend_limit_usd: z.number().nullable(),
      expires_at: z.string().nullable(),
    }),
    created: z.boolean(),
    dashboard_url: z.string().openapi({
      description: "A one-time sign-in link to the account's dashboard for the user: valid 15 minutes, usable once. Not the token.",
    }),
  })
  .openapi('Provisioned');

const route = createRoute({
  method: 'post',
  path: '/',
  tags: ['provisioning'],
  summary: 'Provision an agent token for a user an orchestrator vouches for (the assertion is the credential)',
  middleware: [jsonBody()] as const,
  request: {
    body: {
      ...json(
        z
          .object({ assertion: z.string().min(1).max(16_384) })
          .strict()
          .openapi('ProvisionRequest'),
      ),
      required: true,
    },
  },
  responses: {
    201: { description: "The user's account was created, with a token", ...json(provisioned) },
    200: { description: "The user's account existed; a new token", ...json(provisioned) },
    ...commonErrors,
    ...conflictError,
  },
});

export const provisionRoute = newApp().openapi(route, async (c) => {
  const result = await runProvision(c.env, publicBase(c.env, c.req.url), c.req.valid('json').assertion);
  return c.json(result.body, result.status);
});
