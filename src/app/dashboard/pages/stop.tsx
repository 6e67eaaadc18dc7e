/**
 * "Stop everything" (`/stop`): the owner's one switch, confirmed by typing the account's name,
 * calling the same service as `POST /v1/account/stop`, then a page of what it did. Safe to
 * press again while deletions run.
 */
import { Hono } from 'hono';
import { invalidFields } from '../../../core/errors';
import { getAccount } from '../../accounts/service';
import { stopEverything } from '../../accounts/stop';
import { FormToken, Layout } from '../layout';
import { signedIn, type DashboardEnv } from '../session';
import { formBody } from './ui';

export const stopPage = new Hono<DashboardEnv>()
  .get('/stop', signedIn(), async (c) => {
    const account = await getAccount(c.env, c.var.principal);
    return c.html(
      <Layout title="Stop everything" visit={c.var.visit} account={account.name} current="/stop">
        <form method="post" action="/stop" class="card danger-zone">
          <FormToken value={c.var.visit.csrf} />
          <p>
            This revokes every token but the one you signed in with, ends every agent session and other sign-in, and deletes every database
            that is not kept, branches included.
          </p>
          <p>Kept databases (and their parents), claimed ones and creates still in flight stay.</p>
          <label for="confirm-name">Account name</label>
          <input id="confirm-name" name="account_name" type="text" autocomplete="off" required aria-describedby="confirm-hint" />
          <p id="confirm-hint" class="muted">
            Type <strong>{account.name}</strong> to confirm.
          </p>
          <button type="submit" class="danger">
            Stop everything
          </button>
        </form>
      </Layout>,
    );
  })
  .post('/stop', signedIn(), async (c) => {
    const account = await getAccount(c.env, c.var.principal);
    const typed = (await formBody(c)).account_name;
    if (typeof typed !== 'string' || typed.trim() !== account.name) {
      throw invalidFields(
        [{ path: 'account_name', message: "does not match the account's name" }],
        "Account name: type the account's name exactly to confirm",
      );
    }
    const r = await stopEverything(c.env, c.var.principal, c.var.visit.session_id);
    const left = r.databases_left;
    return c.html(
      <Layout title="Stopped" visit={c.var.visit} account={account.name} current="/stop">
        <section class="card" aria-labelledby="stop-report">
          <h2 id="stop-report">What stopped</h2>
          <dl class="facts report">
            <dt>Tokens revoked</dt>
            <dd data-field="tokens_revoked">{r.tokens_revoked}</dd>
            <dt>Agent sessions ended</dt>
            <dd data-field="sessions_ended">{r.sessions_ended}</dd>
            <dt>Other sign-ins ended</dt>
            <dd data-field="dashboard_sessions_ended">{r.dashboard_sessions_ended}</dd>
            <dt>Databases being deleted</dt>
            <dd data-field="databases_deleting">{r.databases_deleting}</dd>
            <dt>Left alone</dt>
            <dd data-field="databases_left">
              {left.kept} kept, {left.claimed} claimed, {left.claim_pending} being claimed, {left.provisioning} still being created
            </dd>
          </dl>
          <p>
            Deletions finish in the background. <a href="/databases">See the databases</a>; pressing Stop everything again is safe.
          </p>
        </section>
      </Layout>,
    );
  });
