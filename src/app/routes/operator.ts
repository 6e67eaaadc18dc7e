/**
 * Operator maintenance. `POST /v1/operator/reseal` re-seals, under the current
 * `DBLEASE_ENCRYPTION_KEY`, every sealed value of up to `limit` accounts that hold live
 * databases (the DeadlineIndex knows them), resuming after `cursor`; repeat until
 * `next_cursor` is null (README, "Rotating keys").
 */
import { createRoute, z } from '@hono/zod-openapi';
import { accountObject } from '../account-client';
import { operatorAuth } from '../http/auth';
import { jsonBody, newApp } from '../http/openapi';
import { lifecycleConfig } from '../../core/policy/lifecycle-config';
import { mapLimit } from '../../core/schedule';
import { unwrap } from '../../core/result';
import { bearerSecurity, commonErrors } from '../schemas/common';

const resealBody = z
  .object({
    cursor: z
      .string()
      .regex(/^\d+:(acc_[0-9a-z]{20})?$/, 'a next_cursor from an earlier answer')
      .optional(),
    limit: z.number().int().min(1).max(200).default(50),
  })
  .strict()
  .openapi('ResealRequest');

const resealAnswer = z
  .object({
    key_id: z.string().nullable(),
    accounts: z.number().int(),
    resealed: z.number().int(),
    unreadable: z.array(z.object({ account_id: z.string(), values: z.array(z.string()) })),
    next_cursor: z.string().nullable(),
  })
  .openapi('ResealReport');

const resealRoute = createRoute({
  method: 'post',
  path: '/reseal',
  tags: ['operator'],
  summary: 'Re-seal stored credentials under the current encryption key (operator token)',
  security: bearerSecurity,
  middleware: [operatorAuth(), jsonBody()] as const,
  request: { body: { content: { 'application/json': { schema: resealBody } }, required: true } },
  responses: { 200: { description: 'What was re-sealed', content: { 'application/json': { schema: resealAnswer } } }, ...commonErrors },
});

/** Up to `limit` accounts with live records, from shard `shard` on, after `after`. */
async function accountsFrom(env: Env, shard: number, after: string, limit: number): Promise<{ ids: string[]; next: string | null }> {
  const shards = lifecycleConfig(env).shards;
  const ids: string[] = [];
  for (let s = shard; s < shards; s++, after = '') {
    const page = await env.DEADLINE_INDEX.get(env.DEADLINE_INDEX.idFromName(`shard-${s}`)).liveAccounts(after, limit - ids.length);
    ids.push(...page);
    if (ids.length >= limit) return { ids, next: `${s}:${ids[ids.length - 1]}` };
  }
  return { ids, next: null };
}

export const operator = newApp().openapi(resealRoute, async (c) => {
  const { cursor, limit } = c.req.valid('json');
  const [shard, after] = cursor ? [Number(cursor.split(':')[0]), cursor.split(':')[1]!] : [0, ''];
  const { ids, next } = await accountsFrom(c.env, shard, after, limit);
  let keyId: string | null = null;
  let resealed = 0;
  const unreadable: { account_id: string; values: string[] }[] = [];
  await mapLimit(ids, 4, async (accountId) => {
    const report = unwrap(await accountObject(c.env, accountId).reseal());
    keyId = report.key_id;
    resealed += report.resealed;
    if (report.unreadable.length) unreadable.push({ account_id: accountId, values: report.unreadable });
  });
  return c.json({ key_id: keyId, accounts: ids.length, resealed, unreadable, next_cursor: next }, 200);
});
