/**
 * Tokens (`/tokens`): the account's tokens, a form to mint one (its secret shown once, in the
 * answer to the post, with a copy button) and a revoke button on each live one.
 */
import { Hono } from 'hono';
import { SCOPES } from '../../../core/auth/tokens';
import { createTokenSchema, tokenIdParamSchema } from '../../schemas/account';
import { invalidFields } from '../../../core/errors';
import { createToken, listTokens, revokeToken } from '../../tokens/service';
import { FormToken, Layout } from '../layout';
import { signedIn, type DashboardEnv } from '../session';
import { formBody, formNumber, Notice, parseWith, usd, When, type Ctx, ColumnHeads, CopyableSecret } from './ui';

async function render(c: Ctx, extra?: unknown, status: 200 | 201 = 200) {
  const { data } = await listTokens(c.env, c.var.principal);
  const csrf = c.var.visit.csrf;
  return c.html(
    <Layout title="Tokens" visit={c.var.visit} current="/tokens">
      {extra as string}
      <table class="tokens">
        <caption>Tokens</caption>
        <ColumnHeads columns={['Name', 'Id', 'Scopes', 'This month', 'Last used', 'Created', { hidden: 'Action' }]} />
        <tbody>
          {data.map((t) => (
            <tr data-id={t.id}>
              <th scope="row">{t.name}</th>
              <td>
                <code>{t.id}</code>
              </td>
              <td>{t.scopes.join(', ')}</td>
              <td>
                {usd(t.spent_this_month_usd)}
                {t.monthly_spend_limit_usd !== null && ` of ${usd(t.monthly_spend_limit_usd)}`}
              </td>
              <td>
                <When at={t.last_used_at} none="never" />
              </td>
              <td>
                <When at={t.created_at} />
              </td>
              <td>
                {t.revoked_at ? (
                  <span class="muted">revoked</span>
                ) : t.id === c.var.principal.token_id ? (
                  <span class="muted">this sign-in</span>
                ) : (
                  <form method="post" action={`/tokens/${t.id}/revoke`}>
                    <FormToken value={csrf} />
                    <button type="submit" class="danger" aria-label={`Revoke ${t.name}`}>
                      Revoke
                    </button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <form method="post" action="/tokens" class="card" aria-labelledby="new-token">
        <h2 id="new-token">New token</h2>
        <FormToken value={csrf} />
        <label for="token-name">Name</label>
        <input id="token-name" name="name" type="text" required maxlength={100} />
        <fieldset>
          <legend>Scopes</legend>
          {SCOPES.map((s) => (
            <span class="check">
              <input id={`scope-${s}`} name="scopes" type="checkbox" value={s} checked={s !== 'owner'} />
              <label for={`scope-${s}`} class="inline-label">
                {s}
              </label>
            </span>
          ))}
        </fieldset>
        <label for="token-limit">Monthly spend limit (USD, optional)</label>
        <input id="token-limit" name="monthly_spend_limit_usd" type="number" min="0.01" step="0.01" />
        <label for="token-ttl">Longest database lease (seconds, optional)</label>
        <input id="token-ttl" name="max_database_ttl_seconds" type="number" min="1" step="1" />
        <p>
          <button type="submit">Create token</button>
        </p>
      </form>
    </Layout>,
    status,
  );
}

export const tokensPage = new Hono<DashboardEnv>()
  .get('/tokens', signedIn(), (c) => render(c))
  .post('/tokens', signedIn(), async (c) => {
    const form = await formBody(c);
    const scopes = form.scopes === undefined ? [] : ([] as string[]).concat(form.scopes);
    const body = parseWith(createTokenSchema, {
      name: form.name,
      scopes,
      max_database_ttl_seconds: formNumber(form.max_database_ttl_seconds, 'max_database_ttl_seconds'),
      monthly_spend_limit_usd: formNumber(form.monthly_spend_limit_usd, 'monthly_spend_limit_usd'),
    });
    const created = await createToken(c.env, c.var.principal, body);
    // The secret is in this answer only (no-store), never in a URL or a redirect.
    return render(
      c,
      <section class="notice" aria-labelledby="created">
        <h2 id="created">Token {created.name} created</h2>
        <p>Copy it now: this is the only time it is shown.</p>
        <p>
          <CopyableSecret id="new-token-secret" value={created.token} />
        </p>
      </section>,
      201,
    );
  })
  .post('/tokens/:id/revoke', signedIn(), async (c) => {
    const id = c.req.param('id');
    if (!tokenIdParamSchema.safeParse({ id }).success) throw invalidFields([{ path: 'id', message: 'not a token id' }]);
    const revoked = await revokeToken(c.env, c.var.principal, id);
    return render(c, <Notice>Token {revoked.name} revoked: it no longer opens anything.</Notice>);
  });
