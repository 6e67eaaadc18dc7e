/**
 * The two ways into the dashboard, and the way out:
 * - `/signin`: paste an owner token (a POST body, never a URL; the page never echoes it back);
 * - `/signin/link?code=…`: the one-time `dashboard_url` of provisioning. Opening it only shows a
 *   button: a link scanner that fetches it spends nothing. Pressing it spends the code.
 * - `POST /signout` ends the visit.
 * Each becomes a visit (src/app/dashboard/session.ts), then a 303 to the overview.
 */
import { Hono, type Context } from 'hono';
import { verifyAccountTag } from '../../core/auth/account-tag';
import { hasScope, parseCredential } from '../../core/auth/tokens';
import { ERRORS, Failure } from '../../core/errors';
import { accountObject } from '../account-client';
import { authenticateToken } from '../http/auth';
import { toFailure } from '../http/error-mapping';
import { Layout } from './layout';
import {
  dashboardPage,
  endVisit,
  formField,
  hasVisit,
  requireSignInFormToken,
  signedIn,
  signInFormToken,
  startVisit,
  type DashboardEnv,
} from './session';

type Ctx = Context<DashboardEnv>;

function TokenForm({ c, error }: { c: Ctx; error?: string }) {
  return (
    <Layout title="Sign in">
      {error && (
        <p class="notice error" role="alert">
          {error}
        </p>
      )}
      <form method="post" action="/signin" class="card">
        <input type="hidden" name="csrf" value={signInFormToken(c)} />
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck={false} required />
        <p class="muted">An owner token of your account (npm start prints one). It is sent once and kept only as a sign-in.</p>
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}

function LinkForm({ c, code, error }: { c: Ctx; code: string; error?: string }) {
  return (
    <Layout title="Open your dashboard">
      {error ? (
        <p class="notice error" role="alert">
          {error} <a href="/signin">Sign in with a token</a>
        </p>
      ) : (
        <form method="post" action="/signin/link" class="card">
          <input type="hidden" name="csrf" value={signInFormToken(c)} />
          <input type="hidden" name="code" value={code} />
          <p>This one-time link signs you in to your dblease account. It works once, within 15 minutes.</p>
          <button type="submit">Open my dashboard</button>
        </form>
      )}
    </Layout>
  );
}

/** A refusal in words for the person at the form (the catalogue's message, never the input). */
const refusal = (err: unknown) => {
  const failure = toFailure(err);
  if (failure.isBug) throw err;
  return failure;
};

export const signIn = new Hono<DashboardEnv>()
  .get('/signin', dashboardPage(), async (c) => {
    if (await hasVisit(c)) return c.redirect('/', 303);
    return c.html(<TokenForm c={c} />);
  })
  .post('/signin', dashboardPage(), async (c) => {
    await requireSignInFormToken(c);
    try {
      const principal = await authenticateToken(c.env, (await formField(c, 'token')).trim());
      if (!hasScope(principal.scopes, 'owner')) {
        throw new Failure('insufficient_scope', 'the dashboard needs an owner token', { required_scope: 'owner' });
      }
      await startVisit(c, principal.account_id, (secret) =>
        accountObject(c.env, principal.account_id).openDashboardSession(principal, secret),
      );
    } catch (err) {
      const failure = refusal(err);
      const words = failure.code === 'insufficient_scope' ? 'That token is not an owner token.' : 'That token does not sign in.';
      return c.html(<TokenForm c={c} error={`${words} (${failure.code})`} />, ERRORS[failure.code].status as 401);
    }
    return c.redirect('/', 303);
  })
  .get('/signin/link', dashboardPage(), (c) => {
    const code = c.req.query('code') ?? '';
    if (!parseCredential('signInCode', code)) {
      return c.html(<LinkForm c={c} code="" error="This sign-in link is not valid." />, 400);
    }
    return c.html(<LinkForm c={c} code={code} />);
  })
  .post('/signin/link', dashboardPage(), async (c) => {
    await requireSignInFormToken(c);
    const parts = parseCredential('signInCode', await formField(c, 'code'));
    try {
      if (!parts || !(await verifyAccountTag(c.env, parts.accountId, parts.tag))) {
        throw new Failure('invalid_sign_in_link', 'this sign-in link is not valid');
      }
      await startVisit(c, parts.accountId, (secret) => accountObject(c.env, parts.accountId).redeemSignInCode(parts.secret, secret));
    } catch (err) {
      const failure = refusal(err);
      return c.html(<LinkForm c={c} code="" error={`${failure.message} (${failure.code})`} />, ERRORS[failure.code].status as 401);
    }
    return c.redirect('/', 303);
  })
  .post('/signout', signedIn(), async (c) => {
    await endVisit(c);
    return c.redirect('/signin', 303);
  });
