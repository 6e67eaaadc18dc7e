/**
 * The owner dashboard, served by the Worker itself at `/` (ARCHITECTURE.md, "The owner
 * dashboard"): server-rendered with hono/jsx, forms that work without script, one stylesheet.
 * Its pages call the same services as the API with the visit's owner principal, so every check
 * of the account object applies to them as it does to a token.
 *
 * Failures are mapped once (src/app/http/error-mapping.ts) and rendered here as a page instead
 * of JSON, with the catalogue's status.
 */
import { Hono } from 'hono';
import { SCRIPT } from './assets/script';
import { STYLESHEET } from './assets/stylesheet';
import { ERRORS } from '../../core/errors';
import { toFailure } from '../http/error-mapping';
import { logFailure } from '../http/errors';
import { Layout } from './layout';
import { dashboardPage, type DashboardEnv } from './session';
import { signIn } from './signin';
import { pages } from './pages/index';

export const dashboard = new Hono<DashboardEnv>();

dashboard.onError((err, c) => {
  const failure = toFailure(err);
  logFailure(failure, err, {
    at: 'dashboard',
    request_id: c.get('requestId') ?? 'unknown',
    method: c.req.method,
    path: new URL(c.req.url).pathname,
  });
  const status = ERRORS[failure.code].status;
  return c.html(
    <Layout title={status === 403 ? 'Refused' : status >= 500 ? 'Something went wrong' : 'That did not work'}>
      <p class="notice error" role="alert">
        {failure.isBug ? `A bug in dblease; quote request ${c.get('requestId') ?? 'unknown'} to the operator.` : failure.message}{' '}
        <span class="muted">({failure.code})</span>
      </p>
      <p>
        <a href="/">Back to the overview</a>
      </p>
    </Layout>,
    status as 400,
  );
});

const asset = (body: string, type: string) => () =>
  new Response(body, {
    headers: { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'public, max-age=300', 'x-content-type-options': 'nosniff' },
  });
dashboard.get('/dashboard.css', asset(STYLESHEET, 'text/css'));
dashboard.get('/dashboard.js', asset(SCRIPT, 'text/javascript'));
dashboard.route('/', signIn);
dashboard.route('/', pages);
