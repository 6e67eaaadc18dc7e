/**
 * Who is looking at the dashboard (ARCHITECTURE.md, "The owner dashboard"). A visit is a
 * dashboard session in the account object (durable-objects/dashboard-auth.ts); the browser holds
 * only its credential, `dbs_<account>_<tag>_<secret>`, in a cookie that is HttpOnly,
 * SameSite=Strict, Secure over https (with the `__Host-` prefix there) and gone within hours.
 * The owner's token is never stored in the browser, never put in a URL and never rendered.
 *
 * Every state-changing request must come from the dashboard's own pages: the browser's
 * `Sec-Fetch-Site`/`Origin` must say same-origin, and the form must carry the visit's form token
 * (or, before sign-in, the one in the sign-in cookie). Anything else is 403 `cross_site_request`.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { every } from 'hono/combine';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import { accountTag, verifyAccountTag } from '../../core/auth/account-tag';
import { constantTimeEqual, generateCredential, parseCredential } from '../../core/auth/tokens';
import { Failure } from '../../core/errors';
import { base64url } from '../../core/ids';
import { unwrap, type Result } from '../../core/result';
import type { DashboardVisit } from '../../../durable-objects/dashboard-auth';
import { accountObject } from '../account-client';
import type { AppEnv } from '../http/context';

export type { DashboardVisit };

export interface DashboardEnv {
  Bindings: Env;
  Variables: AppEnv['Variables'] & { visit: DashboardVisit };
}
type Ctx = Context<DashboardEnv>;

const isHttps = (c: Ctx) => new URL(c.req.url).protocol === 'https:';
/** `__Host-` (Secure, no Domain, Path=/) wherever the browser allows it: over https. */
const cookieName = (c: Ctx, base: string) => (isHttps(c) ? `__Host-${base}` : base);
const SESSION_COOKIE = 'dblease_session';
const FORM_COOKIE = 'dblease_form';

/** The headers of every dashboard response: no script or style but our own, never framed, no referrer. */
const headers = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  xFrameOptions: 'DENY',
  // The sign-in link carries a one-time code: no page may send its URL anywhere.
  referrerPolicy: 'no-referrer',
  crossOriginResourcePolicy: 'same-origin',
});

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** Refuses a state-changing request that the browser says came from another site. */
const sameOrigin = (): MiddlewareHandler<DashboardEnv> => async (c, next) => {
  if (!SAFE_METHODS.has(c.req.method)) {
    const site = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    // Under `Referrer-Policy: no-referrer` a browser sends `Origin: null` with its own form posts;
    // then only its Sec-Fetch-Site saying same-origin lets the post through.
    const opaque = origin === 'null';
    if (
      (site && site !== 'same-origin' && site !== 'none') ||
      (opaque && site !== 'same-origin') ||
      (origin && !opaque && origin !== new URL(c.req.url).origin)
    ) {
      throw new Failure('cross_site_request', 'this form was sent from another site');
    }
  }
  await next();
};

const noStore = (): MiddlewareHandler<DashboardEnv> => async (c, next) => {
  await next();
  c.header('cache-control', 'no-store');
};

/** Headers, same-origin check, no caching: every dashboard route, signed in or not. */
export const dashboardPage = () => every(headers, noStore(), sameOrigin());

async function formField(c: Ctx, name: string): Promise<string> {
  const body = await c.req.parseBody();
  const value = body[name];
  return typeof value === 'string' ? value : '';
}

/** The form token must match `expected`, compared in constant time. */
async function requireFormToken(c: Ctx, expected: string): Promise<void> {
  const given = await formField(c, 'csrf');
  if (!expected || !constantTimeEqual(given, expected)) {
    throw new Failure('cross_site_request', "this form lacks the page's form token: reload the page and try again");
  }
}

/** The visit of the cookie, or null (a forged, expired or ended one is no visit). */
async function currentVisit(c: Ctx): Promise<DashboardVisit | null> {
  const parts = parseCredential('dashboardSession', getCookie(c, cookieName(c, SESSION_COOKIE)) ?? '');
  if (!parts || !(await verifyAccountTag(c.env, parts.accountId, parts.tag))) return null;
  const result = await accountObject(c.env, parts.accountId).authenticateDashboard(parts.secret);
  return result.ok ? result.value : null;
}

/**
 * Pages for signed-in owners: sets `c.var.visit` and `c.var.principal` (the owner's), checks
 * the form token of every POST. With no valid visit a page redirects to the sign-in form and
 * a form post is refused.
 */
export const signedIn = (): MiddlewareHandler<DashboardEnv> =>
  every(dashboardPage(), async (c, next) => {
    const visit = await currentVisit(c);
    if (!visit) {
      deleteCookie(c, cookieName(c, SESSION_COOKIE), { path: '/', secure: isHttps(c) });
      if (SAFE_METHODS.has(c.req.method)) return c.redirect('/signin', 303);
      throw new Failure('invalid_dashboard_session', 'not signed in, or the sign-in has ended: sign in again');
    }
    if (!SAFE_METHODS.has(c.req.method)) await requireFormToken(c, visit.csrf);
    c.set('visit', visit);
    c.set('principal', visit.principal);
    await next();
  });

/** Whether the browser already has a visit (the sign-in page then goes straight to the overview). */
export const hasVisit = async (c: Ctx) => (await currentVisit(c)) !== null;

/**
 * Starts a visit for `accountId`: a new session credential, opened in the account object by
 * `open`, set as the cookie. The pre-sign-in form cookie goes.
 */
export async function startVisit(
  c: Ctx,
  accountId: string,
  open: (sessionSecret: string) => Promise<Result<DashboardVisit>>,
): Promise<DashboardVisit> {
  const { token, secret } = generateCredential('dashboardSession', accountId, await accountTag(c.env, accountId));
  const visit = unwrap(await open(secret));
  setCookie(c, cookieName(c, SESSION_COOKIE), token, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c),
    path: '/',
    maxAge: Math.floor((visit.expires_at - Date.now()) / 1000),
  });
  deleteCookie(c, cookieName(c, FORM_COOKIE), { path: '/', secure: isHttps(c) });
  return visit;
}

/** Sign-out: the session ends in the account object and the cookie goes. */
export async function endVisit(c: Ctx): Promise<void> {
  const visit = c.get('visit');
  unwrap(await accountObject(c.env, visit.principal.account_id).endDashboardSession(visit.session_id));
  deleteCookie(c, cookieName(c, SESSION_COOKIE), { path: '/', secure: isHttps(c) });
}

/**
 * The form token of the sign-in forms, before any visit exists: a random value in a
 * SameSite=Strict cookie and in the form (a cross-site page can read neither).
 */
export function signInFormToken(c: Ctx): string {
  const existing = getCookie(c, cookieName(c, FORM_COOKIE));
  if (existing && /^[A-Za-z0-9_-]{32}$/.test(existing)) return existing;
  const token = base64url(crypto.getRandomValues(new Uint8Array(24)));
  setCookie(c, cookieName(c, FORM_COOKIE), token, { httpOnly: true, sameSite: 'Strict', secure: isHttps(c), path: '/', maxAge: 3600 });
  return token;
}

/** Checks a sign-in form's token against its cookie. */
export const requireSignInFormToken = (c: Ctx) => requireFormToken(c, getCookie(c, cookieName(c, FORM_COOKIE)) ?? '');

export { formField };
