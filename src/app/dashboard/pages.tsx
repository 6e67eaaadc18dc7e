/**
 * The signed-in pages. Each calls the services the API calls, as the visit's owner.
 */
import { Hono } from 'hono';
import { getAccount } from '../accounts/service';
import { Layout } from './layout';
import { signedIn, type DashboardEnv } from './session';

export const pages = new Hono<DashboardEnv>().get('/', signedIn(), async (c) => {
  const account = await getAccount(c.env, c.var.principal);
  return c.html(
    <Layout title="Overview" visit={c.var.visit} account={account.name} current="/">
      <section class="card" aria-labelledby="usage">
        <h2 id="usage">{account.name}</h2>
        <p>
          {account.usage.active_databases} of {account.policy.max_active_databases} databases active
        </p>
      </section>
    </Layout>,
  );
});
